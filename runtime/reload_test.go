package runtime_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"aead.dev/minisign"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/capabilities"
	"github.com/vitte-lang/vitte-plugin/runtime"
	"github.com/vitte-lang/vitte-plugin/trust"
	"github.com/vitte-lang/vitte-plugin/vitplug"
)

// A kind of version the reload tests swap in.
type versionKind int

const (
	good       versionKind = iota // hello-c, greeting "v<n>"
	badWasm                       // module bytes that are not WebAssembly
	onLoadErr                     // hostile-onload: on-load returns an error
	onLoadTrap                    // hostile-onload-trap: on-load traps
	badImport                     // bad-import: imports a function no host has
	ungranted                     // hello-c asking for an environment variable not granted
	unsigned                      // hello-c, not signed, where the policy wants a signature
)

func (k versionKind) String() string {
	return [...]string{"good", "bad wasm", "on-load error", "on-load trap", "bad import", "ungranted capability", "unsigned"}[k]
}

// refusal is what errors.Is finds in the error of a refused reload.
func (k versionKind) refusal() error {
	switch k {
	case onLoadErr:
		return runtime.ErrGuest
	case onLoadTrap:
		return runtime.ErrTrap
	case ungranted:
		return runtime.ErrPermission
	case unsigned:
		return runtime.ErrUntrusted
	}
	return nil
}

// greeting is what the version n of kind k answers to greet: "v<n>" for a
// good one, "broken<n>" for the others, which no call may ever see.
func greeting(k versionKind, n int) string {
	if k == good {
		return fmt.Sprintf("v%d", n)
	}
	return fmt.Sprintf("broken%d", n)
}

// writeVersion writes the plugin folder of version n of kind k (plugin
// "hello-c", version 1.0.n) into dir, replacing what was there.
func writeVersion(t testing.TB, dir string, k versionKind, n int) {
	t.Helper()
	module := map[versionKind]string{good: "hello-c", onLoadErr: "hostile-onload", onLoadTrap: "hostile-onload-trap",
		badImport: "bad-import", ungranted: "hello-c", unsigned: "hello-c"}
	var mod []byte
	if k == badWasm {
		mod = []byte("\x00asm\x01\x00\x00\x00 this is not a module")
	} else {
		var err error
		mod, err = os.ReadFile(fixture(module[k]) + "/" + module[k] + ".wasm")
		require.NoError(t, err)
	}
	caps := `host = ["test.*"]`
	if k == ungranted {
		caps += "\nenv = [\"VITTE_TEST_SECRET\"]"
	}
	toml := fmt.Sprintf(`[plugin]
name    = "hello-c"
version = "1.0.%d"
kind    = "c"
module  = "plugin.wasm"

[capabilities]
%s

[config]
greeting = %q
`, n, caps, greeting(k, n))
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "plugin.wasm"), mod, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "plugin.toml"), []byte(toml), 0o644))
}

// signer signs packages, and verifies them against a policy that trusts
// only its key.
type signer struct {
	key minisign.PrivateKey
	pol *trust.Policy
}

func newSigner(t testing.TB) *signer {
	pub, key, err := minisign.GenerateKey(nil)
	require.NoError(t, err)
	var none *trust.Policy
	pol, err := none.WithKey("release", pub, nil, trust.Strict)
	require.NoError(t, err)
	return &signer{key: key, pol: pol}
}

func (s *signer) verify(pkg *vitplug.Package, source string) error {
	if _, err := trust.Verify(pkg, source, nil, s.pol, time.Now()); err != nil {
		return fmt.Errorf("%w: %w", runtime.ErrUntrusted, err)
	}
	return nil
}

// writePackage packs version n of kind k to the file out, signed unless
// k is unsigned, atomically.
func (s *signer) writePackage(t testing.TB, out string, k versionKind, n int) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "src")
	writeVersion(t, dir, k, n)
	var buf bytes.Buffer
	pkg, err := vitplug.Pack(dir, &buf, vitplug.Limits{})
	require.NoError(t, err)
	if k != unsigned {
		sig, err := trust.Sign(pkg, s.key, time.Now())
		require.NoError(t, err)
		pkg, err = pkg.WithSignature(trust.KeyID(s.key.ID()), sig)
		require.NoError(t, err)
	}
	buf.Reset()
	_, err = pkg.WriteTo(&buf)
	require.NoError(t, err)
	tmp := out + ".tmp"
	require.NoError(t, os.WriteFile(tmp, buf.Bytes(), 0o644))
	require.NoError(t, os.Rename(tmp, out))
}

// eventLog records events.
type eventLog struct {
	mu     sync.Mutex
	events []runtime.Event
}

func (l *eventLog) record(e runtime.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
}

func (l *eventLog) kinds() []runtime.EventKind {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []runtime.EventKind
	for _, e := range l.events {
		out = append(out, e.Kind)
	}
	return out
}

func (l *eventLog) all() []runtime.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]runtime.Event(nil), l.events...)
}

var helloGrants = capabilities.NewGrants().WithHostCall("test.*")

// The test: calls from several goroutines while the plugin is
// replaced 20 times, 9 of them by broken versions. No call fails, no call
// sees a broken version, a goroutine never sees an older version after a
// newer one, every good version serves the call that follows its reload,
// and the goroutines and the heap do not grow from one round of 5
// replacements to the next.
func TestReloadable_Hammer(t *testing.T) {
	ctx := context.Background()
	e := newRuntime(t, runtime.NewConfig().WithInstances(4))
	s := newSigner(t)
	pkgPath := filepath.Join(t.TempDir(), "hello-c.vitplug")
	s.writePackage(t, pkgPath, good, 0)
	lc := runtime.NewLoadConfig().WithGrants(helloGrants).WithPackageVerifier(s.verify)
	rl, err := e.rt.LoadReloadable(ctx, pkgPath, lc)
	require.NoError(t, err)
	defer rl.Close(ctx)
	events := &eventLog{}
	defer rl.Subscribe(events.record)()

	plan := []versionKind{
		good, badWasm, good, onLoadErr, good,
		ungranted, good, unsigned, onLoadTrap, good,
		badImport, good, good, badWasm, unsigned,
		good, ungranted, onLoadErr, good, good,
	}
	goodVersion := map[string]int{"v0": 0}
	for i, k := range plan {
		if k == good {
			goodVersion[greeting(k, i+1)] = i + 1
		}
	}

	const callers = 4
	var heap []uint64
	var goroutines []int
	var calls atomic.Int64
	for round := 0; round < 4; round++ {
		stop := make(chan struct{})
		problems := make(chan error, callers)
		var wg sync.WaitGroup
		for g := 0; g < callers; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				last := -1
				for {
					select {
					case <-stop:
						return
					default:
					}
					out, err := rl.Call(ctx, "greet", []byte("x"))
					if err != nil {
						problems <- fmt.Errorf("call failed: %w", err)
						return
					}
					calls.Add(1)
					g, ok := strings.CutSuffix(string(out), ", x!")
					n, isGood := goodVersion[g]
					if !ok || !isGood {
						problems <- fmt.Errorf("a call saw %q", out)
						return
					}
					if n < last {
						problems <- fmt.Errorf("a call saw version %d after version %d", n, last)
						return
					}
					last = n
				}
			}()
		}
		for i := round * 5; i < round*5+5; i++ {
			k, n := plan[i], i+1
			s.writePackage(t, pkgPath, k, n)
			err := rl.Reload(ctx)
			if k == good {
				require.NoError(t, err, "replacement %d (%s)", n, k)
				out, err := rl.Call(ctx, "greet", []byte("x"))
				require.NoError(t, err)
				require.Equal(t, greeting(k, n)+", x!", string(out), "the call after replacement %d goes to it", n)
			} else {
				require.Error(t, err, "replacement %d (%s)", n, k)
				if want := k.refusal(); want != nil {
					require.ErrorIs(t, err, want, "replacement %d (%s)", n, k)
				}
				switch k {
				case badWasm:
					require.ErrorContains(t, err, "malformed module")
				case badImport:
					require.ErrorContains(t, err, "import not provided by the host")
				}
			}
		}
		close(stop)
		wg.Wait()
		close(problems)
		for err := range problems {
			t.Error(err)
		}
		if t.Failed() {
			t.FailNow()
		}
		goruntime.GC()
		goruntime.GC()
		var ms goruntime.MemStats
		goruntime.ReadMemStats(&ms)
		heap = append(heap, ms.HeapAlloc)
		goroutines = append(goroutines, goruntime.NumGoroutine())
	}
	t.Logf("%d calls; after each round: heap %v bytes, goroutines %v", calls.Load(), heap, goroutines)

	// Flat: the goroutines are those of the first round, and the heap did
	// not grow by 1 MiB over 3 rounds, when keeping the old versions
	// (not unloading them) grows it by about 2 MiB a round: each holds up
	// to 4 instances and their linear memory. The slack is for the log and
	// event buffers of the test, and the GC's noise (about 200 KiB).
	for i := range goroutines {
		assert.LessOrEqual(t, goroutines[i], goroutines[0], "goroutines after round %d", i)
	}
	assert.Less(t, int64(heap[3])-int64(heap[0]), int64(1<<20), "heap growth over 3 rounds of 5 replacements: %v", heap)

	var reloaded, refused int
	for _, ev := range events.all() {
		switch ev.Kind {
		case runtime.EventReloaded:
			reloaded++
			assert.Positive(t, ev.Routed)
			assert.Equal(t, "hello-c", ev.Plugin)
		case runtime.EventReloadRefused:
			refused++
			assert.Error(t, ev.Err)
		}
	}
	assert.Equal(t, len(goodVersion)-1, reloaded)
	assert.Equal(t, len(plan)-reloaded, refused)
	assert.Equal(t, "1.0.20", rl.Current().Version())
}

// A refused version changes nothing: the current one keeps serving, the
// reason is returned, logged and sent as an event, and a version refused
// before loading (an ungranted capability, a bad signature) runs none of
// its code.
func TestReloadable_Refused(t *testing.T) {
	ctx := context.Background()
	s := newSigner(t)
	for _, k := range []versionKind{badWasm, onLoadErr, onLoadTrap, badImport, ungranted, unsigned} {
		t.Run(k.String(), func(t *testing.T) {
			all := &eventLog{}
			e := newRuntime(t, runtime.NewConfig().WithEvents(all.record))
			pkgPath := filepath.Join(t.TempDir(), "hello-c.vitplug")
			s.writePackage(t, pkgPath, good, 0)
			rl, err := e.rt.LoadReloadable(ctx, pkgPath, runtime.NewLoadConfig().WithGrants(helloGrants).WithPackageVerifier(s.verify))
			require.NoError(t, err)
			defer rl.Close(ctx)
			events := &eventLog{}
			defer rl.Subscribe(events.record)()

			s.writePackage(t, pkgPath, k, 1)
			reloadErr := rl.Reload(ctx)
			require.Error(t, reloadErr)
			if want := k.refusal(); want != nil {
				assert.ErrorIs(t, reloadErr, want)
			}
			assert.True(t, strings.HasPrefix(reloadErr.Error(), `reload plugin "hello-c": `), reloadErr.Error())
			var re *runtime.ReloadError
			require.ErrorAs(t, reloadErr, &re)
			assert.Equal(t, "hello-c", re.Plugin)
			if k != badWasm {
				assert.Equal(t, "1.0.1", re.Candidate)
			}

			out, err := rl.Call(ctx, "greet", []byte("x"))
			require.NoError(t, err)
			assert.Equal(t, "v0, x!", string(out))
			assert.Equal(t, "1.0.0", rl.Current().Version())

			require.Equal(t, []runtime.EventKind{runtime.EventReloadRefused}, events.kinds())
			ev := events.all()[0]
			assert.Equal(t, "hello-c", ev.Plugin)
			assert.Equal(t, "1.0.0", ev.Version, "the version that keeps serving")
			assert.Equal(t, reloadErr, ev.Err)
			if k != badWasm {
				assert.Equal(t, "1.0.1", ev.Candidate)
			}
			assert.Contains(t, ev.String(), "reload refused, 1.0.0 keeps serving")
			assert.Equal(t, events.all(), all.all(), "the runtime's handler gets them too")
			assert.Contains(t, e.logs.String(), "reload refused")
			if k == ungranted || k == unsigned {
				assert.Equal(t, 1, strings.Count(e.stdout.String(), "hello-c: loaded"), "the refused version's on-load did not run")
			}
		})
	}
}

// A plugin folder is reloaded from its path; a version of another name is
// refused.
func TestReloadable_Folder(t *testing.T) {
	ctx := context.Background()
	e := newRuntime(t, runtime.NewConfig())
	dir := filepath.Join(t.TempDir(), "hello")
	writeVersion(t, dir, good, 0)
	rl, err := e.rt.LoadReloadable(ctx, dir, runtime.NewLoadConfig().WithGrants(helloGrants))
	require.NoError(t, err)
	defer rl.Close(ctx)
	assert.Equal(t, "hello-c", rl.Name())

	writeVersion(t, dir, good, 1)
	require.NoError(t, rl.Reload(ctx))
	out, err := rl.AppendCall(ctx, []byte("out: "), "greet", []byte("x"))
	require.NoError(t, err)
	assert.Equal(t, "out: v1, x!", string(out))
	assert.Equal(t, "hello-c: loaded\nhello-c: loaded\nhello-c: unloaded\n", e.stdout.String(),
		"the new version's on-load runs before the old version's on-unload")

	toml, err := os.ReadFile(filepath.Join(dir, "plugin.toml"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "plugin.toml"), bytes.Replace(toml, []byte(`"hello-c"`), []byte(`"other"`), 1), 0o644))
	err = rl.Reload(ctx)
	assert.ErrorContains(t, err, `is plugin "other", not "hello-c"`)

	require.NoError(t, rl.Close(ctx))
	_, err = rl.Call(ctx, "greet", nil)
	assert.ErrorIs(t, err, runtime.ErrClosed)
	_, err = rl.AppendCall(ctx, nil, "greet", nil)
	assert.ErrorIs(t, err, runtime.ErrClosed)
	assert.ErrorIs(t, rl.Reload(ctx), runtime.ErrClosed)
}

// A call in flight during a reload finishes on the old version; calls
// made meanwhile go to the new one; the old one's on-unload runs after the
// call in flight returns, and then the reload returns.
func TestReloadable_DrainsCallsInFlight(t *testing.T) {
	ctx := context.Background()
	e := newRuntime(t, runtime.NewConfig().WithInstances(2))
	entered, unblock := make(chan struct{}), make(chan struct{})
	e.rt.RegisterHostFunc("test.block", func(ctx context.Context, _ []byte) ([]byte, error) {
		close(entered)
		<-unblock
		return []byte("unblocked"), nil
	})
	dir := filepath.Join(t.TempDir(), "hello")
	writeVersion(t, dir, good, 0)
	rl, err := e.rt.LoadReloadable(ctx, dir, runtime.NewLoadConfig().WithGrants(helloGrants))
	require.NoError(t, err)
	defer rl.Close(ctx)
	events := &eventLog{}
	defer rl.Subscribe(events.record)()

	type result struct {
		out []byte
		err error
	}
	inflight := make(chan result, 1)
	go func() {
		out, err := rl.Call(ctx, "call-host", []byte("test.block"))
		inflight <- result{out, err}
	}()
	<-entered
	writeVersion(t, dir, good, 1)
	reloaded := make(chan error, 1)
	go func() { reloaded <- rl.Reload(ctx) }()
	for rl.Current().Version() != "1.0.1" {
		time.Sleep(time.Millisecond)
	}
	out, err := rl.Call(ctx, "greet", []byte("x"))
	require.NoError(t, err)
	assert.Equal(t, "v1, x!", string(out))
	select {
	case err := <-reloaded:
		t.Fatalf("the reload returned (%v) while a call was in flight on the old version", err)
	default:
	}
	assert.Equal(t, 0, strings.Count(e.stdout.String(), "unloaded"), "the old version is not unloaded yet")

	close(unblock)
	r := <-inflight
	require.NoError(t, r.err)
	assert.Equal(t, "unblocked", string(r.out))
	require.NoError(t, <-reloaded)
	assert.Equal(t, 1, strings.Count(e.stdout.String(), "hello-c: unloaded"))
	require.Equal(t, []runtime.EventKind{runtime.EventReloaded}, events.kinds())
	ev := events.all()[0]
	assert.Equal(t, "1.0.0", ev.Previous)
	assert.Equal(t, "1.0.1", ev.Version)
	assert.Positive(t, ev.Drained)
	assert.Contains(t, ev.String(), "hello-c: reloaded 1.0.0 -> 1.0.1")
}

// Packages from elsewhere (a registry) are swapped in with ReloadPackage,
// and must pass the verifier.
func TestReloadable_Package(t *testing.T) {
	ctx := context.Background()
	e := newRuntime(t, runtime.NewConfig())
	s := newSigner(t)
	open := func(k versionKind, n int) *vitplug.Package {
		path := filepath.Join(t.TempDir(), "p.vitplug")
		s.writePackage(t, path, k, n)
		pkg, err := vitplug.OpenFile(path, vitplug.Limits{})
		require.NoError(t, err)
		return pkg
	}
	lc := runtime.NewLoadConfig().WithGrants(helloGrants).WithPackageVerifier(s.verify)
	_, err := e.rt.LoadReloadablePackage(ctx, open(unsigned, 0), "", lc)
	require.ErrorIs(t, err, runtime.ErrUntrusted)
	_, err = e.rt.LoadReloadablePackage(ctx, open(good, 0), "", runtime.NewLoadConfig())
	require.ErrorIs(t, err, runtime.ErrUntrusted, "no verifier")

	rl, err := e.rt.LoadReloadablePackage(ctx, open(good, 0), "", lc)
	require.NoError(t, err)
	defer rl.Close(ctx)
	require.ErrorIs(t, rl.ReloadPackage(ctx, open(unsigned, 1), "", lc), runtime.ErrUntrusted)
	require.NoError(t, rl.ReloadPackage(ctx, open(good, 2), "", lc))
	out, err := rl.Call(ctx, "greet", []byte("x"))
	require.NoError(t, err)
	assert.Equal(t, "v2, x!", string(out))
	assert.ErrorContains(t, rl.Reload(ctx), "no path to reload from")
}
