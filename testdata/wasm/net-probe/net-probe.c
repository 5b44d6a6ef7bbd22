/*
 * net-probe: a plugin that makes HTTP requests through http.request, for
 * the tests of the network capability (runtime/net_test.go).
 *
 * Built by scripts/build-c-fixtures.sh into net-probe.wasm (committed).
 * plugin.toml requests net destinations on port 8080; the tests copy the
 * module next to a plugin.toml naming their test server's port.
 *
 * A refused or failed request is returned as the error result of the
 * handler, with the host's message unchanged, so the tests can read what
 * the guest saw.
 *
 *   get       input "URL" or "METHOD URL": "status <code>\n<body>"
 *   headers   input "URL": GET with the request headers accept: text/plain and
 *             x-probe: net-probe; "status <code>\n" then "name: value\n" per
 *             response header
 *   post      input "URL\n<body>": POST with content-type: text/plain;
 *             "status <code>\n<body>"
 *   request   input "METHOD URL\n<name>: <value>\n...\n\n<body>": any request;
 *             "status <code>\n<name>: <value>\n...\n\n<body>"
 *
 * The bad-* handlers call the raw import with arguments that break the ABI
 * (one rule each); the host must trap the call. If it returns instead, they
 * return ok "returned from request". "mem_end" is the size of linear memory.
 *
 *   bad-headers-oob        the header list at mem_end - 8, 2 entries
 *   bad-header-name-oob    one header whose name is at mem_end + 16
 *   bad-header-utf8        one header whose value is the bytes ff fe
 *   bad-url-utf8           the URL is the bytes ff fe
 *   bad-too-many-headers   257 (empty) headers
 *   bad-body-len           the body is 0xFFFFFFFF bytes long
 *   bad-ret-misaligned     the return area is 4-aligned + 2
 *   bad-ret-oob            the return area at mem_end - 12 (half outside)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vitte_plugin.h"

/* ------------------------------------------------------------------------ */
/* A growable output buffer.                                                 */

typedef struct {
    char *p;
    size_t len, cap;
} buf;

static void buf_add(buf *b, const void *p, size_t n) {
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        while (cap < b->len + n) {
            cap *= 2;
        }
        char *q = realloc(b->p, cap);
        if (q == NULL) {
            __builtin_trap();
        }
        b->p = q;
        b->cap = cap;
    }
    if (n != 0) {
        memcpy(b->p + b->len, p, n);
    }
    b->len += n;
}

static void buf_str(buf *b, const char *s) {
    buf_add(b, s, strlen(s));
}

static void buf_status(buf *b, unsigned status) {
    char line[32];
    int n = snprintf(line, sizeof line, "status %u\n", status);
    buf_add(b, line, (size_t)n);
}

static void buf_headers(buf *b, const vp_http_response *resp) {
    for (size_t i = 0; i < resp->headers_len; i++) {
        const vp_http_header *h = &resp->headers[i];
        buf_add(b, h->name, h->name_len);
        buf_str(b, ": ");
        buf_add(b, h->value, h->value_len);
        buf_str(b, "\n");
    }
}

/* The input as a NUL-terminated, malloc'd string. */
static char *input_string(void) {
    vp_bytes in = vp_input();
    char *s = malloc(in.len + 1);
    if (s == NULL) {
        __builtin_trap();
    }
    if (in.len != 0) {
        memcpy(s, in.ptr, in.len);
    }
    s[in.len] = '\0';
    return s;
}

/*
 * Makes the request; on success hands the response to done, on failure
 * returns the host's message as the handler's error.
 */
static void request(const char *method, const char *url, const vp_http_header *headers, size_t headers_len,
                    const void *body, size_t body_len, void (*done)(const vp_http_response *)) {
    vp_http_response resp;
    char *err = NULL;
    if (!vp_http_request(method, url, headers, headers_len, body, body_len, &resp, &err, NULL)) {
        vp_return_error("%s", err);
        free(err);
        return;
    }
    done(&resp);
    vp_http_response_free(&resp);
}

static void status_body(const vp_http_response *resp) {
    buf b = {0};
    buf_status(&b, resp->status);
    buf_add(&b, resp->body, resp->body_len);
    vp_return_owned(b.p, b.len);
}

static void status_headers(const vp_http_response *resp) {
    buf b = {0};
    buf_status(&b, resp->status);
    buf_headers(&b, resp);
    vp_return_owned(b.p, b.len);
}

static void status_headers_body(const vp_http_response *resp) {
    buf b = {0};
    buf_status(&b, resp->status);
    buf_headers(&b, resp);
    buf_str(&b, "\n");
    buf_add(&b, resp->body, resp->body_len);
    vp_return_owned(b.p, b.len);
}

/* ------------------------------------------------------------------------ */
/* Handlers.                                                                 */

VITTE_HANDLER(get) {
    char *in = input_string();
    const char *method = "GET", *url = in;
    char *sp = strchr(in, ' ');
    if (sp != NULL) {
        *sp = '\0';
        method = in;
        url = sp + 1;
    }
    request(method, url, NULL, 0, NULL, 0, status_body);
    free(in);
}

VITTE_HANDLER(headers) {
    char *url = input_string();
    vp_http_header h[2] = {vp_header("accept", "text/plain"), vp_header("x-probe", "net-probe")};
    request("GET", url, h, 2, NULL, 0, status_headers);
    free(url);
}

VITTE_HANDLER(post) {
    char *in = input_string();
    vp_bytes raw = vp_input();
    const char *body = "";
    size_t body_len = 0;
    char *nl = strchr(in, '\n');
    if (nl != NULL) {
        *nl = '\0';
        body = nl + 1;
        body_len = raw.len - (size_t)(nl + 1 - in);
    }
    vp_http_header h = vp_header("content-type", "text/plain");
    request("POST", in, &h, 1, body, body_len, status_body);
    free(in);
}

VITTE_HANDLER(request) {
    char *in = input_string();
    vp_bytes raw = vp_input();
    vp_http_header headers[64];
    size_t n = 0;
    const char *body = "";
    size_t body_len = 0;

    char *line = in, *end = strchr(line, '\n');
    if (end != NULL) {
        *end = '\0';
    }
    char *sp = strchr(line, ' ');
    if (sp == NULL) {
        vp_return_error("request: want \"METHOD URL\" on the first line");
        free(in);
        return;
    }
    *sp = '\0';
    const char *method = line, *url = sp + 1;
    while (end != NULL) {
        line = end + 1;
        end = strchr(line, '\n');
        if (end != NULL) {
            *end = '\0';
        }
        if (*line == '\0') { /* the empty line: the body follows */
            if (end != NULL) {
                body = end + 1;
                body_len = raw.len - (size_t)(end + 1 - in);
            }
            break;
        }
        char *colon = strchr(line, ':');
        if (colon == NULL || n == sizeof headers / sizeof headers[0]) {
            vp_return_error("request: bad header line %s", line);
            free(in);
            return;
        }
        *colon = '\0';
        const char *value = colon + 1;
        if (*value == ' ') {
            value++;
        }
        headers[n++] = vp_header(line, value);
    }
    request(method, url, headers, n, body, body_len, status_headers_body);
    free(in);
}

/* ------------------------------------------------------------------------ */
/* Raw calls that break the ABI.                                             */

#define RAW_HANDLER(ident, name) __attribute__((export_name(name))) uint32_t ident(uint32_t ptr, uint32_t len)

static const char raw_url[] = "http://127.0.0.1:8080/";
static const char raw_method[] = "GET";
static const char bad_utf8[] = "\xff\xfe";
static const char returned[] = "returned from request";

static _Alignas(16) uint8_t area_buf[16];
static _Alignas(16) vp_abi_http_area ret_buf[2];
static _Alignas(16) uint32_t tuples[4 * 257];

static uint32_t mem_end(void) {
    return (uint32_t)__builtin_wasm_memory_size(0) * 65536u;
}

/* Calls http.request with GET url and the given headers, body and ret. */
static void raw(uint32_t url_ptr, uint32_t url_len, uint32_t headers_ptr, uint32_t headers_len, uint32_t body_len,
                uint32_t ret) {
    vp_abi_http_request(VP_ADDR(raw_method), 3, url_ptr, url_len, headers_ptr, headers_len, VP_ADDR(raw_url), body_len, ret);
}

/* The ok area returned when the host did not trap. */
static uint32_t returned_area(void) {
    vp_abi_area a = {0, VP_ADDR(returned), sizeof returned - 1};
    memcpy(area_buf, &a, sizeof a);
    return VP_ADDR(area_buf);
}

RAW_HANDLER(bad_headers_oob, "bad-headers-oob") {
    (void)ptr, (void)len;
    raw(VP_ADDR(raw_url), sizeof raw_url - 1, mem_end() - 8, 2, 0, VP_ADDR(ret_buf));
    return returned_area();
}

RAW_HANDLER(bad_header_name_oob, "bad-header-name-oob") {
    (void)ptr, (void)len;
    tuples[0] = mem_end() + 16;
    tuples[1] = 4;
    tuples[2] = VP_ADDR(raw_url);
    tuples[3] = 4;
    raw(VP_ADDR(raw_url), sizeof raw_url - 1, VP_ADDR(tuples), 1, 0, VP_ADDR(ret_buf));
    return returned_area();
}

RAW_HANDLER(bad_header_utf8, "bad-header-utf8") {
    (void)ptr, (void)len;
    tuples[0] = VP_ADDR(raw_url);
    tuples[1] = 4;
    tuples[2] = VP_ADDR(bad_utf8);
    tuples[3] = 2;
    raw(VP_ADDR(raw_url), sizeof raw_url - 1, VP_ADDR(tuples), 1, 0, VP_ADDR(ret_buf));
    return returned_area();
}

RAW_HANDLER(bad_url_utf8, "bad-url-utf8") {
    (void)ptr, (void)len;
    raw(VP_ADDR(bad_utf8), 2, 0, 0, 0, VP_ADDR(ret_buf));
    return returned_area();
}

RAW_HANDLER(bad_too_many_headers, "bad-too-many-headers") {
    (void)ptr, (void)len;
    memset(tuples, 0, sizeof tuples);
    raw(VP_ADDR(raw_url), sizeof raw_url - 1, VP_ADDR(tuples), 257, 0, VP_ADDR(ret_buf));
    return returned_area();
}

RAW_HANDLER(bad_body_len, "bad-body-len") {
    (void)ptr, (void)len;
    raw(VP_ADDR(raw_url), sizeof raw_url - 1, 0, 0, 0xFFFFFFFFu, VP_ADDR(ret_buf));
    return returned_area();
}

RAW_HANDLER(bad_ret_misaligned, "bad-ret-misaligned") {
    (void)ptr, (void)len;
    raw(VP_ADDR(raw_url), sizeof raw_url - 1, 0, 0, 0, VP_ADDR(ret_buf) + 2);
    return returned_area();
}

RAW_HANDLER(bad_ret_oob, "bad-ret-oob") {
    (void)ptr, (void)len;
    raw(VP_ADDR(raw_url), sizeof raw_url - 1, 0, 0, 0, mem_end() - 12);
    return returned_area();
}
