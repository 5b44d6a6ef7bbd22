/*
 * example: a small C plugin that uses every part of the C guest kit.
 *
 * Build it from the repository root (see adapters/c/README.md):
 *
 *   clang-16 --target=wasm32-wasi --sysroot=/usr \
 *       -nostdlibinc -idirafter /usr/include/wasm32-wasi \
 *       -mexec-model=reactor -O2 -I adapters/c \
 *       -Wl,--stack-first -Wl,--strip-debug \
 *       -o adapters/c/example/example.wasm adapters/c/example/example.c
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>

#include "vitte_plugin.h"

static unsigned long calls;

/* Runs once, after instantiation. An error here refuses the load. */
VITTE_ON_LOAD {
    char *greeting = NULL;
    if (vp_config_get("greeting", &greeting, NULL)) {
        vp_log(VP_LOG_INFO, "loaded, greeting is %s", greeting);
        free(greeting);
    } else {
        vp_log(VP_LOG_WARN, "loaded, no greeting configured: using Hello");
    }
}

/* Runs once, before the instance is dropped. */
VITTE_ON_UNLOAD {
    vp_log(VP_LOG_INFO, "unloaded after %lu calls", calls);
}

/* greet: "<greeting>, <input>!" */
VITTE_HANDLER(greet) {
    calls++;
    vp_bytes in = vp_input();
    if (in.len == 0) {
        vp_return_error("greet: empty name");
        return;
    }
    char *greeting = NULL;
    if (!vp_config_get("greeting", &greeting, NULL)) {
        greeting = NULL;
    }
    vp_return_fmt("%s, %.*s!", greeting ? greeting : "Hello", (int)in.len, (const char *)in.ptr);
    free(greeting);
}

/* shout: the input in ASCII upper case, converted in place and handed back without a copy. */
VITTE_HANDLER(shout) {
    calls++;
    vp_bytes in = vp_input();
    uint8_t *p = (uint8_t *)in.ptr; /* the input buffer is the plugin's, until the body returns */
    for (size_t i = 0; i < in.len; i++) {
        p[i] = (uint8_t)toupper(p[i]);
    }
    vp_return_input();
}

/* version: asks the embedding application (host call "studio.version"). */
VITTE_HANDLER(version) {
    calls++;
    uint8_t *out = NULL;
    size_t out_len = 0;
    char *err = NULL;
    if (!vp_call("studio.version", NULL, 0, &out, &out_len, &err, NULL)) {
        vp_return_error("version: %s", err);
        free(err);
        return;
    }
    vp_return_owned(out, out_len); /* the host-allocated bytes become the output */
}

/* status: GET https://api.example.com/status, returns "<status> <body>". */
VITTE_HANDLER(status) {
    calls++;
    vp_http_header headers[] = {vp_header("accept", "text/plain")};
    vp_http_response resp;
    char *err = NULL;
    if (!vp_http_request("GET", "https://api.example.com/status", headers, 1, NULL, 0, &resp, &err, NULL)) {
        vp_return_error("status: %s", err);
        free(err);
        return;
    }
    for (size_t i = 0; i < resp.headers_len; i++) {
        vp_log(VP_LOG_DEBUG, "header %.*s: %.*s", (int)resp.headers[i].name_len, resp.headers[i].name,
               (int)resp.headers[i].value_len, resp.headers[i].value);
    }
    vp_return_fmt("%u %.*s", resp.status, (int)resp.body_len, (const char *)resp.body);
    vp_http_response_free(&resp);
}
