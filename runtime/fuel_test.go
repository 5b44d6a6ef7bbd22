package runtime_test

import (
	"bytes"
	"context"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/capabilities"
	"github.com/vitte-lang/vitte-plugin/runtime"
)

// withLimits copies the fixture name into a temporary folder and appends
// lines to the [limits] table of its plugin.toml (which must end with it,
// or have none).
func withLimits(t *testing.T, name string, lines ...string) string {
	t.Helper()
	src := fixture(name)
	dir := t.TempDir()
	entries, err := os.ReadDir(src)
	require.NoError(t, err)
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		require.NoError(t, err)
		if e.Name() == "plugin.toml" {
			s := string(b)
			if !strings.Contains(s, "[limits]") {
				s += "\n[limits]\n"
			}
			b = []byte(strings.TrimRight(s, "\n") + "\n" + strings.Join(lines, "\n") + "\n")
		}
		require.NoError(t, os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644))
	}
	return dir
}

// fuelOf returns the fuel one call of handler with input used.
func fuelOf(t *testing.T, p *runtime.Plugin, handler string, input []byte) uint64 {
	t.Helper()
	before := p.Stats().Fuel
	_, err := p.Call(context.Background(), handler, input)
	require.NoError(t, err)
	return p.Stats().Fuel - before
}

func TestFuel_Counted(t *testing.T) {
	ctx := context.Background()
	calls := []struct {
		handler string
		input   []byte
	}{
		{"fnv1a", bytes.Repeat([]byte("a"), 100)},
		{"fnv1a", bytes.Repeat([]byte("b"), 100)},
		{"fnv1a", bytes.Repeat([]byte("a"), 10_100)},
		{"fnv1a", bytes.Repeat([]byte("a"), 20_100)},
		{"spin", []byte("3000000")}, // past two quanta: refills
		{"spin", []byte("3000000")},
	}
	run := func() ([]uint64, runtime.Stats) {
		e := newRuntime(t, runtime.NewConfig())
		p, err := e.rt.Load(ctx, fixture("bench-c"))
		require.NoError(t, err)
		defer p.Close(ctx)
		var fuel []uint64
		for _, c := range calls {
			fuel = append(fuel, fuelOf(t, p, c.handler, c.input))
		}
		return fuel, p.Stats()
	}
	fuel, st := run()
	again, _ := run()
	// The guest's state (its heap) changes from call to call, and fuel
	// counts what the guest does, so the same call can cost differently
	// on the same instance; but the same calls on a fresh instance cost
	// exactly the same, every time.
	assert.Equal(t, fuel, again, "deterministic")
	assert.InEpsilon(t, 2*(fuel[2]-fuel[1]), fuel[3]-fuel[1], 0.01, "the cost grows with the input, linearly")
	assert.Greater(t, fuel[4], uint64(3_000_000*4), "at least 4 units per iteration")

	assert.Equal(t, uint64(len(calls)), st.Calls)
	assert.Zero(t, st.Failures)
	var sum uint64
	for _, f := range fuel {
		sum += f
	}
	assert.Equal(t, sum, st.Fuel)
}

func TestFuel_Budget(t *testing.T) {
	ctx := context.Background()
	// Each subtest calls a fresh instance, as this first call does: the
	// first call of an instance costs more (see TestFuel_Counted).
	input := []byte("2500000") // past two quanta
	var need uint64
	{
		e := newRuntime(t, runtime.NewConfig())
		p, err := e.rt.Load(ctx, fixture("bench-c"))
		require.NoError(t, err)
		need = fuelOf(t, p, "spin", input)
		require.NoError(t, p.Close(ctx))
	}

	t.Run("exactly enough", func(t *testing.T) {
		e := newRuntime(t, runtime.NewConfig())
		p, err := e.rt.Load(ctx, withLimits(t, "bench-c", fmt.Sprintf("fuel = %d", need)))
		require.NoError(t, err)
		defer p.Close(ctx)
		assert.Equal(t, need, fuelOf(t, p, "spin", input))
	})

	t.Run("one short", func(t *testing.T) {
		audit := &auditLog{}
		e := newRuntime(t, runtime.NewConfig().WithAuditor(audit.record))
		p, err := e.rt.Load(ctx, withLimits(t, "bench-c", fmt.Sprintf("fuel = %d", need-1)))
		require.NoError(t, err)
		defer p.Close(ctx)
		for range 2 { // the same point every time
			_, err = p.Call(ctx, "spin", input)
			require.Error(t, err)
			assert.ErrorIs(t, err, runtime.ErrFuel)
			assert.NotErrorIs(t, err, runtime.ErrTimeout)
			assert.ErrorContains(t, err, fmt.Sprintf(`call plugin "bench-c" function "spin": plugin ran out of fuel: the call needed more than limits.fuel %d`, need-1))
		}
		ev, ok := audit.find(capabilities.KindLimit, "fuel")
		require.True(t, ok, "the exhaustion is on record")
		assert.Equal(t, "spin", ev.Function)
		assert.Equal(t, fmt.Sprintf("limits.fuel %d", need-1), ev.Rule)
		assert.GreaterOrEqual(t, ev.Fuel, need-1)

		out, err := p.Call(ctx, "fnv1a", []byte("x"))
		require.NoError(t, err, "the next call works on a fresh instance")
		h := fnv.New32a()
		h.Write([]byte("x"))
		assert.Equal(t, fmt.Sprintf("%08x", h.Sum32()), string(out))
		assert.Equal(t, uint64(2), p.Stats().Failures)
	})

	t.Run("endless loop", func(t *testing.T) {
		e := newRuntime(t, runtime.NewConfig())
		p, err := e.rt.Load(ctx, withLimits(t, "hostile", "fuel = 5_000_000"))
		require.NoError(t, err)
		defer p.Close(ctx)
		_, err = p.Call(ctx, "loop", nil)
		assert.ErrorIs(t, err, runtime.ErrFuel)
	})

	t.Run("bad values", func(t *testing.T) {
		e := newRuntime(t, runtime.NewConfig())
		for _, v := range []string{`"1000"`, "0", "-5", "1.5", "4611686018427387905"} {
			_, err := e.rt.Load(ctx, withLimits(t, "bench-c", "fuel = "+v))
			require.Error(t, err, v)
			assert.ErrorContains(t, err, "limits.fuel", v)
		}
	})
}

func TestFuel_CallEvents(t *testing.T) {
	audit := &auditLog{}
	e := newRuntime(t, runtime.NewConfig().WithAuditor(audit.record).WithAuditAllowed(true))
	ctx := context.Background()
	p, err := e.rt.Load(ctx, fixture("bench-c"))
	require.NoError(t, err)
	defer p.Close(ctx)
	_, err = p.Call(ctx, "fnv1a", []byte("abc"))
	require.NoError(t, err)
	ev, ok := audit.find(capabilities.KindCall, "fnv1a")
	require.True(t, ok)
	assert.Equal(t, "completed", ev.Rule)
	assert.Equal(t, p.Stats().Fuel, ev.Fuel)
	assert.NotZero(t, ev.Fuel)

	// Without WithAuditAllowed, calls are not recorded.
	audit2 := &auditLog{}
	e2 := newRuntime(t, runtime.NewConfig().WithAuditor(audit2.record))
	p2, err := e2.rt.Load(ctx, fixture("bench-c"))
	require.NoError(t, err)
	defer p2.Close(ctx)
	_, err = p2.Call(ctx, "fnv1a", []byte("abc"))
	require.NoError(t, err)
	_, ok = audit2.find(capabilities.KindCall, "fnv1a")
	assert.False(t, ok)
}

func TestSleep_StoppedAtDeadline(t *testing.T) {
	ctx := context.Background()
	audit := &auditLog{}
	e := newRuntime(t, runtime.NewConfig().WithMaxTimeout(200*time.Millisecond).WithAuditor(audit.record))
	p, err := e.rt.Load(ctx, fixture("hostile"))
	require.NoError(t, err)
	defer p.Close(ctx)

	// The guest sleeps an hour at a time; the call ends at its timeout.
	_, err = p.Call(ctx, "sleep", nil)
	assert.ErrorIs(t, err, runtime.ErrTimeout)
	ev, ok := audit.find(capabilities.KindLimit, "timeout")
	require.True(t, ok)
	assert.Equal(t, "sleep", ev.Function)

	// Cancelled by the caller: the same, as ErrCanceled.
	cctx, cancel := context.WithCancel(ctx)
	time.AfterFunc(20*time.Millisecond, cancel)
	_, err = p.Call(cctx, "sleep", nil)
	assert.ErrorIs(t, err, runtime.ErrCanceled)

	out, err := p.Call(ctx, "ok", nil)
	require.NoError(t, err)
	assert.Equal(t, "still fine", string(out))
}
