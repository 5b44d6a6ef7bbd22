/*
 * spec-c: a plugin written from docs/spec/abi-v1.md alone, without any guest
 * kit or header of the project, to show that the spec is a sufficient
 * contract. Everything the ABI needs is spelled out here by hand: the
 * cabi_realloc export, the imports with their module and field names, the
 * 12-byte result areas.
 *
 * Built by scripts/build-spec-c.sh into spec-c.wasm (committed):
 *
 *   clang-16 --target=wasm32-wasi --sysroot=/usr -nostdlibinc -idirafter /usr/include/wasm32-wasi \
 *       -mexec-model=reactor -O2 -Wl,--stack-first -Wl,--strip-debug \
 *       -o testdata/wasm/spec-c/spec-c.wasm testdata/wasm/spec-c/spec-c.c
 *
 *   on-load       prints "spec-c: loaded\n" on stdout, logs "on-load called" at info
 *   on-unload     prints "spec-c: unloaded\n" on stdout
 *   greet         "<greeting>, <input>!"; greeting from config-get, "Hello" if unset
 *   echo          the input bytes unchanged (any size, 0 included)
 *   fail          err "fail: <input>"
 *   count-vowels  the decimal count of [aeiouAEIOU] in the input
 *
 * Memory ownership, as the spec gives it: the input of a handler and every
 * string the host returns through an import were allocated by the host with
 * our cabi_realloc, and are ours to free. A result must stay valid until the
 * host calls cabi_post_<name> (exported for greet and echo) or, for handlers
 * without one, until the next call into the plugin.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXPORT(name) __attribute__((export_name(name)))
#define HOST_IMPORT(name) __attribute__((import_module("vitte:plugin/host@1.0.0"), import_name(name)))

/*
 * The 12-byte area of result<list<u8>, string>, result<_, string> and
 * option<string>: a u8 tag at offset 0 (result: 0 ok, 1 err; option: 0 none,
 * 1 some), then a (ptr, len) pair at offsets 4 and 8. Little-endian, 4-aligned.
 */
struct area {
    uint8_t tag;
    uint8_t pad[3];
    uint32_t ptr;
    uint32_t len;
};
_Static_assert(sizeof(struct area) == 12, "result area is 12 bytes");
_Static_assert(_Alignof(struct area) == 4, "result area is 4-aligned");

enum { LEVEL_TRACE, LEVEL_DEBUG, LEVEL_INFO, LEVEL_WARN, LEVEL_ERROR };

/* log: (level i32, msg_ptr i32, msg_len i32) -> () */
HOST_IMPORT("log") void host_log(uint32_t level, const char *msg, uint32_t msg_len);
/* config-get: (key_ptr i32, key_len i32, ret i32) -> (), ret is an option<string> area */
HOST_IMPORT("config-get") void host_config_get(const char *key, uint32_t key_len, struct area *ret);

/*
 * A block of no size still needs a valid, aligned, non-null address: the
 * allocator hands out this one, and free_owned never frees it.
 */
static _Alignas(16) uint8_t empty_block[16];

static void free_owned(void *p) {
    if (p != (void *)empty_block) {
        free(p);
    }
}

/*
 * cabi_realloc: (old_ptr i32, old_size i32, align i32, new_size i32) -> i32.
 * The host calls it with (0, 0, align, size) for inputs and returned strings.
 * Failing to allocate traps: the host turns a trap into an error.
 */
EXPORT("cabi_realloc") void *cabi_realloc(void *old_ptr, size_t old_size, size_t align, size_t new_size) {
    (void)old_size;
    if (new_size == 0) {
        if (old_ptr != NULL) {
            free_owned(old_ptr);
        }
        if (align > sizeof empty_block) {
            __builtin_trap();
        }
        return empty_block;
    }
    void *p;
    if (align <= 16) { /* wasi-libc's malloc aligns to 16 */
        p = (old_ptr == NULL || old_ptr == (void *)empty_block) ? malloc(new_size) : realloc(old_ptr, new_size);
    } else {
        p = aligned_alloc(align, (new_size + align - 1) / align * align);
        if (p != NULL && old_ptr != NULL) {
            memcpy(p, old_ptr, old_size < new_size ? old_size : new_size);
            free_owned(old_ptr);
        }
    }
    if (p == NULL) {
        __builtin_trap();
    }
    return p;
}

/* The area every handler returns a pointer to, and the bytes it points at. */
static struct area result;
static void *result_owned; /* freed by cabi_post_<name> or at the next call */

static void release_result(void) {
    if (result_owned != NULL) {
        free_owned(result_owned);
        result_owned = NULL;
    }
}

/* ok_result / err_result fill the area; bytes becomes the plugin's to free later. */
static struct area *set_result(uint8_t tag, void *bytes, size_t len) {
    result.tag = tag;
    result.ptr = (uint32_t)(uintptr_t)(bytes != NULL ? bytes : empty_block);
    result.len = (uint32_t)len;
    result_owned = bytes;
    return &result;
}

static struct area *ok_result(void *bytes, size_t len) { return set_result(0, bytes, len); }
static struct area *err_result(void *bytes, size_t len) { return set_result(1, bytes, len); }

static void log_str(uint32_t level, const char *msg) { host_log(level, msg, (uint32_t)strlen(msg)); }

/* on-load: () -> i32, a result<_, string> area. */
EXPORT("on-load") struct area *on_load(void) {
    release_result();
    printf("spec-c: loaded\n");
    fflush(stdout);
    log_str(LEVEL_INFO, "on-load called");
    return ok_result(NULL, 0);
}

/* on-unload: () -> () */
EXPORT("on-unload") void on_unload(void) {
    release_result();
    printf("spec-c: unloaded\n");
    fflush(stdout);
}

/* greet: "<greeting>, <input>!" */
EXPORT("greet") struct area *greet(uint8_t *in, size_t in_len) {
    release_result();
    static const char key[] = "greeting";
    struct area opt = {0};
    host_config_get(key, sizeof key - 1, &opt);

    const char *greeting = "Hello";
    size_t greeting_len = 5;
    if (opt.tag == 1) { /* some: the string is ours, allocated through cabi_realloc */
        greeting = (const char *)(uintptr_t)opt.ptr;
        greeting_len = opt.len;
    }
    size_t n = greeting_len + 2 + in_len + 1;
    char *out = malloc(n);
    if (out == NULL) {
        __builtin_trap();
    }
    memcpy(out, greeting, greeting_len);
    memcpy(out + greeting_len, ", ", 2);
    if (in_len > 0) {
        memcpy(out + greeting_len + 2, in, in_len);
    }
    out[n - 1] = '!';
    if (opt.tag == 1) {
        free_owned((void *)(uintptr_t)opt.ptr);
    }
    free_owned(in);
    return ok_result(out, n);
}

EXPORT("cabi_post_greet") void cabi_post_greet(struct area *ret) {
    (void)ret; /* always &result */
    release_result();
}

/* echo: the input itself is the output. */
EXPORT("echo") struct area *echo(uint8_t *in, size_t in_len) {
    release_result();
    return ok_result(in, in_len);
}

EXPORT("cabi_post_echo") void cabi_post_echo(struct area *ret) {
    (void)ret;
    release_result();
}

/* fail: the error "fail: <input>". */
EXPORT("fail") struct area *fail(uint8_t *in, size_t in_len) {
    release_result();
    size_t n = 6 + in_len;
    char *msg = malloc(n);
    if (msg == NULL) {
        __builtin_trap();
    }
    memcpy(msg, "fail: ", 6);
    if (in_len > 0) {
        memcpy(msg + 6, in, in_len);
    }
    free_owned(in);
    return err_result(msg, n);
}

/* count-vowels: the decimal count of [aeiouAEIOU], in a static buffer. */
EXPORT("count-vowels") struct area *count_vowels(uint8_t *in, size_t in_len) {
    release_result();
    static char digits[24];
    size_t count = 0;
    for (size_t i = 0; i < in_len; i++) {
        switch (in[i]) {
        case 'a': case 'e': case 'i': case 'o': case 'u':
        case 'A': case 'E': case 'I': case 'O': case 'U':
            count++;
        }
    }
    free_owned(in);
    int n = snprintf(digits, sizeof digits, "%zu", count);
    result.tag = 0;
    result.ptr = (uint32_t)(uintptr_t)digits;
    result.len = (uint32_t)n;
    return &result;
}
