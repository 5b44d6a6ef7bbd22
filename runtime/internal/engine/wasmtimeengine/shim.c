//go:build wasmtime

// The C side of the engine: the guests' linear memories (so that a growth
// past the instance's limit is reported, and a memory never moves), the
// trampoline of host functions into Go, and instantiation with the memory
// limit of the instance.

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "_cgo_export.h" // the preamble: shim.h

// The instance being instantiated on this thread: its memory limit (0:
// none), its store's handle, and the first memory created for it.
static __thread size_t tls_limit;
static __thread uintptr_t tls_handle;
static __thread vitte_memory *tls_created;

static uint8_t *memory_get(void *env, size_t *byte_size, size_t *byte_capacity) {
  vitte_memory *m = env;
  *byte_size = m->size;
  *byte_capacity = m->reserved;
  return m->base;
}

static wasmtime_error_t *memory_grow(void *env, size_t new_size) {
  vitte_memory *m = env;
  if (new_size <= m->size) {
    return NULL;
  }
  if (m->limit > 0 && new_size > m->limit) {
    vitteMemoryDenied(m->handle, new_size, m->limit);
    return wasmtime_error_new("memory limit reached");
  }
  if (new_size > m->reserved) {
    return wasmtime_error_new("memory reservation exhausted");
  }
  if (mprotect(m->base + m->size, new_size - m->size, PROT_READ | PROT_WRITE) != 0) {
    return wasmtime_error_new("mprotect failed");
  }
  m->size = new_size;
  return NULL;
}

static void memory_free(void *env) {
  vitte_memory *m = env;
  munmap(m->base, m->mapped);
  free(m);
}

// new_memory reserves the whole memory (wasmtime's reservation, or the
// memory's maximum) and its guard at once: the memory never moves, which
// the WASI proxy relies on.
static wasmtime_error_t *new_memory(void *env, const wasm_memorytype_t *ty, size_t minimum,
                                    size_t maximum, size_t reserved, size_t guard,
                                    wasmtime_linear_memory_t *ret) {
  (void)env;
  (void)ty;
  size_t limit = tls_limit;
  if (limit > 0 && minimum > limit) {
    vitteMemoryDenied(tls_handle, minimum, limit);
    return wasmtime_error_new("memory minimum above the limit");
  }
  if (reserved < minimum) {
    reserved = maximum;
  }
  if (reserved > ((size_t)1 << 32)) {
    reserved = (size_t)1 << 32;
  }
  if (reserved < minimum) {
    return wasmtime_error_new("memory too large");
  }
  size_t mapped = reserved + guard;
  uint8_t *base = mmap(NULL, mapped, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (base == MAP_FAILED) {
    return wasmtime_error_new("mmap failed");
  }
  if (minimum > 0 && mprotect(base, minimum, PROT_READ | PROT_WRITE) != 0) {
    munmap(base, mapped);
    return wasmtime_error_new("mprotect failed");
  }
  vitte_memory *m = calloc(1, sizeof *m);
  if (m == NULL) {
    munmap(base, mapped);
    return wasmtime_error_new("out of memory");
  }
  m->base = base;
  m->size = minimum;
  m->reserved = reserved;
  m->mapped = mapped;
  m->limit = limit;
  m->handle = tls_handle;
  if (tls_created == NULL) {
    tls_created = m;
  }
  ret->env = m;
  ret->get_memory = memory_get;
  ret->grow_memory = memory_grow;
  ret->finalizer = memory_free;
  return NULL;
}

static wasmtime_memory_creator_t creator = {NULL, new_memory, NULL};

wasm_engine_t *vitte_engine_new(void) {
  wasm_config_t *cfg = wasm_config_new();
  wasmtime_config_host_memory_creator_set(cfg, &creator);
  wasmtime_config_memory_may_move_set(cfg, false);
  wasmtime_config_memory_init_cow_set(cfg, false); // copy-on-write images need its own mmap memories
  return wasm_engine_new_with_config(cfg);
}

// nonnull: wasmtime reads names as Rust slices, which must not be NULL,
// even empty.
static const char *nonnull(const char *s) { return s != NULL ? s : ""; }

static wasm_trap_t *host_callback(void *env, wasmtime_caller_t *caller, wasmtime_val_raw_t *args,
                                  size_t n) {
  wasmtime_context_t *ctx = wasmtime_caller_context(caller);
  return vitteHostCall((uintptr_t)env, (uintptr_t)wasmtime_context_get_data(ctx), ctx, args, n);
}

wasmtime_error_t *vitte_define(wasmtime_linker_t *linker, const char *module, size_t module_len, const char *name, size_t name_len,
                               const uint8_t *params, size_t np, const uint8_t *results,
                               size_t nr, uintptr_t env) {
  wasm_valtype_t *p[16], *r[16];
  if (np > 16 || nr > 16) {
    return wasmtime_error_new("too many parameters or results");
  }
  for (size_t i = 0; i < np; i++) p[i] = wasm_valtype_new(params[i]);
  for (size_t i = 0; i < nr; i++) r[i] = wasm_valtype_new(results[i]);
  wasm_valtype_vec_t pv, rv;
  wasm_valtype_vec_new(&pv, np, p);
  wasm_valtype_vec_new(&rv, nr, r);
  wasm_functype_t *ty = wasm_functype_new(&pv, &rv);
  wasmtime_error_t *err = wasmtime_linker_define_func_unchecked(
      linker, nonnull(module), module_len, nonnull(name), name_len,
      ty, host_callback, (void *)env, NULL);
  wasm_functype_delete(ty);
  return err;
}

wasm_trap_t *vitte_host_trap(void) {
  static const char msg[] = "host function failed";
  return wasmtime_trap_new(msg, sizeof msg - 1);
}

wasmtime_store_t *vitte_store_new(wasm_engine_t *engine, uintptr_t handle) {
  return wasmtime_store_new(engine, (void *)handle, NULL);
}

wasmtime_error_t *vitte_instantiate(const wasmtime_linker_t *linker, wasmtime_context_t *ctx,
                                    const wasmtime_module_t *module, size_t limit, uintptr_t handle,
                                    wasmtime_instance_t *inst, wasm_trap_t **trap,
                                    vitte_memory **mem) {
  tls_limit = limit;
  tls_handle = handle;
  tls_created = NULL;
  wasmtime_error_t *err = wasmtime_linker_instantiate(linker, ctx, module, inst, trap);
  *mem = tls_created;
  tls_limit = 0;
  tls_handle = 0;
  tls_created = NULL;
  return err;
}

bool vitte_export(wasmtime_context_t *ctx, const wasmtime_instance_t *inst, const char *name, size_t name_len,
                  wasmtime_extern_t *item) {
  return wasmtime_instance_export_get(ctx, inst, nonnull(name), name_len, item);
}

bool vitte_caller_export(wasmtime_caller_t *caller, const char *name, size_t name_len, wasmtime_extern_t *item) {
  return wasmtime_caller_export_get(caller, nonnull(name), name_len, item);
}

int64_t vitte_global_get(wasmtime_context_t *ctx, const wasmtime_global_t *g) {
  wasmtime_val_t v;
  wasmtime_global_get(ctx, g, &v);
  if (v.kind == WASMTIME_I32) {
    return (int64_t)(uint32_t)v.of.i32;
  }
  return v.of.i64;
}

wasmtime_error_t *vitte_global_set(wasmtime_context_t *ctx, const wasmtime_global_t *g,
                                   uint8_t kind, int64_t x) {
  wasmtime_val_t v;
  memset(&v, 0, sizeof v);
  v.kind = kind;
  if (kind == WASMTIME_I32) {
    v.of.i32 = (int32_t)x;
  } else {
    v.of.i64 = x;
  }
  return wasmtime_global_set(ctx, g, &v);
}

uint8_t vitte_global_kind(wasmtime_context_t *ctx, const wasmtime_global_t *g) {
  wasmtime_val_t v;
  wasmtime_global_get(ctx, g, &v);
  return v.kind;
}

// vitte_global_settable tells whether g can be written (it is mutable, of
// kind), by writing its own value back.
bool vitte_global_settable(wasmtime_context_t *ctx, const wasmtime_global_t *g, uint8_t kind) {
  if (kind != WASMTIME_I32 && kind != WASMTIME_I64) {
    return false;
  }
  wasmtime_error_t *err = vitte_global_set(ctx, g, kind, vitte_global_get(ctx, g));
  if (err != NULL) {
    wasmtime_error_delete(err);
    return false;
  }
  return true;
}

// vitte_call calls func with the values in raw, and returns the trap, if
// any, in io->trap: one C call for Go, with the trap slot in C memory.
// When io->watch is set, it also writes the watched global first if
// io->set says so, and reads it into io->value after the call: the fuel
// counter travels with the call instead of costing two more C calls.
//
// Its pointers come as integers: cgo checks every pointer argument of a C
// call at run time (cgocheck), about a tenth of an empty call here, and
// these all point to C memory.
wasmtime_error_t *vitte_call(uintptr_t ctx_, uintptr_t func_, uintptr_t raw_, size_t n, uintptr_t io_) {
  wasmtime_context_t *ctx = (wasmtime_context_t *)ctx_;
  const wasmtime_func_t *func = (const wasmtime_func_t *)func_;
  wasmtime_val_raw_t *raw = (wasmtime_val_raw_t *)raw_;
  vitte_call_io *io = (vitte_call_io *)io_;
  io->trap = NULL;
  if (io->set) {
    io->set = 0;
    wasmtime_error_t *err = vitte_global_set(ctx, io->watch, io->kind, io->value);
    if (err != NULL) {
      wasmtime_error_delete(err); // cannot happen: the global was found settable
    }
  }
  wasmtime_error_t *err = wasmtime_func_call_unchecked(ctx, func, raw, n, &io->trap);
  if (io->watch != NULL) {
    io->value = vitte_global_get(ctx, io->watch);
  }
  return err;
}

// vitte_call_loop calls func n times: the cost of a call without cgo, for
// BenchmarkFuncCall.
void vitte_call_loop(wasmtime_context_t *ctx, const wasmtime_func_t *func,
                     wasmtime_val_raw_t *raw, size_t nraw, size_t n) {
  wasm_trap_t *trap = NULL;
  for (size_t i = 0; i < n; i++) {
    wasmtime_error_t *err = wasmtime_func_call_unchecked(ctx, func, raw, nraw, &trap);
    if (err != NULL) wasmtime_error_delete(err);
    if (trap != NULL) { wasm_trap_delete(trap); trap = NULL; }
  }
}

// vitte_nop does nothing: the cost of a cgo call, for BenchmarkFuncCall.
void vitte_nop(void) {}
