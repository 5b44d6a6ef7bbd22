package watch_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/registry"
	"github.com/vitte-lang/vitte-plugin/runtime"
	"github.com/vitte-lang/vitte-plugin/vitplug"
	"github.com/vitte-lang/vitte-plugin/watch"
)

// installHostile packs the hostile fixture as version and installs it
// into the registry in dir, through a Registry value of its own, as
// another process would.
func installHostile(t *testing.T, dir, version string) {
	t.Helper()
	src := filepath.Join(t.TempDir(), "hostile")
	copyPlugin(t, "hostile", src, `version     = "0.1.0"`, `version     = "`+version+`"`)
	pkg := filepath.Join(t.TempDir(), "hostile.vitplug")
	_, err := vitplug.PackFile(src, pkg, vitplug.Limits{})
	require.NoError(t, err)
	reg, err := registry.Open(dir)
	require.NoError(t, err)
	_, err = reg.Install(context.Background(), pkg, registry.InstallOptions{
		Verify: func(*vitplug.Package, string) ([]string, error) { return nil, nil },
	})
	require.NoError(t, err)
}

func accept(*vitplug.Package, string) error { return nil }

// An installed plugin follows the registry: its quarantine is recorded in
// the index, a release there (vitte plugin release) lifts it, a version
// installed by another process is swapped in and starts afresh, and a
// quarantine recorded by an earlier run is restored at load.
func TestInstalled_Follow(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	installHostile(t, dir, "0.1.0")
	rt := newRuntime(t, runtime.NewConfig().WithQuarantine(2, time.Hour))
	reg, err := registry.Open(dir)
	require.NoError(t, err)
	indexChanges := make(chan registry.Event, 10)
	defer reg.Subscribe(func(e registry.Event) { indexChanges <- e })()

	in, err := watch.LoadInstalled(ctx, rt, reg, "hostile", runtime.NewLoadConfig().WithPackageVerifier(accept))
	require.NoError(t, err)
	defer in.Close(ctx)
	rl := in.Plugin()
	events := make(chan runtime.Event, 10)
	defer rl.Subscribe(func(e runtime.Event) { events <- e })()
	reports := make(chan error, 10)
	watching(t, func(ctx context.Context, ready func()) error {
		return in.Follow(ctx, watch.Options{Debounce: 20 * time.Millisecond, Watching: ready, Report: func(err error) { reports <- err }})
	})
	other, err := registry.Open(dir) // the command line's
	require.NoError(t, err)
	quarantine := func() {
		t.Helper()
		for i := 0; i < 2; i++ {
			_, err := rl.Call(ctx, "trap", nil)
			require.ErrorIs(t, err, runtime.ErrTrap)
		}
		require.Equal(t, runtime.EventQuarantined, (<-events).Kind)
		ev := <-indexChanges
		require.Equal(t, registry.EventQuarantined, ev.Kind)
		require.NoError(t, other.Refresh())
		e, _ := other.Get("hostile")
		require.NotNil(t, e.Quarantine, "vitte plugin list sees it")
		assert.Equal(t, rl.Current().Version(), e.Quarantine.Version)
		assert.Contains(t, e.Quarantine.Reason, "trap: trap: wasm error: unreachable")
	}

	quarantine()
	released, err := other.Release("hostile") // vitte plugin release
	require.NoError(t, err)
	require.True(t, released)
	ev := <-events
	require.Equal(t, runtime.EventReleased, ev.Kind)
	assert.Equal(t, "released in the registry", ev.Reason)
	_, err = rl.Call(ctx, "ok", nil)
	require.NoError(t, err)

	// Released by the application: the index follows.
	quarantine()
	require.True(t, rl.Release("operator"))
	require.Equal(t, runtime.EventReleased, (<-events).Kind)
	require.Equal(t, registry.EventReleased, (<-indexChanges).Kind)

	// A fixed version installed elsewhere is swapped in and releases.
	quarantine()
	installHostile(t, dir, "0.2.0")
	require.NoError(t, <-reports)
	assert.Equal(t, runtime.EventReleased, (<-events).Kind)
	assert.Equal(t, runtime.EventReloaded, (<-events).Kind)
	assert.Equal(t, "0.2.0", rl.Current().Version())
	assert.Nil(t, rl.Quarantined())
	_, err = rl.Call(ctx, "ok", nil)
	require.NoError(t, err)

	// A restart keeps the quarantine.
	quarantine()
	in2, err := watch.LoadInstalled(ctx, rt, reg, "hostile", runtime.NewLoadConfig().WithPackageVerifier(accept))
	require.NoError(t, err)
	defer in2.Close(ctx)
	q := in2.Plugin().Quarantined()
	require.NotNil(t, q)
	assert.True(t, strings.HasPrefix(q.Cause, "quarantined since "), q.Cause)
	assert.Contains(t, q.Cause, "recorded in the registry: ")
	_, err = in2.Plugin().Call(ctx, "ok", nil)
	assert.ErrorIs(t, err, runtime.ErrQuarantined)
	assert.Empty(t, reports)
}

func TestLoadInstalled_Errors(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	installHostile(t, dir, "0.1.0")
	reg, err := registry.Open(dir)
	require.NoError(t, err)
	rt := newRuntime(t, runtime.NewConfig())
	_, err = watch.LoadInstalled(ctx, rt, reg, "nope", runtime.NewLoadConfig())
	assert.ErrorIs(t, err, registry.ErrNotFound)
	_, err = watch.LoadInstalled(ctx, rt, reg, "hostile", runtime.NewLoadConfig())
	assert.ErrorIs(t, err, runtime.ErrUntrusted, "no verifier")
}
