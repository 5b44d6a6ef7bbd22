//go:build wasmtime

// The part of wasmtime's C API (39.0.1) this engine calls, declared here
// because the headers are in the wasmtime-go module, out of cgo's reach;
// the library itself is linked through that module. TestCAPIDeclarations
// compiles this file after the real headers: a declaration that differs
// from wasmtime's is a compile error there, and the sizes of the structs
// are compared.

#ifndef VITTE_WASMTIME_CAPI_H
#define VITTE_WASMTIME_CAPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef WASMTIME_API_H
typedef struct wasm_config_t wasm_config_t;
typedef struct wasm_engine_t wasm_engine_t;
typedef struct wasm_trap_t wasm_trap_t;
typedef struct wasm_valtype_t wasm_valtype_t;
typedef struct wasm_functype_t wasm_functype_t;
typedef struct wasm_memorytype_t wasm_memorytype_t;
typedef struct wasm_importtype_t wasm_importtype_t;
typedef struct wasmtime_error wasmtime_error_t;
typedef struct wasmtime_module wasmtime_module_t;
typedef struct wasmtime_linker wasmtime_linker_t;
typedef struct wasmtime_store wasmtime_store_t;
typedef struct wasmtime_context wasmtime_context_t;
typedef struct wasmtime_caller wasmtime_caller_t;
typedef uint8_t wasm_valkind_t;

typedef struct wasm_byte_vec_t {
  size_t size;
  uint8_t *data;
} wasm_byte_vec_t;
typedef wasm_byte_vec_t wasm_name_t;

typedef struct wasm_valtype_vec_t {
  size_t size;
  wasm_valtype_t **data;
} wasm_valtype_vec_t;

typedef struct wasm_importtype_vec_t {
  size_t size;
  wasm_importtype_t **data;
} wasm_importtype_vec_t;

typedef struct wasm_frame_t wasm_frame_t;
typedef struct wasm_frame_vec_t {
  size_t size;
  wasm_frame_t **data;
} wasm_frame_vec_t;

typedef struct wasmtime_func {
  uint64_t store_id;
  void *__private;
} wasmtime_func_t;

typedef struct wasmtime_memory {
  struct {
    uint64_t store_id;
    uint32_t __private1;
  };
  uint32_t __private2;
} wasmtime_memory_t;

typedef struct wasmtime_global {
  uint64_t store_id;
  uint32_t __private1;
  uint32_t __private2;
  uint32_t __private3;
} wasmtime_global_t;

typedef struct wasmtime_instance {
  uint64_t store_id;
  size_t __private;
} wasmtime_instance_t;

typedef uint8_t wasmtime_extern_kind_t;
#define WASMTIME_EXTERN_FUNC 0
#define WASMTIME_EXTERN_GLOBAL 1
#define WASMTIME_EXTERN_MEMORY 3

// Only the members read here; the size is the real union's (24 bytes).
typedef union wasmtime_extern_union {
  wasmtime_func_t func;
  wasmtime_global_t global;
  wasmtime_memory_t memory;
} wasmtime_extern_union_t;

typedef struct wasmtime_extern {
  wasmtime_extern_kind_t kind;
  wasmtime_extern_union_t of;
} wasmtime_extern_t;

typedef uint8_t wasmtime_valkind_t;
#define WASMTIME_I32 0
#define WASMTIME_I64 1

typedef union wasmtime_valunion {
  int32_t i32;
  int64_t i64;
  uint8_t __size[24];
} wasmtime_valunion_t;

typedef struct wasmtime_val {
  wasmtime_valkind_t kind;
  wasmtime_valunion_t of;
} wasmtime_val_t;

typedef union wasmtime_val_raw {
  int32_t i32;
  int64_t i64;
  float f32;
  double f64;
  uint8_t v128[16];
} wasmtime_val_raw_t;

typedef wasm_trap_t *(*wasmtime_func_unchecked_callback_t)(
    void *env, wasmtime_caller_t *caller, wasmtime_val_raw_t *args_and_results,
    size_t num_args_and_results);

typedef uint8_t *(*wasmtime_memory_get_callback_t)(void *env, size_t *byte_size,
                                                   size_t *byte_capacity);
typedef wasmtime_error_t *(*wasmtime_memory_grow_callback_t)(void *env,
                                                             size_t new_size);
typedef struct wasmtime_linear_memory {
  void *env;
  wasmtime_memory_get_callback_t get_memory;
  wasmtime_memory_grow_callback_t grow_memory;
  void (*finalizer)(void *);
} wasmtime_linear_memory_t;
typedef wasmtime_error_t *(*wasmtime_new_memory_callback_t)(
    void *env, const wasm_memorytype_t *ty, size_t minimum, size_t maximum,
    size_t reserved_size_in_bytes, size_t guard_size_in_bytes,
    wasmtime_linear_memory_t *memory_ret);
typedef struct wasmtime_memory_creator {
  void *env;
  wasmtime_new_memory_callback_t new_memory;
  void (*finalizer)(void *);
} wasmtime_memory_creator_t;
#endif // WASMTIME_API_H

wasm_config_t *wasm_config_new(void);
void wasmtime_config_host_memory_creator_set(wasm_config_t *, wasmtime_memory_creator_t *);
void wasmtime_config_memory_may_move_set(wasm_config_t *, bool);
void wasmtime_config_memory_init_cow_set(wasm_config_t *, bool);
wasm_engine_t *wasm_engine_new_with_config(wasm_config_t *config);
void wasm_engine_delete(wasm_engine_t *);

void wasm_byte_vec_delete(wasm_byte_vec_t *);
wasm_valtype_t *wasm_valtype_new(wasm_valkind_t);
void wasm_valtype_vec_new(wasm_valtype_vec_t *out, size_t, wasm_valtype_t *const data[]);
void wasm_valtype_vec_new_empty(wasm_valtype_vec_t *out);
wasm_functype_t *wasm_functype_new(wasm_valtype_vec_t *params, wasm_valtype_vec_t *results);
void wasm_functype_delete(wasm_functype_t *);
const wasm_name_t *wasm_importtype_module(const wasm_importtype_t *);
const wasm_name_t *wasm_importtype_name(const wasm_importtype_t *);
void wasm_importtype_vec_delete(wasm_importtype_vec_t *);
void wasm_trap_delete(wasm_trap_t *);
void wasm_trap_message(const wasm_trap_t *, wasm_name_t *out);
void wasm_trap_trace(const wasm_trap_t *, wasm_frame_vec_t *out);
void wasm_frame_vec_delete(wasm_frame_vec_t *);
const wasm_name_t *wasmtime_frame_func_name(const wasm_frame_t *);
void wasmtime_error_wasm_trace(const wasmtime_error_t *, wasm_frame_vec_t *out);

wasm_functype_t *wasmtime_func_type(const wasmtime_context_t *, const wasmtime_func_t *);
const wasm_valtype_vec_t *wasm_functype_params(const wasm_functype_t *);
const wasm_valtype_vec_t *wasm_functype_results(const wasm_functype_t *);
wasm_valkind_t wasm_valtype_kind(const wasm_valtype_t *);

void wasmtime_error_delete(wasmtime_error_t *);
void wasmtime_error_message(const wasmtime_error_t *, wasm_name_t *message);
wasmtime_error_t *wasmtime_error_new(const char *);
bool wasmtime_trap_code(const wasm_trap_t *, uint8_t *code);
wasm_trap_t *wasmtime_trap_new(const char *msg, size_t msg_len);

wasmtime_error_t *wasmtime_module_new(wasm_engine_t *, const uint8_t *wasm, size_t wasm_len, wasmtime_module_t **ret);
void wasmtime_module_delete(wasmtime_module_t *);
void wasmtime_module_imports(const wasmtime_module_t *, wasm_importtype_vec_t *out);
wasmtime_error_t *wasmtime_module_serialize(wasmtime_module_t *, wasm_byte_vec_t *ret);
wasmtime_error_t *wasmtime_module_deserialize(wasm_engine_t *, const uint8_t *bytes, size_t bytes_len, wasmtime_module_t **ret);

wasmtime_store_t *wasmtime_store_new(wasm_engine_t *, void *data, void (*finalizer)(void *));
wasmtime_context_t *wasmtime_store_context(wasmtime_store_t *);
void wasmtime_store_delete(wasmtime_store_t *);
void *wasmtime_context_get_data(const wasmtime_context_t *);
wasmtime_context_t *wasmtime_caller_context(wasmtime_caller_t *);
bool wasmtime_caller_export_get(wasmtime_caller_t *, const char *name, size_t name_len, wasmtime_extern_t *item);

wasmtime_linker_t *wasmtime_linker_new(wasm_engine_t *);
void wasmtime_linker_delete(wasmtime_linker_t *);
wasmtime_error_t *wasmtime_linker_define_func_unchecked(
    wasmtime_linker_t *, const char *module, size_t module_len, const char *name, size_t name_len,
    const wasm_functype_t *ty, wasmtime_func_unchecked_callback_t cb, void *data, void (*finalizer)(void *));
wasmtime_error_t *wasmtime_linker_instantiate(const wasmtime_linker_t *, wasmtime_context_t *,
                                              const wasmtime_module_t *, wasmtime_instance_t *instance, wasm_trap_t **trap);
bool wasmtime_instance_export_get(wasmtime_context_t *, const wasmtime_instance_t *, const char *name,
                                  size_t name_len, wasmtime_extern_t *item);

wasmtime_error_t *wasmtime_func_call_unchecked(wasmtime_context_t *, const wasmtime_func_t *,
                                               wasmtime_val_raw_t *args_and_results, size_t args_and_results_len,
                                               wasm_trap_t **trap);
uint8_t *wasmtime_memory_data(const wasmtime_context_t *, const wasmtime_memory_t *);
size_t wasmtime_memory_data_size(const wasmtime_context_t *, const wasmtime_memory_t *);
void wasmtime_global_get(wasmtime_context_t *, const wasmtime_global_t *, wasmtime_val_t *out);
wasmtime_error_t *wasmtime_global_set(wasmtime_context_t *, const wasmtime_global_t *, const wasmtime_val_t *val);

#endif // VITTE_WASMTIME_CAPI_H
