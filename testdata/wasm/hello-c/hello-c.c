/*
 * hello-c: the reference C plugin of the test suite.
 *
 * Built by scripts/build-c-fixtures.sh into hello-c.wasm (committed).
 *
 *   on-load       prints "hello-c: loaded\n" on stdout, logs "on-load called" at info
 *   on-unload     prints "hello-c: unloaded\n" on stdout
 *   greet         "<greeting>, <input>!"; greeting from config-get, "Hello" if unset
 *   echo          the input bytes unchanged (any size, 0 included)
 *   fail          err "fail: <input>" (input must be UTF-8 for a valid error)
 *   empty         ok, 0 bytes (call-overhead benchmarks)
 *   call-host     host.call(name = input, payload = "ping"): the ok payload, or
 *                 "error: <message>" as ok bytes
 *   count-vowels  the decimal count of [aeiouAEIOU] in the input
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vitte_plugin.h"

VITTE_ON_LOAD {
    printf("hello-c: loaded\n");
    vp_log(VP_LOG_INFO, "on-load called");
}

VITTE_ON_UNLOAD {
    printf("hello-c: unloaded\n");
}

VITTE_HANDLER(greet) {
    vp_bytes in = vp_input();
    char *greeting = NULL;
    size_t greeting_len = 0;
    if (!vp_config_get("greeting", &greeting, &greeting_len)) {
        greeting = NULL;
    }
    size_t n = (greeting ? greeting_len : 5) + 2 + in.len + 1;
    char *out = malloc(n);
    if (out == NULL) {
        free(greeting);
        vp_return_error("greet: out of memory");
        return;
    }
    char *p = out;
    memcpy(p, greeting ? greeting : "Hello", greeting ? greeting_len : 5);
    p += greeting ? greeting_len : 5;
    memcpy(p, ", ", 2);
    p += 2;
    if (in.len != 0) {
        memcpy(p, in.ptr, in.len);
        p += in.len;
    }
    *p = '!';
    free(greeting);
    vp_return_owned(out, n);
}

VITTE_HANDLER(echo) {
    vp_return_input();
}

VITTE_HANDLER(fail) {
    vp_bytes in = vp_input();
    vp_return_error("fail: %.*s", (int)in.len, (const char *)in.ptr);
}

VITTE_HANDLER(empty) {
}

VITTE_HANDLER_NAMED(call_host, "call-host") {
    vp_bytes in = vp_input();
    char *name = strndup((const char *)in.ptr, in.len);
    if (name == NULL) {
        vp_return_error("call-host: out of memory");
        return;
    }
    uint8_t *out = NULL;
    size_t out_len = 0;
    char *err = NULL;
    if (vp_call(name, "ping", 4, &out, &out_len, &err, NULL)) {
        vp_return_owned(out, out_len);
    } else {
        vp_return_fmt("error: %s", err);
        free(err);
    }
    free(name);
}

/* A table, not a switch: the loop has no branch on the data, so what it
 * costs does not depend on how well a compiler predicts English text (a
 * switch became a br_table that wazero compiles to an indirect jump,
 * mispredicted at almost every vowel). The benchmark peers count the same
 * way (bench/). */
static const unsigned char vowel[256] = {
    ['a'] = 1, ['e'] = 1, ['i'] = 1, ['o'] = 1, ['u'] = 1,
    ['A'] = 1, ['E'] = 1, ['I'] = 1, ['O'] = 1, ['U'] = 1,
};

VITTE_HANDLER_NAMED(count_vowels, "count-vowels") {
    vp_bytes in = vp_input();
    size_t count = 0;
    for (size_t i = 0; i < in.len; i++) {
        count += vowel[(unsigned char)in.ptr[i]];
    }
    vp_return_fmt("%zu", count);
}
