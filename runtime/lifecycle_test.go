package runtime_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/abi"
	"github.com/vitte-lang/vitte-plugin/capabilities"
	"github.com/vitte-lang/vitte-plugin/internal/wasmgen"
	"github.com/vitte-lang/vitte-plugin/runtime"
)

// The tests of this file check how calls end: with a context that is
// already done, past their deadline inside a host function, and when the
// plugin or the runtime is closed under them. None measures a duration:
// each asserts which error a call or a Close returned. Where a bug would
// make a test wait, it waits for a fallback far longer than any correct
// run needs, then fails on what it got.

// fallback is how long a host function of these tests waits for a signal
// that a correct runtime gives at once, before giving up: long enough to
// never be reached by a correct run, short enough for a broken one to end.
const fallback = 20 * time.Second

// copyFixture copies the fixture name into a temporary folder, with
// edit applied to its plugin.toml.
func copyFixture(t *testing.T, name string, edit func(string) string) string {
	t.Helper()
	dir := t.TempDir()
	entries, err := os.ReadDir(fixture(name))
	require.NoError(t, err)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(fixture(name), e.Name()))
		require.NoError(t, err)
		if e.Name() == "plugin.toml" {
			b = []byte(edit(string(b)))
		}
		require.NoError(t, os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644))
	}
	return dir
}

// withTimeout adds limits.timeout to a manifest that has no [limits].
func withTimeout(timeout string) func(string) string {
	return func(m string) string {
		return strings.Replace(m, "[capabilities]", "[limits]\ntimeout = \""+timeout+"\"\n\n[capabilities]", 1)
	}
}

var testGrants = runtime.NewLoadConfig().WithGrants(capabilities.NewGrants().WithHostCall("test.*"))

// Finding 10: a call whose context is already done fails at once with
// ErrCanceled, however short the handler, on every iteration, before an
// instance is taken.
func TestCall_AlreadyCanceledContext(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel2()
	for _, eng := range runtime.Engines() {
		t.Run(string(eng), func(t *testing.T) {
			e := newRuntimeOn(t, eng, runtime.NewConfig())
			p, err := e.rt.Load(context.Background(), fixture("hello-c"))
			require.NoError(t, err)
			for _, tc := range []struct {
				name  string
				ctx   context.Context
				cause error
			}{{"canceled", canceled, context.Canceled}, {"deadline exceeded", expired, context.DeadlineExceeded}} {
				for i := range 200 {
					out, err := p.Call(tc.ctx, "echo", []byte("x"))
					require.ErrorIs(t, err, runtime.ErrCanceled, "%s: Call %d", tc.name, i)
					require.ErrorIs(t, err, tc.cause, "%s: Call %d", tc.name, i)
					require.Nil(t, out)
					out, err = p.AppendCall(tc.ctx, []byte("dst"), "empty", nil)
					require.ErrorIs(t, err, runtime.ErrCanceled, "%s: AppendCall %d", tc.name, i)
					require.Nil(t, out)
				}
			}
			_, err = p.Call(canceled, "echo", nil)
			assert.EqualError(t, err, `call plugin "hello-c" function "echo": call canceled: context canceled`)
			assert.Zero(t, p.Stats().Calls, "no handler ran")
			out, err := p.Call(context.Background(), "echo", []byte("still fine"))
			require.NoError(t, err)
			assert.Equal(t, "still fine", string(out))
		})
	}
}

// Finding 9: a host function that outlives the call's deadline makes the
// call fail with ErrTimeout, whatever it returns and whether or not it
// honours its context, which carries the deadline; the guest does not
// go on with what it returned.
func TestHostFunc_PastTheDeadline(t *testing.T) {
	tests := []struct {
		name string
		fn   func(ctx context.Context, release <-chan struct{}) ([]byte, error)
	}{
		{"ignores ctx, returns ok", func(_ context.Context, release <-chan struct{}) ([]byte, error) {
			wait(release)
			return []byte("late"), nil
		}},
		{"ignores ctx, returns an error", func(_ context.Context, release <-chan struct{}) ([]byte, error) {
			wait(release)
			return nil, errors.New("late")
		}},
		{"honours ctx", func(ctx context.Context, _ <-chan struct{}) ([]byte, error) {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(fallback):
				return []byte("fallback"), nil
			}
		}},
	}
	for _, eng := range runtime.Engines() {
		for _, tt := range tests {
			t.Run(string(eng)+"/"+tt.name, func(t *testing.T) {
				ctx := context.Background()
				e := newRuntimeOn(t, eng, runtime.NewConfig())
				release := make(chan struct{})
				defer close(release)
				type seen struct {
					deadline time.Time
					ok       bool
				}
				seenc := make(chan seen, 1)
				e.rt.RegisterHostFunc("test.slow", func(ctx context.Context, _ []byte) ([]byte, error) {
					dl, ok := ctx.Deadline()
					seenc <- seen{dl, ok}
					return tt.fn(ctx, release)
				})
				e.rt.RegisterHostFunc("test.echo", func(_ context.Context, payload []byte) ([]byte, error) {
					return append([]byte("echo:"), payload...), nil
				})
				p, err := e.rt.LoadWithConfig(ctx, copyFixture(t, "hello-c", withTimeout("200ms")), testGrants)
				require.NoError(t, err)

				out, err := p.Call(ctx, "call-host", []byte("test.slow"))
				returned := time.Now()
				require.ErrorIs(t, err, runtime.ErrTimeout, "output %q", out)
				assert.NotErrorIs(t, err, runtime.ErrCanceled)
				assert.Contains(t, err.Error(), "plugin timed out after 200ms (limits.timeout)")
				assert.Nil(t, out)
				s := <-seenc
				require.True(t, s.ok, "the host function's context carries the call's deadline")
				assert.False(t, s.deadline.After(returned), "the call returned once its deadline passed (deadline %v, returned %v)", s.deadline, returned)

				out, err = p.Call(ctx, "call-host", []byte("test.echo"))
				require.NoError(t, err, "the next call gets a fresh instance")
				assert.Equal(t, "echo:ping", string(out))
			})
		}
	}
}

// wait waits for release, or fallback.
func wait(release <-chan struct{}) {
	select {
	case <-release:
	case <-time.After(fallback):
	}
}

// Finding 8: Runtime.Close(ctx) cancels the calls in flight when ctx
// ends, wherever they are (guest code, a WASI sleep, a host function
// that honours its context or one that ignores it), and returns ctx's
// error, well before the calls' own 30 s timeout.
func TestRuntime_CloseCancelsCallsInFlight(t *testing.T) {
	for _, eng := range runtime.Engines() {
		t.Run(string(eng), func(t *testing.T) {
			ctx := context.Background()
			rt, err := runtime.New(ctx, runtime.NewConfig().WithEngine(eng).WithCompilationCache(testCache).WithInstances(2))
			require.NoError(t, err)
			release := make(chan struct{})
			defer close(release)
			started := make(chan string, 2)
			rt.RegisterHostFunc("test.honours", func(ctx context.Context, _ []byte) ([]byte, error) {
				started <- "honours"
				select {
				case <-ctx.Done():
					return nil, ctx.Err()
				case <-time.After(fallback):
					return []byte("fallback"), nil
				}
			})
			rt.RegisterHostFunc("test.ignores", func(context.Context, []byte) ([]byte, error) {
				started <- "ignores"
				wait(release)
				return []byte("late"), nil
			})
			hostile, err := rt.Load(ctx, fixture("hostile")) // limits.timeout 30s
			require.NoError(t, err)
			hello, err := rt.LoadWithConfig(ctx, copyFixture(t, "hello-c", withTimeout("30s")), testGrants)
			require.NoError(t, err)

			calls := []struct {
				p       *runtime.Plugin
				fn, in  string
				started func() bool
			}{
				{hostile, "loop", "", nil},
				{hostile, "sleep", "", nil},
				{hello, "call-host", "test.honours", nil},
				{hello, "call-host", "test.ignores", nil},
			}
			errs := make([]error, len(calls))
			var wg sync.WaitGroup
			for i, c := range calls {
				wg.Go(func() {
					out, err := c.p.Call(ctx, c.fn, []byte(c.in))
					if err == nil {
						err = errors.New("succeeded with " + string(out))
					}
					errs[i] = err
				})
			}
			// In flight: both host functions entered, both instances of
			// hostile taken.
			<-started
			<-started
			require.Eventually(t, func() bool {
				s := hostile.Stats()
				return s.Instances == 2 && s.Idle == 0
			}, fallback, time.Millisecond)

			cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
			defer cancel()
			start := time.Now()
			err = rt.Close(cctx)
			elapsed := time.Since(start)
			require.ErrorIs(t, err, context.DeadlineExceeded)
			assert.Less(t, elapsed, fallback, "well before the calls' own 30s timeout")
			wg.Wait()
			for i, err := range errs {
				assert.ErrorIs(t, err, runtime.ErrCanceled, "%s %s", calls[i].fn, calls[i].in)
				assert.ErrorIs(t, err, runtime.ErrClosed, "%s %s", calls[i].fn, calls[i].in)
				assert.Contains(t, err.Error(), "call canceled: plugin is closed: Close's context ended: context deadline exceeded")
			}
			_, err = hostile.Call(ctx, "ok", nil)
			assert.ErrorIs(t, err, runtime.ErrClosed)
		})
	}
}

// Runtime.Close closes its plugins in parallel: here each plugin's call in
// flight ends only once the other plugin has started closing, which
// closing one plugin after the other never reaches.
func TestRuntime_ClosesPluginsInParallel(t *testing.T) {
	ctx := context.Background()
	rt, err := runtime.New(ctx, runtime.NewConfig().WithEngine(testEngine(t)).WithCompilationCache(testCache).WithInstances(1))
	require.NoError(t, err)
	// closing[x] is closed once plugin x refuses calls: its Close began.
	closing := map[string]chan struct{}{"a": make(chan struct{}), "b": make(chan struct{})}
	started := make(chan struct{}, 2)
	waitFor := func(x string) runtime.HostFunc {
		return func(context.Context, []byte) ([]byte, error) {
			started <- struct{}{}
			select {
			case <-closing[x]:
				return []byte("other closing"), nil
			case <-time.After(fallback):
				return []byte("fallback"), nil
			}
		}
	}
	rt.RegisterHostFunc("test.wait-a", waitFor("a"))
	rt.RegisterHostFunc("test.wait-b", waitFor("b"))
	plugins := map[string]*runtime.Plugin{}
	for _, x := range []string{"a", "b"} {
		p, err := rt.LoadWithConfig(ctx, fixture("hello-c"), testGrants)
		require.NoError(t, err)
		plugins[x] = p
	}
	var wg sync.WaitGroup
	outs := map[string]string{}
	var mu sync.Mutex
	for x, other := range map[string]string{"a": "b", "b": "a"} {
		wg.Go(func() {
			out, err := plugins[x].Call(ctx, "call-host", []byte("test.wait-"+other))
			mu.Lock()
			defer mu.Unlock()
			outs[x] = string(out)
			if err != nil {
				outs[x] = err.Error()
			}
		})
	}
	<-started
	<-started
	// More calls on each wait for its only instance, until Close refuses
	// them: that plugin's Close began.
	for x, ch := range closing {
		wg.Go(func() {
			for {
				_, err := plugins[x].Call(ctx, "echo", nil)
				if errors.Is(err, runtime.ErrClosed) || !assert.NoError(t, err) {
					close(ch)
					return
				}
			}
		})
	}
	require.NoError(t, rt.Close(ctx))
	wg.Wait()
	assert.Equal(t, map[string]string{"a": "other closing", "b": "other closing"}, outs)
}

// Plugin.Close(ctx) cancels its calls in flight when ctx ends, as
// Runtime.Close does, and returns ctx's error.
func TestPlugin_CloseCancelsCallsInFlight(t *testing.T) {
	for _, eng := range runtime.Engines() {
		for _, fn := range []string{"loop", "sleep"} {
			t.Run(string(eng)+"/"+fn, func(t *testing.T) {
				ctx := context.Background()
				e := newRuntimeOn(t, eng, runtime.NewConfig().WithInstances(1))
				p, err := e.rt.Load(ctx, fixture("hostile")) // limits.timeout 30s
				require.NoError(t, err)
				done := make(chan error, 1)
				go func() {
					_, err := p.Call(ctx, fn, nil)
					done <- err
				}()
				require.Eventually(t, func() bool { return p.Stats().Idle == 0 }, fallback, time.Millisecond)
				cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
				defer cancel()
				closeErr := p.Close(cctx)
				require.ErrorIs(t, closeErr, context.DeadlineExceeded)
				assert.EqualError(t, closeErr, `unload plugin "hostile": context deadline exceeded`)
				err = <-done
				assert.ErrorIs(t, err, runtime.ErrCanceled)
				assert.ErrorIs(t, err, runtime.ErrClosed)
				assert.ErrorIs(t, err, context.DeadlineExceeded)
				assert.Equal(t, closeErr, p.Close(ctx), "a second Close returns the first's result")
			})
		}
	}
}

// Reloadable.Close honours its context as Plugin.Close does.
func TestReloadable_CloseCancelsCallsInFlight(t *testing.T) {
	for _, eng := range runtime.Engines() {
		t.Run(string(eng), func(t *testing.T) {
			ctx := context.Background()
			e := newRuntimeOn(t, eng, runtime.NewConfig())
			rl, err := e.rt.LoadReloadable(ctx, fixture("hostile"), runtime.NewLoadConfig()) // limits.timeout 30s
			require.NoError(t, err)
			done := make(chan error, 1)
			go func() {
				_, err := rl.Call(ctx, "loop", nil)
				done <- err
			}()
			require.Eventually(t, func() bool { return rl.Current().Stats().Idle == 0 }, fallback, time.Millisecond)
			cctx, cancel := context.WithCancel(ctx)
			cancel()
			err = rl.Close(cctx)
			require.ErrorIs(t, err, context.Canceled)
			err = <-done
			assert.ErrorIs(t, err, runtime.ErrCanceled)
			assert.ErrorIs(t, err, runtime.ErrClosed)
			_, err = rl.Call(ctx, "ok", nil)
			assert.ErrorIs(t, err, runtime.ErrClosed)
		})
	}
}

// A Close whose context is already done runs no on-unload, and says so;
// with nothing to cut short, it succeeds.
func TestPlugin_CloseWithDoneContext(t *testing.T) {
	done, cancel := context.WithCancel(context.Background())
	cancel()
	e := newRuntime(t, runtime.NewConfig())
	p, err := e.rt.Load(context.Background(), fixture("hello-c")) // has an on-unload
	require.NoError(t, err)
	err = p.Close(done)
	require.ErrorIs(t, err, context.Canceled)
	assert.EqualError(t, err, `unload plugin "hello-c": context canceled`)
	assert.NotContains(t, e.stdout.String(), "unloaded")

	noHooks, err := e.rt.Load(context.Background(), writePlugin(t, basicManifest, wasmgen.Plugin(handler("h", wasmgen.I32Const(512))).Bytes()))
	require.NoError(t, err)
	require.NoError(t, noHooks.Close(done), "nothing in flight, no on-unload: nothing cut short")
}

// Finding 12 (one item): every host function refuses to run when called
// from inside cabi_realloc, as docs/security.md says: the call fails with
// ErrContract, and nothing of the host function happens (no log line, no
// host call).
func TestHostFunctions_RefusedInsideRealloc(t *testing.T) {
	const msg = 2048 // "hi" and the name "test.echo"
	const ret = 2560 // an aligned, zeroed return area
	imports := []struct {
		imp  wasmgen.Import
		args []byte // pushed before the call
	}{
		{wasmgen.Import{Module: abi.HostModule, Name: abi.FuncLog, Type: abi.TypeLog},
			wasmgen.Cat(wasmgen.I32Const(2), wasmgen.I32Const(msg), wasmgen.I32Const(2))},
		{wasmgen.Import{Module: abi.HostModule, Name: abi.FuncConfigGet, Type: abi.TypeConfigGet},
			wasmgen.Cat(wasmgen.I32Const(msg), wasmgen.I32Const(2), wasmgen.I32Const(ret))},
		{wasmgen.Import{Module: abi.HostModule, Name: abi.FuncCall, Type: abi.TypeCall},
			wasmgen.Cat(wasmgen.I32Const(msg+2), wasmgen.I32Const(9), wasmgen.I32Const(msg), wasmgen.I32Const(2), wasmgen.I32Const(ret))},
		{wasmgen.Import{Module: abi.HTTPModule, Name: abi.FuncRequest, Type: abi.TypeRequest},
			wasmgen.Cat(wasmgen.I32Const(msg), wasmgen.I32Const(0), wasmgen.I32Const(msg), wasmgen.I32Const(0),
				wasmgen.I32Const(msg), wasmgen.I32Const(0), wasmgen.I32Const(msg), wasmgen.I32Const(0), wasmgen.I32Const(ret))},
	}
	for _, eng := range runtime.Engines() {
		for _, im := range imports {
			t.Run(string(eng)+"/"+im.imp.Name, func(t *testing.T) {
				require.Empty(t, im.imp.Type.Results, "the test drops no result")
				ctx := context.Background()
				m := wasmgen.Plugin(handler("h", wasmgen.I32Const(512)))
				m.Imports = []wasmgen.Import{im.imp}
				// cabi_realloc calls the import (function 0) first, then
				// allocates as usual.
				m.Funcs[0].Body = wasmgen.Cat(im.args, []byte{0x10, 0x00}, m.Funcs[0].Body)
				m.Data, m.DataOffset = []byte("hitest.echo"), msg
				manifest := basicManifest + "\n[config]\nhi = \"value\"\n\n[capabilities]\nhost = [\"test.*\"]\nnet = [\"127.0.0.1:1\"]\n"
				e := newRuntimeOn(t, eng, runtime.NewConfig())
				var called atomic.Bool
				e.rt.RegisterHostFunc("test.echo", func(context.Context, []byte) ([]byte, error) {
					called.Store(true)
					return nil, nil
				})
				grants := capabilities.NewGrants().WithHostCall("test.*").WithNet("127.0.0.1:1")
				p, err := e.rt.LoadWithConfig(ctx, writePlugin(t, manifest, m.Bytes()), runtime.NewLoadConfig().WithGrants(grants))
				require.NoError(t, err)
				_, err = p.Call(ctx, "h", []byte("input")) // passing the input calls cabi_realloc
				require.ErrorIs(t, err, runtime.ErrContract)
				assert.ErrorContains(t, err, "host function "+im.imp.Name+" called from inside cabi_realloc: re-entering the host is refused")
				assert.False(t, called.Load(), "the application's host function did not run")
				assert.NotContains(t, e.logs.String(), "msg=hi")
			})
		}
	}
}

// BenchmarkHostCall measures a call whose handler makes one host.call
// (hello-c's call-host reaching an application function that echoes),
// next to a call of echo, its baseline in the same run: the ratio is what
// a host call adds.
func BenchmarkHostCall(b *testing.B) {
	ctx := context.Background()
	e := newRuntime(b, runtime.NewConfig().WithInstances(1))
	e.rt.RegisterHostFunc("test.echo", func(_ context.Context, payload []byte) ([]byte, error) { return payload, nil })
	p, err := e.rt.LoadWithConfig(ctx, fixture("hello-c"), testGrants)
	require.NoError(b, err)
	var base float64
	for _, bc := range []struct{ fn, in string }{{"echo", "test.echo"}, {"call-host", "test.echo"}} {
		b.Run(bc.fn, func(b *testing.B) {
			in := []byte(bc.in)
			dst := make([]byte, 0, 64)
			for b.Loop() {
				if _, err := p.AppendCall(ctx, dst[:0], bc.fn, in); err != nil {
					b.Fatal(err)
				}
			}
			ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			if bc.fn == "echo" {
				base = ns
			} else if base > 0 {
				b.ReportMetric(ns/base, "x-echo")
			}
		})
	}
}
