/*
 * bench-c: compute-bound handlers for the benchmarks (runtime/bench_test.go).
 * Built by scripts/build-c-fixtures.sh.
 */
#include <stdint.h>

#include "vitte_plugin.h"

static uint64_t parse_u64(vp_bytes in) {
    uint64_t n = 0;
    for (size_t i = 0; i < in.len && in.ptr[i] >= '0' && in.ptr[i] <= '9'; i++) {
        n = n * 10 + (uint64_t)(in.ptr[i] - '0');
    }
    return n;
}

/* spin: a tight loop of N iterations (N in the input, decimal); returns the
 * accumulator so that the loop is not optimised away. */
VITTE_HANDLER(spin) {
    uint64_t n = parse_u64(vp_input());
    uint32_t acc = 0;
    for (uint64_t i = 0; i < n; i++) {
        acc = acc * 31u + (uint32_t)i;
        __asm__ volatile("" : "+r"(acc));
    }
    vp_return_fmt("%u", acc);
}

/* fnv1a: the 32-bit FNV-1a hash of the input, hex. */
VITTE_HANDLER(fnv1a) {
    vp_bytes in = vp_input();
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < in.len; i++) {
        h ^= in.ptr[i];
        h *= 16777619u;
    }
    vp_return_fmt("%08x", h);
}
