"""caps-py: the environment and host-call probes of testdata/wasm/caps-c, in
Python, for runtime/python_test.go.

  env      the value of the variable named by the input (os.environ, then
           os.getenv), or the error "env: <name> is not set"
  environ  every variable the plugin sees, one "K=V" per line (os.environ)
  host     host_call(input, b"ping"): the result, or an error with the
           host's refusal
  files    the plugin's own folder as the guest sees it: /plugin, read-only
  count    how many times count ran in this instance (a fresh instance: 1)
  spin     loops forever (timeout test)
  crash    overflows the C stack (trap test)
  sandbox  what threads, subprocesses and sockets do (they fail)
"""
import os

import vitte_plugin as vp


@vp.export
def env(data):
    name = data.decode("utf-8")
    v = os.environ.get(name)
    if v is None or os.getenv(name) is None:
        raise vp.Error("env: %s is not set" % name)
    return v


@vp.export
def environ(data):
    return "".join("%s=%s\n" % kv for kv in sorted(os.environ.items()))


@vp.export
def host(data):
    try:
        return vp.host_call(data.decode("utf-8"), b"ping")
    except vp.HostError as e:
        raise vp.Error("host: " + str(e))


@vp.export
def files(data):
    names = sorted(os.listdir("/plugin"))
    try:
        with open("/plugin/new.txt", "w") as f:
            f.write("x")
        wrote = "wrote"
    except OSError as e:
        wrote = e.strerror
    return " ".join(names) + "; write: " + wrote


_calls = 0


def on_load():
    print("caps-py: loaded")


@vp.export
def count(data):
    """How many times count ran in this instance."""
    global _calls
    _calls += 1
    return str(_calls)


@vp.export
def spin(data):
    """Never returns: the call's timeout stops it."""
    n = 0
    while True:
        n += 1


@vp.export
def crash(data):
    """Overflows the interpreter's C stack: a trap, not an exception."""
    import json
    import sys

    sys.setrecursionlimit(1 << 30)
    nested = []
    for _ in range(1 << 16):
        nested = [nested]
    return json.dumps(nested)  # the C encoder recurses once per level


def _attempt(f):
    try:
        f()
        return "ran"
    except Exception as e:
        return type(e).__name__ + ": " + str(e)


@vp.export
def sandbox(data):
    """What Python's escape hatches do in the sandbox: one line each."""
    import os
    import socket
    import subprocess
    import threading

    return "\n".join([
        "thread " + _attempt(lambda: threading.Thread(target=print).start()),
        "subprocess " + _attempt(lambda: subprocess.run(["ls"])),
        "system " + _attempt(lambda: os.system("ls")),
        "fork " + _attempt(lambda: os.fork()),
        "socket " + _attempt(lambda: socket.create_connection(("127.0.0.1", 80))),
        "raw socket " + _attempt(lambda: socket.socket().connect(("127.0.0.1", 80))),
    ])
