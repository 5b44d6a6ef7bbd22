//go:build wasmtime

package wasmtimeengine

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCAPIDeclarations checks capi.h against wasmtime's own headers, from
// the wasmtime-go module: every function declared here must have the same
// prototype (a C compiler refuses a conflicting redeclaration), and every
// struct declared here the same size and layout.
func TestCAPIDeclarations(t *testing.T) {
	cc, err := exec.LookPath(goEnv(t, "CC"))
	require.NoError(t, err, "a C compiler (cgo's)")
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/bytecodealliance/wasmtime-go/v39").Output()
	require.NoError(t, err)
	include := filepath.Join(strings.TrimSpace(string(out)), "build", "include")
	dir := t.TempDir()

	// The prototypes, after wasmtime's.
	run(t, cc, "-fsyntax-only", "-Werror", "-I", include, "-include", "wasmtime.h", "capi.h")

	// The layouts, with wasmtime's headers and with ours.
	prog := filepath.Join(dir, "layout.c")
	require.NoError(t, os.WriteFile(prog, []byte(layoutProgram), 0o600))
	layout := func(args ...string) string {
		exe := filepath.Join(dir, "layout")
		run(t, cc, append(append([]string{"-o", exe}, args...), prog)...)
		b, err := exec.Command(exe).Output()
		require.NoError(t, err)
		return string(b)
	}
	wd, err := os.Getwd()
	require.NoError(t, err)
	theirs := layout("-I", include, "-include", "wasmtime.h")
	ours := layout("-include", filepath.Join(wd, "capi.h"))
	assert.Equal(t, theirs, ours)
	assert.Contains(t, ours, "wasmtime_val_raw_t 16 8")
}

const layoutProgram = `
#include <stddef.h>
#include <stdio.h>
#define L(T) printf(#T " %zu %zu\n", sizeof(T), _Alignof(T))
#define O(T, f) printf(#T "." #f " %zu\n", offsetof(T, f))
int main(void) {
  L(wasm_byte_vec_t); O(wasm_byte_vec_t, data);
  L(wasm_valtype_vec_t); L(wasm_importtype_vec_t); L(wasm_frame_vec_t);
  L(wasmtime_func_t); L(wasmtime_memory_t); L(wasmtime_global_t); L(wasmtime_instance_t);
  L(wasmtime_extern_t); O(wasmtime_extern_t, of); L(wasmtime_extern_union_t);
  L(wasmtime_val_t); O(wasmtime_val_t, of); L(wasmtime_valunion_t);
  L(wasmtime_val_raw_t);
  L(wasmtime_linear_memory_t); O(wasmtime_linear_memory_t, get_memory); O(wasmtime_linear_memory_t, grow_memory);
  O(wasmtime_linear_memory_t, finalizer);
  L(wasmtime_memory_creator_t); O(wasmtime_memory_creator_t, new_memory); O(wasmtime_memory_creator_t, finalizer);
  printf("WASMTIME_EXTERN_FUNC %d GLOBAL %d MEMORY %d I32 %d I64 %d\n", WASMTIME_EXTERN_FUNC,
         WASMTIME_EXTERN_GLOBAL, WASMTIME_EXTERN_MEMORY, WASMTIME_I32, WASMTIME_I64);
  return 0;
}
`

func goEnv(t *testing.T, name string) string {
	out, err := exec.Command("go", "env", name).Output()
	require.NoError(t, err)
	return strings.Fields(string(out))[0]
}

func run(t *testing.T, name string, args ...string) {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	require.NoError(t, err, "%s %s\n%s", name, strings.Join(args, " "), out)
}
