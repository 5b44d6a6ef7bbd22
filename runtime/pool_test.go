package runtime_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/runtime"
)

// eventually waits for cond, which the pool's background work makes true.
// The wait is long: it bounds a hang, it does not measure anything.
func eventually(t *testing.T, cond func() bool, msg string) {
	t.Helper()
	require.Eventually(t, cond, 30*time.Second, 5*time.Millisecond, msg)
}

func TestPool_Warm(t *testing.T) {
	ctx := context.Background()
	e := newRuntime(t, runtime.NewConfig().WithInstances(4).WithWarmInstances(3))
	p, err := e.rt.Load(ctx, fixture("hello-c"))
	require.NoError(t, err)
	defer p.Close(ctx)
	eventually(t, func() bool { s := p.Stats(); return s.Instances == 3 && s.Idle == 3 }, "three warm instances")
	// Each ran on-load, which prints a line.
	assert.Equal(t, 3, strings.Count(e.stdout.String(), "hello-c: loaded"), e.stdout.String())

	out, err := p.Call(ctx, "greet", []byte("pool"))
	require.NoError(t, err)
	assert.Equal(t, "Hello, pool!", string(out))
	assert.Equal(t, 3, p.Stats().Instances, "a call on a warm pool creates nothing")
}

func TestPool_Concurrent(t *testing.T) {
	ctx := context.Background()
	e := newRuntime(t, runtime.NewConfig().WithInstances(3))
	p, err := e.rt.Load(ctx, fixture("hello-c"))
	require.NoError(t, err)
	defer p.Close(ctx)

	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 40 {
				in := []byte(fmt.Sprintf("g%d-%d", g, i))
				out, err := p.Call(ctx, "echo", in)
				if err != nil {
					errs <- err
					return
				}
				if !bytes.Equal(in, out) {
					errs <- fmt.Errorf("echo %q gave %q", in, out)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	s := p.Stats()
	assert.LessOrEqual(t, s.Instances, 3)
	assert.Equal(t, uint64(8*40), s.Calls)
}

func TestPool_ReplacedAfterTrap(t *testing.T) {
	ctx := context.Background()
	e := newRuntime(t, runtime.NewConfig().WithInstances(2).WithWarmInstances(2))
	p, err := e.rt.Load(ctx, fixture("hostile"))
	require.NoError(t, err)
	defer p.Close(ctx)
	eventually(t, func() bool { return p.Stats().Idle == 2 }, "two warm instances")

	_, err = p.Call(ctx, "trap", nil)
	require.ErrorIs(t, err, runtime.ErrTrap)
	// The trapped instance is gone; a replacement is prepared in the
	// background.
	eventually(t, func() bool { s := p.Stats(); return s.Instances == 2 && s.Idle == 2 }, "the trapped instance replaced")
	out, err := p.Call(ctx, "ok", nil)
	require.NoError(t, err)
	assert.Equal(t, "still fine", string(out))
}

// sleeper starts a call of hostile's "sleep" that holds an instance until
// the returned cancel is called.
func sleeper(t *testing.T, p *runtime.Plugin) (cancel func(), done <-chan error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan error, 1)
	go func() {
		_, err := p.Call(ctx, "sleep", nil)
		ch <- err
	}()
	eventually(t, func() bool { return p.Stats().Idle == 0 }, "the sleeper holds the instance")
	return cancel, ch
}

func TestPool_WaitForInstance(t *testing.T) {
	ctx := context.Background()
	e := newRuntime(t, runtime.NewConfig().WithInstances(1))
	p, err := e.rt.Load(ctx, fixture("hostile"))
	require.NoError(t, err)
	defer p.Close(ctx)

	stop, done := sleeper(t, p)
	// The only instance is busy: a call waits, and gives up with its
	// context.
	wctx, cancel := context.WithTimeout(ctx, 30*time.Millisecond)
	defer cancel()
	_, err = p.Call(wctx, "ok", nil)
	require.ErrorIs(t, err, runtime.ErrCanceled)
	assert.ErrorContains(t, err, "waiting for an instance")

	// A waiting call gets the instance once it is released.
	got := make(chan error, 1)
	go func() {
		out, err := p.Call(ctx, "ok", nil)
		if err == nil && string(out) != "still fine" {
			err = fmt.Errorf("got %q", out)
		}
		got <- err
	}()
	stop()
	require.ErrorIs(t, <-done, runtime.ErrCanceled)
	require.NoError(t, <-got)
}

func TestPool_Close(t *testing.T) {
	ctx := context.Background()
	e := newRuntime(t, runtime.NewConfig().WithInstances(1))
	p, err := e.rt.Load(ctx, fixture("hostile"))
	require.NoError(t, err)

	stop, done := sleeper(t, p)
	waiting := make(chan error, 1)
	go func() {
		_, err := p.Call(ctx, "ok", nil)
		waiting <- err
	}()
	closed := make(chan error, 1)
	go func() { closed <- p.Close(ctx) }()

	// A call waiting for an instance ends with ErrClosed; Close waits for
	// the call in flight.
	require.ErrorIs(t, <-waiting, runtime.ErrClosed)
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) with a call in flight", err)
	default:
	}
	stop()
	require.ErrorIs(t, <-done, runtime.ErrCanceled)
	require.NoError(t, <-closed)

	_, err = p.Call(ctx, "ok", nil)
	require.ErrorIs(t, err, runtime.ErrClosed)
	assert.Equal(t, 0, p.Stats().Instances)
}

func TestAppendCall(t *testing.T) {
	ctx := context.Background()
	e := newRuntime(t, runtime.NewConfig())
	p, err := e.rt.Load(ctx, fixture("hello-c"))
	require.NoError(t, err)
	defer p.Close(ctx)

	out, err := p.AppendCall(ctx, []byte("> "), "echo", []byte("abc"))
	require.NoError(t, err)
	assert.Equal(t, "> abc", string(out))

	_, err = p.AppendCall(ctx, nil, "nope", nil)
	require.ErrorIs(t, err, runtime.ErrNoHandler)

	// A warm instance, a small input, a buffer large enough: nothing is
	// allocated.
	in := bytes.Repeat([]byte("x"), 1<<10)
	buf := make([]byte, 0, 2<<10)
	for _, c := range []struct {
		handler string
		input   []byte
	}{{"empty", nil}, {"echo", in[:1]}, {"echo", in}} {
		allocs := testing.AllocsPerRun(200, func() {
			out, err := p.AppendCall(ctx, buf[:0], c.handler, c.input)
			if err != nil || len(out) != len(c.input) {
				t.Fatalf("%s: %q, %v", c.handler, out, err)
			}
		})
		assert.Zero(t, allocs, "%s of %d bytes", c.handler, len(c.input))
	}
	// Call allocates only the output.
	allocs := testing.AllocsPerRun(200, func() {
		if _, err := p.Call(ctx, "empty", nil); err != nil {
			t.Fatal(err)
		}
	})
	assert.Zero(t, allocs, "Call of an empty handler")
}

func TestPool_CloseWhilePreparing(t *testing.T) {
	ctx := context.Background()
	for range 5 {
		e := newRuntime(t, runtime.NewConfig().WithInstances(8).WithWarmInstances(8))
		p, err := e.rt.Load(ctx, fixture("hello-c"))
		require.NoError(t, err)
		// Close at once, with instances still being prepared: it waits for
		// (or cancels) them, unloads what was made, and logs no failure.
		require.NoError(t, p.Close(ctx))
		assert.Equal(t, 0, p.Stats().Instances)
		assert.NotContains(t, e.logs.String(), "prepare a warm instance")
		loaded := strings.Count(e.stdout.String(), "hello-c: loaded")
		assert.Equal(t, loaded, strings.Count(e.stdout.String(), "hello-c: unloaded"), "every instance made was unloaded")
	}
}
