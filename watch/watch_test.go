package watch_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/capabilities"
	"github.com/vitte-lang/vitte-plugin/runtime"
	"github.com/vitte-lang/vitte-plugin/watch"
)

func fixture(name string) string { return filepath.Join("..", "testdata", "wasm", name) }

func newRuntime(t *testing.T, cfg runtime.Config) *runtime.Runtime {
	t.Helper()
	ctx := context.Background()
	rt, err := runtime.New(ctx, cfg.WithLogger(slog.New(slog.DiscardHandler)))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, rt.Close(ctx)) })
	return rt
}

// copyPlugin copies the plugin folder of fixture name to dir, replacing
// old by new in its plugin.toml.
func copyPlugin(t *testing.T, name, dir string, replace ...string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(dir, 0o755))
	mod, err := os.ReadFile(filepath.Join(fixture(name), name+".wasm"))
	require.NoError(t, err)
	toml, err := os.ReadFile(filepath.Join(fixture(name), "plugin.toml"))
	require.NoError(t, err)
	for i := 0; i+1 < len(replace); i += 2 {
		toml = bytes.Replace(toml, []byte(replace[i]), []byte(replace[i+1]), 1)
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, name+".wasm"), mod, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "plugin.toml"), toml, 0o644))
}

// watching runs fn (a watch) on a goroutine and returns once it watches;
// the watch stops at the end of the test.
func watching(t *testing.T, fn func(ctx context.Context, ready func()) error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- fn(ctx, func() { close(ready) }) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("the watch ended before watching: %v", err)
	}
}

var grants = capabilities.NewGrants().WithHostCall("test.*")

// A save in several writes is one reload; the next save is another; a
// broken save is reported and the version before keeps serving.
func TestPath(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t, runtime.NewConfig())
	dir := filepath.Join(t.TempDir(), "hello")
	copyPlugin(t, "hello-c", dir)
	rl, err := rt.LoadReloadable(ctx, dir, runtime.NewLoadConfig().WithGrants(grants))
	require.NoError(t, err)
	defer rl.Close(ctx)
	var mu sync.Mutex
	var reloads int
	defer rl.Subscribe(func(e runtime.Event) {
		if e.Kind == runtime.EventReloaded {
			mu.Lock()
			reloads++
			mu.Unlock()
		}
	})()
	reports := make(chan error, 10)
	watching(t, func(ctx context.Context, ready func()) error {
		return watch.Path(ctx, rl, dir, watch.Options{Debounce: 200 * time.Millisecond, Watching: ready, Report: func(err error) { reports <- err }})
	})
	greet := func() string {
		t.Helper()
		out, err := rl.Call(ctx, "greet", []byte("x"))
		require.NoError(t, err)
		return string(out)
	}

	// An editor's save: a temporary file, renamed over, then a chmod; and
	// the module rewritten in two writes.
	src, err := os.ReadFile(filepath.Join(dir, "plugin.toml"))
	require.NoError(t, err)
	v1 := bytes.Replace(src, []byte(`"Hello"`), []byte(`"v1"`), 1)
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".plugin.toml.swp"), v1, 0o644))
	require.NoError(t, os.Rename(filepath.Join(dir, ".plugin.toml.swp"), filepath.Join(dir, "plugin.toml")))
	require.NoError(t, os.Chmod(filepath.Join(dir, "plugin.toml"), 0o600))
	mod, err := os.ReadFile(filepath.Join(dir, "hello-c.wasm"))
	require.NoError(t, err)
	f, err := os.Create(filepath.Join(dir, "hello-c.wasm"))
	require.NoError(t, err)
	_, err = f.Write(mod[:len(mod)/2])
	require.NoError(t, err)
	_, err = f.Write(mod[len(mod)/2:])
	require.NoError(t, err)
	require.NoError(t, f.Close())
	require.NoError(t, <-reports)
	assert.Equal(t, "v1, x!", greet())

	// A broken save: refused, v1 keeps serving.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "hello-c.wasm"), []byte("garbage"), 0o644))
	err = <-reports
	require.Error(t, err)
	assert.ErrorContains(t, err, `reload plugin "hello-c"`)
	assert.Equal(t, "v1, x!", greet())

	// Fixed.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "hello-c.wasm"), mod, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "plugin.toml"), bytes.Replace(src, []byte(`"Hello"`), []byte(`"v2"`), 1), 0o644))
	require.NoError(t, <-reports)
	assert.Equal(t, "v2, x!", greet())
	mu.Lock()
	assert.Equal(t, 2, reloads, "one reload per save")
	mu.Unlock()
	assert.Empty(t, reports)
}

// Build runs before each reload; its failure is reported and skips the
// reload. A watched file is followed through its folder: the folder's
// other files do not count.
func TestPaths_Build(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "hello.src")
	require.NoError(t, os.WriteFile(file, []byte("ok"), 0o644))
	reports := make(chan error, 10)
	var reloads, builds int
	watching(t, func(ctx context.Context, ready func()) error {
		return watch.Paths(ctx, []string{file}, watch.Options{
			Debounce: 50 * time.Millisecond,
			Watching: ready,
			Report:   func(err error) { reports <- err },
			Build: func(context.Context) error {
				builds++
				b, err := os.ReadFile(file)
				if err != nil {
					return err
				}
				if string(b) != "ok" {
					return errors.New("build: syntax error")
				}
				return nil
			},
		}, func(context.Context) error { reloads++; return nil })
	})
	require.NoError(t, os.WriteFile(filepath.Join(dir, "other.txt"), []byte("x"), 0o644))
	require.NoError(t, os.WriteFile(file, []byte("bad"), 0o644))
	assert.EqualError(t, <-reports, "build: syntax error")
	require.NoError(t, os.WriteFile(file+"~", []byte("backup"), 0o644))
	require.NoError(t, os.WriteFile(file, []byte("ok"), 0o644))
	require.NoError(t, <-reports)
	assert.Equal(t, 2, builds)
	assert.Equal(t, 1, reloads)
}

func TestPaths_Errors(t *testing.T) {
	err := watch.Paths(context.Background(), []string{filepath.Join(t.TempDir(), "missing")}, watch.Options{}, nil)
	assert.ErrorContains(t, err, "watch ")
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func TestIgnored(t *testing.T) {
	for path, want := range map[string]bool{
		"a/plugin.toml": false, "a/hello.wasm": false, "a/.hello.wasm.tmp-123": true,
		"a/hello.vit~": true, "a/.hello.vit.swp": true, "a/x.tmp": true, "a/4913": false,
	} {
		assert.Equal(t, want, watch.Ignored(path), path)
	}
}
