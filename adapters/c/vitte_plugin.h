/*
 * vitte_plugin.h: the C guest kit for vitte-plugin, plugin ABI v1.
 *
 * One header, nothing to link. It implements the guest side of the plugin
 * ABI v1 (docs/spec/abi-v1.md) for C compiled to wasm32-wasi as a WASI
 * reactor. Include it from every file that needs it; there is no
 * IMPLEMENTATION macro to define.
 *
 *     #include "vitte_plugin.h"
 *
 *     VITTE_HANDLER(greet) {
 *         vp_bytes in = vp_input();
 *         vp_return_fmt("Hello, %.*s!", (int)in.len, (const char *)in.ptr);
 *     }
 *
 * Build (see adapters/c/README.md for the plugin.toml to write next to it):
 *
 *     clang-16 --target=wasm32-wasi --sysroot=/usr \
 *         -nostdlibinc -idirafter /usr/include/wasm32-wasi \
 *         -mexec-model=reactor -O2 -I adapters/c \
 *         -Wl,--stack-first -Wl,--strip-debug -o greet.wasm greet.c
 *
 * # How the header is put together
 *
 * Every function is `static inline`, so a helper the plugin never calls is
 * never compiled, and the host import behind it is never imported: a plugin
 * that does not call vp_http_request does not import
 * vitte:plugin/http@1.0.0, and needs no [capabilities].net entry. The few
 * things that must exist once per module are weak definitions, so including
 * the header from several .c files links fine:
 *
 *   - the exported allocator `cabi_realloc` (opt out with
 *     `#define VP_CUSTOM_CABI_REALLOC` before the include, then define your own,
 *     usually on top of vp_default_realloc);
 *   - the state of the call in progress and the 12-byte result area.
 *
 * # Entry points
 *
 *   VITTE_HANDLER(ident) { ... }
 *       Exports handler `ident`, core type (i32 ptr, i32 len) -> i32, and
 *       `cabi_post_ident`. The body runs with the input available through
 *       vp_input() and ends by calling one of the vp_return_* functions. A
 *       body that returns none of them returns ok with 0 bytes; a later
 *       vp_return_* replaces an earlier one.
 *   VITTE_HANDLER_NAMED(ident, "export-name") { ... }
 *       The same, for export names that are not C identifiers ("count-vowels").
 *       Names starting with `_` or `cabi_`, and "on-load", "on-unload",
 *       "memory", are not handlers: do not use them.
 *   VITTE_ON_LOAD { ... }
 *       Exports `on-load` () -> i32, result<_, string>, and
 *       `cabi_post_on-load`. Call vp_return_error() to refuse the load; any
 *       ok bytes are dropped.
 *   VITTE_ON_UNLOAD { ... }
 *       Exports `on-unload` () -> ().
 *
 * After each entry point the kit flushes every open stdio stream
 * (fflush(NULL)): in WASI libc, stdout is fully buffered once it is known not
 * to be a terminal, and a reactor never exits, so printf output would
 * otherwise stay in the buffer. Define VP_NO_AUTO_FLUSH to skip it.
 *
 * # Inside an entry point
 *
 *   vp_bytes vp_input(void)                       input bytes {ptr, len}, owned by the kit
 *   void vp_return_bytes(const void *p, size_t n) ok, copies p[0..n)
 *   void vp_return_str(const char *s)             ok, copies the C string (no NUL)
 *   void vp_return_fmt(const char *fmt, ...)      ok, printf-formatted bytes
 *   void vp_return_static(const void *p, size_t n) ok, no copy: p must be static
 *   void vp_return_input(void)                    ok, hands the input back, no copy
 *   void vp_return_owned(void *p, size_t n)       ok, takes a malloc'd buffer, frees it later
 *   void vp_return_error(const char *fmt, ...)    err, printf-formatted UTF-8 message
 *
 * Error messages must be valid UTF-8: the host checks, and refuses the result
 * otherwise. Output bytes are free-form. The host enforces the plugin's
 * [limits].output size on both.
 *
 * # Host imports
 *
 *   void vp_log(vp_log_level level, const char *fmt, ...)
 *   void vp_log_bytes(vp_log_level level, const char *msg, size_t len)
 *       host.log, printf-formatted or as is. Levels VP_LOG_TRACE, _DEBUG,
 *       _INFO, _WARN, _ERROR. Messages must be UTF-8. Always granted; the
 *       host may rate-limit.
 *   bool vp_config_get(const char *key, char **out, size_t *out_len)
 *       host.config-get. true and a NUL-terminated copy in *out when the key is
 *       set; false when it is not. out_len may be NULL.
 *   bool vp_call(const char *name, const void *payload, size_t payload_len,
 *                uint8_t **out, size_t *out_len, char **err, size_t *err_len)
 *       host.call. true: the ok bytes in *out and *out_len. false: the error
 *       message, NUL-terminated, in *err and *err_len. Any of out, out_len, err,
 *       err_len may be NULL to drop that part. Granted per name by
 *       [capabilities].host.
 *   bool vp_http_request(const char *method, const char *url,
 *                        const vp_http_header *headers, size_t headers_len,
 *                        const void *body, size_t body_len,
 *                        vp_http_response *resp, char **err, size_t *err_len)
 *       http.request. Granted per destination by [capabilities].net. Build
 *       headers with vp_header(name, value). On true, *resp holds status,
 *       headers (vp_http_header: name, name_len, value, value_len, not
 *       NUL-terminated) and body: free it with vp_http_response_free(). On
 *       false, *err holds the NUL-terminated message. err and err_len may be
 *       NULL.
 *
 * The raw imports are declared too, with every pointer as a uint32_t guest
 * address: vp_abi_log, vp_abi_config_get, vp_abi_call, vp_abi_http_request,
 * with the result areas vp_abi_area (12 bytes) and vp_abi_http_area (24
 * bytes), and VP_ADDR(p) for a pointer's guest address. Prefer the wrappers;
 * the raw ones exist for tests that break the ABI on purpose.
 *
 * # Memory ownership
 *
 *   - The input of a handler is allocated by the host through cabi_realloc
 *     and belongs to the kit, which frees it when the body returns (unless
 *     vp_return_input() handed it back as the output). Copy what you keep;
 *     you may modify it in place.
 *   - Output and error buffers belong to the kit from the vp_return_* call on;
 *     they are freed when the host calls cabi_post_<name> (or, if the host
 *     never does, at the start of the next entry point).
 *   - Everything a host import returns (config values, call results and
 *     errors, HTTP responses) was allocated by the host with this module's
 *     cabi_realloc, i.e. malloc, and now belongs to the plugin: free() it
 *     (vp_http_response_free() for responses). free(NULL) is fine: a
 *     zero-length out is NULL. Strings the wrappers return are
 *     NUL-terminated; byte lists are not.
 *   - cabi_realloc(old_ptr, old_size, align, new_size) is malloc/realloc for
 *     align <= 16 (wasi-libc's malloc aligns to 16) and aligned_alloc above
 *     that. A zero new_size frees old_ptr and returns `align`, a non-null,
 *     aligned address that must never be dereferenced or freed (this is what
 *     wit-bindgen does). Running out of memory traps.
 *
 * An instance runs one call at a time; the kit keeps the call in progress in
 * a global and is not thread-safe (WASI preview 1 has no threads).
 *
 * Licence: same as vitte-plugin.
 */
#ifndef VITTE_PLUGIN_H
#define VITTE_PLUGIN_H

#if !defined(__wasm32__)
#error "vitte_plugin.h targets wasm32 (clang --target=wasm32-wasi)"
#endif

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The plugin ABI major version this header implements. */
#define VITTE_PLUGIN_ABI_VERSION 1

#define VP_HOST_MODULE "vitte:plugin/host@1.0.0"
#define VP_HTTP_MODULE "vitte:plugin/http@1.0.0"

#define VP__WEAK __attribute__((weak))
#define VP__NOINLINE __attribute__((noinline))
#define VP__EXPORT(name) __attribute__((export_name(name)))
#define VP__IMPORT(mod, name) __attribute__((import_module(mod), import_name(name)))

/* ------------------------------------------------------------------------ */
/* Types                                                                     */

/* host.level */
typedef enum {
    VP_LOG_TRACE = 0,
    VP_LOG_DEBUG = 1,
    VP_LOG_INFO = 2,
    VP_LOG_WARN = 3,
    VP_LOG_ERROR = 4
} vp_log_level;

/* A borrowed byte range. */
typedef struct {
    const uint8_t *ptr;
    size_t len;
} vp_bytes;

/*
 * One HTTP header: tuple<string, string>. Its layout is the ABI's 16-byte
 * tuple (key ptr, key len, value ptr, value len), so arrays of it go to and
 * come from the host as they are. Strings are not NUL-terminated.
 */
typedef struct {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
} vp_http_header;

/* http.response. Owned by the plugin: free with vp_http_response_free(). */
typedef struct {
    uint16_t status;
    vp_http_header *headers;
    size_t headers_len;
    uint8_t *body;
    size_t body_len;
} vp_http_response;

/*
 * The 12-byte area of result<list<u8>, string>, result<_, string> and
 * option<string>: tag at 0, ptr at 4, len at 8.
 */
typedef struct {
    uint8_t tag;
    uint32_t ptr;
    uint32_t len;
} vp_abi_area;

/* The 24-byte area of result<response, string>: tag at 0, payload at 4. */
typedef struct {
    uint8_t tag;
    union {
        struct {
            uint16_t status;      /* offset 4 */
            uint32_t headers_ptr; /* offset 8 */
            uint32_t headers_len; /* offset 12 */
            uint32_t body_ptr;    /* offset 16 */
            uint32_t body_len;    /* offset 20 */
        } ok;
        struct {
            uint32_t ptr; /* offset 4 */
            uint32_t len; /* offset 8 */
        } err;
    } u;
} vp_abi_http_area;

_Static_assert(sizeof(void *) == 4, "wasm32 only");
_Static_assert(sizeof(vp_abi_area) == 12, "result area layout");
_Static_assert(_Alignof(vp_abi_area) == 4, "result area layout");
_Static_assert(offsetof(vp_abi_area, ptr) == 4, "result area layout");
_Static_assert(offsetof(vp_abi_area, len) == 8, "result area layout");
_Static_assert(sizeof(vp_abi_http_area) == 24, "http area layout");
_Static_assert(_Alignof(vp_abi_http_area) == 4, "http area layout");
_Static_assert(offsetof(vp_abi_http_area, u.ok.status) == 4, "http area layout");
_Static_assert(offsetof(vp_abi_http_area, u.ok.headers_ptr) == 8, "http area layout");
_Static_assert(offsetof(vp_abi_http_area, u.ok.body_len) == 20, "http area layout");
_Static_assert(offsetof(vp_abi_http_area, u.err.len) == 8, "http area layout");
_Static_assert(sizeof(vp_http_header) == 16, "tuple<string, string> layout");
_Static_assert(offsetof(vp_http_header, value) == 8, "tuple<string, string> layout");
_Static_assert(_Alignof(max_align_t) >= 16, "malloc must align to 16");

/* ------------------------------------------------------------------------ */
/* Raw imports (core types of docs/spec/abi-v1.md; every pointer a guest u32) */

VP__IMPORT(VP_HOST_MODULE, "log")
void vp_abi_log(uint32_t level, uint32_t msg_ptr, uint32_t msg_len);

VP__IMPORT(VP_HOST_MODULE, "config-get")
void vp_abi_config_get(uint32_t key_ptr, uint32_t key_len, uint32_t ret);

VP__IMPORT(VP_HOST_MODULE, "call")
void vp_abi_call(uint32_t name_ptr, uint32_t name_len, uint32_t payload_ptr, uint32_t payload_len, uint32_t ret);

VP__IMPORT(VP_HTTP_MODULE, "request")
void vp_abi_http_request(uint32_t method_ptr, uint32_t method_len, uint32_t url_ptr, uint32_t url_len,
                         uint32_t headers_ptr, uint32_t headers_len, uint32_t body_ptr, uint32_t body_len,
                         uint32_t ret);

/* A guest pointer as the u32 address the host sees. */
#define VP_ADDR(p) ((uint32_t)(uintptr_t)(p))

/* ------------------------------------------------------------------------ */
/* Allocator                                                                 */

/*
 * The allocator behind the exported cabi_realloc. See "Memory ownership" at
 * the top of this file.
 */
static inline void *vp_default_realloc(void *old_ptr, size_t old_size, size_t align, size_t new_size) {
    bool live = old_ptr != NULL && old_size != 0; /* size 0 means a dangling `align` pointer */
    if (align == 0 || (align & (align - 1)) != 0) {
        __builtin_trap();
    }
    if (new_size == 0) {
        if (live) {
            free(old_ptr);
        }
        return (void *)align;
    }
    void *p;
    if (align <= 16) {
        p = live ? realloc(old_ptr, new_size) : malloc(new_size);
    } else {
        /* aligned_alloc wants a size that is a multiple of the alignment. */
        size_t rounded = (new_size + align - 1) & ~(align - 1);
        p = rounded < new_size ? NULL : aligned_alloc(align, rounded);
        if (p != NULL && live) {
            memcpy(p, old_ptr, old_size < new_size ? old_size : new_size);
            free(old_ptr);
        }
    }
    if (p == NULL) {
        __builtin_trap(); /* out of memory: the host reports the trap */
    }
    return p;
}

#ifndef VP_CUSTOM_CABI_REALLOC
void *cabi_realloc(void *old_ptr, size_t old_size, size_t align, size_t new_size);
VP__WEAK VP__EXPORT("cabi_realloc")
void *cabi_realloc(void *old_ptr, size_t old_size, size_t align, size_t new_size) {
    return vp_default_realloc(old_ptr, old_size, align, new_size);
}
#endif

/* free() for memory whose size may be 0 (then the pointer is dangling). */
static inline void vp__free_sized(const void *p, size_t n) {
    if (n != 0) {
        free((void *)p);
    }
}


/* ------------------------------------------------------------------------ */
/* Call state                                                                */

/* The entry point in progress. Lives on the C stack of the exported function. */
typedef struct vp__call {
    const uint8_t *in_ptr;
    size_t in_len;
    bool in_owned; /* the kit frees the input when the body returns */
    uint8_t tag;   /* 0 ok, 1 err */
    const void *out_ptr;
    size_t out_len;
    bool out_owned; /* out_ptr is malloc'd: released by cabi_post_* */
} vp__call;

typedef struct {
    vp_abi_area area;  /* returned to the host */
    vp__call *current; /* NULL outside an entry point */
    void *pending;     /* output the area points to, until cabi_post_* frees it */
} vp__state;

VP__WEAK vp__state vp__g;

enum { VP__RESULT_BYTES, VP__RESULT_UNIT, VP__RESULT_NONE };

static inline void vp__release_pending(void) {
    if (vp__g.pending != NULL) {
        free(vp__g.pending);
        vp__g.pending = NULL;
    }
}

static inline void vp__flush(void) {
#ifndef VP_NO_AUTO_FLUSH
    fflush(NULL);
#endif
}

/* Replaces the output of the call in progress. owned: p is the kit's to free. */
static inline void vp__set_out(uint8_t tag, const void *p, size_t n, bool owned) {
    vp__call *c = vp__g.current;
    if (c == NULL) { /* outside an entry point: nothing to return to */
        if (owned) {
            vp__free_sized(p, n);
        }
        return;
    }
    if (c->out_owned) {
        free((void *)c->out_ptr);
    }
    c->tag = tag;
    c->out_ptr = n != 0 ? p : NULL;
    c->out_len = n;
    c->out_owned = owned && n != 0;
}

static inline void vp__begin(vp__call *c, const uint8_t *ptr, size_t len) {
    vp__release_pending(); /* the host skipped cabi_post_*: free the previous output now */
    memset(c, 0, sizeof *c);
    c->in_ptr = ptr;
    c->in_len = len;
    c->in_owned = len != 0;
    vp__g.current = c;
}

static inline vp_abi_area *vp__end(vp__call *c, vp__call *saved, int kind) {
    if (c->in_owned) {
        free((void *)c->in_ptr);
    }
    if (kind == VP__RESULT_NONE || (kind == VP__RESULT_UNIT && c->tag == 0)) {
        if (c->out_owned) {
            free((void *)c->out_ptr);
        }
        c->out_ptr = NULL;
        c->out_len = 0;
        c->out_owned = false;
    }
    vp__g.area.tag = c->tag;
    vp__g.area.ptr = VP_ADDR(c->out_ptr);
    vp__g.area.len = (uint32_t)c->out_len;
    vp__g.pending = c->out_owned ? (void *)c->out_ptr : NULL;
    vp__g.current = saved;
    vp__flush();
    return &vp__g.area;
}

/* ------------------------------------------------------------------------ */
/* Entry points                                                              */

/*
 * VITTE_HANDLER_NAMED(ident, "export-name") { body }
 *
 * Defines the export "export-name" (core type (i32, i32) -> i32) and
 * "cabi_post_export-name". ident is any C identifier unique in the module.
 */
#define VITTE_HANDLER_NAMED(ident, name)                                             \
    static void vp__body_##ident(void);                                              \
    vp_abi_area *vp__export_##ident(const uint8_t *ptr, size_t len);                 \
    void vp__post_##ident(vp_abi_area *r);                                           \
    VP__EXPORT(name) vp_abi_area *vp__export_##ident(const uint8_t *ptr, size_t len) { \
        vp__call c_, *saved_ = vp__g.current;                                        \
        vp__begin(&c_, ptr, len);                                                    \
        vp__body_##ident();                                                          \
        return vp__end(&c_, saved_, VP__RESULT_BYTES);                               \
    }                                                                                \
    VP__EXPORT("cabi_post_" name) void vp__post_##ident(vp_abi_area *r) {            \
        (void)r;                                                                     \
        vp__release_pending();                                                       \
    }                                                                                \
    static void vp__body_##ident(void)

/* VITTE_HANDLER(greet) { body }: a handler exported under its C name. */
#define VITTE_HANDLER(ident) VITTE_HANDLER_NAMED(ident, #ident)

/* VITTE_ON_LOAD { body }: exports "on-load"; vp_return_error() refuses the load. */
#define VITTE_ON_LOAD                                              \
    static void vp__on_load_body(void);                            \
    vp_abi_area *vp__on_load(void);                                \
    void vp__post_on_load(vp_abi_area *r);                         \
    VP__EXPORT("on-load") vp_abi_area *vp__on_load(void) {         \
        vp__call c_, *saved_ = vp__g.current;                      \
        vp__begin(&c_, NULL, 0);                                   \
        vp__on_load_body();                                        \
        return vp__end(&c_, saved_, VP__RESULT_UNIT);              \
    }                                                              \
    VP__EXPORT("cabi_post_on-load") void vp__post_on_load(vp_abi_area *r) { \
        (void)r;                                                   \
        vp__release_pending();                                     \
    }                                                              \
    static void vp__on_load_body(void)

/* VITTE_ON_UNLOAD { body }: exports "on-unload"; it returns nothing. */
#define VITTE_ON_UNLOAD                                    \
    static void vp__on_unload_body(void);                  \
    void vp__on_unload(void);                              \
    VP__EXPORT("on-unload") void vp__on_unload(void) {     \
        vp__call c_, *saved_ = vp__g.current;              \
        vp__begin(&c_, NULL, 0);                           \
        vp__on_unload_body();                              \
        (void)vp__end(&c_, saved_, VP__RESULT_NONE);       \
    }                                                      \
    static void vp__on_unload_body(void)

/* ------------------------------------------------------------------------ */
/* Input and results                                                         */

/* The input of the handler in progress; {NULL, 0} outside one. */
static inline vp_bytes vp_input(void) {
    vp_bytes b = {NULL, 0};
    if (vp__g.current != NULL) {
        b.ptr = vp__g.current->in_ptr;
        b.len = vp__g.current->in_len;
    }
    return b;
}

/* Formats into a fresh malloc'd buffer; *n gets the length. NULL on a format error. */
static inline char *vp__vformat(size_t *n, const char *fmt, va_list ap) {
    char small[256];
    va_list ap2;
    va_copy(ap2, ap);
    int k = vsnprintf(small, sizeof small, fmt, ap2);
    va_end(ap2);
    if (k < 0) {
        return NULL;
    }
    char *s = (char *)malloc((size_t)k + 1);
    if (s == NULL) {
        __builtin_trap();
    }
    if ((size_t)k < sizeof small) {
        memcpy(s, small, (size_t)k + 1);
    } else {
        vsnprintf(s, (size_t)k + 1, fmt, ap);
    }
    *n = (size_t)k;
    return s;
}

/* Takes a malloc'd buffer as the output; an empty one is freed at once. */
static inline void vp__set_out_buf(uint8_t tag, char *s, size_t n) {
    if (n == 0) {
        free(s);
        s = NULL;
    }
    vp__set_out(tag, s, n, true);
}

/* ok: a copy of p[0..n). */
static inline void vp_return_bytes(const void *p, size_t n) {
    void *copy = NULL;
    if (n != 0) {
        copy = malloc(n);
        if (copy == NULL) {
            __builtin_trap();
        }
        memcpy(copy, p, n);
    }
    vp__set_out(0, copy, n, true);
}

/* ok: a copy of the C string s, without its NUL. */
static inline void vp_return_str(const char *s) {
    vp_return_bytes(s, strlen(s));
}

/* ok: p[0..n), not copied and never freed: p must outlive the call (static data). */
static inline void vp_return_static(const void *p, size_t n) {
    vp__set_out(0, p, n, false);
}

/* ok: p[0..n), where p came from malloc; the kit frees it after the host copied it. */
static inline void vp_return_owned(void *p, size_t n) {
    vp__set_out_buf(0, (char *)p, n);
}

/* ok: the input itself, without a copy (the cheapest echo). */
static inline void vp_return_input(void) {
    vp__call *c = vp__g.current;
    if (c == NULL) {
        return;
    }
    bool owned = c->in_owned;
    c->in_owned = false;
    vp__set_out(0, c->in_ptr, c->in_len, owned);
}

/* ok: printf-formatted bytes. */
__attribute__((format(printf, 1, 2))) static inline void vp_return_fmt(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    size_t n = 0;
    char *s = vp__vformat(&n, fmt, ap);
    va_end(ap);
    if (s == NULL) {
        static const char msg[] = "vp_return_fmt: bad format";
        vp__set_out(1, msg, sizeof msg - 1, false);
        return;
    }
    vp__set_out_buf(0, s, n);
}

/* err: a printf-formatted message, which must be valid UTF-8. */
__attribute__((format(printf, 1, 2))) static inline void vp_return_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    size_t n = 0;
    char *s = vp__vformat(&n, fmt, ap);
    va_end(ap);
    if (s == NULL) {
        static const char msg[] = "vp_return_error: bad format";
        vp__set_out(1, msg, sizeof msg - 1, false);
        return;
    }
    vp__set_out_buf(1, s, n);
}

/* ------------------------------------------------------------------------ */
/* host.log                                                                  */

/* Logs msg[0..len) as is; msg must be valid UTF-8. */
static inline void vp_log_bytes(vp_log_level level, const char *msg, size_t len) {
    vp_abi_log((uint32_t)level, VP_ADDR(msg), (uint32_t)len);
}

/* Logs a printf-formatted message. */
__attribute__((format(printf, 2, 3))) static inline void vp_log(vp_log_level level, const char *fmt, ...) {
    char small[256];
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int k = vsnprintf(small, sizeof small, fmt, ap2);
    va_end(ap2);
    if (k < 0) {
        va_end(ap);
        return;
    }
    if ((size_t)k < sizeof small) {
        vp_log_bytes(level, small, (size_t)k);
    } else {
        char *s = (char *)malloc((size_t)k + 1);
        if (s != NULL) {
            vsnprintf(s, (size_t)k + 1, fmt, ap);
            vp_log_bytes(level, s, (size_t)k);
            free(s);
        }
    }
    va_end(ap);
}

/* ------------------------------------------------------------------------ */
/* host.config-get and host.call                                             */

/* Turns a host-allocated string into a NUL-terminated, malloc'd one. */
static inline char *vp__take_string(uint32_t ptr, uint32_t len) {
    char *s = len == 0 ? (char *)malloc(1) : (char *)realloc((void *)(uintptr_t)ptr, (size_t)len + 1);
    if (s == NULL) {
        __builtin_trap();
    }
    s[len] = '\0';
    return s;
}

/*
 * The configuration value of key: true and a NUL-terminated, malloc'd copy in
 * *out (free it) when set, false when not. out and out_len may be NULL.
 */
static inline bool vp_config_get(const char *key, char **out, size_t *out_len) {
    vp_abi_area ret = {0, 0, 0};
    vp_abi_config_get(VP_ADDR(key), (uint32_t)strlen(key), VP_ADDR(&ret));
    if (out != NULL) {
        *out = NULL;
    }
    if (out_len != NULL) {
        *out_len = 0;
    }
    if (ret.tag != 1) {
        return false;
    }
    char *s = vp__take_string(ret.ptr, ret.len);
    if (out_len != NULL) {
        *out_len = ret.len;
    }
    if (out != NULL) {
        *out = s;
    } else {
        free(s);
    }
    return true;
}

/*
 * Calls the host function name with payload. true: *out holds the malloc'd ok
 * bytes (NULL when empty), false: *err holds the NUL-terminated, malloc'd
 * error message. Free both. Any of out, out_len, err, err_len may be NULL.
 */
static inline bool vp_call(const char *name, const void *payload, size_t payload_len, uint8_t **out,
                           size_t *out_len, char **err, size_t *err_len) {
    vp_abi_area ret = {0, 0, 0};
    vp_abi_call(VP_ADDR(name), (uint32_t)strlen(name), VP_ADDR(payload), (uint32_t)payload_len, VP_ADDR(&ret));
    if (out != NULL) {
        *out = NULL;
    }
    if (out_len != NULL) {
        *out_len = 0;
    }
    if (err != NULL) {
        *err = NULL;
    }
    if (err_len != NULL) {
        *err_len = 0;
    }
    if (ret.tag == 0) {
        uint8_t *p = ret.len != 0 ? (uint8_t *)(uintptr_t)ret.ptr : NULL;
        if (out != NULL) {
            *out = p;
        } else {
            free(p);
        }
        if (out_len != NULL) {
            *out_len = ret.len;
        }
        return true;
    }
    char *s = vp__take_string(ret.ptr, ret.len);
    if (err != NULL) {
        *err = s;
    } else {
        free(s);
    }
    if (err_len != NULL) {
        *err_len = ret.len;
    }
    return false;
}

/* ------------------------------------------------------------------------ */
/* http.request                                                              */

/* A request header from two C strings (not copied). */
static inline vp_http_header vp_header(const char *name, const char *value) {
    vp_http_header h;
    h.name = name;
    h.name_len = strlen(name);
    h.value = value;
    h.value_len = strlen(value);
    return h;
}

/* Frees everything in *resp and zeroes it. */
static inline void vp_http_response_free(vp_http_response *resp) {
    for (size_t i = 0; i < resp->headers_len; i++) {
        vp__free_sized(resp->headers[i].name, resp->headers[i].name_len);
        vp__free_sized(resp->headers[i].value, resp->headers[i].value_len);
    }
    free(resp->headers);
    free(resp->body);
    memset(resp, 0, sizeof *resp);
}

/*
 * Sends an HTTP request. method and url are C strings; headers[0..headers_len)
 * and body[0..body_len) are borrowed. true: *resp is filled (free it with
 * vp_http_response_free). false: *err holds the NUL-terminated, malloc'd
 * message (free it). err and err_len may be NULL.
 */
static inline bool vp_http_request(const char *method, const char *url, const vp_http_header *headers,
                                   size_t headers_len, const void *body, size_t body_len, vp_http_response *resp,
                                   char **err, size_t *err_len) {
    vp_abi_http_area ret;
    memset(&ret, 0, sizeof ret);
    vp_abi_http_request(VP_ADDR(method), (uint32_t)strlen(method), VP_ADDR(url), (uint32_t)strlen(url),
                        VP_ADDR(headers), (uint32_t)headers_len, VP_ADDR(body), (uint32_t)body_len, VP_ADDR(&ret));
    memset(resp, 0, sizeof *resp);
    if (err != NULL) {
        *err = NULL;
    }
    if (err_len != NULL) {
        *err_len = 0;
    }
    if (ret.tag == 0) {
        resp->status = ret.u.ok.status;
        resp->headers_len = ret.u.ok.headers_len;
        resp->headers = ret.u.ok.headers_len != 0 ? (vp_http_header *)(uintptr_t)ret.u.ok.headers_ptr : NULL;
        resp->body_len = ret.u.ok.body_len;
        resp->body = ret.u.ok.body_len != 0 ? (uint8_t *)(uintptr_t)ret.u.ok.body_ptr : NULL;
        return true;
    }
    char *s = vp__take_string(ret.u.err.ptr, ret.u.err.len);
    if (err_len != NULL) {
        *err_len = ret.u.err.len;
    }
    if (err != NULL) {
        *err = s;
    } else {
        free(s);
    }
    return false;
}

#ifdef __cplusplus
}
#endif

#endif /* VITTE_PLUGIN_H */
