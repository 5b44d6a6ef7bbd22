package runtime_test

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/adapters/python"
	"github.com/vitte-lang/vitte-plugin/capabilities"
	"github.com/vitte-lang/vitte-plugin/runtime"
	"github.com/vitte-lang/vitte-plugin/vitplug"
)

// requirePython returns the folder of the Python interpreter built by
// adapters/python/build.sh. Without it the Python tests are skipped with
// the command that builds it, except in CI (CI=true), where .ci/run builds
// it first and a missing interpreter is a failure.
func requirePython(t testing.TB) string {
	t.Helper()
	dir, err := python.DefaultDir()
	require.NoError(t, err)
	if _, err := python.Find(dir); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the Python interpreter is missing in CI (.ci/run builds it): %v", err)
		}
		t.Skipf("%v", err)
	}
	return dir
}

// pyCache is a compilation cache on disk shared by the Python tests, of
// this and later runs, and by internal/cli's scripts (the same folder as
// their $XDG_CACHE_HOME/vitte/compiled): an in-memory cache forgets a
// module when its plugin closes, and compiling the 6 MB interpreter takes
// seconds (minutes under -race). It is keyed by the module's bytes and
// wazero's version.
var pyCache = sync.OnceValues(func() (runtime.CompilationCache, error) {
	return runtime.NewDiskCompilationCache(filepath.Join(os.TempDir(), "vitte-test-compilation-cache"))
})

// newPyRuntime is newRuntime with pyCache.
func newPyRuntime(t testing.TB, cfg runtime.Config) env {
	t.Helper()
	requirePython(t)
	cache, err := pyCache()
	require.NoError(t, err)
	ctx := context.Background()
	e := env{stdout: &syncBuffer{}, logs: &syncBuffer{}}
	logger := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug - 4}))
	rt, err := runtime.New(ctx, cfg.WithCompilationCache(cache).WithEngine(testEngine(t)).WithStdout(e.stdout).WithLogger(logger))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, rt.Close(ctx)) })
	e.rt = rt
	return e
}

// loadPy loads a Python fixture in a runtime of its own.
func loadPy(t testing.TB, cfg runtime.Config, name string, lc runtime.LoadConfig) (env, *runtime.Plugin) {
	t.Helper()
	e := newPyRuntime(t, cfg)
	e.rt.RegisterHostFunc("test.echo", func(_ context.Context, payload []byte) ([]byte, error) {
		return append([]byte("echo:"), payload...), nil
	})
	p, err := e.rt.LoadWithConfig(context.Background(), fixture(name), lc)
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close(context.Background()) })
	return e, p
}

func TestPython_Hello(t *testing.T) {
	ctx := context.Background()
	e, p := loadPy(t, runtime.NewConfig(), "hello-py",
		runtime.NewLoadConfig().WithGrants(capabilities.NewGrants().WithHostCall("test.echo")).WithConfigValue("greeting", "Bonjour"))
	assert.Equal(t, "hello-py: loaded\n", e.stdout.String())
	assert.Contains(t, e.logs.String(), `level=INFO msg="on-load called" plugin=hello-py version=0.1.0 function=on-load`)
	assert.Equal(t, []string{"add", "boom", "call-host", "count-vowels", "echo", "empty", "fail", "greet", "stdlib"}, p.Handlers())

	ins := p.Inspection()
	require.NotNil(t, ins.Python)
	assert.Equal(t, "main.py", ins.Python.Entry)
	assert.Equal(t, python.CPythonVersion, ins.Python.Build.Get("cpython"))
	assert.Equal(t, python.SourcePackage, ins.Python.Build.Get("debian-source"))
	script, err := os.ReadFile(filepath.Join(fixture("hello-py"), "main.py"))
	require.NoError(t, err)
	assert.Equal(t, sha256.Sum256(script), ins.Python.ScriptSHA256)

	call := func(fn, in string) string {
		t.Helper()
		out, err := p.Call(ctx, fn, []byte(in))
		require.NoError(t, err, fn)
		return string(out)
	}
	assert.Equal(t, "Bonjour, world!", call("greet", "world"))
	assert.Equal(t, `{"sum":5}`, call("add", `{"a": 2, "b": 3}`))
	assert.Equal(t, `{"sum":"ab"}`, call("add", `{"a": "a", "b": "b"}`))
	assert.Equal(t, "echo:ping", call("call-host", "test.echo"))
	assert.Equal(t, `error: permission denied: host call "other.echo" not granted`, call("call-host", "other.echo"))

	// A Python exception: its type, message and the script's frames.
	_, err = p.Call(ctx, "boom", []byte("bad input"))
	var ge *runtime.GuestError
	require.ErrorAs(t, err, &ge)
	assert.ErrorIs(t, err, runtime.ErrGuest)
	lines := strings.Split(ge.Message, "\n")
	assert.Equal(t, "ValueError: boom: bad input", lines[0])
	assert.Equal(t, "Traceback (most recent call last):", lines[1])
	assert.Contains(t, ge.Message, `File "/plugin/main.py", line `)
	assert.Contains(t, ge.Message, "in boom\n")
	assert.Contains(t, ge.Message, "in _check\n")
	assert.NotContains(t, ge.Message, "vitte_plugin", "the kit's own frames are trimmed")
	assert.Equal(t, "Bonjour, again!", call("greet", "again"), "an exception keeps the instance")

	// A JSON handler given something that is not JSON.
	_, err = p.Call(ctx, "add", []byte("{nope"))
	require.ErrorAs(t, err, &ge)
	assert.True(t, strings.HasPrefix(ge.Message, "json.decoder.JSONDecodeError: Expecting property name"), ge.Message)

	// json, re, math, hashlib and datetime from the zipped standard library.
	in := "Grüß dich, wörld 42"
	var got map[string]any
	require.NoError(t, json.Unmarshal([]byte(call("stdlib", in)), &got))
	sum := sha256.Sum256([]byte(in))
	md := md5.Sum([]byte(in))
	assert.Equal(t, map[string]any{
		"words":  []any{"Grüß", "dich", "wörld", "42"},
		"sha256": hex.EncodeToString(sum[:]),
		"md5":    hex.EncodeToString(md[:]),
		"sqrt":   math.Sqrt(float64(len(in))),
		"date":   "2024-03-04T12:30:00+00:00",
	}, got)

	require.NoError(t, p.Close(ctx))
	assert.Equal(t, "hello-py: loaded\nhello-py: unloaded\n", e.stdout.String())
}

// TestPython_CrossLanguage: the handlers hello-py shares with hello-c give
// byte-identical outputs and errors (as adapters/vitte's TestCrossLanguage
// does for Vitte).
func TestPython_CrossLanguage(t *testing.T) {
	inputs := []string{
		"", "world", "Ada Lovelace", "héllo wörld", "日本語のテキスト", "AEIOU aeiou xyz",
		"Ünïcödé ÀÉÎÕÛ", "emoji 🎉 party", "tab\tnew\nline", "nul\x00byte", `quote " and \ backslash`,
		strings.Repeat("abcdefghij", 10000),
	}
	nonUTF8 := []string{"\xff\xfe\xfd", "a\xc3"} // echo and count-vowels take any bytes
	ctx := context.Background()
	for _, cfg := range []map[string]string{nil, {"greeting": "Bonjour"}, {"greeting": "Grüß dich"}} {
		lc := runtime.NewLoadConfig().WithGrants(capabilities.NewGrants().WithHostCall("test.echo"))
		for k, v := range cfg {
			lc = lc.WithConfigValue(k, v)
		}
		e, py := loadPy(t, runtime.NewConfig(), "hello-py", lc)
		c, err := e.rt.LoadWithConfig(ctx, fixture("hello-c"), lc)
		require.NoError(t, err)
		for _, handler := range []string{"greet", "echo", "fail", "count-vowels", "empty", "call-host"} {
			in := inputs
			switch handler {
			case "echo", "count-vowels":
				in = append(append([]string(nil), inputs...), nonUTF8...)
			case "call-host":
				in = []string{"test.echo", "test.missing", "other.echo", ""}
			}
			for _, input := range in {
				if handler == "fail" && strings.Contains(input, "\x00") {
					continue // hello-c's printf stops at the NUL byte
				}
				cOut, cErr := c.Call(ctx, handler, []byte(input))
				pOut, pErr := py.Call(ctx, handler, []byte(input))
				require.Equal(t, cOut, pOut, "%s(%.20q): outputs differ", handler, input)
				require.Equal(t, guestMessage(cErr), guestMessage(pErr), "%s(%.20q): errors differ", handler, input)
			}
		}
		require.NoError(t, c.Close(ctx))
	}
}

func guestMessage(err error) string {
	if err == nil {
		return ""
	}
	var ge *runtime.GuestError
	if errors.As(err, &ge) {
		return ge.Message
	}
	return "not a guest error: " + err.Error()
}

// TestPython_Env: the environment probes of caps-c, through os.environ.
func TestPython_Env(t *testing.T) {
	ctx := context.Background()
	t.Run("no grants", func(t *testing.T) {
		audit := &auditLog{}
		_, p := loadPy(t, runtime.NewConfig().WithAuditor(audit.record).WithEnvironment(fakeEnv), "caps-py", runtime.NewLoadConfig())
		out, err := p.Call(ctx, "environ", nil)
		require.NoError(t, err)
		assert.Empty(t, string(out), "no environment variable is visible")
		_, err = p.Call(ctx, "env", []byte("VITTE_TEST_GREETING"))
		assert.ErrorIs(t, err, runtime.ErrGuest)
		assert.ErrorContains(t, err, "env: VITTE_TEST_GREETING is not set")
		_, ok := audit.find(capabilities.KindEnv, "VITTE_TEST_GREETING")
		assert.True(t, ok, "the refused env request is on record")
		_, err = p.Call(ctx, "host", []byte("test.echo"))
		assert.ErrorIs(t, err, runtime.ErrPermission)
		assert.ErrorContains(t, err, `host: permission denied: host call "test.echo" not granted`)
	})
	t.Run("granted", func(t *testing.T) {
		g := capabilities.NewGrants().WithEnv("VITTE_TEST_GREETING").WithEnv("HOME").WithHostCall("test.*")
		_, p := loadPy(t, runtime.NewConfig().WithEnvironment(fakeEnv), "caps-py", runtime.NewLoadConfig().WithGrants(g))
		out, err := p.Call(ctx, "environ", nil)
		require.NoError(t, err)
		assert.Equal(t, "VITTE_TEST_GREETING=salut\n", string(out), "granted and requested only")
		out, err = p.Call(ctx, "env", []byte("VITTE_TEST_GREETING"))
		require.NoError(t, err)
		assert.Equal(t, "salut", string(out))
		out, err = p.Call(ctx, "host", []byte("test.echo"))
		require.NoError(t, err)
		assert.Equal(t, "echo:ping", string(out))
	})
}

// TestPython_PluginFilesReadOnly: the script sees its own folder at
// /plugin and cannot change it.
func TestPython_PluginFilesReadOnly(t *testing.T) {
	audit := &auditLog{}
	_, p := loadPy(t, runtime.NewConfig().WithAuditor(audit.record), "caps-py", runtime.NewLoadConfig())
	out, err := p.Call(context.Background(), "files", nil)
	require.NoError(t, err)
	assert.Equal(t, "main.py plugin.toml; write: Permission denied", string(out))
	ev, ok := audit.find(capabilities.KindFS, "/plugin/new.txt")
	require.True(t, ok, "the refused write is on record")
	assert.False(t, ev.Allowed)
	_, err = os.Stat(filepath.Join(fixture("caps-py"), "new.txt"))
	assert.ErrorIs(t, err, os.ErrNotExist)
}

// TestPython_NoThreadsProcessesSockets: Python's ways out of the sandbox
// fail in the guest, with WASI's answer.
func TestPython_NoThreadsProcessesSockets(t *testing.T) {
	_, p := loadPy(t, runtime.NewConfig(), "caps-py", runtime.NewLoadConfig())
	out, err := p.Call(context.Background(), "sandbox", nil)
	require.NoError(t, err)
	assert.Equal(t, strings.Join([]string{
		"thread RuntimeError: can't start new thread",
		"subprocess OSError: [Errno 58] wasi does not support processes.",
		"system AttributeError: module 'os' has no attribute 'system'",
		"fork AttributeError: module 'os' has no attribute 'fork'",
		"socket AttributeError: module '_socket' has no attribute 'getaddrinfo'",
		"raw socket OSError: [Errno 58] Not supported",
	}, "\n"), string(out))
}

// TestPython_TimeoutAndTrap: a handler that spins stops at the deadline
// and one that overflows the stack traps; both discard the instance, and
// the next call gets a fresh one (the script's on_load runs again).
func TestPython_TimeoutAndTrap(t *testing.T) {
	ctx := context.Background()
	t.Run("timeout", func(t *testing.T) {
		e, p := loadPy(t, runtime.NewConfig().WithMaxTimeout(2*time.Second), "caps-py", runtime.NewLoadConfig())
		_, err := p.Call(ctx, "count", nil)
		require.NoError(t, err)
		_, err = p.Call(ctx, "spin", nil)
		assert.ErrorIs(t, err, runtime.ErrTimeout)
		out, err := p.Call(ctx, "count", nil)
		require.NoError(t, err)
		assert.Equal(t, "1", string(out), "a fresh instance")
		assert.GreaterOrEqual(t, strings.Count(e.stdout.String(), "caps-py: loaded\n"), 2, "on_load ran again")
	})
	t.Run("trap", func(t *testing.T) {
		// The manifest's timeout (5s): building the nested list and
		// recursing takes a while on a loaded machine under -race.
		e, p := loadPy(t, runtime.NewConfig(), "caps-py", runtime.NewLoadConfig())
		_, err := p.Call(ctx, "count", nil)
		require.NoError(t, err)
		_, err = p.Call(ctx, "crash", nil)
		assert.ErrorIs(t, err, runtime.ErrTrap)
		out, err := p.Call(ctx, "count", nil)
		require.NoError(t, err)
		assert.Equal(t, "1", string(out), "a fresh instance")
		assert.GreaterOrEqual(t, strings.Count(e.stdout.String(), "caps-py: loaded\n"), 2, "on_load ran again")
	})
}

// TestPython_Package: a packed Python plugin loads from its .vitplug, with
// its files/ next to the script.
func TestPython_Package(t *testing.T) {
	requirePython(t)
	ctx := context.Background()
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "files", "helpers"), 0o755))
	write := func(name, s string) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644))
	}
	write("plugin.toml", "[plugin]\nname = \"pkg-py\"\nversion = \"1.0.0\"\nkind = \"python\"\nmodule = \"app.py\"\n")
	write("app.py", "import vitte_plugin as vp\nfrom helpers.words import shout\n\n@vp.export\ndef hi(data):\n    return shout(data.decode())\n")
	write("files/helpers/words.py", "def shout(s):\n    return s.upper() + '!'\n")
	write("notes.txt", "not packed")
	out := filepath.Join(t.TempDir(), "pkg-py.vitplug")
	f, err := os.Create(out)
	require.NoError(t, err)
	_, err = vitplug.Pack(dir, f, vitplug.Limits{})
	require.NoError(t, err)
	require.NoError(t, f.Close())
	pkg, err := vitplug.OpenFile(out, vitplug.Limits{})
	require.NoError(t, err)

	e := newPyRuntime(t, runtime.NewConfig())
	p, err := e.rt.LoadPackage(ctx, pkg, runtime.NewLoadConfig())
	require.NoError(t, err)
	got, err := p.Call(ctx, "hi", []byte("hey"))
	require.NoError(t, err)
	assert.Equal(t, "HEY!", string(got))
	require.NoError(t, p.Close(ctx))
}

// TestPython_NotBuilt: without the interpreter, loading a Python plugin
// says how to build it.
func TestPython_NotBuilt(t *testing.T) {
	e := newRuntime(t, runtime.NewConfig().WithPythonDir(t.TempDir()))
	_, err := e.rt.Load(context.Background(), fixture("hello-py"))
	require.ErrorIs(t, err, python.ErrNotBuilt)
	assert.ErrorContains(t, err, `load plugin "hello-py": kind "python": the Python interpreter is not built`)
	assert.ErrorContains(t, err, "vitte plugin runtime install python")
	ins, err := e.rt.Inspect(fixture("hello-py"))
	require.ErrorIs(t, err, python.ErrNotBuilt)
	assert.Equal(t, "hello-py", ins.Manifest.Plugin.Name)
}

// TestPython_ExportsMustBeDeclared: a plugin.toml [exports] entry the
// script does not declare fails the load, as a missing export does for
// other kinds.
func TestPython_ExportsMustBeDeclared(t *testing.T) {
	requirePython(t)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "plugin.toml"), []byte("[plugin]\nname = \"missing-py\"\nversion = \"1.0.0\"\nkind = \"python\"\nmodule = \"main.py\"\n\n[exports.ghost]\ndescription = \"nowhere\"\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.py"), []byte("import vitte_plugin as vp\n\n@vp.export\ndef real(data):\n    return data\n"), 0o644))
	e := newPyRuntime(t, runtime.NewConfig())
	_, err := e.rt.Load(context.Background(), dir)
	assert.ErrorContains(t, err, `load plugin "missing-py": handlers: plugin.toml describes [exports.ghost] but main.py declares no handler "ghost"`)

	// A script that fails to import fails the load with its traceback.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.py"), []byte("import vitte_plugin as vp\nraise RuntimeError('no config')\n"), 0o644))
	_, err = e.rt.Load(context.Background(), dir)
	assert.ErrorContains(t, err, "RuntimeError: no config")
	assert.ErrorContains(t, err, `File "/plugin/main.py", line 2`)
}

// TestPython_HTTP: vitte_plugin.http.request goes through http.request
// and the network capability: a granted destination answers, another is
// refused with HostError.
func TestPython_HTTP(t *testing.T) {
	srv := newNetServer(t, func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Seen", r.Method+" "+r.Header.Get("X-Probe"))
		w.WriteHeader(http.StatusTeapot)
		fmt.Fprintf(w, "got %q", body)
	})
	dir := t.TempDir()
	manifest := fmt.Sprintf("[plugin]\nname = \"http-py\"\nversion = \"1.0.0\"\nkind = \"python\"\nmodule = \"main.py\"\n\n[capabilities]\nnet = [\"127.0.0.1:%s\"]\n", srv.port)
	script := `import vitte_plugin as vp

@vp.export(json=True)
def fetch(args):
    try:
        r = vp.http.request(args["method"], args["url"], {"X-Probe": "py"}, args.get("body", ""))
    except vp.HostError as e:
        return {"refused": str(e)}
    return {"status": r.status, "seen": r.header("x-seen"), "body": r.text()}
`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "plugin.toml"), []byte(manifest), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.py"), []byte(script), 0o644))
	e := newPyRuntime(t, runtime.NewConfig())
	ctx := context.Background()
	p, err := e.rt.LoadWithConfig(ctx, dir, runtime.NewLoadConfig().WithGrants(capabilities.NewGrants().WithNet("127.0.0.1:"+srv.port)))
	require.NoError(t, err)
	defer p.Close(ctx)

	out, err := p.Call(ctx, "fetch", []byte(`{"method": "POST", "url": "`+srv.at("127.0.0.1", "/x")+`", "body": "héllo"}`))
	require.NoError(t, err)
	assert.JSONEq(t, `{"status": 418, "seen": "POST py", "body": "got \"héllo\""}`, string(out))
	assert.Equal(t, int32(1), srv.hits.Load())

	out, err = p.Call(ctx, "fetch", []byte(`{"method": "GET", "url": "http://127.0.0.2:`+srv.port+`/"}`))
	require.NoError(t, err)
	assert.JSONEq(t, `{"refused": "permission denied: request to \"http://127.0.0.2:`+srv.port+`/\": no net grant matches"}`, string(out))
	assert.Equal(t, int32(1), srv.hits.Load(), "the refused request never left")
}
