//go:build wasmtime

#ifndef VITTE_WASMTIME_SHIM_H
#define VITTE_WASMTIME_SHIM_H

#include "capi.h"

// vitte_memory is a guest's linear memory: base never changes; size is the
// accessible part, read by Go between calls.
typedef struct vitte_memory {
  uint8_t *base;
  size_t size;
  size_t reserved;
  size_t mapped;
  size_t limit;
  uintptr_t handle;
} vitte_memory;

wasm_engine_t *vitte_engine_new(void);
wasmtime_error_t *vitte_define(wasmtime_linker_t *linker, const char *module, size_t module_len, const char *name, size_t name_len,
                               const uint8_t *params, size_t np, const uint8_t *results,
                               size_t nr, uintptr_t env);
wasm_trap_t *vitte_host_trap(void);
wasmtime_store_t *vitte_store_new(wasm_engine_t *engine, uintptr_t handle);
wasmtime_error_t *vitte_instantiate(const wasmtime_linker_t *linker, wasmtime_context_t *ctx,
                                    const wasmtime_module_t *module, size_t limit, uintptr_t handle,
                                    wasmtime_instance_t *inst, wasm_trap_t **trap,
                                    vitte_memory **mem);
bool vitte_export(wasmtime_context_t *ctx, const wasmtime_instance_t *inst, const char *name, size_t name_len,
                  wasmtime_extern_t *item);
bool vitte_caller_export(wasmtime_caller_t *caller, const char *name, size_t name_len, wasmtime_extern_t *item);
int64_t vitte_global_get(wasmtime_context_t *ctx, const wasmtime_global_t *g);
wasmtime_error_t *vitte_global_set(wasmtime_context_t *ctx, const wasmtime_global_t *g,
                                   uint8_t kind, int64_t x);
uint8_t vitte_global_kind(wasmtime_context_t *ctx, const wasmtime_global_t *g);

bool vitte_global_settable(wasmtime_context_t *ctx, const wasmtime_global_t *g, uint8_t kind);

// vitte_call_io is what a call passes besides its values, in C memory.
typedef struct vitte_call_io {
  wasm_trap_t *trap;              // out: the call's trap, if any
  const wasmtime_global_t *watch; // a global read after each call, or NULL
  int64_t value;                  // in: its value to write first when set; out: its value after the call
  uint8_t kind;                   // its kind
  uint8_t set;                    // in: write value before the call
} vitte_call_io;

// vitte_call's pointers are integers, out of cgo's run-time checks.
wasmtime_error_t *vitte_call(uintptr_t ctx, uintptr_t func, uintptr_t raw, size_t n, uintptr_t io);
void vitte_call_loop(wasmtime_context_t *ctx, const wasmtime_func_t *func,
                     wasmtime_val_raw_t *raw, size_t nraw, size_t n);

void vitte_nop(void);

#endif
