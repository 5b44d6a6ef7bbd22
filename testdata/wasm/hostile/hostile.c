/*
 * hostile: a plugin that breaks each rule of the plugin ABI v1 on purpose,
 * one handler per rule, named for what it breaks. The host must turn every one
 * of them into a clear error naming the plugin and the function, never crash,
 * and keep every other plugin running. A trapped instance is never reused.
 *
 * Built by scripts/build-c-fixtures.sh into hostile.wasm (committed).
 * plugin.toml sets [limits] output = 1MiB, memory = 16MiB, timeout = 2s and
 * grants host calls "test.*".
 *
 * "mem_end" below is the size of linear memory in bytes at the time of the
 * call (memory.size * 64 KiB). Every raw handler (RAW_HANDLER) writes its
 * result area by hand; the others use the C kit. Addresses that must stay
 * bad are computed at run time or returned as constants, so the optimiser
 * cannot drop them; loops and recursion go through volatile objects.
 */
#define VP_CUSTOM_CABI_REALLOC
#include "vitte_plugin.h"

#include <wasi/api.h>
#include <unistd.h>

/* A handler that bypasses the kit: core type (i32 ptr, i32 len) -> i32. */
#define RAW_HANDLER(ident, name) __attribute__((export_name(name))) uint32_t ident(uint32_t ptr, uint32_t len)

/* A 12-byte result area, 4-aligned, with room after it for misaligning. */
static _Alignas(16) uint8_t area_buf[32];
static const char bad_utf8[] = "\xff\xfe";
static const char some_bytes[] = "some bytes";

static uint32_t mem_end(void) {
    return (uint32_t)__builtin_wasm_memory_size(0) * 65536u;
}

/* Fills a result area at p and returns its address. */
static uint32_t area_at(uint8_t *p, uint8_t tag, uint32_t data_ptr, uint32_t data_len) {
    vp_abi_area a = {tag, data_ptr, data_len};
    memcpy(p, &a, sizeof a);
    return VP_ADDR(p);
}

/* ------------------------------------------------------------------------ */
/* cabi_realloc that can be armed to misbehave once (bad-realloc*).          */

enum { REALLOC_NORMAL, REALLOC_OOB, REALLOC_MISALIGNED };
static volatile int realloc_mode = REALLOC_NORMAL;

__attribute__((export_name("cabi_realloc"))) void *cabi_realloc(void *old_ptr, size_t old_size, size_t align,
                                                                 size_t new_size) {
    int mode = realloc_mode;
    if (mode == REALLOC_OOB) {
        realloc_mode = REALLOC_NORMAL;
        return (void *)(uintptr_t)0xFFFFFFF0u;
    }
    if (mode == REALLOC_MISALIGNED && align >= 2) {
        realloc_mode = REALLOC_NORMAL;
        /* In bounds and writable, but odd. */
        uint8_t *p = vp_default_realloc(old_ptr, old_size, align, new_size + 1);
        return p + 1;
    }
    return vp_default_realloc(old_ptr, old_size, align, new_size);
}

/* on-load succeeds: the plugin must load so that its handlers can be called. */
VITTE_ON_LOAD {
}

/* ok: returns ok "still fine": the instance still works (after errors that do not trap). */
VITTE_HANDLER(ok) {
    vp_return_str("still fine");
}

/* ------------------------------------------------------------------------ */
/* Bad result areas.                                                         */

/* result-oob: the result pointer is 0xFFFFFFF0, outside memory. */
RAW_HANDLER(result_oob, "result-oob") {
    (void)ptr, (void)len;
    return 0xFFFFFFF0u;
}

/* result-misaligned: a valid ok area, but returned at its address + 1 (not 4-aligned). */
RAW_HANDLER(result_misaligned, "result-misaligned") {
    (void)ptr, (void)len;
    area_at(area_buf, 0, VP_ADDR(some_bytes), 4);
    area_at(area_buf + 1, 0, VP_ADDR(some_bytes), 4);
    return VP_ADDR(area_buf) + 1;
}

/* result-straddles-end: the area starts 8 bytes before mem_end, so 4 of its 12 bytes are outside. */
RAW_HANDLER(result_straddles_end, "result-straddles-end") {
    (void)ptr, (void)len;
    return mem_end() - 8;
}

/* payload-oob: tag 0 (ok) with a payload at mem_end + 4096, length 16: entirely outside memory. */
RAW_HANDLER(payload_oob, "payload-oob") {
    (void)ptr, (void)len;
    return area_at(area_buf, 0, mem_end() + 4096, 16);
}

/* payload-len-overflow: tag 0 with a valid pointer and length 0xFFFFFFFF (ptr + len overflows u32). */
RAW_HANDLER(payload_len_overflow, "payload-len-overflow") {
    (void)ptr, (void)len;
    return area_at(area_buf, 0, VP_ADDR(some_bytes), 0xFFFFFFFFu);
}

/* bad-tag: tag 2, which is neither ok (0) nor err (1), with valid bytes. */
RAW_HANDLER(bad_tag, "bad-tag") {
    (void)ptr, (void)len;
    return area_at(area_buf, 2, VP_ADDR(some_bytes), 4);
}

/* err-invalid-utf8: tag 1 (err) whose message is the bytes ff fe, not UTF-8. */
RAW_HANDLER(err_invalid_utf8, "err-invalid-utf8") {
    (void)ptr, (void)len;
    return area_at(area_buf, 1, VP_ADDR(bad_utf8), 2);
}

/* err-oob: tag 1 (err) whose message is at 0xFFFFFF00, length 32: outside memory. */
RAW_HANDLER(err_oob, "err-oob") {
    (void)ptr, (void)len;
    return area_at(area_buf, 1, 0xFFFFFF00u, 32);
}

/* huge-output: ok with 2 MiB of real data, over the 1MiB [limits].output. */
VITTE_HANDLER_NAMED(huge_output, "huge-output") {
    size_t n = 2u << 20;
    uint8_t *p = malloc(n);
    if (p == NULL) {
        vp_return_error("huge-output: out of memory");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        p[i] = (uint8_t)('a' + i % 26);
    }
    vp_return_owned(p, n);
}

/* ------------------------------------------------------------------------ */
/* Traps, timeouts, resource exhaustion.                                     */

/* trap: executes `unreachable`. */
RAW_HANDLER(trap, "trap") {
    (void)ptr, (void)len;
    __builtin_trap();
}

static volatile uint32_t spin;

/* loop: never returns; each iteration writes a volatile, so the loop stays. Ends by the 2s timeout. */
RAW_HANDLER(loop, "loop") {
    (void)ptr, (void)len;
    for (;;) {
        spin++;
    }
}

/* sleep: sleeps an hour at a time, forever: WASI poll_oneoff on a clock, no
 * guest code running. Ends by the timeout, not an hour later. */
RAW_HANDLER(sleep_forever, "sleep") {
    (void)ptr, (void)len;
    for (;;) {
        sleep(3600);
    }
}

static uint32_t recurse_step(uint32_t depth);
static uint32_t (*volatile recurse_next)(uint32_t) = recurse_step;
static volatile uint32_t recurse_depth;

/*
 * Calls itself through a volatile function pointer and adds 1 to the result,
 * so it is neither inlined nor turned into a loop: every level is a real wasm
 * call, and the engine's call stack overflows.
 */
__attribute__((noinline)) static uint32_t recurse_step(uint32_t depth) {
    recurse_depth = depth;
    return recurse_next(depth + 1) + 1;
}

/* recurse: unbounded recursion, ends in a stack-overflow trap. */
RAW_HANDLER(recurse, "recurse") {
    (void)ptr, (void)len;
    return recurse_step(0);
}

/*
 * grow-memory: memory.grow by one page until it fails (the host caps memory at
 * 16MiB = 256 pages), then ok "grown to N pages". The message is static: after
 * this, malloc may find no room, so later calls that allocate may trap.
 */
VITTE_HANDLER_NAMED(grow_memory, "grow-memory") {
    static char msg[48];
    while (__builtin_wasm_memory_grow(0, 1) != (size_t)-1) {
    }
    int n = snprintf(msg, sizeof msg, "grown to %u pages", (unsigned)__builtin_wasm_memory_size(0));
    vp_return_static(msg, (size_t)n);
}

/* abort: WASI proc_exit(3) in the middle of a call. */
RAW_HANDLER(abort_, "abort") {
    (void)ptr, (void)len;
    __wasi_proc_exit(3);
}

/* ------------------------------------------------------------------------ */
/* A bad cabi_realloc, armed by one call and hit by the next host allocation. */

/*
 * bad-realloc: returns ok "armed"; the NEXT cabi_realloc call (the host placing
 * the input of the next call, when it is not empty, or a string it returns)
 * gets 0xFFFFFFF0, outside memory. It disarms after that one call.
 */
VITTE_HANDLER_NAMED(bad_realloc, "bad-realloc") {
    realloc_mode = REALLOC_OOB;
    vp_return_str("armed");
}

/*
 * bad-realloc-misaligned: returns ok "armed"; the next cabi_realloc call with
 * align >= 2 (ABI v1: align 4, for lists of tuples such as HTTP headers) gets
 * an odd, in-bounds pointer. Calls with align 1 are served normally and leave
 * it armed.
 */
VITTE_HANDLER_NAMED(bad_realloc_misaligned, "bad-realloc-misaligned") {
    realloc_mode = REALLOC_MISALIGNED;
    vp_return_str("armed");
}

/* ------------------------------------------------------------------------ */
/* Bad arguments to host imports. If the host returns instead of failing the  */
/* call, each handler returns ok "returned from <import>" so tests can tell. */

/* log-oob: host.log with a message at mem_end - 8, length 64: it runs past the end of memory. */
RAW_HANDLER(log_oob, "log-oob") {
    (void)ptr, (void)len;
    vp_abi_log(VP_LOG_INFO, mem_end() - 8, 64);
    return area_at(area_buf, 0, VP_ADDR("returned from log"), 17);
}

/* log-invalid-utf8: host.log with the message bytes ff fe. */
RAW_HANDLER(log_invalid_utf8, "log-invalid-utf8") {
    (void)ptr, (void)len;
    vp_abi_log(VP_LOG_INFO, VP_ADDR(bad_utf8), 2);
    return area_at(area_buf, 0, VP_ADDR("returned from log"), 17);
}

/* log-bad-level: host.log with level 99 (the enum has 0..4). */
RAW_HANDLER(log_bad_level, "log-bad-level") {
    (void)ptr, (void)len;
    vp_abi_log(99, VP_ADDR("bad level"), 9);
    return area_at(area_buf, 0, VP_ADDR("returned from log"), 17);
}

static _Alignas(16) uint8_t ret_buf[32];

/* config-ret-misaligned: host.config-get("greeting") with ret = a 4-aligned buffer + 1. */
RAW_HANDLER(config_ret_misaligned, "config-ret-misaligned") {
    (void)ptr, (void)len;
    vp_abi_config_get(VP_ADDR("greeting"), 8, VP_ADDR(ret_buf) + 1);
    return area_at(area_buf, 0, VP_ADDR("returned from config-get"), 24);
}

/* config-ret-oob: host.config-get("greeting") with ret = mem_end - 4: 4-aligned, 8 of 12 bytes outside. */
RAW_HANDLER(config_ret_oob, "config-ret-oob") {
    (void)ptr, (void)len;
    vp_abi_config_get(VP_ADDR("greeting"), 8, mem_end() - 4);
    return area_at(area_buf, 0, VP_ADDR("returned from config-get"), 24);
}

/* call-ret-oob: host.call("test.echo", "ping") with ret = 0xFFFFFFF0, outside memory. */
RAW_HANDLER(call_ret_oob, "call-ret-oob") {
    (void)ptr, (void)len;
    vp_abi_call(VP_ADDR("test.echo"), 9, VP_ADDR("ping"), 4, 0xFFFFFFF0u);
    return area_at(area_buf, 0, VP_ADDR("returned from call"), 18);
}
