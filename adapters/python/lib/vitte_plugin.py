"""vitte_plugin: the guest kit for Python plugins of vitte-plugin.

A plugin is a script (plugin.toml's [plugin].module, e.g. main.py) that the
interpreter imports once per instance. It declares its handlers with
@export (alias @handler) and may define on_load() and on_unload():

    import vitte_plugin as vp

    def on_load():
        vp.log.info("ready")

    @vp.export
    def greet(data: bytes) -> bytes:
        return b"hello, " + data

    @vp.export(json=True)
    def add(args):
        return {"sum": args["a"] + args["b"]}

A handler receives the call's input bytes and returns bytes (or str, sent
as UTF-8). With json=True it receives the decoded JSON value and returns a
value that is encoded as compact JSON. raise Error("message") fails the
call with that message; any other exception fails it with its type,
message and the last frames of its traceback (the error result of ABI v1).

The host functions (vitte:plugin/host and vitte:plugin/http):

    log.info(msg), log.warn(msg), log.error(msg), log.debug(msg), log.trace(msg)
    config(key) -> str | None
    host_call(name, payload: bytes) -> bytes       raises HostError
    http.request(method, url, headers=(), body=b"") -> http.Response
                                                   raises HostError

Every one goes through the capability layer: a call or a request the
manifest does not grant fails with HostError, as for any other kind.
"""

import _vitte

__all__ = ["export", "handler", "log", "config", "host_call", "http", "Error", "HostError"]

HostError = _vitte.HostError


class Error(Exception):
    """Raise Error(message) to fail a call with exactly message as its
    error (no exception type, no traceback)."""

# name -> (function, json). Filled while the entry script is imported.
_handlers = {}
_order = []

_RESERVED = ("on-load", "on-unload", "_start", "_initialize", "memory")


def _check_name(name):
    if not isinstance(name, str) or not name:
        raise ValueError("vitte_plugin.export: a handler name is a non-empty string")
    if len(name.encode("utf-8")) > 1024:
        raise ValueError("vitte_plugin.export: handler name %.40r... is over 1024 bytes" % name)
    if name in _RESERVED or name.startswith("_") or name.startswith("cabi_"):
        raise ValueError("vitte_plugin.export: %r is reserved by the ABI (names starting with _ or cabi_, on-load, on-unload)" % name)
    if any(c in name for c in "\n\r\0"):
        raise ValueError("vitte_plugin.export: handler name %r has a control character" % name)


def export(fn=None, *, name=None, json=False):
    """Declare fn a handler, named name (default: fn's name).

    Usable bare (@export) or with arguments (@export(json=True)). Returns
    fn unchanged."""

    def register(f):
        n = f.__name__ if name is None else name
        _check_name(n)
        if n in _handlers:
            raise ValueError("vitte_plugin.export: handler %r is declared twice" % n)
        _handlers[n] = (f, bool(json))
        _order.append(n)
        return f

    if fn is None:
        return register
    if not callable(fn):
        raise TypeError("vitte_plugin.export: use @export or @export(name=..., json=...)")
    return register(fn)


handler = export


class _Log:
    """host.log at each level. The host may rate-limit messages."""

    __slots__ = ()

    def trace(self, msg):
        _vitte.log(0, str(msg))

    def debug(self, msg):
        _vitte.log(1, str(msg))

    def info(self, msg):
        _vitte.log(2, str(msg))

    def warn(self, msg):
        _vitte.log(3, str(msg))

    warning = warn

    def error(self, msg):
        _vitte.log(4, str(msg))


log = _Log()


def config(key, default=None):
    """The plugin's configuration value key (manifest [config], overridden
    by the user), or default when it has none."""
    v = _vitte.config_get(str(key))
    return default if v is None else v


def host_call(name, payload=b""):
    """Call the application's host function name with payload; returns
    its result bytes. Fails with HostError when it is not granted or fails."""
    return _vitte.call(str(name), _bytes(payload, "host_call payload"))


class _Response:
    __slots__ = ("status", "headers", "body")

    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def header(self, name, default=None):
        """The first value of header name (case-insensitive)."""
        n = name.lower()
        for k, v in self.headers:
            if k.lower() == n:
                return v
        return default

    def text(self):
        return self.body.decode("utf-8")

    def json(self):
        import json

        return json.loads(self.body)

    def __repr__(self):
        return "<Response %d, %d bytes>" % (self.status, len(self.body))


class _HTTP:
    """http.request through the capability layer ([capabilities].net)."""

    __slots__ = ()
    Response = _Response

    def request(self, method, url, headers=(), body=b""):
        if isinstance(headers, dict):
            headers = list(headers.items())
        hs = [(str(k), str(v)) for k, v in headers]
        status, rh, rb = _vitte.http_request(str(method), str(url), hs, _bytes(body, "http body"))
        return _Response(status, rh, rb)

    def get(self, url, headers=()):
        return self.request("GET", url, headers)


http = _HTTP()


def _bytes(v, what):
    if isinstance(v, (bytes, bytearray, memoryview)):
        return bytes(v)
    if isinstance(v, str):
        return v.encode("utf-8")
    raise TypeError("%s must be bytes or str, not %s" % (what, type(v).__name__))


# --- called by the interpreter module (adapters/python/shim) -----------------

_entry_module = None


def _start(path):
    """Import the entry script at path as module __plugin__, then run its
    on_load. Returns the handler names, in declaration order."""
    global _entry_module
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location("__plugin__", path)
    if spec is None:
        raise ImportError("cannot import the entry script %s" % path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["__plugin__"] = mod
    spec.loader.exec_module(mod)
    _entry_module = mod
    on_load = getattr(mod, "on_load", None)
    if on_load is not None:
        on_load()
    return list(_order)


def _call(index, data):
    fn, is_json = _handlers[_order[index]]
    if is_json:
        import json

        out = fn(json.loads(data) if data else None)
        return json.dumps(out, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    out = fn(data)
    if out is None:
        return b""
    return _bytes(out, "the result of handler %r" % _order[index])


def _unload():
    on_unload = getattr(_entry_module, "on_unload", None)
    if on_unload is not None:
        on_unload()


def _format(exc, limit=8):
    """The error message of a failed call: "Type: message" then the last
    frames of the traceback, without the kit's own frames."""
    if isinstance(exc, Error):
        return str(exc.args[0]) if len(exc.args) == 1 else str(exc)
    import traceback

    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_globals.get("__name__") == __name__:
        tb = tb.tb_next
    head = "".join(traceback.format_exception_only(type(exc), exc)).rstrip()
    frames = traceback.format_list(traceback.extract_tb(tb)[-limit:])
    if not frames:
        return head
    return head + "\nTraceback (most recent call last):\n" + "".join(frames).rstrip()
