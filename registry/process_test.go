//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package registry

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/vitplug"
)

// The helper process: the test binary run again as a child by
// helperCmd, doing what VITTE_REGISTRY_HELPER says.
const helperEnv = "VITTE_REGISTRY_HELPER"

// TestHelperProcess is not a test: it is the child of the tests that need
// other processes. It does nothing when run as a test.
func TestHelperProcess(t *testing.T) {
	mode := os.Getenv(helperEnv)
	if mode == "" {
		t.Skip("run as a child process only")
	}
	args := flagArgs()
	switch mode {
	case "kill":
		// kill <dir> <op> <step index> <name=path>...: make op, and kill
		// this process with SIGKILL at step i.
		dir, opName, i, pkgs := args[0], args[1], atoi(args[2]), pkgArgs(args[3:])
		r, err := Open(dir)
		exitIf(err)
		r.now = func() time.Time { return fixedNow }
		r.faults = failAt(i, func(string) error {
			exitIf(syscall.Kill(os.Getpid(), syscall.SIGKILL))
			select {} // until the signal lands
		})
		for _, op := range crashOps {
			if op.name == opName {
				exitIf(op.run(r, pkgs))
			}
		}
		fmt.Fprintln(os.Stderr, "not killed")
		os.Exit(3)
	case "install":
		// install <dir> <path>...: install each package, in turn.
		r, err := Open(args[0])
		exitIf(err)
		r.now = func() time.Time { return fixedNow }
		for _, p := range args[1:] {
			_, err := r.Install(context.Background(), p, InstallOptions{Verify: trusting})
			if err != nil && !errors.Is(err, ErrConflict) {
				exitIf(err)
			}
		}
		os.Exit(0)
	}
	exitIf(fmt.Errorf("unknown helper mode %q", mode))
}

func flagArgs() []string {
	i := slices.Index(os.Args, "--")
	return os.Args[i+1:]
}

func pkgArgs(args []string) map[string]string {
	m := map[string]string{}
	for _, a := range args {
		k, v, _ := strings.Cut(a, "=")
		m[k] = v
	}
	return m
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	exitIf(err)
	return n
}

func exitIf(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(2)
	}
}

// helperCmd returns the command running the helper process.
func helperCmd(mode string, args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], append([]string{"-test.run=^TestHelperProcess$", "--"}, args...)...)
	cmd.Env = append(os.Environ(), helperEnv+"="+mode)
	return cmd
}

// TestRegistry_killed kills a process making each change at each of its
// steps with SIGKILL, so that no deferred call runs and the lock is
// dropped by the system: the next Open finds the registry as it was, or
// fully changed, with no temporary file or stray package left.
func TestRegistry_killed(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process per step")
	}
	pkgs := crashPackages(t, t.TempDir())
	var pkgArgs []string
	for k, v := range pkgs {
		pkgArgs = append(pkgArgs, k+"="+v)
	}
	for _, op := range crashOps {
		ref := reference(t, op, pkgs)
		for i, step := range ref.steps {
			t.Run(fmt.Sprintf("%s/%d-%s", op.name, i, step), func(t *testing.T) {
				t.Parallel()
				dir := t.TempDir()
				r := openTest(t, dir)
				op.setup(t, r, pkgs)
				out, err := helperCmd("kill", append([]string{dir, op.name, strconv.Itoa(i)}, pkgArgs...)...).CombinedOutput()
				var ee *exec.ExitError
				require.ErrorAs(t, err, &ee, "%s", out)
				ws, _ := ee.Sys().(syscall.WaitStatus)
				require.Equal(t, syscall.SIGKILL, ws.Signal(), "%s", out)

				want := ref.before
				if committed(ref.steps, i) {
					want = ref.after
				}
				// Readers see a whole index before any cleaning.
				require.NoError(t, r.Refresh())
				r2 := openTest(t, dir)
				require.Equal(t, want, snap(t, dir))
				require.Equal(t, r.List(), r2.List())
				for _, e := range r2.List() {
					_, err := r2.Package(e.Name)
					require.NoError(t, err)
				}
			})
		}
	}
}

// TestRegistry_concurrent installs packages from several goroutines and
// several processes at once, the same ones and different ones, and
// checks that the registry ends whole: every package installed once,
// the newest version of each, nothing stray.
func TestRegistry_concurrent(t *testing.T) {
	pkgDir, dir := t.TempDir(), t.TempDir()
	const plugins = 6
	var paths []string // p0 1.0.0, p0 1.1.0, p1 1.0.0...
	for i := range plugins {
		for _, v := range []string{"1.0.0", "1.1.0"} {
			paths = append(paths, pack(t, pkgDir, spec{name: fmt.Sprintf("p%d", i), version: v}))
		}
	}
	// Each worker installs every package, in its own order, so the same
	// plugins race and versions arrive in both orders (a downgrade is
	// refused with ErrConflict, which the workers accept).
	order := func(w int) []string {
		out := slices.Clone(paths)
		for i := range out {
			j := (i*7 + w*5) % len(out)
			out[i], out[j] = out[j], out[i]
		}
		return out
	}
	shared := openTest(t, dir)
	var events sync.Map
	shared.Subscribe(func(e Event) { events.Store(e.Entry.Name+"@"+e.Entry.Version, true) })

	var wg sync.WaitGroup
	errs := make(chan error, 100)
	const processes, goroutines = 4, 6
	for w := range processes {
		wg.Go(func() {
			out, err := helperCmd("install", append([]string{dir}, order(w)...)...).CombinedOutput()
			if err != nil {
				errs <- fmt.Errorf("process %d: %w: %s", w, err, out)
			}
		})
	}
	for w := range goroutines {
		wg.Go(func() {
			// Half the goroutines share one Registry value, half have their
			// own.
			r := shared
			if w%2 == 1 {
				var err error
				if r, err = Open(dir); err != nil {
					errs <- err
					return
				}
			}
			for _, p := range order(processes + w) {
				if _, err := r.Install(context.Background(), p, InstallOptions{Verify: trusting}); err != nil && !errors.Is(err, ErrConflict) {
					errs <- fmt.Errorf("goroutine %d: %w", w, err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	r := openTest(t, dir)
	var want []string
	for i := range plugins {
		want = append(want, fmt.Sprintf("p%d@1.1.0", i))
	}
	require.Equal(t, want, names(r.List()))
	var files []string
	for _, e := range r.List() {
		pkg, err := r.Package(e.Name)
		require.NoError(t, err)
		want, err := vitplug.OpenFile(filepath.Join(pkgDir, e.Name+"-"+e.Version+".vitplug"), vitplug.Limits{})
		require.NoError(t, err)
		require.Equal(t, want.ContentID(), pkg.ContentID())
		files = append(files, fmt.Sprintf("%s %d", e.StorePath(), fileSize(t, filepath.Join(dir, e.StorePath()))))
	}
	slices.Sort(files)
	require.Equal(t, files, snap(t, dir).Files, "stray files in the store")
	require.Empty(t, temps(t, dir))
	// The shared value saw its own installs of the final versions, or
	// not, but never a version that is not there.
	events.Range(func(k, _ any) bool {
		require.Regexp(t, `^p\d@1\.[01]\.0$`, k)
		return true
	})
}

func fileSize(t *testing.T, path string) int64 {
	fi, err := os.Stat(path)
	require.NoError(t, err)
	return fi.Size()
}
