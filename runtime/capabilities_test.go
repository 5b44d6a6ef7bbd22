package runtime_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/capabilities"
	"github.com/vitte-lang/vitte-plugin/runtime"
)

// auditLog collects audit events.
type auditLog struct {
	mu     sync.Mutex
	events []capabilities.Event
}

func (a *auditLog) record(e capabilities.Event) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.events = append(a.events, e)
}

func (a *auditLog) find(kind capabilities.Kind, resource string) (capabilities.Event, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, e := range a.events {
		if e.Kind == kind && e.Resource == resource {
			return e, true
		}
	}
	return capabilities.Event{}, false
}

func fakeEnv(name string) (string, bool) {
	switch name {
	case "VITTE_TEST_GREETING":
		return "salut", true
	case "VITTE_TEST_OTHER":
		return "other", true
	case "HOME":
		return "/root", true
	}
	return "", false
}

func loadCaps(t *testing.T, cfg runtime.Config, g capabilities.Grants) (*runtime.Plugin, *auditLog, env) {
	t.Helper()
	audit := &auditLog{}
	e := newRuntime(t, cfg.WithAuditor(audit.record).WithEnvironment(fakeEnv))
	e.rt.RegisterHostFunc("test.echo", func(_ context.Context, p []byte) ([]byte, error) { return append([]byte("echo:"), p...), nil })
	p, err := e.rt.LoadWithConfig(context.Background(), fixture("caps-c"), runtime.NewLoadConfig().WithGrants(g))
	require.NoError(t, err)
	t.Cleanup(func() { p.Close(context.Background()) })
	return p, audit, e
}

// TestCapabilities_NoGrants: a plugin loaded with no grants can compute,
// log and write to stdout/stderr, and nothing else.
func TestCapabilities_NoGrants(t *testing.T) {
	ctx := context.Background()
	p, audit, _ := loadCaps(t, runtime.NewConfig(), capabilities.NewGrants())

	out, err := p.Call(ctx, "environ", nil)
	require.NoError(t, err)
	assert.Empty(t, string(out), "no environment variable is visible")

	_, err = p.Call(ctx, "env", []byte("VITTE_TEST_GREETING"))
	assert.ErrorIs(t, err, runtime.ErrGuest)
	assert.ErrorContains(t, err, "env: VITTE_TEST_GREETING is not set")
	ev, ok := audit.find(capabilities.KindEnv, "VITTE_TEST_GREETING")
	require.True(t, ok, "the refused env request is on record")
	assert.Equal(t, "request", ev.Op)
	assert.Equal(t, "caps-c", ev.Plugin)
	assert.Len(t, ev.ModuleSHA256, 64)
	assert.False(t, ev.Allowed)

	_, err = p.Call(ctx, "host", []byte("test.echo"))
	assert.ErrorIs(t, err, runtime.ErrPermission, "the call failed because of a denial")
	assert.ErrorIs(t, err, runtime.ErrGuest)
	assert.ErrorContains(t, err, `host: permission denied: host call "test.echo" not granted`)
	ev, ok = audit.find(capabilities.KindHost, "test.echo")
	require.True(t, ok)
	assert.Equal(t, "host", ev.Function)
	assert.Equal(t, "no host grant matches", ev.Rule)

	_, err = p.Call(ctx, "host", []byte("other.thing"))
	assert.ErrorIs(t, err, runtime.ErrPermission)
	ev, ok = audit.find(capabilities.KindHost, "other.thing")
	require.True(t, ok)
	assert.Equal(t, "not requested in plugin.toml [capabilities].host", ev.Rule)

	out, err = p.Call(ctx, "time", nil)
	require.NoError(t, err, "clocks need no grant")
	assert.NotEmpty(t, out)
	_, err = p.Call(ctx, "random", nil)
	require.NoError(t, err, "randomness needs no grant")
}

func TestCapabilities_Granted(t *testing.T) {
	ctx := context.Background()
	g := capabilities.NewGrants().WithEnv("VITTE_TEST_GREETING").WithEnv("HOME").WithHostCall("test.*")
	p, audit, _ := loadCaps(t, runtime.NewConfig().WithAuditAllowed(true), g)

	out, err := p.Call(ctx, "environ", nil)
	require.NoError(t, err)
	assert.Equal(t, "VITTE_TEST_GREETING=salut\n", string(out), "granted and requested only: HOME was granted but not requested")

	out, err = p.Call(ctx, "host", []byte("test.echo"))
	require.NoError(t, err)
	assert.Equal(t, "echo:ping", string(out))
	ev, ok := audit.find(capabilities.KindHost, "test.echo")
	require.True(t, ok)
	assert.True(t, ev.Allowed)

	_, ok = audit.find(capabilities.KindEnv, "VITTE_TEST_OTHER")
	assert.True(t, ok, "the request that was not granted is on record")
	assert.Equal(t, []string{"VITTE_TEST_GREETING"}, p.Capabilities().Env)
}

// TestCapabilities_InvalidHostCallName: a name no manifest could request
// is refused and audited, even where a granted pattern would match it
// ("test.*" matched a plugin's call of "test.*").
func TestCapabilities_InvalidHostCallName(t *testing.T) {
	ctx := context.Background()
	p, audit, _ := loadCaps(t, runtime.NewConfig(), capabilities.NewGrants().WithHostCall("test.*"))
	for _, name := range []string{"test.*", "test.Echo", "test..echo", "test.echo\x1b[2J", "test.ech\u00f6"} {
		_, err := p.Call(ctx, "host", []byte(name))
		assert.ErrorIs(t, err, runtime.ErrPermission, name)
		assert.ErrorContains(t, err, "host: permission denied: invalid host-call name", name)
		ev, ok := audit.find(capabilities.KindHost, name)
		require.True(t, ok, "%q is on record", name)
		assert.Equal(t, "invalid host-call name", ev.Rule)
		assert.False(t, ev.Allowed)
	}
	out, err := p.Call(ctx, "host", []byte("test.echo"))
	require.NoError(t, err, "a valid granted name still works")
	assert.Equal(t, "echo:ping", string(out))
}

func TestRuntime_RegisterHostFunc_invalidName(t *testing.T) {
	e := newRuntime(t, runtime.NewConfig())
	fn := func(context.Context, []byte) ([]byte, error) { return nil, nil }
	for _, name := range []string{"", "*", "test.*", "Test.echo", "a..b", "a b"} {
		assert.Panics(t, func() { e.rt.RegisterHostFunc(name, fn) }, "%q", name)
	}
	assert.Empty(t, e.rt.HostFuncs())
}

func TestCapabilities_Deterministic(t *testing.T) {
	ctx := context.Background()
	run := func(seed int64) (string, string) {
		p, _, _ := loadCaps(t, runtime.NewConfig().WithDeterministic(seed), capabilities.NewGrants())
		tm, err := p.Call(ctx, "time", nil)
		require.NoError(t, err)
		r, err := p.Call(ctx, "random", nil)
		require.NoError(t, err)
		return string(tm), string(r)
	}
	t1, r1 := run(42)
	t2, r2 := run(42)
	_, r3 := run(43)
	assert.True(t, strings.HasPrefix(t1, "946684800 "), t1)
	assert.Equal(t, t1, t2)
	assert.Equal(t, r1, r2, "same seed, same random bytes")
	assert.NotEqual(t, r1, r3)
}

func TestCapabilities_MemoryLimit(t *testing.T) {
	ctx := context.Background()
	p, audit, _ := loadCaps(t, runtime.NewConfig(), capabilities.NewGrants())
	_, err := p.Call(ctx, "alloc", []byte("32")) // 32 MiB, limit 16 MiB
	assert.ErrorIs(t, err, runtime.ErrGuest)
	assert.ErrorContains(t, err, "alloc: out of memory for 32 MiB")
	ev, ok := audit.find(capabilities.KindLimit, "memory")
	require.True(t, ok, "the refused growth is on record")
	assert.Equal(t, "grow", ev.Op)
	assert.Equal(t, "alloc", ev.Function)
	assert.Contains(t, ev.Rule, "limits.memory 16MiB: growth to ")

	out, err := p.Call(ctx, "alloc", []byte("4"))
	require.NoError(t, err, "the next call works")
	assert.Equal(t, "allocated 4 MiB", string(out))
}

func TestCapabilities_MemoryCeiling(t *testing.T) {
	ctx := context.Background()
	// The host ceiling lowers the manifest's 16 MiB to 8 MiB.
	p, _, _ := loadCaps(t, runtime.NewConfig().WithMaxMemory(8<<20), capabilities.NewGrants())
	_, err := p.Call(ctx, "alloc", []byte("12"))
	assert.ErrorContains(t, err, "alloc: out of memory for 12 MiB")
}

func TestCapabilities_LogFlood(t *testing.T) {
	ctx := context.Background()
	p, audit, e := loadCaps(t, runtime.NewConfig().WithLogRate(0.01, 20), capabilities.NewGrants())
	out, err := p.Call(ctx, "log-flood", []byte("5000"))
	require.NoError(t, err)
	assert.Equal(t, "logged 5000", string(out))
	require.NoError(t, p.Close(ctx))
	logs := e.logs.String()
	lines := strings.Count(logs, "flood line")
	assert.GreaterOrEqual(t, lines, 20)
	assert.LessOrEqual(t, lines, 21, "the flood is dropped, not written line by line")
	assert.Regexp(t, `log messages dropped by the rate limit.* dropped=49[78][0-9]`, logs)
	ev, ok := audit.find(capabilities.KindLimit, "log")
	require.True(t, ok, "the flood is on record")
	assert.Equal(t, "log-flood", ev.Function)
	assert.Equal(t, "log rate 0.01/s, burst 20: messages dropped", ev.Rule)
}
