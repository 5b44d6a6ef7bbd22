"""fs-probe-py: the file system probes of testdata/wasm/fs-probe (C), written
with Python's own file APIs (open, os, pathlib), for the escape tests
(runtime/fs_test.go). Every handler returns ok bytes: "ok: ..." or
"error: <strerror>", exactly as the C probe does.

  read     input: path              "ok: <content>"             open()
  write    input: "path\ncontent"   "ok: wrote <n> bytes"       open("w")
  append   input: "path\ncontent"   "ok: wrote <n> bytes"       pathlib open("a")
  list     input: directory         "ok: <sorted names>"         os.listdir
  stat     input: path              "ok: <file|dir|link|other> <size>"  pathlib stat
  lstat    input: path              the same, without following a final link
  symlink  input: "target\nlink"    "ok"                         os.symlink
  link     input: "old\nnew"        "ok"                         os.link
  readlink input: path              "ok: <target>"               os.readlink
  rename   input: "from\nto"        "ok"                         os.rename
  unlink   input: path              "ok"                         pathlib unlink
  mkdir    input: path              "ok"                         os.mkdir
  rmdir    input: path              "ok"                         os.rmdir
  utimes   input: path              "ok"                         os.utime
  truncate input: path              "ok"                         os.truncate
"""
import os
import pathlib
import stat as st

import vitte_plugin as vp


def probe(fn):
    """Registers fn as a handler taking the input as str, turning an
    OSError into "error: <strerror>"."""

    def run(data):
        try:
            return fn(data.decode("utf-8"))
        except OSError as e:
            return "error: " + (e.strerror or str(e))

    run.__name__ = fn.__name__
    return vp.export(run)


def two(s):
    a, _, b = s.partition("\n")
    return a, b


@probe
def read(path):
    with open(path, "rb") as f:
        return b"ok: " + f.read()


@probe
def write(s):
    path, content = two(s)
    with open(path, "w", encoding="utf-8") as f:
        n = f.write(content)
    return "ok: wrote %d bytes" % n


@probe
def append(s):
    path, content = two(s)
    with pathlib.Path(path).open("a", encoding="utf-8") as f:
        n = f.write(content)
    return "ok: wrote %d bytes" % n


@probe
def list(path):
    names = sorted(os.listdir(path))
    return "ok: " + " ".join(names) if names else "ok:"


def describe(info):
    kind = "file" if st.S_ISREG(info.st_mode) else "dir" if st.S_ISDIR(info.st_mode) else "link" if st.S_ISLNK(info.st_mode) else "other"
    return "ok: %s %d" % (kind, info.st_size)


@probe
def stat(path):
    return describe(pathlib.Path(path).stat())


@probe
def lstat(path):
    return describe(os.lstat(path))


@probe
def symlink(s):
    target, link = two(s)
    os.symlink(target, link)
    return "ok"


@probe
def link(s):
    old, new = two(s)
    # The default follow_symlinks=True is link(2), which WASI does without
    # following a final symbolic link, as the C probe's link() does.
    # follow_symlinks=False goes through linkat(), which Debian's wasi-libc
    # (2022-05-10) resolves new against old's preopened folder.
    os.link(old, new)
    return "ok"


@probe
def readlink(path):
    return "ok: " + os.readlink(path)


@probe
def rename(s):
    a, b = two(s)
    os.rename(a, b)
    return "ok"


@probe
def unlink(path):
    pathlib.Path(path).unlink()
    return "ok"


@probe
def mkdir(path):
    os.mkdir(path, 0o755)
    return "ok"


@probe
def rmdir(path):
    os.rmdir(path)
    return "ok"


@probe
def utimes(path):
    os.utime(path)
    return "ok"


@probe
def truncate(path):
    os.truncate(path, 0)
    return "ok"
