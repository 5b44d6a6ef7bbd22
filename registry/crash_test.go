package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

// crashOp is a change whose every write step the crash tests break.
type crashOp struct {
	name string
	// setup prepares the registry before the change; run makes it.
	setup func(t testing.TB, r *Registry, pkgs map[string]string)
	run   func(r *Registry, pkgs map[string]string) error
}

var crashOps = []crashOp{
	{
		name: "install",
		setup: func(t testing.TB, r *Registry, pkgs map[string]string) {
			install(t, r, pkgs["other"], InstallOptions{})
		},
		run: func(r *Registry, pkgs map[string]string) error {
			_, err := r.Install(context.Background(), pkgs["hello-1.0.0"], InstallOptions{Verify: trusting})
			return err
		},
	},
	{
		name: "update",
		setup: func(t testing.TB, r *Registry, pkgs map[string]string) {
			install(t, r, pkgs["other"], InstallOptions{})
			install(t, r, pkgs["hello-1.0.0"], InstallOptions{})
		},
		run: func(r *Registry, pkgs map[string]string) error {
			_, err := r.Install(context.Background(), pkgs["hello-1.1.0"], InstallOptions{Verify: trusting, Confirm: func(CapabilityDiff) bool { return true }})
			return err
		},
	},
	{
		name: "remove",
		setup: func(t testing.TB, r *Registry, pkgs map[string]string) {
			install(t, r, pkgs["other"], InstallOptions{})
			install(t, r, pkgs["hello-1.0.0"], InstallOptions{})
		},
		run: func(r *Registry, pkgs map[string]string) error { return r.Remove("hello", false) },
	},
	{
		name: "disable",
		setup: func(t testing.TB, r *Registry, pkgs map[string]string) {
			install(t, r, pkgs["hello-1.0.0"], InstallOptions{})
		},
		run: func(r *Registry, pkgs map[string]string) error { return r.SetEnabled("hello", false) },
	},
}

// crashPackages packs the packages of crashOps into dir.
func crashPackages(t testing.TB, dir string) map[string]string {
	return map[string]string{
		"other":       pack(t, dir, spec{name: "other", version: "1.0.0"}),
		"hello-1.0.0": pack(t, dir, spec{name: "hello", version: "1.0.0"}),
		"hello-1.1.0": pack(t, dir, spec{name: "hello", version: "1.1.0", caps: `host = ["test.*"]` + "\nenv = [\"LANG\"]"}),
	}
}

// crashRef is what a crash test compares with: the steps of a change
// that succeeds, and the registry before and after it.
type crashRef struct {
	steps         []string
	before, after snapshot
}

func reference(t *testing.T, op crashOp, pkgs map[string]string) crashRef {
	dir := t.TempDir()
	r := openTest(t, dir)
	op.setup(t, r, pkgs)
	var ref crashRef
	ref.before = snap(t, dir)
	r.faults = &faults{before: func(step string) error { ref.steps = append(ref.steps, step); return nil }}
	require.NoError(t, op.run(r, pkgs))
	ref.after = snap(t, dir)
	require.NotEqual(t, ref.before, ref.after)
	require.Contains(t, ref.steps, "index.rename")
	return ref
}

// committed reports whether a crash at step i of steps comes after the
// commit point, the rename of the index.
func committed(steps []string, i int) bool {
	for j := range i {
		if steps[j] == "index.rename" {
			return true
		}
	}
	return false
}

// failAt returns fault hooks calling do at the i-th step.
func failAt(i int, do func(step string) error) *faults {
	n := 0
	return &faults{before: func(step string) error {
		n++
		if n-1 == i {
			return do(step)
		}
		return nil
	}}
}

var errInjected = errors.New("injected failure")

// TestRegistry_faults breaks every write step of each change with an
// error, and checks that the change fails and leaves the registry as it
// was, or, past the commit point, only skips cleaning up.
func TestRegistry_faults(t *testing.T) {
	pkgs := crashPackages(t, t.TempDir())
	for _, op := range crashOps {
		ref := reference(t, op, pkgs)
		t.Logf("%s: %s", op.name, strings.Join(ref.steps, " "))
		for i, step := range ref.steps {
			t.Run(fmt.Sprintf("%s/%d-%s", op.name, i, step), func(t *testing.T) {
				dir := t.TempDir()
				r := openTest(t, dir)
				op.setup(t, r, pkgs)
				require.Equal(t, ref.before, snap(t, dir))
				r.faults = failAt(i, func(string) error { return errInjected })
				err := op.run(r, pkgs)
				if strings.HasPrefix(step, "gc.") {
					// After the commit: the change stands, the old package
					// is left for the next Open to remove.
					require.NoError(t, err)
				} else {
					require.ErrorIs(t, err, errInjected)
					require.ErrorContains(t, err, step+": injected failure")
					require.Equal(t, ref.before, snap(t, dir), "registry changed")
					require.Equal(t, ref.before.Index, indexOf(t, r))
				}
				r.faults = nil
				openTest(t, dir)
				if strings.HasPrefix(step, "gc.") {
					require.Equal(t, ref.after, snap(t, dir))
				} else {
					require.Equal(t, ref.before, snap(t, dir))
					// And the change works once the fault is gone.
					require.NoError(t, op.run(r, pkgs))
					require.Equal(t, ref.after, snap(t, dir))
				}
			})
		}
	}
}

// indexOf returns the index r holds in memory, as it would be written.
func indexOf(t *testing.T, r *Registry) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.idx.Generation == 0 && len(r.idx.Plugins) == 0 {
		return ""
	}
	data, err := r.idx.marshal()
	require.NoError(t, err)
	return string(data)
}

// TestRegistry_faults_rollback: when putting the old index back fails
// too, the error says so and the change stands, whole.
func TestRegistry_faults_rollback(t *testing.T) {
	pkgs := crashPackages(t, t.TempDir())
	op := crashOps[0]
	ref := reference(t, op, pkgs)
	dir := t.TempDir()
	r := openTest(t, dir)
	op.setup(t, r, pkgs)
	r.faults = &faults{before: func(step string) error {
		if step == "index.syncdir" || step == "rollback.rename" {
			return errInjected
		}
		return nil
	}}
	err := op.run(r, pkgs)
	require.ErrorIs(t, err, errInjected)
	require.ErrorContains(t, err, "roll back the index: rollback.rename: injected failure (the change was kept)")
	require.Equal(t, ref.after, snap(t, dir))
	_, ok := r.Get("hello")
	require.True(t, ok)
}

// TestRegistry_faults_goexit stops the goroutine making each change at
// every step, as a crash would, deferred calls running: the registry is
// either as it was or fully changed, and the next Open finds it so.
func TestRegistry_faults_goexit(t *testing.T) {
	pkgs := crashPackages(t, t.TempDir())
	for _, op := range crashOps {
		ref := reference(t, op, pkgs)
		for i, step := range ref.steps {
			t.Run(fmt.Sprintf("%s/%d-%s", op.name, i, step), func(t *testing.T) {
				dir := t.TempDir()
				r := openTest(t, dir)
				op.setup(t, r, pkgs)
				r.faults = failAt(i, func(string) error { runtime.Goexit(); return nil })
				done := make(chan bool)
				go func() {
					exited := true
					defer func() { done <- exited }()
					_ = op.run(r, pkgs)
					exited = false
				}()
				require.True(t, <-done, "the change did not reach step %s", step)
				require.Empty(t, temps(t, dir))
				want := ref.before
				if committed(ref.steps, i) {
					want = ref.after
				}
				openTest(t, dir)
				require.Equal(t, want, snap(t, dir))
				// Nothing stays locked: r and another value still work.
				r.faults = nil
				require.NoError(t, r.Refresh())
				_ = openTest(t, dir).SetEnabled("hello", true)
			})
		}
	}
}

// TestRegistry_faults_fullDisk fails every file write part way, as a full
// disk does: the change fails and nothing is left of it.
func TestRegistry_faults_fullDisk(t *testing.T) {
	pkgs := crashPackages(t, t.TempDir())
	for _, op := range crashOps {
		ref := reference(t, op, pkgs)
		for _, step := range ref.steps {
			if !strings.HasSuffix(step, ".write") {
				continue
			}
			t.Run(op.name+"/"+step, func(t *testing.T) {
				dir := t.TempDir()
				r := openTest(t, dir)
				op.setup(t, r, pkgs)
				r.faults = &faults{writer: func(s string, w io.Writer) io.Writer {
					if s != step {
						return w
					}
					return &fullDisk{w: w, left: 100}
				}}
				err := op.run(r, pkgs)
				require.ErrorIs(t, err, syscall.ENOSPC)
				require.Equal(t, ref.before, snap(t, dir))
				openTest(t, dir)
				require.Equal(t, ref.before, snap(t, dir))
			})
		}
	}
}

// fullDisk writes left bytes, then fails with ENOSPC.
type fullDisk struct {
	w    io.Writer
	left int
}

func (f *fullDisk) Write(p []byte) (int, error) {
	if len(p) <= f.left {
		f.left -= len(p)
		return f.w.Write(p)
	}
	n, _ := f.w.Write(p[:f.left])
	f.left = 0
	return n, &os.PathError{Op: "write", Path: "disk", Err: syscall.ENOSPC}
}

// TestOpen_cleans: what a killed process leaves (temporary files, a
// stored package no entry refers to) is ignored by readers and removed by
// the next Open.
func TestOpen_cleans(t *testing.T) {
	pkgs, dir := t.TempDir(), t.TempDir()
	r := openTest(t, dir)
	install(t, r, pack(t, pkgs, spec{name: "hello", version: "1.0.0"}), InstallOptions{})
	want := snap(t, dir)
	list := r.List()

	for _, f := range []string{
		tmpPrefix + "index.json-123",
		filepath.Join(storeDir, tmpPrefix+zeros+".vitplug-456"),
		filepath.Join(storeDir, strings.Repeat("1", 64)+".vitplug"),
	} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), []byte("half a file"), 0o600))
	}
	// A file that is not the registry's is left alone.
	require.NoError(t, os.WriteFile(filepath.Join(dir, storeDir, "README"), nil, 0o600))

	require.NoError(t, r.Refresh())
	require.Equal(t, list, r.List())
	r2 := openTest(t, dir)
	require.Equal(t, list, r2.List())
	want.Files = append(want.Files, "store/README 0")
	slices.Sort(want.Files)
	require.Equal(t, want, snap(t, dir))
}
