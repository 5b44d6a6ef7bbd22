/*
 * caps-c: probes the environment, host-call, clock, random and memory
 * capabilities for the security tests (runtime/capabilities_test.go). Each
 * handler returns an error result when the host refused what it asked for,
 * so that the host can see a call fail because of a denial.
 *
 * Built by scripts/build-c-fixtures.sh.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vitte_plugin.h"

extern char **environ;

/* env: returns the value of the variable named by the input, or an error. */
VITTE_HANDLER(env) {
    vp_bytes in = vp_input();
    char name[256];
    if (in.len >= sizeof name) {
        vp_return_error("env: name too long");
        return;
    }
    memcpy(name, in.ptr, in.len);
    name[in.len] = 0;
    const char *v = getenv(name);
    if (v == NULL) {
        vp_return_error("env: %s is not set", name);
        return;
    }
    vp_return_str(v);
}

/* environ: every variable the plugin can see, one "K=V" per line. */
VITTE_HANDLER(environ) {
    size_t n = 0;
    for (char **e = environ; e && *e; e++) {
        n += strlen(*e) + 1;
    }
    char *out = malloc(n + 1);
    if (out == NULL) {
        vp_return_error("environ: out of memory");
        return;
    }
    size_t off = 0;
    for (char **e = environ; e && *e; e++) {
        size_t l = strlen(*e);
        memcpy(out + off, *e, l);
        out[off + l] = '\n';
        off += l + 1;
    }
    vp_return_owned(out, off);
}

/* host: calls the host function named by the input; an error result if
 * the host refused or failed. */
VITTE_HANDLER(host) {
    vp_bytes in = vp_input();
    char name[256];
    if (in.len >= sizeof name) {
        vp_return_error("host: name too long");
        return;
    }
    memcpy(name, in.ptr, in.len);
    name[in.len] = 0;
    uint8_t *out = NULL;
    size_t out_len = 0;
    char *err = NULL;
    size_t err_len = 0;
    if (!vp_call(name, "ping", 4, &out, &out_len, &err, &err_len)) {
        vp_return_error("host: %.*s", (int)err_len, err ? err : "");
        free(err);
        return;
    }
    vp_return_owned(out, out_len);
}

/* time: wall-clock seconds and the monotonic clock in ns, "S M". */
VITTE_HANDLER(time) {
    struct timespec wall, mono;
    clock_gettime(CLOCK_REALTIME, &wall);
    clock_gettime(CLOCK_MONOTONIC, &mono);
    vp_return_fmt("%lld %lld", (long long)wall.tv_sec, (long long)mono.tv_sec * 1000000000LL + mono.tv_nsec);
}

/* random: 16 random bytes, hex. */
VITTE_HANDLER(random) {
    unsigned char b[16];
    if (getentropy(b, sizeof b) != 0) {
        vp_return_error("random: getentropy failed");
        return;
    }
    char hex[33];
    for (int i = 0; i < 16; i++) {
        static const char digits[] = "0123456789abcdef";
        hex[2 * i] = digits[b[i] >> 4];
        hex[2 * i + 1] = digits[b[i] & 15];
    }
    vp_return_bytes(hex, 32);
}

/* alloc: mallocs the number of MiB in the input, touching every page; an
 * error result when malloc fails (memory limit). */
VITTE_HANDLER(alloc) {
    vp_bytes in = vp_input();
    long mib = 0;
    for (size_t i = 0; i < in.len && in.ptr[i] >= '0' && in.ptr[i] <= '9'; i++) {
        mib = mib * 10 + (in.ptr[i] - '0');
    }
    char *p = malloc((size_t)mib << 20);
    if (p == NULL) {
        vp_return_error("alloc: out of memory for %ld MiB", mib);
        return;
    }
    for (long i = 0; i < (mib << 20); i += 4096) {
        ((volatile char *)p)[i] = 1;
    }
    free(p);
    vp_return_fmt("allocated %ld MiB", mib);
}

/* log-flood: logs the number of lines in the input. */
VITTE_HANDLER_NAMED(log_flood, "log-flood") {
    vp_bytes in = vp_input();
    long n = 0;
    for (size_t i = 0; i < in.len && in.ptr[i] >= '0' && in.ptr[i] <= '9'; i++) {
        n = n * 10 + (in.ptr[i] - '0');
    }
    for (long i = 0; i < n; i++) {
        vp_log(VP_LOG_INFO, "flood line %ld", i);
    }
    vp_return_fmt("logged %ld", n);
}
