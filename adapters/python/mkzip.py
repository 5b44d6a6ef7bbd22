"""mkzip.py: build helpers for adapters/python/build.sh, run by the build
Python (Debian's /usr/bin/python3.11, the same version as the target).

  mkzip.py section IN.wasm OUT.wasm key=value...
      appends the custom section "vitte:python" holding the key=value lines.
  mkzip.py stdlib LIBDIR BUILDLIBDIR KITDIR OUT.zip
      writes the standard library, compiled, into a zip that zipimport reads.

The zip is reproducible: entries sorted, fixed timestamps, unchecked-hash
.pyc files (PEP 552), so that neither the clock nor the paths of the build
reach the output.
"""
import importlib.util
import os
import sys
import zipfile

# Packages and modules that cannot work in the sandbox (no threads,
# processes, sockets, GUI, terminal) or only serve development, left out to
# keep the zip small. docs/python.md lists what remains.
EXCLUDE = {
    "test", "idlelib", "tkinter", "turtledemo", "turtle.py", "ensurepip",
    "venv", "lib2to3", "distutils", "pydoc_data", "unittest", "multiprocessing",
    "concurrent", "asyncio", "curses", "dbm", "sqlite3", "ctypes", "xmlrpc",
    "wsgiref", "msilib", "__phello__", "site-packages", "config-3.11-x86_64-linux-gnu",
    "_bootsubprocess.py", "pydoc.py", "antigravity.py", "this.py", "_aix_support.py",
    "_osx_support.py", "smtpd.py", "asyncore.py", "asynchat.py", "imaplib.py",
    "nntplib.py", "poplib.py", "smtplib.py", "ftplib.py", "telnetlib.py",
    "socketserver.py", "webbrowser.py", "_pydecimal.py", "pty.py", "tty.py",
}

EPOCH = (1980, 1, 1, 0, 0, 0)


def leb128(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def section(src, dst, pairs):
    name = b"vitte:python"
    payload = "".join(p + "\n" for p in pairs).encode()
    body = leb128(len(name)) + name + payload
    with open(src, "rb") as f:
        data = f.read()
    if data[:8] != b"\0asm\x01\0\0\0":
        sys.exit(f"mkzip: {src}: not a WebAssembly module")
    with open(dst + ".tmp", "wb") as f:
        f.write(data + b"\0" + leb128(len(body)) + body)
    os.replace(dst + ".tmp", dst)


def pyc(source, path):
    code = compile(source, path, "exec", dont_inherit=True, optimize=0)
    import marshal
    # PEP 552 header: magic, flags=0b01 (hash-based, unchecked), source hash.
    flags = (1).to_bytes(4, "little")
    return importlib.util.MAGIC_NUMBER + flags + importlib.util.source_hash(source) + marshal.dumps(code)


def walk(root):
    for dirpath, dirnames, filenames in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        dirnames[:] = sorted(d for d in dirnames if d not in EXCLUDE and d != "__pycache__"
                             and not (rel == "." and d in EXCLUDE))
        for n in sorted(filenames):
            if n.endswith(".py") and not (rel == "." and n in EXCLUDE):
                yield os.path.normpath(os.path.join(rel, n)), os.path.join(dirpath, n)


def stdlib(libdir, buildlib, kitdir, out):
    entries = {}
    for rel, full in walk(libdir):
        if "/tests/" in "/" + rel or rel.split(os.sep)[0] in EXCLUDE:
            continue
        entries[rel] = full
    for rel, full in walk(buildlib):  # _sysconfigdata_*.py
        entries[rel] = full
    for rel, full in walk(kitdir):
        entries[rel] = full
    # Debian's sysconfig looks for _sysconfigdata_<abiflags>_<multiarch>;
    # the cross build writes _sysconfigdata_<abiflags>_<machdep>_<multiarch>.
    for rel in list(entries):
        if rel.startswith("_sysconfigdata__wasi_"):
            entries["_sysconfigdata__" + rel[len("_sysconfigdata__wasi_"):]] = entries[rel]
    tmp = out + ".tmp"
    with zipfile.ZipFile(tmp, "w") as z:
        for rel in sorted(entries):
            with open(entries[rel], "rb") as f:
                source = f.read()
            arc = rel.replace(os.sep, "/")
            info = zipfile.ZipInfo(arc[:-3] + ".pyc", EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, pyc(source, "<stdlib>/" + arc), compresslevel=9)
    os.replace(tmp, out)


def main(argv):
    if len(argv) >= 3 and argv[0] == "section":
        section(argv[1], argv[2], argv[3:])
    elif len(argv) == 5 and argv[0] == "stdlib":
        stdlib(*argv[1:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
