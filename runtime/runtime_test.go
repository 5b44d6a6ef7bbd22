package runtime_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/abi"
	"github.com/vitte-lang/vitte-plugin/capabilities"
	"github.com/vitte-lang/vitte-plugin/runtime"
)

func fixture(name string) string { return filepath.Join("..", "testdata", "wasm", name) }

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b.Reset()
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type env struct {
	rt     *runtime.Runtime
	stdout *syncBuffer
	logs   *syncBuffer
}

// testCache is shared by the tests' runtimes, so that each fixture is
// compiled once per test binary (compiling is slow under -race).
var testCache = runtime.NewCompilationCache()

func newRuntime(t testing.TB, cfg runtime.Config) env {
	t.Helper()
	return newRuntimeOn(t, testEngine(t), cfg)
}

// newRuntimeOn is newRuntime on engine eng.
func newRuntimeOn(t testing.TB, eng runtime.Engine, cfg runtime.Config) env {
	t.Helper()
	ctx := context.Background()
	cfg = cfg.WithCompilationCache(testCache).WithEngine(eng)
	e := env{stdout: &syncBuffer{}, logs: &syncBuffer{}}
	logger := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug - 4}))
	rt, err := runtime.New(ctx, cfg.WithStdout(e.stdout).WithLogger(logger))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, rt.Close(ctx)) })
	e.rt = rt
	return e
}

// The hello fixtures are the same plugin in several languages.
var helloFixtures = []string{"hello-c", "hello-go", "spec-c"}

func TestHello(t *testing.T) {
	for _, name := range helloFixtures {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			e := newRuntime(t, runtime.NewConfig())
			e.rt.RegisterHostFunc("test.echo", func(_ context.Context, payload []byte) ([]byte, error) {
				return append([]byte("echo:"), payload...), nil
			})
			p, err := e.rt.LoadWithConfig(ctx, fixture(name), runtime.NewLoadConfig().WithGrants(capabilities.NewGrants().WithHostCall("test.echo")))
			require.NoError(t, err)
			assert.Equal(t, name+": loaded\n", e.stdout.String())
			assert.Equal(t, name, p.Name())
			assert.Equal(t, "0.1.0", p.Version())

			call := func(fn, in string) string {
				t.Helper()
				out, err := p.Call(ctx, fn, []byte(in))
				require.NoError(t, err, fn)
				return string(out)
			}
			assert.Equal(t, "Hello, world!", call("greet", "world"))
			assert.Equal(t, "Hello, !", call("greet", ""))
			assert.Equal(t, "héllo ✓", call("echo", "héllo ✓"))
			assert.Equal(t, "", call("echo", ""))
			assert.Equal(t, "5", call("count-vowels", "Hello, World! AEI"[:13]+"AE"))
			big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
			out, err := p.Call(ctx, "echo", big)
			require.NoError(t, err)
			assert.Equal(t, big, out)

			_, err = p.Call(ctx, "fail", []byte("boom"))
			var ge *runtime.GuestError
			require.ErrorAs(t, err, &ge)
			assert.Equal(t, "fail: boom", ge.Message)
			assert.ErrorIs(t, err, runtime.ErrGuest)
			assert.EqualError(t, err, fmt.Sprintf(`call plugin %q function "fail": plugin error: fail: boom`, name))
			assert.Equal(t, "still works", call("echo", "still works"), "an error result keeps the instance")

			if name != "spec-c" {
				assert.Equal(t, "", call("empty", "x"))
				assert.Equal(t, "echo:ping", call("call-host", "test.echo"))
				assert.Equal(t, `error: permission denied: host call "other.echo" not granted`, call("call-host", "other.echo"))
				assert.Equal(t, `error: permission denied: host call "test.missing" not granted`, call("call-host", "test.missing"), "requested, not granted")
				assert.Contains(t, e.logs.String(), `level=INFO msg="on-load called" plugin=`+name+` version=0.1.0 function=on-load`)
			}

			_, err = p.Call(ctx, "nope", nil)
			assert.ErrorIs(t, err, runtime.ErrNoHandler)

			require.NoError(t, p.Close(ctx))
			assert.True(t, strings.HasSuffix(e.stdout.String(), name+": unloaded\n") || name == "spec-c", e.stdout.String())
			_, err = p.Call(ctx, "echo", nil)
			assert.ErrorIs(t, err, runtime.ErrClosed)
			require.NoError(t, p.Close(ctx), "Close twice is fine")
		})
	}
}

func TestLoadWithConfig_Override(t *testing.T) {
	ctx := context.Background()
	e := newRuntime(t, runtime.NewConfig())
	p, err := e.rt.LoadWithConfig(ctx, fixture("hello-c"), runtime.NewLoadConfig().WithConfigValue("greeting", "Bonjour"))
	require.NoError(t, err)
	defer p.Close(ctx)
	out, err := p.Call(ctx, "greet", []byte("monde"))
	require.NoError(t, err)
	assert.Equal(t, "Bonjour, monde!", string(out))
}

// TestHostile calls each handler of the hostile fixture, which breaks one
// rule of the ABI each, and checks the error, then that the plugin still
// works.
func TestHostile(t *testing.T) {
	ctx := context.Background()
	audit := &auditLog{}
	e := newRuntime(t, runtime.NewConfig().WithAuditor(audit.record))
	p, err := e.rt.Load(ctx, fixture("hostile"))
	require.NoError(t, err)
	defer p.Close(ctx)

	tests := []struct {
		handler string
		is      []error
		msg     string
	}{
		{"result-oob", []error{runtime.ErrContract, abi.ErrOutOfBounds}, "result area at 0xfffffff0 (12 bytes, memory is"},
		{"result-misaligned", []error{runtime.ErrContract, abi.ErrMisaligned}, "misaligned pointer"},
		{"result-straddles-end", []error{runtime.ErrContract, abi.ErrOutOfBounds}, "out of bounds"},
		{"payload-oob", []error{runtime.ErrContract, abi.ErrOutOfBounds}, "output at 0x"},
		{"payload-len-overflow", []error{runtime.ErrContract, abi.ErrTooLarge}, "output of 4294967295 bytes exceeds the limit of 1048576 bytes"},
		{"bad-tag", []error{runtime.ErrContract, abi.ErrBadTag}, "tag 2: invalid tag"},
		{"err-invalid-utf8", []error{runtime.ErrContract, abi.ErrInvalidUTF8}, "error message at 0x"},
		{"err-oob", []error{runtime.ErrContract, abi.ErrOutOfBounds}, "error message at 0x"},
		{"huge-output", []error{runtime.ErrContract, abi.ErrTooLarge}, "output of 2097152 bytes exceeds the limit of 1048576 bytes"},
		{"trap", []error{runtime.ErrTrap}, "trap: wasm error: unreachable"},
		{"recurse", []error{runtime.ErrTrap}, "stack overflow"},
		{"abort", []error{runtime.ErrTrap}, "plugin exited with code 3"},
		{"log-oob", []error{runtime.ErrContract, abi.ErrOutOfBounds}, "host function log: message at 0x"},
		{"log-invalid-utf8", []error{runtime.ErrContract, abi.ErrInvalidUTF8}, "host function log: message at 0x"},
		{"log-bad-level", []error{runtime.ErrContract, abi.ErrBadLevel}, "host function log: level 99: invalid log level"},
		{"config-ret-misaligned", []error{runtime.ErrContract, abi.ErrMisaligned}, "host function config-get: return area at 0x"},
		{"config-ret-oob", []error{runtime.ErrContract, abi.ErrOutOfBounds}, "host function config-get: return area at 0x"},
		{"call-ret-oob", []error{runtime.ErrContract, abi.ErrOutOfBounds}, "host function call: return area at 0x"},
	}
	for _, tt := range tests {
		t.Run(tt.handler, func(t *testing.T) {
			_, err := p.Call(ctx, tt.handler, []byte("x"))
			require.Error(t, err)
			for _, is := range tt.is {
				assert.ErrorIs(t, err, is)
			}
			assert.Contains(t, err.Error(), tt.msg)
			assert.True(t, strings.HasPrefix(err.Error(), `call plugin "hostile" function "`+tt.handler+`": `), err.Error())
			out, err := p.Call(ctx, "ok", nil)
			require.NoError(t, err, "the next call works")
			assert.Equal(t, "still fine", string(out))
		})
	}

	ev, ok := audit.find(capabilities.KindLimit, "stack")
	require.True(t, ok, "the stack overflow is on record")
	assert.Equal(t, "recurse", ev.Function)

	t.Run("loop", func(t *testing.T) {
		// A host ceiling lowers the manifest's 30s to 300ms.
		audit := &auditLog{}
		e := newRuntime(t, runtime.NewConfig().WithMaxTimeout(300*time.Millisecond).WithAuditor(audit.record))
		p, err := e.rt.Load(ctx, fixture("hostile"))
		require.NoError(t, err)
		defer p.Close(ctx)
		_, err = p.Call(ctx, "loop", nil)
		assert.ErrorIs(t, err, runtime.ErrTimeout)
		assert.ErrorContains(t, err, `call plugin "hostile" function "loop": plugin timed out after 300ms (limits.timeout)`)
		ev, ok := audit.find(capabilities.KindLimit, "timeout")
		require.True(t, ok, "the timeout is on record")
		assert.Equal(t, "loop", ev.Function)
		assert.Equal(t, "limits.timeout 300ms", ev.Rule)
		out, err := p.Call(ctx, "ok", nil)
		require.NoError(t, err, "the next call works")
		assert.Equal(t, "still fine", string(out))
	})

	t.Run("bad-realloc", func(t *testing.T) {
		for _, arm := range []string{"bad-realloc"} {
			out, err := p.Call(ctx, arm, nil)
			require.NoError(t, err)
			assert.Equal(t, "armed", string(out))
			// The next call's input goes through the broken allocator.
			_, err = p.Call(ctx, "ok", []byte("input"))
			require.Error(t, err)
			assert.ErrorIs(t, err, runtime.ErrContract)
			assert.Contains(t, err.Error(), "pass input: cabi_realloc(0, 0, 1, 5) returned")
			out, err = p.Call(ctx, "ok", []byte("input"))
			require.NoError(t, err, "a fresh instance replaced the broken one")
			assert.Equal(t, "still fine", string(out))
		}
	})

	t.Run("bad-realloc-misaligned", func(t *testing.T) {
		// Armed, the allocator returns an odd pointer for align 4; input
		// bytes are allocated with align 1, for which any pointer is fine.
		// abi.Lower's own tests cover the misaligned case.
		_, err := p.Call(ctx, "bad-realloc-misaligned", nil)
		require.NoError(t, err)
		out, err := p.Call(ctx, "ok", []byte("input"))
		require.NoError(t, err)
		assert.Equal(t, "still fine", string(out))
	})

	t.Run("grow-memory", func(t *testing.T) {
		out, err := p.Call(ctx, "grow-memory", nil)
		require.NoError(t, err)
		assert.Equal(t, "grown to 256 pages", string(out), "16MiB limit from plugin.toml")
	})

	t.Run("cancel", func(t *testing.T) {
		cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		_, err := p.Call(cctx, "loop", nil)
		assert.ErrorIs(t, err, runtime.ErrCanceled)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		out, err := p.Call(ctx, "ok", nil)
		require.NoError(t, err)
		assert.Equal(t, "still fine", string(out))
	})
}

func TestLoad_Errors(t *testing.T) {
	tests := []struct {
		fixture string
		is      []error
		msg     string
	}{
		{"bad-command", []error{abi.ErrCommand}, `load plugin "bad-command": module bad-command.wasm: module exports "_start" but not "_initialize"`},
		{"bad-import", []error{abi.ErrUnknownImport}, `load plugin "bad-import": module bad-import.wasm: import "env"."launch_missiles" (func`},
		{"hostile-onload", []error{runtime.ErrGuest}, `load plugin "hostile-onload": instantiate: on-load: plugin error: database unreachable`},
		{"hostile-onload-trap", []error{runtime.ErrTrap}, `load plugin "hostile-onload-trap": instantiate: on-load: trap: wasm error: unreachable`},
		{"does-not-exist", nil, "load plugin from ../testdata/wasm/does-not-exist: "},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			e := newRuntime(t, runtime.NewConfig())
			_, err := e.rt.Load(context.Background(), fixture(tt.fixture))
			require.Error(t, err)
			for _, is := range tt.is {
				assert.ErrorIs(t, err, is)
			}
			assert.Contains(t, err.Error(), tt.msg)
		})
	}
}

func TestCall_Concurrent(t *testing.T) {
	ctx := context.Background()
	e := newRuntime(t, runtime.NewConfig().WithInstances(4))
	p, err := e.rt.Load(ctx, fixture("hello-c"))
	require.NoError(t, err)
	defer p.Close(ctx)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				in := fmt.Sprintf("g%d-%d", g, i)
				out, err := p.Call(ctx, "echo", []byte(in))
				if err == nil && string(out) != in {
					err = fmt.Errorf("echo %q gave %q", in, out)
				}
				if err != nil {
					errs <- err
					return
				}
				if i%10 == 0 {
					if _, err := p.Call(ctx, "fail", nil); !errors.Is(err, runtime.ErrGuest) {
						errs <- fmt.Errorf("fail gave %v", err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	loads := strings.Count(e.stdout.String(), "hello-c: loaded")
	assert.GreaterOrEqual(t, loads, 1)
	assert.LessOrEqual(t, loads, 4, "no more instances than WithInstances")
}

func TestRuntime_CloseUnloadsPlugins(t *testing.T) {
	ctx := context.Background()
	var out syncBuffer
	rt, err := runtime.New(ctx, runtime.NewConfig().WithStdout(&out).WithLogger(slog.New(slog.DiscardHandler)))
	require.NoError(t, err)
	p, err := rt.Load(ctx, fixture("hello-c"))
	require.NoError(t, err)
	require.NoError(t, rt.Close(ctx))
	assert.Equal(t, "hello-c: loaded\nhello-c: unloaded\n", out.String())
	_, err = p.Call(ctx, "echo", nil)
	assert.ErrorIs(t, err, runtime.ErrClosed)
	_, err = rt.Load(ctx, fixture("hello-c"))
	assert.ErrorContains(t, err, "runtime is closed")
}
