package gen_test

import (
	"context"
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/vitte-lang/vitte-plugin/adapters/vitte/check"
	"github.com/vitte-lang/vitte-plugin/adapters/vitte/gen"
	"github.com/vitte-lang/vitte-plugin/adapters/vitte/syntax"
	"github.com/vitte-lang/vitte-plugin/internal/wasmbin"
)

func generate(t *testing.T, src string) []byte {
	t.Helper()
	s := syntax.NewSource("t.vit", []byte(src))
	r := syntax.NewReporter(s)
	p := check.Check(syntax.Parse(s, r), r)
	require.Zero(t, r.Len(), "%v", r.Diagnostics())
	return gen.Generate(p, "t")
}

func TestGenerate_imports(t *testing.T) {
	tests := []struct {
		name, with string
		expected   []string
	}{
		{name: "nothing", with: "#[export]\nproc f(s: str) -> str { give s }", expected: nil},
		{name: "println", with: "#[on_load]\nproc f() { println!(\"x\") }", expected: []string{"wasi_snapshot_preview1.fd_write"}},
		{name: "eprint", with: "#[on_load]\nproc f() { eprint(\"x\") }", expected: []string{"wasi_snapshot_preview1.fd_write"}},
		{name: "log", with: "#[on_load]\nproc f() { log_warn(\"x\") }", expected: []string{"vitte:plugin/host@1.0.0.log"}},
		{name: "config", with: "#[export]\nproc f(s: str) -> str { give config_or(s, \"d\") }", expected: []string{"vitte:plugin/host@1.0.0.config-get"}},
		{name: "host call", with: "#[export]\nproc f(s: str) -> str { give host_call(s, s) }", expected: []string{"vitte:plugin/host@1.0.0.call"}},
		{name: "all", with: "#[export]\nproc f(s: str) -> str { println(s); log_info(s); give host_call(config(s), s) }",
			expected: []string{"wasi_snapshot_preview1.fd_write", "vitte:plugin/host@1.0.0.log", "vitte:plugin/host@1.0.0.config-get", "vitte:plugin/host@1.0.0.call"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := wasmbin.Parse(generate(t, tc.with))
			require.NoError(t, err)
			var got []string
			for _, im := range m.Imports {
				got = append(got, im.Module+"."+im.Name)
			}
			require.Equal(t, tc.expected, got)
		})
	}
}

func TestGenerate_exports(t *testing.T) {
	m, err := wasmbin.Parse(generate(t, `
#[on_load]
proc start() {}
#[on_unload]
proc stop() {}
#[export("b-b")]
proc b(s: str) -> str { give s }
#[export]
proc a() {}
proc helper() {}
`))
	require.NoError(t, err)
	var got []string
	for _, e := range m.Exports {
		got = append(got, e.Name)
	}
	require.Equal(t, []string{"memory", "cabi_realloc", "_initialize", "on-load", "on-unload", "b-b", "a", "cabi_post_b-b", "cabi_post_a"}, got)
}

// instance instantiates a generated module that imports nothing.
func instance(t *testing.T, src string) api.Module {
	t.Helper()
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	t.Cleanup(func() { rt.Close(ctx) })
	mod, err := rt.Instantiate(ctx, generate(t, src))
	require.NoError(t, err)
	return mod
}

func call(t *testing.T, m api.Module, name string, args ...uint64) (uint32, error) {
	t.Helper()
	res, err := m.ExportedFunction(name).Call(context.Background(), args...)
	if err != nil || len(res) == 0 {
		return 0, err
	}
	return uint32(res[0]), nil
}

func TestGenerate_allocator(t *testing.T) {
	m := instance(t, "#[export]\nproc echo(s: str) -> str { give s + \"!\" }")
	realloc := func(old, oldSize, align, size uint32) uint32 {
		p, err := call(t, m, "cabi_realloc", uint64(old), uint64(oldSize), uint64(align), uint64(size))
		require.NoError(t, err)
		return p
	}
	first := realloc(0, 0, 1, 3)
	require.NotZero(t, first)
	p := realloc(0, 0, 8, 16)
	require.Zero(t, p%8)
	require.Greater(t, p, first)

	// Growing memory.
	before := m.Memory().Size()
	big := realloc(0, 0, 4, 3<<16)
	require.Zero(t, big%4)
	require.GreaterOrEqual(t, m.Memory().Size(), big+3<<16)
	require.Greater(t, m.Memory().Size(), before)

	// Reallocation keeps the bytes; shrinking stays in place.
	require.True(t, m.Memory().Write(p, []byte("0123456789abcdef")))
	q := realloc(p, 16, 8, 40)
	got, _ := m.Memory().Read(q, 16)
	require.Equal(t, "0123456789abcdef", string(got))
	require.Equal(t, q, realloc(q, 40, 8, 10))

	// A bad alignment or an impossible size traps.
	_, err := call(t, m, "cabi_realloc", 0, 0, 3, 1)
	require.Error(t, err)
	_, err = call(t, m, "cabi_realloc", 0, 0, 1, 0xffffffff)
	require.Error(t, err)
}

func TestGenerate_handlerAndPost(t *testing.T) {
	m := instance(t, "#[export]\nproc echo(s: str) -> str { give s + \"!\" }")
	in, err := call(t, m, "cabi_realloc", 0, 0, 1, 5)
	require.NoError(t, err)
	require.True(t, m.Memory().Write(in, []byte("hello")))
	area, err := call(t, m, "echo", uint64(in), 5)
	require.NoError(t, err)
	require.Zero(t, area%4)
	b, ok := m.Memory().Read(area, 12)
	require.True(t, ok)
	require.Equal(t, byte(0), b[0], "ok tag")
	ptr, n := binary.LittleEndian.Uint32(b[4:]), binary.LittleEndian.Uint32(b[8:])
	out, _ := m.Memory().Read(ptr, n)
	require.Equal(t, "hello!", string(out))

	// cabi_post frees everything: the next allocation reuses the space.
	_, err = call(t, m, "cabi_post_echo", uint64(area))
	require.NoError(t, err)
	again, err := call(t, m, "cabi_realloc", 0, 0, 1, 5)
	require.NoError(t, err)
	require.Equal(t, in, again)
}

func TestGenerate_failResult(t *testing.T) {
	m := instance(t, `
proc check(s: str) -> i32 {
    if len(s) == 0 { fail("empty input") }
    give len(s)
}
#[export]
proc f(s: str) -> str { give to_str(check(s) * 2) }
`)
	area, err := call(t, m, "f", 0, 0)
	require.NoError(t, err)
	b, _ := m.Memory().Read(area, 12)
	require.Equal(t, byte(1), b[0], "err tag")
	msg, _ := m.Memory().Read(binary.LittleEndian.Uint32(b[4:]), binary.LittleEndian.Uint32(b[8:]))
	require.Equal(t, "empty input", string(msg))

	// The failed flag does not leak into the next call.
	in, _ := call(t, m, "cabi_realloc", 0, 0, 1, 3)
	m.Memory().Write(in, []byte("abc"))
	area, err = call(t, m, "f", uint64(in), 3)
	require.NoError(t, err)
	b, _ = m.Memory().Read(area, 12)
	require.Equal(t, byte(0), b[0])
	out, _ := m.Memory().Read(binary.LittleEndian.Uint32(b[4:]), binary.LittleEndian.Uint32(b[8:]))
	require.Equal(t, "6", string(out))
}
