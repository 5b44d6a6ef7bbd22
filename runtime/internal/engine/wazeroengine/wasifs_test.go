package wazeroengine

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
	"github.com/tetratelabs/wazero/experimental/sysfs"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/vitte-lang/vitte-plugin/abi"
	"github.com/vitte-lang/vitte-plugin/internal/wasmgen"
	"github.com/vitte-lang/vitte-plugin/runtime/internal/engine"
)

// TestWASIPathFuncs: the indices in wasiPathFuncs name a descriptor, a path
// and its length in wazero's parameters, and every wazero function that
// takes a path is wrapped.
func TestWASIPathFuncs(t *testing.T) {
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	cm, err := wasi_snapshot_preview1.NewBuilder(rt).Compile(ctx)
	require.NoError(t, err)
	defs := cm.ExportedFunctions()
	for name, pf := range wasiPathFuncs {
		def, ok := defs[name]
		require.True(t, ok, name)
		names := def.ParamNames()
		for _, a := range pf.paths {
			assert.True(t, strings.HasSuffix(names[a.fd], "fd"), "%s %v", name, names)
			assert.True(t, strings.HasSuffix(names[a.ptr], "path"), "%s %v", name, names)
			assert.Equal(t, names[a.ptr]+"_len", names[a.len], "%s %v", name, names)
		}
		assert.LessOrEqual(t, len(names), 9, "wrapPathFunc saves 9 parameters")
	}
	for name := range defs {
		if strings.HasPrefix(name, "path_") {
			_, ok := wasiPathFuncs[name]
			assert.True(t, ok, "%s takes a path and is not wrapped", name)
		}
	}
}

// wasiGuest is a module calling path_open, path_rename, path_link and
// fd_close directly, with the descriptors and paths the test chooses.
func wasiGuest() []byte {
	i32, i64 := abi.I32, abi.I64
	ret := []abi.ValueType{i32}
	get := func(i byte) []byte { return []byte{0x20, i} }
	call := func(i byte) []byte { return []byte{0x10, i} }
	m := wasmgen.Module{
		Imports: []wasmgen.Import{
			{Module: abi.WASIModule, Name: "path_open", Type: abi.FuncType{Params: []abi.ValueType{i32, i32, i32, i32, i32, i64, i64, i32, i32}, Results: ret}},
			{Module: abi.WASIModule, Name: "path_rename", Type: abi.FuncType{Params: []abi.ValueType{i32, i32, i32, i32, i32, i32}, Results: ret}},
			{Module: abi.WASIModule, Name: "path_link", Type: abi.FuncType{Params: []abi.ValueType{i32, i32, i32, i32, i32, i32, i32}, Results: ret}},
			{Module: abi.WASIModule, Name: "fd_close", Type: abi.FuncType{Params: []abi.ValueType{i32}, Results: ret}},
		},
		Funcs: []wasmgen.Func{
			{
				Type: abi.FuncType{Params: []abi.ValueType{i32, i32, i32}, Results: ret}, Export: "open",
				// path_open(fd, follow, ptr, len, 0, 0, 0, 0, 0): the new
				// descriptor lands at address 0.
				Body: wasmgen.Cat(get(0), wasmgen.I32Const(1), get(1), get(2), wasmgen.I32Const(0),
					[]byte{0x42, 0x00, 0x42, 0x00}, wasmgen.I32Const(0), wasmgen.I32Const(0), call(0)),
			},
			{
				Type: abi.FuncType{Params: []abi.ValueType{i32, i32, i32, i32, i32, i32}, Results: ret}, Export: "rename",
				Body: wasmgen.Cat(get(0), get(1), get(2), get(3), get(4), get(5), call(1)),
			},
			{
				Type: abi.FuncType{Params: []abi.ValueType{i32, i32, i32, i32, i32, i32}, Results: ret}, Export: "link",
				Body: wasmgen.Cat(get(0), wasmgen.I32Const(0), get(1), get(2), get(3), get(4), get(5), call(2)),
			},
			{
				Type: abi.FuncType{Params: []abi.ValueType{i32}, Results: ret}, Export: "close",
				Body: wasmgen.Cat(get(0), call(3)),
			},
		},
		MemoryMin:    1,
		ExportMemory: abi.ExportMemory,
	}
	return m.Bytes()
}

// WASI errnos seen by the guest.
const (
	wasiESUCCESS = 0
	wasiEFAULT   = 21
	wasiENOENT   = 44
	wasiENOTDIR  = 54
)

func TestWASIWrappers(t *testing.T) {
	tr := newFSTree(t)
	ctx := context.Background()
	e, err := New(ctx, Options{})
	require.NoError(t, err)
	defer e.Close(ctx)
	mod, err := e.Compile(ctx, wasiGuest())
	require.NoError(t, err)
	var mu sync.Mutex
	var got []denial
	inst, err := mod.Instantiate(ctx, engine.InstanceConfig{
		Mounts: []engine.Mount{{Guest: "/data", Host: tr.data}, {Guest: "/ro", Host: tr.ro, ReadOnly: true}},
		Denied: func(op, path, rule string) {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, denial{op, path, rule})
		},
	})
	require.NoError(t, err)
	defer inst.Close(ctx)
	const dataFD, roFD, rootFD = 3, 4, 5

	// at writes s at a fresh address and returns its address and length.
	next := uint32(1024)
	at := func(s string) (uint64, uint64) {
		p := next
		require.True(t, inst.Memory().Write(p, []byte(s)))
		next += uint32(len(s)) + 8
		return uint64(p), uint64(len(s))
	}
	call := func(fn string, args ...uint64) uint64 {
		t.Helper()
		stack := make([]uint64, max(len(args), 1))
		copy(stack, args)
		require.NoError(t, inst.Func(fn).Call(ctx, stack))
		return stack[0]
	}
	take := func() []denial {
		mu.Lock()
		defer mu.Unlock()
		d := got
		got = nil
		return d
	}
	open := func(fd uint64, p string) uint64 {
		ptr, n := at(p)
		return call("open", fd, ptr, n)
	}
	two := func(fn string, fd1 uint64, p1 string, fd2 uint64, p2 string) uint64 {
		ptr1, n1 := at(p1)
		ptr2, n2 := at(p2)
		return call(fn, fd1, ptr1, n1, fd2, ptr2, n2)
	}

	assert.EqualValues(t, wasiESUCCESS, open(dataFD, "hello.txt"))
	assert.Empty(t, take())

	// Refused by wazero's atPath, reported by the wrapper.
	assert.EqualValues(t, wasiEACCES, open(dataFD, "../secret.txt"))
	assert.Equal(t, []denial{{"open", "/data/../secret.txt", "path escapes mount /data"}}, take())
	assert.EqualValues(t, wasiEACCES, open(dataFD, "/etc/passwd"))
	assert.Equal(t, []denial{{"open", "/data//etc/passwd", "path escapes mount /data"}}, take())
	assert.EqualValues(t, wasiEACCES, open(rootFD, "../etc/passwd"))
	assert.Equal(t, []denial{{"open", "/../etc/passwd", ruleOutside}}, take())
	assert.EqualValues(t, wasiEACCES, open(99, "sub/../../x"), "wazero checks the path before the descriptor")
	assert.Equal(t, []denial{{"open", "(fd 99)/sub/../../x", "path escapes its directory"}}, take())

	// Refused by a file system, reported there, once.
	assert.EqualValues(t, wasiEACCES, open(dataFD, "link-file"))
	assert.Equal(t, []denial{{"open", "/data/link-file", "path escapes mount /data"}}, take())
	assert.EqualValues(t, wasiEACCES, open(rootFD, "etc/passwd"))
	assert.Equal(t, []denial{{"open", "/etc/passwd", ruleOutside}}, take())

	// Not refusals: nothing reported.
	assert.EqualValues(t, wasiEBADF, open(99, "hello.txt"))
	assert.EqualValues(t, wasiEFAULT, call("open", dataFD, 1<<20, 8), "out of memory: wazero's EFAULT")
	assert.EqualValues(t, wasiEFAULT, call("open", dataFD, 65530, 100))
	assert.Empty(t, take())

	// A directory opened in the root: still nothing in it.
	assert.EqualValues(t, wasiESUCCESS, open(rootFD, "."))
	dirFD := uint64(binary.LittleEndian.Uint32(must(inst.Memory().Read(0, 4))))
	assert.Empty(t, take(), "opening the root is not reported")
	assert.EqualValues(t, wasiEACCES, open(dirFD, "etc/passwd"))
	assert.Equal(t, []denial{{"open", "/etc/passwd", ruleOutside}}, take())
	assert.EqualValues(t, wasiEACCES, open(dirFD, "../etc/passwd"))
	assert.Equal(t, []denial{{"open", fmt.Sprintf("(fd %d)/../etc/passwd", dirFD), "path escapes its directory"}}, take())
	assert.EqualValues(t, wasiEXDEV, two("rename", dirFD, "x", dataFD, "hello.txt"), "not known to be the root: EXDEV")
	assert.Equal(t, []denial{{"rename", fmt.Sprintf("(fd %d)/x", dirFD), fmt.Sprintf("across mounts (fd %d) and /data", dirFD)}}, take())

	// Two file systems: EXDEV between mounts (both granted), EACCES to or
	// from outside.
	assert.EqualValues(t, wasiEXDEV, two("rename", dataFD, "hello.txt", roFD, "hello.txt"))
	assert.Equal(t, []denial{{"rename", "/data/hello.txt", "across mounts /data and /ro"}}, take())
	assert.EqualValues(t, wasiEACCES, two("rename", dataFD, "hello.txt", rootFD, "tmp/x"))
	assert.Equal(t, []denial{{"rename", "/tmp/x", ruleOutside}}, take())
	assert.EqualValues(t, wasiEACCES, two("link", rootFD, "etc/passwd", dataFD, "passwd"))
	assert.Equal(t, []denial{{"link", "/etc/passwd", ruleOutside}}, take())
	assert.EqualValues(t, wasiEACCES, two("rename", dataFD, "hello.txt", roFD, "../x"), "the lexical refusal first")
	assert.Equal(t, []denial{{"rename", "/ro/../x", "path escapes mount /ro"}}, take())
	assert.EqualValues(t, wasiEACCES, two("rename", roFD, "ro.txt", roFD, "moved.txt"), "one file system: the mount's answer")
	assert.Equal(t, []denial{{"rename", "/ro/ro.txt", "read-only mount /ro"}}, take())

	// A granted path named through "/": refused, with a rule that says so.
	assert.EqualValues(t, wasiEACCES, open(rootFD, "data/hello.txt"))
	assert.Equal(t, []denial{{"open", "/data/hello.txt", "under mount /data, named through the / preopen"}}, take())
	assert.EqualValues(t, wasiEACCES, two("rename", dataFD, "hello.txt", rootFD, "ro/hello.txt"))
	assert.Equal(t, []denial{{"rename", "/ro/hello.txt", "under mount /ro, named through the / preopen"}}, take())

	// "." and ".." relative to a directory the guest opened: resolved
	// through the real tree under the directory's name.
	assert.EqualValues(t, wasiESUCCESS, open(dataFD, "sub"))
	subFD := uint64(binary.LittleEndian.Uint32(must(inst.Memory().Read(0, 4))))
	assert.EqualValues(t, wasiESUCCESS, open(subFD, "nested.txt"))
	assert.EqualValues(t, wasiENOTDIR, open(subFD, "nested.txt/../nested.txt"))
	assert.EqualValues(t, wasiENOTDIR, open(subFD, "nested.txt/."))
	assert.EqualValues(t, wasiENOENT, open(subFD, "nope/../nested.txt"))
	assert.EqualValues(t, wasiESUCCESS, open(subFD, "./nested.txt"))
	assert.Empty(t, take())

	// A closed preopen is no longer named after its mount.
	assert.EqualValues(t, wasiESUCCESS, call("close", dataFD))
	assert.EqualValues(t, wasiEACCES, open(dataFD, "../x"))
	assert.Equal(t, []denial{{"open", "(fd 3)/../x", "path escapes its directory"}}, take())

	// Nothing changed on the host.
	b, err := os.ReadFile(filepath.Join(tr.tmp, "secret.txt"))
	require.NoError(t, err)
	assert.Equal(t, secret, string(b))
	_, err = os.Stat(filepath.Join(tr.data, "hello.txt"))
	assert.NoError(t, err)
}

// TestWASIWrappers_remap: a wrapper answers EACCES only for the EPERM of
// wazero's lexical refusal, and changes no other errno, success included.
// wazero's function is replaced by one answering a chosen errno.
func TestWASIWrappers_remap(t *testing.T) {
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	mod, err := rt.InstantiateWithConfig(ctx, wasmgen.Module{MemoryMin: 1, ExportMemory: abi.ExportMemory}.Bytes(),
		wazero.NewModuleConfig().WithName(""))
	require.NoError(t, err)
	other, err := rt.InstantiateWithConfig(ctx, wasmgen.Module{MemoryMin: 1, ExportMemory: abi.ExportMemory}.Bytes(),
		wazero.NewModuleConfig().WithName(""))
	require.NoError(t, err)
	var got []denial
	reg := &fsInstances{}
	s := &mounts{names: []string{"/data", "/ro", "/"}, closed: make([]atomic.Bool, 3), denied: func(op, path, rule string) {
		got = append(got, denial{op, path, rule})
	}}
	s.register(reg, mod) // other stays unknown
	const dataFD, roFD, rootFD = 3, 4, 5

	next := uint32(16)
	at := func(m api.Module, p string) (uint64, uint64) {
		a := next
		require.True(t, m.Memory().Write(a, []byte(p)))
		next += uint32(len(p)) + 8
		return uint64(a), uint64(len(p))
	}
	// call runs the wrapper of fn around a function answering errno.
	call := func(m api.Module, fn string, errno uint64, fd1 uint64, p1 string, fd2 uint64, p2 string) uint64 {
		t.Helper()
		pf := wasiPathFuncs[fn]
		var stack [9]uint64
		ptr, n := at(m, p1)
		stack[pf.paths[0].fd], stack[pf.paths[0].ptr], stack[pf.paths[0].len] = fd1, ptr, n
		if len(pf.paths) > 1 {
			ptr, n = at(m, p2)
			stack[pf.paths[1].fd], stack[pf.paths[1].ptr], stack[pf.paths[1].len] = fd2, ptr, n
		}
		orig := api.GoModuleFunc(func(_ context.Context, _ api.Module, stack []uint64) { stack[0] = errno })
		wrapPathFunc(orig, pf, reg).Call(ctx, m, stack[:])
		return stack[0]
	}
	take := func() []denial { d := got; got = nil; return d }

	// wazero's lexical refusal: EACCES, reported.
	assert.EqualValues(t, wasiEACCES, call(mod, "path_open", wasiEPERM, dataFD, "../x", 0, ""))
	assert.Equal(t, []denial{{"open", "/data/../x", "path escapes mount /data"}}, take())
	assert.EqualValues(t, wasiEACCES, call(mod, "path_rename", wasiEPERM, dataFD, "a", dataFD, "../b"))
	assert.Equal(t, []denial{{"rename", "/data/../b", "path escapes mount /data"}}, take())
	assert.EqualValues(t, wasiEACCES, call(other, "path_open", wasiEPERM, dataFD, "/etc/passwd", 0, ""), "an unknown instance: answered, not reported")
	assert.Empty(t, take())

	// An EPERM with valid paths is the host's, not a refusal of the grant.
	assert.EqualValues(t, wasiEPERM, call(mod, "path_unlink_file", wasiEPERM, dataFD, "f", 0, ""))
	assert.EqualValues(t, wasiEPERM, call(mod, "path_rename", wasiEPERM, dataFD, "a", dataFD, "b"))
	assert.EqualValues(t, wasiEPERM, call(mod, "path_open", wasiEPERM, dataFD, "sub/../x", 0, ""), "climbs, stays inside")
	assert.Empty(t, take())

	// Other errnos, success included, are left alone whatever the paths.
	for _, errno := range []uint64{wasiESUCCESS, wasiEACCES, wasiEBADF, wasiEFAULT, wasiEXDEV} {
		assert.EqualValues(t, errno, call(mod, "path_open", errno, dataFD, "../x", 0, ""))
		assert.EqualValues(t, errno, call(mod, "path_rename", errno, dataFD, "a", rootFD, "b"))
	}
	assert.EqualValues(t, wasiENOSYS, call(mod, "path_open", wasiENOSYS, dataFD, "../x", 0, ""), "one path: not two file systems")
	assert.Empty(t, take())

	// ENOSYS from rename or link: two file systems.
	assert.EqualValues(t, wasiEXDEV, call(mod, "path_link", wasiENOSYS, dataFD, "a", roFD, "b"))
	assert.EqualValues(t, wasiEACCES, call(mod, "path_rename", wasiENOSYS, dataFD, "a", rootFD, "b"))
	assert.EqualValues(t, wasiEACCES, call(mod, "path_rename", wasiENOSYS, rootFD, "a", dataFD, "b"))
	assert.Equal(t, []denial{
		{"link", "/data/a", "across mounts /data and /ro"}, {"rename", "/b", ruleOutside}, {"rename", "/a", ruleOutside},
	}, take())
	assert.EqualValues(t, wasiENOSYS, call(other, "path_rename", wasiENOSYS, dataFD, "a", rootFD, "b"), "an unknown instance")
	assert.Empty(t, take())
}

// TestWASIWrappers_Forget: a closed instance is no longer known to the
// wrappers.
func TestWASIWrappers_Forget(t *testing.T) {
	ctx := context.Background()
	e, err := New(ctx, Options{})
	require.NoError(t, err)
	defer e.Close(ctx)
	mod, err := e.Compile(ctx, wasiGuest())
	require.NoError(t, err)
	inst, err := mod.Instantiate(ctx, engine.InstanceConfig{})
	require.NoError(t, err)
	count := func() int {
		n := 0
		e.(*eng).fs.m.Range(func(any, any) bool { n++; return true })
		return n
	}
	assert.Equal(t, 1, count(), "no mounts, but the denyFS")
	require.NoError(t, inst.Close(ctx))
	assert.Equal(t, 0, count())
}

// TestFSImports: the denyFS is mounted only for a module that can name a
// path.
func TestFSImports(t *testing.T) {
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	cm, err := rt.CompileModule(ctx, wasiGuest())
	require.NoError(t, err)
	assert.True(t, fsImports(cm))
	cm, err = rt.CompileModule(ctx, wasmgen.Plugin().Bytes())
	require.NoError(t, err)
	assert.False(t, fsImports(cm))
}

// TestDenyFS: everything is refused and reported but opening the root for
// reading, which wazero does itself.
func TestDenyFS(t *testing.T) {
	var got []denial
	d := newDenyFS(func(op, path, rule string) { got = append(got, denial{op, path, rule}) }, nil)
	f, errno := d.OpenFile(".", 0, 0)
	require.EqualValues(t, 0, errno)
	isDir, errno := f.IsDir()
	assert.True(t, isDir)
	assert.EqualValues(t, 0, errno)
	st, errno := f.Stat()
	assert.EqualValues(t, 0, errno)
	assert.True(t, st.Mode.IsDir())
	_, errno = f.Seek(0, 0)
	assert.EqualValues(t, 0, errno)
	assert.Empty(t, got, "opening the root is not reported")

	dirents, errno := f.Readdir(-1)
	assert.Empty(t, dirents)
	assert.Equal(t, experimentalsys.EACCES, errno)
	assert.Equal(t, []denial{{"readdir", "/", ruleOutside}}, got)
	got = nil
	assert.EqualValues(t, 0, f.Close())
	_, errno = f.Readdir(-1)
	assert.NotEqual(t, experimentalsys.EACCES, errno, "closed")
	assert.Empty(t, got)

	_, errno = d.OpenFile(".", writeFlags, 0)
	assert.Equal(t, experimentalsys.EACCES, errno)
	_, errno = d.OpenFile("etc/passwd", 0, 0)
	assert.Equal(t, experimentalsys.EACCES, errno)
	_, errno = d.Stat(".")
	assert.Equal(t, experimentalsys.EACCES, errno)
	_, errno = d.Lstat("tmp")
	assert.Equal(t, experimentalsys.EACCES, errno)
	_, errno = d.Readlink("l")
	assert.Equal(t, experimentalsys.EACCES, errno)
	for _, errno := range []any{
		d.Mkdir("tmp/x", 0o755), d.Chmod("x", 0o644), d.Rename("a", "b"), d.Rmdir("d"),
		d.Unlink("f"), d.Link("a", "b"), d.Symlink("a", "l"), d.Utimens("f", 0, 0),
	} {
		assert.Equal(t, experimentalsys.EACCES, errno)
	}
	assert.Equal(t, []denial{
		{"open", "/", ruleOutside}, {"open", "/etc/passwd", ruleOutside}, {"stat", "/", ruleOutside},
		{"stat", "/tmp", ruleOutside}, {"readlink", "/l", ruleOutside}, {"mkdir", "/tmp/x", ruleOutside},
		{"chmod", "/x", ruleOutside}, {"rename", "/a", ruleOutside}, {"rmdir", "/d", ruleOutside},
		{"unlink", "/f", ruleOutside}, {"link", "/a", ruleOutside}, {"symlink", "/l", ruleOutside},
		{"utimens", "/f", ruleOutside},
	}, got)
}

func must(b []byte, ok bool) []byte {
	if !ok {
		panic("out of memory")
	}
	return b
}

// BenchmarkWASIPath opens and closes a file in a mount through this
// package's WASI (wrapped path functions) and through wazero's own,
// unwrapped, on the same kind of mount, in interleaved batches, and reports
// the time per open and close of each and their ratio (x): the cost of the
// wrappers' reading of the paths. With dots ("sub/../sub/nested.txt") the
// wrapped one also walks the path through the real tree; the baseline
// cleans it lexically.
func BenchmarkWASIPath(b *testing.B) {
	for _, p := range []string{"sub/nested.txt", "sub/../sub/nested.txt"} {
		b.Run(strings.ReplaceAll(p, "/", "_"), func(b *testing.B) { benchWASIPath(b, p) })
	}
}

func benchWASIPath(b *testing.B, p string) {
	const batch = 256
	ctx := context.Background()
	tmp := b.TempDir()
	require.NoError(b, os.MkdirAll(filepath.Join(tmp, "sub"), 0o755))
	require.NoError(b, os.WriteFile(filepath.Join(tmp, "sub", "nested.txt"), []byte("x"), 0o644))

	e, err := New(ctx, Options{})
	require.NoError(b, err)
	defer e.Close(ctx)
	mod, err := e.Compile(ctx, wasiGuest())
	require.NoError(b, err)
	inst, err := mod.Instantiate(ctx, engine.InstanceConfig{Mounts: []engine.Mount{{Guest: "/data", Host: tmp}}})
	require.NoError(b, err)
	defer inst.Close(ctx)

	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	wasi_snapshot_preview1.MustInstantiate(ctx, rt)
	fsys, err := newRootFS(engine.Mount{Guest: "/data", Host: tmp}, nil)
	require.NoError(b, err)
	defer fsys.root.Close()
	raw, err := rt.InstantiateWithConfig(ctx, wasiGuest(), wazero.NewModuleConfig().
		WithFSConfig(wazero.NewFSConfig().(sysfs.FSConfig).WithSysFSMount(fsys, "/data")))
	require.NoError(b, err)

	ours := func(stack []uint64) {
		if err := inst.Func("open").Call(ctx, stack); err != nil || stack[0] != 0 {
			b.Fatal("open", err, stack[0])
		}
		stack[0] = uint64(binary.LittleEndian.Uint32(must(inst.Memory().Read(0, 4))))
		if err := inst.Func("close").Call(ctx, stack[:1]); err != nil || stack[0] != 0 {
			b.Fatal("close", err, stack[0])
		}
	}
	open, closeFn := raw.ExportedFunction("open"), raw.ExportedFunction("close")
	theirs := func(stack []uint64) {
		if err := open.CallWithStack(ctx, stack); err != nil || stack[0] != 0 {
			b.Fatal("open", err, stack[0])
		}
		stack[0] = uint64(binary.LittleEndian.Uint32(must(raw.Memory().Read(0, 4))))
		if err := closeFn.CallWithStack(ctx, stack[:1]); err != nil || stack[0] != 0 {
			b.Fatal("close", err, stack[0])
		}
	}
	require.True(b, inst.Memory().Write(1024, []byte(p)))
	require.True(b, raw.Memory().Write(1024, []byte(p)))
	var tOurs, tTheirs time.Duration
	stack := make([]uint64, 3)
	for b.Loop() {
		t0 := time.Now()
		for range batch {
			stack[0], stack[1], stack[2] = 3, 1024, uint64(len(p))
			ours(stack)
		}
		t1 := time.Now()
		for range batch {
			stack[0], stack[1], stack[2] = 3, 1024, uint64(len(p))
			theirs(stack)
		}
		tTheirs += time.Since(t1)
		tOurs += t1.Sub(t0)
	}
	n := float64(b.N) * batch
	b.ReportMetric(float64(tOurs.Nanoseconds())/n, "wrapped-ns/open")
	b.ReportMetric(float64(tTheirs.Nanoseconds())/n, "wazero-ns/open")
	b.ReportMetric(float64(tOurs)/float64(tTheirs), "x")
}
