//go:build wasmtime

package runtime_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/abi"
	"github.com/vitte-lang/vitte-plugin/capabilities"
	"github.com/vitte-lang/vitte-plugin/runtime"
)

// The conformance tests run the same plugins, with the same inputs, on
// both engines in one process, and compare everything a host can see:
// outputs byte for byte, errors (message and class), audit events, and
// what the guest wrote to stdout. The rest of the suite checks each
// engine against expectations (go test -tags wasmtime runs it on
// wasmtime); these check the engines against each other, on inputs no
// other test has expectations for.

// observed is what one call showed the host. The plugin's stdout is
// compared for the whole run, as its set of lines: the pool replaces
// instances in the background, so what an on-load prints lands during a
// later call, and how many instances a run makes depends on timing.
type observed struct {
	Out     string
	Err     string
	Classes []string
	Events  []capabilities.Event
}

// errorClasses are the sentinels a caller can match with errors.Is.
var errorClasses = []error{
	runtime.ErrNoHandler, runtime.ErrGuest, runtime.ErrTrap, runtime.ErrTimeout, runtime.ErrCanceled,
	runtime.ErrContract, runtime.ErrClosed, runtime.ErrPermission, runtime.ErrFuel,
	abi.ErrOutOfBounds, abi.ErrMisaligned, abi.ErrInvalidUTF8, abi.ErrBadTag, abi.ErrTooLarge, abi.ErrBadLevel,
	context.DeadlineExceeded, context.Canceled,
}

// conformanceCall is one call of a handler.
type conformanceCall struct{ fn, in string }

// conformancePlugin is a plugin and its calls, made in order on one
// instance per engine.
type conformancePlugin struct {
	fixture string
	cfg     func(runtime.Config) runtime.Config
	grants  func(tmp string) capabilities.Grants
	calls   []conformanceCall
}

// conformanceInputs are given to every handler without a call list.
var conformanceInputs = []string{"", "x", "hello, world", strings.Repeat("0123456789abcdef", 64), "\xff\xfe invalid UTF-8", "32", "4"}

// conformanceSkip are handlers that would only time out: they are called
// once, below, with a short timeout.
var conformanceSkip = map[string]bool{"loop": true, "sleep": true}

func conformancePlugins(t *testing.T) []conformancePlugin {
	var fsCalls []conformanceCall
	for _, tc := range fsEscapes {
		for _, c := range tc.setup {
			fsCalls = append(fsCalls, conformanceCall{c[0], c[1]})
		}
		fsCalls = append(fsCalls, conformanceCall{tc.fn, tc.in})
		fsCalls = append(fsCalls, conformanceCall{"read", "/data/hello.txt"})
	}
	for _, c := range []conformanceCall{
		{"write", "/data/new.txt\nnew content"}, {"append", "/data/new.txt\n!"}, {"read", "/data/new.txt"},
		{"mkdir", "/data/dir"}, {"rename", "/data/new.txt\n/data/dir/moved.txt"}, {"symlink", "moved.txt\n/data/dir/soft"},
		{"readlink", "/data/dir/soft"}, {"lstat", "/data/link-out"}, {"list", "/data"}, {"list", "/data/dir"},
		{"stat", "/ro/ro.txt"}, {"truncate", "/data/dir/moved.txt"}, {"unlink", "/data/dir/soft"},
		{"unlink", "/data/dir/moved.txt"}, {"rmdir", "/data/dir"}, {"list", "/"}, {"list", "."}, {"read", "hello.txt"},
		{"read", "/data/nope"}, {"rmdir", "/data/hello.txt"}, {"mkdir", "/data/hello.txt"},
	} {
		fsCalls = append(fsCalls, c)
	}
	fsGrants := func(tmp string) capabilities.Grants {
		return grantBoth(filepath.Join(tmp, "data"), filepath.Join(tmp, "ro"))
	}
	plugins := []conformancePlugin{
		{fixture: "hostile"},
		{fixture: "hostile", cfg: func(c runtime.Config) runtime.Config { return c.WithMaxTimeout(200 * time.Millisecond) },
			calls: []conformanceCall{{"loop", ""}, {"ok", ""}, {"sleep", ""}, {"ok", ""}}},
		{fixture: "caps-c", grants: func(string) capabilities.Grants {
			return capabilities.NewGrants().WithEnv("VITTE_TEST_GREETING")
		}},
		{fixture: "caps-c", cfg: func(c runtime.Config) runtime.Config { return c.WithMaxMemory(8 << 20) }},
		{fixture: "fs-probe", grants: fsGrants, calls: fsCalls},
		{fixture: "fs-probe", grants: func(string) capabilities.Grants { return capabilities.NewGrants() }, calls: fsCalls},
	}
	for _, f := range []string{"hello-c", "hello-go", "hello-vitte", "spec-c", "vitte-handlers", "bench-c", "go-stress"} {
		plugins = append(plugins, conformancePlugin{fixture: f})
	}
	if _, err := os.Stat(filepath.Join(fixture("fs-probe-go"), "fs-probe-go.wasm")); err == nil {
		plugins = append(plugins, conformancePlugin{fixture: "fs-probe-go", grants: fsGrants, calls: fsCalls})
	}
	for _, f := range []string{"hostile-onload", "hostile-onload-trap"} {
		plugins = append(plugins, conformancePlugin{fixture: f})
	}
	return plugins
}

func TestConformance(t *testing.T) {
	for _, cp := range conformancePlugins(t) {
		t.Run(cp.fixture, func(t *testing.T) {
			var runs [2][]observed
			var loadErrs [2]string
			var tmps [2]string
			for i, eng := range []runtime.Engine{runtime.EngineWazero, runtime.EngineWasmtime} {
				tmps[i] = loadFSProbeTree(t)
				runs[i], loadErrs[i] = runConformance(t, eng, cp, tmps[i])
			}
			norm := func(i int, s string) string { return strings.ReplaceAll(s, tmps[i], "<tmp>") }
			assert.Equal(t, norm(0, loadErrs[0]), norm(1, loadErrs[1]), "load")
			require.Equal(t, len(runs[0]), len(runs[1]))
			for j := range runs[0] {
				a, b := runs[0][j], runs[1][j]
				for k := range a.Events {
					a.Events[k].Resource = norm(0, a.Events[k].Resource)
				}
				for k := range b.Events {
					b.Events[k].Resource = norm(1, b.Events[k].Resource)
				}
				a.Out, b.Out = norm(0, a.Out), norm(1, b.Out)
				a.Err, b.Err = norm(0, a.Err), norm(1, b.Err)
				assert.Equal(t, a, b, "call %d", j)
			}
			// The host trees end the same.
			assert.Equal(t, listTree(t, tmps[0]), listTree(t, tmps[1]))
		})
	}
}

// runConformance loads cp on eng and makes its calls.
func runConformance(t *testing.T, eng runtime.Engine, cp conformancePlugin, tmp string) ([]observed, string) {
	ctx := context.Background()
	audit := &fsAudit{}
	// No log rate limit: what it drops depends on the clock, not on the
	// engine. No quarantine: every call runs (the quarantine is the
	// runtime's, above the engine; its tests cover it). One instance: with
	// more, which instance serves a call after a trap depends on when the
	// background replacement is ready, and a guest's heap (the addresses
	// in its errors) on which instance served it before.
	cfg := runtime.NewConfig().WithAuditor(audit.record).WithDeterministic(7).WithEnvironment(fakeEnv).
		WithLogRate(1e9, 1<<30).WithQuarantine(0, 0).WithInstances(1)
	if cp.cfg != nil {
		cfg = cp.cfg(cfg)
	}
	e := newRuntimeOn(t, eng, cfg)
	e.rt.RegisterHostFunc("test.echo", func(_ context.Context, p []byte) ([]byte, error) { return p, nil })
	e.rt.RegisterHostFunc("test.fail", func(context.Context, []byte) ([]byte, error) { return nil, errors.New("host says no") })
	lc := runtime.NewLoadConfig()
	if cp.grants != nil {
		lc = lc.WithGrants(cp.grants(tmp))
	}
	p, err := e.rt.LoadWithConfig(ctx, fixture(cp.fixture), lc)
	if err != nil {
		return nil, err.Error()
	}
	calls := cp.calls
	if calls == nil {
		for _, h := range p.Handlers() {
			if conformanceSkip[h] {
				continue
			}
			for _, in := range conformanceInputs {
				calls = append(calls, conformanceCall{h, in})
			}
		}
	}
	var obs []observed
	for _, c := range calls {
		audit.take()
		in := strings.ReplaceAll(c.in, "<tmp>", tmp)
		out, err := p.Call(ctx, c.fn, []byte(in))
		o := observed{Out: string(out)}
		// The fuel a call used before its deadline is the clock's. That
		// used before a stack overflow is the same: the metering bounds
		// the stack, at the same depth on both engines.
		stopped := errors.Is(err, runtime.ErrTimeout) || errors.Is(err, runtime.ErrCanceled)
		if err != nil {
			o.Err = err.Error()
			for _, class := range errorClasses {
				if errors.Is(err, class) {
					o.Classes = append(o.Classes, class.Error())
				}
			}
		}
		for _, ev := range audit.take() {
			ev.Time = time.Time{}
			if stopped {
				ev.Fuel = 0
			}
			o.Events = append(o.Events, ev)
		}
		obs = append(obs, o)
	}
	require.NoError(t, p.Close(ctx))
	lines := strings.SplitAfter(e.stdout.String(), "\n")
	slices.Sort(lines)
	lines = slices.Compact(lines)
	obs = append(obs, observed{Out: "stdout:\n" + strings.Join(lines, "")})
	return obs, ""
}

// listTree lists every path under dir with its kind and content.
func listTree(t *testing.T, dir string) string {
	var b bytes.Buffer
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		switch {
		case fi.Mode()&os.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			fmt.Fprintf(&b, "%s -> %s\n", rel, strings.ReplaceAll(target, dir, "<tmp>"))
		case fi.IsDir():
			fmt.Fprintf(&b, "%s/\n", rel)
		default:
			data, _ := os.ReadFile(p)
			fmt.Fprintf(&b, "%s %q\n", rel, data)
		}
		return nil
	})
	require.NoError(t, err)
	return b.String()
}
