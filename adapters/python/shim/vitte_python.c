/*
 * vitte_python.c: the plugin side of Python plugins. Linked with CPython
 * (libpython3.11.a) into a WASI reactor, it is the interpreter module the
 * runtime instantiates for every plugin of kind "python" (see
 * adapters/python/build.sh and docs/python.md).
 *
 * ABI v1 exports (abi-v1.md):
 *   memory, cabi_realloc, _initialize (wasi-libc's reactor start)
 *   on-load      refuses: the runtime starts a Python plugin with
 *                _vitte_py_init, never on-load, so a python.wasm loaded as a
 *                plain module fails its load with a clear message
 *   on-unload    runs the script's on_unload(), if any
 * Reserved exports (names starting with "_" are never handlers):
 *   _vitte_py_init(entry_ptr, entry_len) -> result<list<u8>, string>
 *       initialises the interpreter, imports the entry script
 *       /plugin/<entry>, runs its on_load(); ok: the handler names, one per
 *       line, in declaration order.
 *   _vitte_py_call(index, in_ptr, in_len) -> result<list<u8>, string>
 *       calls handler number index of that list with the input bytes (the
 *       host allocated them through cabi_realloc; this frees them).
 * Both return a pointer to a 12-byte result area; the bytes it points to
 * stay valid until the next call.
 *
 * The module _vitte (built in) gives the guest kit (lib/vitte_plugin.py) the
 * host imports: log, config_get, call, http_request.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define IMPORT(m, n) __attribute__((import_module(m), import_name(n)))
#define EXPORT(n) __attribute__((export_name(n)))

IMPORT("vitte:plugin/host@1.0.0", "log")
void vh_log(int32_t level, const char *msg, size_t len);
IMPORT("vitte:plugin/host@1.0.0", "config-get")
void vh_config_get(const char *key, size_t key_len, void *ret);
IMPORT("vitte:plugin/host@1.0.0", "call")
void vh_call(const char *name, size_t name_len, const void *payload, size_t payload_len, void *ret);
IMPORT("vitte:plugin/http@1.0.0", "request")
void vh_request(const char *method, size_t method_len, const char *url, size_t url_len,
                const void *headers, size_t headers_len, const void *body, size_t body_len, void *ret);

/* A result<..., string>, option<string>: tag, then (ptr, len). */
typedef struct {
    uint8_t tag;
    uint32_t ptr, len;
} area12;

/* result<response, string>. */
typedef struct {
    uint8_t tag;
    uint8_t pad1[3];
    uint16_t status; /* ok; err: the message's (ptr, len) at 4 and 8 */
    uint16_t pad2;
    uint32_t hptr, hlen, bptr, blen;
} area24;

_Static_assert(sizeof(area12) == 12, "area12");
_Static_assert(sizeof(area24) == 24, "area24");

EXPORT("cabi_realloc")
void *cabi_realloc(void *old, size_t old_size, size_t align, size_t new_size) {
    (void)old_size;
    if (new_size == 0) {
        free(old);
        return (void *)align; /* a valid, aligned, empty allocation */
    }
    void *p = realloc(old, new_size);
    if (p == NULL) {
        __builtin_trap();
    }
    return p;
}

static int started;
static PyObject *kit;        /* the vitte_plugin module */
static PyObject *last;       /* the bytes the last result points into */
static area12 result;        /* the result area returned by init and call */
static PyObject *host_error; /* _vitte.HostError */

/* ret_bytes makes result ok (tag 0) or err (tag 1) pointing into b, a bytes
 * object whose reference it takes. */
static area12 *ret_bytes(uint8_t tag, PyObject *b) {
    Py_XDECREF(last);
    last = b;
    result.tag = tag;
    result.ptr = (uint32_t)(uintptr_t)PyBytes_AS_STRING(b);
    result.len = (uint32_t)PyBytes_GET_SIZE(b);
    return &result;
}

static area12 *ret_cstr(const char *msg) {
    PyObject *b = PyBytes_FromString(msg);
    if (b == NULL) {
        __builtin_trap();
    }
    return ret_bytes(1, b);
}

/* ret_exception turns the pending exception into an err result: the kit's
 * _format (type, message, trimmed traceback), or the bare type when even
 * that fails. */
static area12 *ret_exception(void) {
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (tb != NULL && value != NULL) {
        PyException_SetTraceback(value, tb);
    }
    PyObject *msg = NULL;
    if (kit != NULL && value != NULL) {
        msg = PyObject_CallMethod(kit, "_format", "O", value);
    }
    if (msg == NULL) {
        PyErr_Clear();
        msg = PyUnicode_FromFormat("%s (and formatting it failed)",
                                   type ? ((PyTypeObject *)type)->tp_name : "unknown error");
    }
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(tb);
    PyObject *b = msg ? PyUnicode_AsEncodedString(msg, "utf-8", "replace") : NULL;
    Py_XDECREF(msg);
    if (b == NULL) {
        PyErr_Clear();
        return ret_cstr("python: an exception that cannot be printed");
    }
    return ret_bytes(1, b);
}

/* --- _vitte: the host imports, for the kit ---------------------------------- */

static PyObject *v_log(PyObject *self, PyObject *args) {
    int level;
    const char *msg;
    Py_ssize_t n;
    if (!PyArg_ParseTuple(args, "is#:log", &level, &msg, &n)) {
        return NULL;
    }
    if (level < 0 || level > 4) {
        PyErr_Format(PyExc_ValueError, "log level %d is not 0 (trace) to 4 (error)", level);
        return NULL;
    }
    vh_log(level, msg, (size_t)n);
    Py_RETURN_NONE;
}

/* take_str makes a str of host-allocated UTF-8 (ptr, len) and frees it. */
static PyObject *take_str(uint32_t ptr, uint32_t len) {
    PyObject *s = PyUnicode_DecodeUTF8((const char *)(uintptr_t)ptr, len, "strict");
    free((void *)(uintptr_t)ptr);
    return s;
}

static PyObject *take_bytes(uint32_t ptr, uint32_t len) {
    PyObject *b = PyBytes_FromStringAndSize((const char *)(uintptr_t)ptr, len);
    free((void *)(uintptr_t)ptr);
    return b;
}

/* raise_host raises HostError with the host's error message (ptr, len). */
static PyObject *raise_host(uint32_t ptr, uint32_t len) {
    PyObject *msg = take_str(ptr, len);
    if (msg != NULL) {
        PyErr_SetObject(host_error, msg);
        Py_DECREF(msg);
    }
    return NULL;
}

static PyObject *v_config_get(PyObject *self, PyObject *args) {
    const char *key;
    Py_ssize_t n;
    if (!PyArg_ParseTuple(args, "s#:config_get", &key, &n)) {
        return NULL;
    }
    area12 r = {0};
    vh_config_get(key, (size_t)n, &r);
    if (r.tag == 0) {
        Py_RETURN_NONE;
    }
    return take_str(r.ptr, r.len);
}

static PyObject *v_call(PyObject *self, PyObject *args) {
    const char *name;
    Py_ssize_t name_len;
    Py_buffer payload;
    if (!PyArg_ParseTuple(args, "s#y*:call", &name, &name_len, &payload)) {
        return NULL;
    }
    area12 r = {0};
    vh_call(name, (size_t)name_len, payload.buf, (size_t)payload.len, &r);
    PyBuffer_Release(&payload);
    if (r.tag != 0) {
        return raise_host(r.ptr, r.len);
    }
    return take_bytes(r.ptr, r.len);
}

static PyObject *v_http_request(PyObject *self, PyObject *args) {
    const char *method, *url;
    Py_ssize_t method_len, url_len;
    PyObject *headers;
    Py_buffer body;
    if (!PyArg_ParseTuple(args, "s#s#O!y*:http_request", &method, &method_len, &url, &url_len,
                          &PyList_Type, &headers, &body)) {
        return NULL;
    }
    Py_ssize_t nh = PyList_GET_SIZE(headers);
    uint32_t *hs = PyMem_Calloc((size_t)nh + 1, 16);
    if (hs == NULL) {
        PyBuffer_Release(&body);
        return PyErr_NoMemory();
    }
    for (Py_ssize_t i = 0; i < nh; i++) {
        PyObject *kv = PyList_GET_ITEM(headers, i);
        const char *k, *v;
        Py_ssize_t kn, vn;
        if (!PyTuple_Check(kv) || PyTuple_GET_SIZE(kv) != 2 ||
            (k = PyUnicode_AsUTF8AndSize(PyTuple_GET_ITEM(kv, 0), &kn)) == NULL ||
            (v = PyUnicode_AsUTF8AndSize(PyTuple_GET_ITEM(kv, 1), &vn)) == NULL) {
            if (!PyErr_Occurred()) {
                PyErr_SetString(PyExc_TypeError, "http_request: a header is a (str, str) tuple");
            }
            PyMem_Free(hs);
            PyBuffer_Release(&body);
            return NULL;
        }
        hs[4 * i] = (uint32_t)(uintptr_t)k;
        hs[4 * i + 1] = (uint32_t)kn;
        hs[4 * i + 2] = (uint32_t)(uintptr_t)v;
        hs[4 * i + 3] = (uint32_t)vn;
    }
    area24 r = {0};
    vh_request(method, (size_t)method_len, url, (size_t)url_len, hs, (size_t)nh, body.buf,
               (size_t)body.len, &r);
    PyMem_Free(hs);
    PyBuffer_Release(&body);
    if (r.tag != 0) {
        area12 *e = (area12 *)&r;
        return raise_host(e->ptr, e->len);
    }
    PyObject *list = PyList_New(0);
    const uint32_t *rh = (const uint32_t *)(uintptr_t)r.hptr;
    int ok = list != NULL;
    for (uint32_t i = 0; i < r.hlen; i++) {
        PyObject *k = take_str(rh[4 * i], rh[4 * i + 1]);
        PyObject *v = take_str(rh[4 * i + 2], rh[4 * i + 3]);
        PyObject *t = (ok && k && v) ? PyTuple_Pack(2, k, v) : NULL;
        Py_XDECREF(k);
        Py_XDECREF(v);
        ok = ok && t != NULL && PyList_Append(list, t) == 0;
        Py_XDECREF(t);
    }
    free((void *)(uintptr_t)r.hptr);
    PyObject *b = take_bytes(r.bptr, r.blen);
    if (!ok || b == NULL) {
        Py_XDECREF(list);
        Py_XDECREF(b);
        return NULL;
    }
    PyObject *out = Py_BuildValue("(iNN)", (int)r.status, list, b);
    return out;
}

static PyMethodDef vitte_methods[] = {
    {"log", v_log, METH_VARARGS, "log(level, message): host.log"},
    {"config_get", v_config_get, METH_VARARGS, "config_get(key) -> str | None: host.config-get"},
    {"call", v_call, METH_VARARGS, "call(name, payload) -> bytes: host.call"},
    {"http_request", v_http_request, METH_VARARGS,
     "http_request(method, url, headers, body) -> (status, headers, body): http.request"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef vitte_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_vitte",
    .m_doc = "Host imports of vitte-plugin ABI v1 (use vitte_plugin).",
    .m_size = -1,
    .m_methods = vitte_methods,
};

static PyObject *init_vitte(void) {
    PyObject *m = PyModule_Create(&vitte_module);
    if (m == NULL) {
        return NULL;
    }
    host_error = PyErr_NewExceptionWithDoc("_vitte.HostError",
                                           "A host function refused or failed the request.",
                                           PyExc_Exception, NULL);
    if (host_error == NULL || PyModule_AddObjectRef(m, "HostError", host_error) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}

/* --- the plugin exports ----------------------------------------------------- */

static const wchar_t *search_path[] = {
    L"/python/python311.zip", /* the standard library and the kit, read-only */
    L"/plugin",               /* the plugin's files, read-only */
    L"/plugin/files",
};

static area12 *status_error(PyStatus st) {
    char buf[256];
    snprintf(buf, sizeof buf, "python: initialisation failed: %s%s%s", st.func ? st.func : "",
             st.func ? ": " : "", st.err_msg ? st.err_msg : "unknown error");
    return ret_cstr(buf);
}

EXPORT("_vitte_py_init")
area12 *vitte_py_init(char *entry, size_t entry_len) {
    if (started) {
        free(entry);
        return ret_cstr("python: _vitte_py_init called twice");
    }
    started = 1;
    if (PyImport_AppendInittab("_vitte", init_vitte) < 0) {
        free(entry);
        return ret_cstr("python: cannot register the _vitte module");
    }
    PyConfig config;
    PyConfig_InitIsolatedConfig(&config);
    config.site_import = 0;
    config.write_bytecode = 0;
    config.buffered_stdio = 0;
    config.install_signal_handlers = 0;
    config.pathconfig_warnings = 0;
    config.module_search_paths_set = 1;
    /* Fixed paths, so that getpath resolves nothing outside /python (with
     * no program name it would readlink("/"), a denial on record). */
    PyStatus st = PyConfig_SetString(&config, &config.home, L"/python");
    if (!PyStatus_Exception(st)) {
        st = PyConfig_SetString(&config, &config.program_name, L"/python/python3.11");
    }
    if (!PyStatus_Exception(st)) {
        st = PyConfig_SetString(&config, &config.executable, L"/python/python3.11");
    }
    for (size_t i = 0; !PyStatus_Exception(st) && i < sizeof search_path / sizeof *search_path; i++) {
        st = PyWideStringList_Append(&config.module_search_paths, search_path[i]);
    }
    if (!PyStatus_Exception(st)) {
        st = Py_InitializeFromConfig(&config);
    }
    PyConfig_Clear(&config);
    if (PyStatus_Exception(st)) {
        free(entry);
        return status_error(st);
    }
    kit = PyImport_ImportModule("vitte_plugin");
    if (kit == NULL) {
        free(entry);
        return ret_exception();
    }
    PyObject *rel = PyUnicode_DecodeUTF8(entry, (Py_ssize_t)entry_len, "strict");
    free(entry);
    PyObject *path = rel ? PyUnicode_FromFormat("/plugin/%U", rel) : NULL;
    Py_XDECREF(rel);
    PyObject *names = path ? PyObject_CallMethod(kit, "_start", "O", path) : NULL;
    Py_XDECREF(path);
    if (names == NULL) {
        return ret_exception();
    }
    PyObject *nl = PyUnicode_FromString("\n");
    PyObject *joined = nl ? PyUnicode_Join(nl, names) : NULL;
    Py_XDECREF(nl);
    Py_DECREF(names);
    PyObject *b = joined ? PyUnicode_AsUTF8String(joined) : NULL;
    Py_XDECREF(joined);
    if (b == NULL) {
        return ret_exception();
    }
    return ret_bytes(0, b);
}

EXPORT("_vitte_py_call")
area12 *vitte_py_call(uint32_t index, char *in, size_t in_len) {
    if (!started || kit == NULL) {
        free(in);
        return ret_cstr("python: the plugin is not started");
    }
    PyObject *data = PyBytes_FromStringAndSize(in, (Py_ssize_t)in_len);
    free(in);
    if (data == NULL) {
        return ret_exception();
    }
    PyObject *out = PyObject_CallMethod(kit, "_call", "IO", (unsigned int)index, data);
    Py_DECREF(data);
    if (out == NULL) {
        return ret_exception();
    }
    if (!PyBytes_Check(out)) {
        Py_DECREF(out);
        return ret_cstr("python: the kit returned something other than bytes");
    }
    return ret_bytes(0, out);
}

static area12 unit_err;

EXPORT("on-load")
area12 *vitte_on_load(void) {
    static const char msg[] =
        "this module is the Python interpreter of vitte-plugin: load a plugin of kind \"python\" "
        "instead (its plugin.toml names the entry script)";
    if (started) {
        unit_err.tag = 0;
        return &unit_err;
    }
    unit_err.tag = 1;
    unit_err.ptr = (uint32_t)(uintptr_t)msg;
    unit_err.len = sizeof msg - 1;
    return &unit_err;
}

EXPORT("on-unload")
void vitte_on_unload(void) {
    if (!started || kit == NULL) {
        return;
    }
    PyObject *r = PyObject_CallMethod(kit, "_unload", NULL);
    if (r == NULL) {
        area12 *e = ret_exception();
        fprintf(stderr, "python: on_unload failed: %.*s\n", (int)e->len, (const char *)(uintptr_t)e->ptr);
    }
    Py_XDECREF(r);
}
