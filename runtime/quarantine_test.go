package runtime_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/runtime"
)

// After N traps within the window, a plugin is quarantined: every call
// fails fast with ErrQuarantined and the reason, an event is emitted, and
// Release lifts it.
func TestQuarantine(t *testing.T) {
	ctx := context.Background()
	events := &eventLog{}
	e := newRuntime(t, runtime.NewConfig().WithQuarantine(3, time.Hour).WithEvents(events.record))
	p, err := e.rt.Load(ctx, fixture("hostile"))
	require.NoError(t, err)
	defer p.Close(ctx)

	// What does not count: error results, contract violations.
	for _, h := range []string{"bad-tag", "result-oob", "bad-tag", "result-oob"} {
		_, err := p.Call(ctx, h, nil)
		require.Error(t, err)
		assert.NotErrorIs(t, err, runtime.ErrQuarantined)
	}
	for i := 0; i < 3; i++ {
		_, err := p.Call(ctx, "trap", nil)
		require.ErrorIs(t, err, runtime.ErrTrap, "trap %d", i)
	}
	q := p.Quarantined()
	require.NotNil(t, q)
	require.Len(t, q.Failures, 3)
	assert.Equal(t, "trap", q.Failures[2].Function)
	assert.ErrorIs(t, q.Failures[2].Err, runtime.ErrTrap)

	calls := p.Stats().Calls
	_, err = p.Call(ctx, "ok", nil)
	require.ErrorIs(t, err, runtime.ErrQuarantined)
	assert.Equal(t, calls, p.Stats().Calls, "fails fast: no guest code ran")
	var qe *runtime.QuarantineError
	require.True(t, errors.As(err, &qe))
	assert.Same(t, q, qe)
	assert.True(t, strings.HasPrefix(err.Error(), `call plugin "hostile" function "ok": plugin "hostile" 0.1.0 is quarantined since `), err.Error())
	assert.Contains(t, err.Error(), "after 3 traps or timeouts within 1h0m0s (last: trap: trap: wasm error: unreachable in function trap)")
	assert.Equal(t, 3, strings.Count(q.Reason(), "trap: wasm error: unreachable"))
	assert.Contains(t, e.logs.String(), "plugin quarantined")

	require.Equal(t, []runtime.EventKind{runtime.EventQuarantined}, events.kinds())
	ev := events.all()[0]
	assert.Equal(t, "hostile", ev.Plugin)
	assert.Equal(t, "0.1.0", ev.Version)
	assert.Same(t, q, ev.Err)
	assert.Contains(t, ev.String(), "hostile 0.1.0: quarantined: ")

	assert.True(t, p.Release("operator"))
	assert.False(t, p.Release("operator"), "released already")
	assert.Nil(t, p.Quarantined())
	out, err := p.Call(ctx, "ok", nil)
	require.NoError(t, err)
	assert.Equal(t, "still fine", string(out))
	require.Equal(t, []runtime.EventKind{runtime.EventQuarantined, runtime.EventReleased}, events.kinds())
	assert.Equal(t, "operator", events.all()[1].Reason)

	// The count starts again from zero after a release.
	for i := 0; i < 2; i++ {
		_, err := p.Call(ctx, "trap", nil)
		require.ErrorIs(t, err, runtime.ErrTrap)
	}
	assert.Nil(t, p.Quarantined())
}

// Timeouts count like traps.
func TestQuarantine_Timeouts(t *testing.T) {
	ctx := context.Background()
	e := newRuntime(t, runtime.NewConfig().WithMaxTimeout(100*time.Millisecond).WithQuarantine(2, time.Hour))
	p, err := e.rt.Load(ctx, fixture("hostile"))
	require.NoError(t, err)
	defer p.Close(ctx)
	_, err = p.Call(ctx, "loop", nil)
	require.ErrorIs(t, err, runtime.ErrTimeout)
	_, err = p.Call(ctx, "trap", nil)
	require.ErrorIs(t, err, runtime.ErrTrap)
	_, err = p.Call(ctx, "ok", nil)
	require.ErrorIs(t, err, runtime.ErrQuarantined)
}

// The defaults quarantine after DefaultQuarantineFailures traps; a
// failure count of 0 disables quarantine.
func TestQuarantine_Config(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		cfg    runtime.Config
		traps  int
		expect bool
	}{
		{"default, one short", runtime.NewConfig(), runtime.DefaultQuarantineFailures - 1, false},
		{"default", runtime.NewConfig(), runtime.DefaultQuarantineFailures, true},
		{"disabled", runtime.NewConfig().WithQuarantine(0, 0), 3 * runtime.DefaultQuarantineFailures, false},
		{"one", runtime.NewConfig().WithQuarantine(1, 0), 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newRuntime(t, tt.cfg)
			p, err := e.rt.Load(ctx, fixture("hostile"))
			require.NoError(t, err)
			defer p.Close(ctx)
			for i := 0; i < tt.traps; i++ {
				_, err := p.Call(ctx, "trap", nil)
				require.ErrorIs(t, err, runtime.ErrTrap)
			}
			_, err = p.Call(ctx, "ok", nil)
			assert.Equal(t, tt.expect, errors.Is(err, runtime.ErrQuarantined), "%v", err)
			assert.Equal(t, tt.expect, p.Quarantined() != nil)
		})
	}
}

// A reload that swaps in a version releases the quarantine of the old
// one; a refused reload does not.
func TestQuarantine_ReleasedByReload(t *testing.T) {
	ctx := context.Background()
	e := newRuntime(t, runtime.NewConfig().WithQuarantine(2, time.Hour))
	dir := t.TempDir()
	for _, f := range []string{"plugin.toml", "hostile.wasm"} {
		b, err := os.ReadFile(filepath.Join(fixture("hostile"), f))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), b, 0o644))
	}
	module, err := os.ReadFile(filepath.Join(dir, "hostile.wasm"))
	require.NoError(t, err)
	rl, err := e.rt.LoadReloadable(ctx, dir, runtime.NewLoadConfig())
	require.NoError(t, err)
	defer rl.Close(ctx)
	events := &eventLog{}
	defer rl.Subscribe(events.record)()
	trip := func() {
		t.Helper()
		for i := 0; i < 2; i++ {
			_, err := rl.Call(ctx, "trap", nil)
			require.ErrorIs(t, err, runtime.ErrTrap)
		}
		_, err = rl.Call(ctx, "ok", nil)
		require.ErrorIs(t, err, runtime.ErrQuarantined)
		require.NotNil(t, rl.Quarantined())
	}

	trip()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "hostile.wasm"), []byte("not wasm"), 0o644))
	require.Error(t, rl.Reload(ctx))
	_, err = rl.Call(ctx, "ok", nil)
	require.ErrorIs(t, err, runtime.ErrQuarantined, "a refused reload releases nothing")

	require.NoError(t, os.WriteFile(filepath.Join(dir, "hostile.wasm"), module, 0o644))
	require.NoError(t, rl.Reload(ctx))
	out, err := rl.Call(ctx, "ok", nil)
	require.NoError(t, err)
	assert.Equal(t, "still fine", string(out))
	assert.Nil(t, rl.Quarantined())
	require.Equal(t, []runtime.EventKind{runtime.EventQuarantined, runtime.EventReloadRefused, runtime.EventReleased, runtime.EventReloaded}, events.kinds())
	assert.Equal(t, "replaced by version 0.1.0", events.all()[2].Reason)

	// Release through the Reloadable.
	trip()
	assert.True(t, rl.Release("test"))
	_, err = rl.Call(ctx, "ok", nil)
	require.NoError(t, err)
}

// Quarantine quarantines a plugin by decision; Release lifts it.
func TestPlugin_Quarantine(t *testing.T) {
	ctx := context.Background()
	events := &eventLog{}
	e := newRuntime(t, runtime.NewConfig().WithEvents(events.record))
	p, err := e.rt.Load(ctx, fixture("hostile"))
	require.NoError(t, err)
	defer p.Close(ctx)
	q := p.Quarantine("restored: quarantined by an earlier run")
	assert.Same(t, q, p.Quarantine("again"), "the quarantine in force")
	_, err = p.Call(ctx, "ok", nil)
	require.ErrorIs(t, err, runtime.ErrQuarantined)
	assert.Contains(t, err.Error(), `plugin "hostile" 0.1.0 is quarantined since `)
	assert.Contains(t, err.Error(), ": restored: quarantined by an earlier run; release it or load a fixed version")
	assert.Equal(t, "restored: quarantined by an earlier run", q.Reason())
	assert.True(t, p.Release("test"))
	_, err = p.Call(ctx, "ok", nil)
	require.NoError(t, err)
	assert.Equal(t, []runtime.EventKind{runtime.EventQuarantined, runtime.EventReleased}, events.kinds())
}
