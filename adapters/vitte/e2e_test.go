package vitte_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/adapters/vitte"
	"github.com/vitte-lang/vitte-plugin/capabilities"
	"github.com/vitte-lang/vitte-plugin/runtime"
)

// fixtures is testdata/wasm of the repository.
var fixtures = filepath.Join("..", "..", "testdata", "wasm")

// syncBuffer is a bytes.Buffer safe for the runtime's writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// host is a runtime whose plugin stdout and logs are recorded.
type host struct {
	rt     *runtime.Runtime
	stdout *syncBuffer
	logs   *syncBuffer
}

func newHost(t *testing.T) *host {
	t.Helper()
	ctx := context.Background()
	h := &host{stdout: &syncBuffer{}, logs: &syncBuffer{}}
	logger := slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{
		Level: slog.LevelDebug - 4,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	rt, err := runtime.New(ctx, runtime.NewConfig().WithStdout(h.stdout).WithStderr(h.stdout).WithLogger(logger))
	require.NoError(t, err)
	t.Cleanup(func() { rt.Close(ctx) })
	rt.RegisterHostFunc("test.echo", func(_ context.Context, payload []byte) ([]byte, error) {
		return payload, nil
	})
	rt.RegisterHostFunc("test.fail", func(_ context.Context, payload []byte) ([]byte, error) {
		return nil, errors.New("test.fail says no")
	})
	h.rt = rt
	return h
}

func (h *host) load(t *testing.T, dir string, config map[string]string) *runtime.Plugin {
	t.Helper()
	ctx := context.Background()
	lc := runtime.NewLoadConfig().WithGrants(capabilities.NewGrants().WithHostCall("test.*"))
	for k, v := range config {
		lc = lc.WithConfigValue(k, v)
	}
	p, err := h.rt.LoadWithConfig(ctx, dir, lc)
	require.NoError(t, err)
	t.Cleanup(func() { p.Close(ctx) })
	return p
}

// build compiles src into a plugin folder under t.TempDir.
func build(t *testing.T, src string) string {
	t.Helper()
	out, err := vitte.Compile("test.vit", []byte(src))
	require.NoError(t, err)
	dir := filepath.Join(t.TempDir(), out.Name)
	require.NoError(t, vitte.WriteDir(dir, out))
	return dir
}

// TestHelloVitte loads the headline example and checks what on-load prints.
func TestHelloVitte(t *testing.T) {
	h := newHost(t)
	p := h.load(t, filepath.Join(fixtures, "hello-vitte"), nil)
	require.Equal(t, "hello", p.Name())
	require.Equal(t, "0.1.0", p.Version())
	require.Equal(t, "Plugin chargé : hello.vitplug\n", h.stdout.String())
	require.Empty(t, p.Handlers())
}

// TestVitteHandlers calls every handler of the vitte-handlers fixture.
func TestVitteHandlers(t *testing.T) {
	h := newHost(t)
	ctx := context.Background()
	p := h.load(t, filepath.Join(fixtures, "vitte-handlers"), nil)
	require.Equal(t, "vitte-handlers: loaded\n", h.stdout.String())
	require.Contains(t, h.logs.String(), `level=INFO msg="on-load called"`)
	require.Equal(t, []string{"call-host", "count-vowels", "echo", "empty", "fail", "fib", "greet", "setting"}, p.Handlers())

	big := strings.Repeat("0123456789abcdef", 1<<16) // 1 MiB
	tests := []struct {
		name, handler, input string
		expected             string
		expectedErr          string
	}{
		{name: "greet", handler: "greet", input: "world", expected: "Hello, world!"},
		{name: "greet empty", handler: "greet", input: "", expected: "Hello, !"},
		{name: "echo", handler: "echo", input: "héllo\x00world", expected: "héllo\x00world"},
		{name: "echo 1 MiB", handler: "echo", input: big, expected: big},
		{name: "fail", handler: "fail", input: "boom", expectedErr: "fail: boom"},
		{name: "empty", handler: "empty", input: "ignored", expected: ""},
		{name: "call-host", handler: "call-host", input: "test.echo", expected: "ping"},
		{name: "call-host error", handler: "call-host", input: "test.fail", expectedErr: "test.fail says no"},
		{name: "count-vowels", handler: "count-vowels", input: "Hello, World! AEIOU xyz", expected: "8"},
		{name: "count-vowels none", handler: "count-vowels", input: "", expected: "0"},
		{name: "count-vowels 1 MiB", handler: "count-vowels", input: big, expected: "131072"},
		{name: "setting", handler: "setting", input: "greeting", expected: "Hello"},
		{name: "setting unset", handler: "setting", input: "nope", expected: ""},
		{name: "fib", handler: "fib", input: "30", expected: "832040"},
		{name: "fib bad", handler: "fib", input: "x", expectedErr: `fib: want a number from 0 to 40, got "x"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := p.Call(ctx, tc.handler, []byte(tc.input))
			if tc.expectedErr != "" {
				var ge *runtime.GuestError
				require.True(t, errors.As(err, &ge), "error %v is not a guest error", err)
				require.Equal(t, tc.expectedErr, ge.Message)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.expected, string(out))
		})
	}
	require.NoError(t, p.Close(ctx))
	require.Equal(t, "vitte-handlers: loaded\nvitte-handlers: unloaded\n", h.stdout.String())
}

// TestVitteHandlers_heapReset calls a handler far more often than memory
// could hold without cabi_post resetting the heap.
func TestVitteHandlers_heapReset(t *testing.T) {
	h := newHost(t)
	ctx := context.Background()
	p := h.load(t, filepath.Join(fixtures, "vitte-handlers"), nil)
	in := []byte(strings.Repeat("x", 1<<20))
	for i := 0; i < 200; i++ { // 200 MiB of greetings through a 64 MiB memory
		out, err := p.Call(ctx, "greet", in)
		require.NoError(t, err)
		require.Len(t, out, len(in)+len("Hello, !"))
	}
}

// TestCrossLanguage checks that the same handlers written in C
// (testdata/wasm/hello-c) and in Vitte (testdata/wasm/vitte-handlers) give
// byte-identical outputs and errors.
func TestCrossLanguage(t *testing.T) {
	inputs := []string{
		"", "world", "Ada Lovelace", "héllo wörld", "日本語のテキスト", "AEIOU aeiou xyz",
		"Ünïcödé ÀÉÎÕÛ", "emoji 🎉 party", "tab\tnew\nline", "nul\x00byte", `quote " and \ backslash`,
		strings.Repeat("abcdefghij", 10000),
	}
	nonUTF8 := []string{"\xff\xfe\xfd", "a\xc3"} // echo and count-vowels take any bytes
	configs := []struct {
		name   string
		config map[string]string
	}{
		{name: "manifest config"},
		{name: "Bonjour", config: map[string]string{"greeting": "Bonjour"}},
		{name: "unicode greeting", config: map[string]string{"greeting": "Grüß dich"}},
	}
	ctx := context.Background()
	for _, cfg := range configs {
		t.Run(cfg.name, func(t *testing.T) {
			h := newHost(t)
			c := h.load(t, filepath.Join(fixtures, "hello-c"), cfg.config)
			v := h.load(t, filepath.Join(fixtures, "vitte-handlers"), cfg.config)
			for _, handler := range []string{"greet", "echo", "fail", "count-vowels"} {
				in := inputs
				if handler == "echo" || handler == "count-vowels" {
					in = append(append([]string(nil), inputs...), nonUTF8...)
				}
				for _, input := range in {
					if handler == "fail" && strings.Contains(input, "\x00") {
						// hello-c formats the message with printf's %.*s,
						// which stops at a NUL byte; Vitte keeps it.
						continue
					}
					cOut, cErr := c.Call(ctx, handler, []byte(input))
					vOut, vErr := v.Call(ctx, handler, []byte(input))
					name := handler + "(" + short(input) + ")"
					require.Equal(t, cOut, vOut, "%s: outputs differ", name)
					require.Equal(t, guestMessage(cErr), guestMessage(vErr), "%s: errors differ", name)
					if handler == "fail" {
						require.Equal(t, "fail: "+input, guestMessage(vErr), name)
					}
				}
			}
		})
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

func short(s string) string {
	if len(s) > 20 {
		return s[:20] + "…"
	}
	return s
}

// TestFixtures_reproducible compiles every Vitte fixture and checks that
// the committed module and manifest are what the compiler gives now, byte
// for byte (scripts/build-vitte-fixtures.sh rebuilds them).
func TestFixtures_reproducible(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join(fixtures, "vitte-*"))
	require.NoError(t, err)
	dirs = append([]string{filepath.Join(fixtures, "hello-vitte")}, dirs...)
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			src := filepath.Join(dir, filepath.Base(dir)+".vit")
			if filepath.Base(dir) == "hello-vitte" {
				src = filepath.Join(dir, "hello.vit")
			}
			b, err := os.ReadFile(src)
			require.NoError(t, err)
			out, err := vitte.Compile(src, b)
			require.NoError(t, err)
			again, err := vitte.Compile(src, b)
			require.NoError(t, err)
			require.Equal(t, out.Module, again.Module, "two compilations differ")
			wasm, err := os.ReadFile(filepath.Join(dir, out.ModuleFile))
			require.NoError(t, err)
			require.True(t, bytes.Equal(wasm, out.Module), "%s is not what the compiler gives: run bash scripts/build-vitte-fixtures.sh", out.ModuleFile)
			toml, err := os.ReadFile(filepath.Join(dir, "plugin.toml"))
			require.NoError(t, err)
			require.Equal(t, string(toml), string(out.Manifest), "plugin.toml is not what the compiler gives: run bash scripts/build-vitte-fixtures.sh")
		})
	}
}

// TestFixtures_verify checks the fixtures as vitte plugin verify does.
func TestFixtures_verify(t *testing.T) {
	h := newHost(t)
	for _, dir := range []string{"hello-vitte", "vitte-handlers"} {
		ins, err := h.rt.Verify(context.Background(), filepath.Join(fixtures, dir))
		require.NoError(t, err, dir)
		require.Equal(t, "vitte", string(ins.Manifest.Plugin.Kind))
	}
}

// BenchmarkCompile_fixtures compiles each Vitte fixture.
func BenchmarkCompile_fixtures(b *testing.B) {
	for _, src := range []string{"hello-vitte/hello.vit", "vitte-handlers/vitte-handlers.vit"} {
		data, err := os.ReadFile(filepath.Join(fixtures, src))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(filepath.Dir(src), func(b *testing.B) {
			for b.Loop() {
				if _, err := vitte.Compile(src, data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
