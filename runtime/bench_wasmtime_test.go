//go:build wasmtime

package runtime_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"testing"

	"github.com/bytecodealliance/wasmtime-go/v39"

	"github.com/vitte-lang/vitte-plugin/runtime"
)

// BenchmarkCallWasmtime is BenchmarkCall on wasmtime: vitte-wasmtime (this
// runtime on the wasmtime engine) and wasmtime (raw wasmtime-go, its
// Func.Call, the ABI done by hand, no checks). Run with BenchmarkCall in
// one run to get the ratios to raw wazero:
//
//	go test -tags wasmtime -run '^$' -bench '^BenchmarkCall' ./runtime
func BenchmarkCallWasmtime(b *testing.B) {
	ctx := context.Background()
	for _, s := range benchSizes {
		input := bytes.Repeat([]byte("a"), s.size)
		b.Run(s.name+"/vitte-wasmtime", func(b *testing.B) {
			p := benchHelloC(b, runtime.NewConfig().WithEngine(runtime.EngineWasmtime))
			b.SetBytes(int64(s.size))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := p.Call(ctx, s.handler, input); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(s.name+"/wasmtime", func(b *testing.B) {
			store, inst := rawWasmtime(b)
			realloc, fn := inst.GetFunc(store, "cabi_realloc"), inst.GetFunc(store, s.handler)
			post := inst.GetFunc(store, "cabi_post_"+s.handler)
			mem := inst.GetExport(store, "memory").Memory()
			b.SetBytes(int64(s.size))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				var ptr int32
				if len(input) > 0 {
					v, err := realloc.Call(store, 0, 0, 1, len(input))
					if err != nil {
						b.Fatal(err)
					}
					ptr = v.(int32)
					copy(mem.UnsafeData(store)[ptr:], input)
				}
				v, err := fn.Call(store, ptr, len(input))
				if err != nil {
					b.Fatal(err)
				}
				ret := uint32(v.(int32))
				data := mem.UnsafeData(store)
				area := data[ret : ret+12]
				off, n := binary.LittleEndian.Uint32(area[4:]), binary.LittleEndian.Uint32(area[8:])
				_ = append([]byte(nil), data[off:off+n]...)
				if post != nil {
					if _, err := post.Call(store, int32(ret)); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// rawWasmtime instantiates the hello-c fixture with wasmtime-go, its host
// imports stubbed, and runs _initialize.
func rawWasmtime(b *testing.B) (*wasmtime.Store, *wasmtime.Instance) {
	wasm, err := os.ReadFile(fixture("hello-c") + "/hello-c.wasm")
	if err != nil {
		b.Fatal(err)
	}
	engine := wasmtime.NewEngine()
	store := wasmtime.NewStore(engine)
	store.SetWasi(wasmtime.NewWasiConfig())
	linker := wasmtime.NewLinker(engine)
	if err := linker.DefineWasi(); err != nil {
		b.Fatal(err)
	}
	for _, f := range []struct {
		name string
		fn   any
	}{
		{"log", func(int32, int32, int32) {}},
		{"config-get", func(int32, int32, int32) {}},
		{"call", func(int32, int32, int32, int32, int32) {}},
	} {
		if err := linker.FuncWrap("vitte:plugin/host@1.0.0", f.name, f.fn); err != nil {
			b.Fatal(err)
		}
	}
	mod, err := wasmtime.NewModule(engine, wasm)
	if err != nil {
		b.Fatal(err)
	}
	inst, err := linker.Instantiate(store, mod)
	if err != nil {
		b.Fatal(err)
	}
	if init := inst.GetFunc(store, "_initialize"); init != nil {
		if _, err := init.Call(store); err != nil {
			b.Fatal(err)
		}
	}
	return store, inst
}
