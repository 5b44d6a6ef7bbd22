#!/usr/bin/env bash
# build.sh: builds the CPython interpreter module that runs Python plugins
# (kind = "python"): CPython 3.11.2 from Debian 12's source package
# python3.11, cross-compiled to wasm32-wasi as a reactor module by Debian's
# clang-16, linked with the plugin shim (shim/vitte_python.c), plus the
# standard library and the guest kit (lib/vitte_plugin.py) as a zip of
# compiled modules.
#
# Outputs, in $VITTE_PYTHON_DIR (default: the user cache dir, see below):
#   python.wasm         the interpreter module (custom section "vitte:python")
#   lib/python311.zip   the standard library and the guest kit, which the
#                       runtime mounts read-only at /python
#   BUILDINFO           versions, sizes and build time, for humans
#
# The default output folder is ${XDG_CACHE_HOME:-~/.cache}/vitte/python/<key>
# where <key> is the first 16 hex digits of the SHA-256 of this folder's
# build inputs (build.sh, Setup.local, mkzip.py, shim/, lib/): the runtime
# (runtime/python.go) computes the same key from its embedded copy of the
# inputs, so a changed script never runs against stale binaries. When the
# outputs are already there the script does nothing.
#
# Nothing from CPython, zlib or the build is committed (see docs/python.md).
# Pinned: python3.11 3.11.2-6+deb12u8 and zlib 1:1.2.13.dfsg-1 from
# bookworm main, checked against the SHA-256 below.
#
# Usage: bash adapters/python/build.sh [--print-dir]
# Needs: root for apt-get when a package is missing (as
# scripts/install-toolchains.sh); about 2-3 minutes on 2 cores.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

PY_SRC_PKG=python3.11
PY_SRC_VERSION=3.11.2-6+deb12u8
PY_VERSION=3.11.2
PY_DSC_SHA256=197fa19ab45f41c820f40f6d9ead671c2ea29ddc53ba9424b36f1bf58458a10e
ZLIB_SRC_VERSION=1:1.2.13.dfsg-1
BUILD_PYTHON=/usr/bin/python3.11

die() { echo "python build: error: $*" >&2; exit 1; }
log() { echo "python build: $*" >&2; }

# key: the same digest runtime/python.go computes (inputKey): SHA-256 over
# "<path>\0<len>\0<content>" of each input in sorted order.
key=$(cd "$here" && "$BUILD_PYTHON" - <<'PYEOF'
import hashlib, os
files = ["Setup.local", "build.sh", "mkzip.py"]
for d in ("lib", "shim"):
    for root, _, names in os.walk(d):
        files += [os.path.join(root, n) for n in names]
h = hashlib.sha256()
for f in sorted(files):
    data = open(f, "rb").read()
    h.update(f.encode() + b"\0" + str(len(data)).encode() + b"\0" + data)
print(h.hexdigest()[:16])
PYEOF
)
cache_home=${XDG_CACHE_HOME:-$HOME/.cache}
out=${VITTE_PYTHON_DIR:-$cache_home/vitte/python/$key}

if [ "${1:-}" = "--print-dir" ]; then
    echo "$out"
    exit 0
fi

if [ -f "$out/python.wasm" ] && [ -f "$out/lib/python311.zip" ]; then
    log "up to date: $out"
    exit 0
fi

start=$SECONDS

# --- toolchain ---------------------------------------------------------------
need_pkgs=()
command -v clang-16 >/dev/null || need_pkgs+=(clang-16)
command -v wasm-ld-16 >/dev/null || need_pkgs+=(lld-16)
command -v llvm-ar-16 >/dev/null || need_pkgs+=(llvm-16)
[ -f /usr/lib/wasm32-wasi/libc.a ] || need_pkgs+=(wasi-libc)
[ -f /usr/lib/llvm-16/lib/clang/16/lib/wasi/libclang_rt.builtins-wasm32.a ] || need_pkgs+=(libclang-rt-16-dev-wasm32)
command -v wasm-opt >/dev/null || need_pkgs+=(binaryen)
command -v dpkg-source >/dev/null || need_pkgs+=(dpkg-dev)
[ -x "$BUILD_PYTHON" ] || need_pkgs+=(python3.11)
command -v make >/dev/null || need_pkgs+=(make)

# Debian's source index: a deb-src entry mirroring the bookworm main entry.
src_list=/etc/apt/sources.list.d/vitte-debian-src.sources
have_src() { apt-cache showsrc "$PY_SRC_PKG" 2>/dev/null | grep -qx "Version: $PY_SRC_VERSION"; }
if [ "${#need_pkgs[@]}" -ne 0 ] || ! have_src; then
    [ "$(id -u)" -eq 0 ] || die "missing ${need_pkgs[*]:-} (or the deb-src index); run as root: sudo bash $0"
    if ! have_src; then
        log "adding $src_list"
        cat >"$src_list" <<SRC
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >&2
    if [ "${#need_pkgs[@]}" -ne 0 ]; then
        log "installing ${need_pkgs[*]}"
        apt-get install -y -q --no-install-recommends "${need_pkgs[@]}" >&2
    fi
    have_src || die "apt has no source for $PY_SRC_PKG $PY_SRC_VERSION"
fi
[ "$("$BUILD_PYTHON" -c 'import platform; print(platform.python_version())')" = "$PY_VERSION" ] ||
    die "$BUILD_PYTHON is not Python $PY_VERSION (it must match the target to freeze modules)"

# --- sources -------------------------------------------------------------------
work=${VITTE_PYTHON_WORK:-}
if [ -z "$work" ]; then
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
fi
mkdir -p "$work"
cd "$work"
export LC_ALL=C TZ=UTC SOURCE_DATE_EPOCH=0 PYTHONHASHSEED=0

if [ ! -d src ]; then
    log "fetching $PY_SRC_PKG $PY_SRC_VERSION and zlib $ZLIB_SRC_VERSION (Debian sources)"
    mkdir -p dl && (cd dl && apt-get source -q --download-only "$PY_SRC_PKG=$PY_SRC_VERSION" "zlib=$ZLIB_SRC_VERSION" >&2)
    echo "$PY_DSC_SHA256  dl/${PY_SRC_PKG}_${PY_SRC_VERSION#*:}.dsc" | sha256sum -c --quiet ||
        die "checksum mismatch on the $PY_SRC_PKG source package"
    # dpkg-source checks every file against the .dsc's checksums, then
    # applies Debian's patches (including its security fixes).
    dpkg-source -q --no-check -x "dl/${PY_SRC_PKG}_${PY_SRC_VERSION}.dsc" src >&2 ||
        die "unpacking $PY_SRC_PKG"
    dpkg-source -q --no-check -x dl/zlib_*.dsc zlib-src >&2 || die "unpacking zlib"
fi

# --- cross toolchain -----------------------------------------------------------
# A sysroot of symlinks: with --sysroot=/usr Debian's clang would also search
# the host's /usr/include.
mkdir -p sysroot/lib
ln -sfn /usr/include/wasm32-wasi sysroot/include
ln -sfn /usr/lib/wasm32-wasi sysroot/lib/wasm32-wasi
CC="clang-16 --target=wasm32-wasi --sysroot=$work/sysroot"
AR=llvm-ar-16
RANLIB=llvm-ranlib-16
common_cflags="-O2 -ffile-prefix-map=$work/=/ -fdebug-prefix-map=$work/=/"

# --- zlib ----------------------------------------------------------------------
if [ ! -f zlib/libz.a ]; then
    log "building zlib"
    mkdir -p zlib
    for f in adler32 compress crc32 deflate infback inffast inflate inftrees trees uncompr zutil; do
        $CC $common_cflags -w -DHAVE_UNISTD_H -c "zlib-src/$f.c" -o "zlib/$f.o"
    done
    $AR rcD zlib/libz.a zlib/*.o
    cp zlib-src/zlib.h zlib-src/zconf.h zlib/
fi

# --- CPython ---------------------------------------------------------------------
if [ ! -f cpython/libpython3.11.a ]; then
    log "configuring CPython $PY_VERSION for wasm32-wasi"
    cp "$here/Setup.local" src/Modules/Setup.local
    rm -rf cpython && mkdir cpython
    (
        cd cpython
        # clock_nanosleep: wazero refuses absolute clock waits, which breaks
        # time.sleep; plain nanosleep works.
        CONFIG_SITE=../src/Tools/wasm/config.site-wasm32-wasi \
        CC="$CC" CPP="$CC -E" AR=$AR RANLIB=$RANLIB \
        CFLAGS="$common_cflags -Wno-error=int-conversion" \
        ZLIB_CFLAGS="-I$work/zlib" ZLIB_LIBS="-L$work/zlib -lz" \
        PKG_CONFIG_PATH= PKG_CONFIG_LIBDIR=/nonexistent \
        ac_cv_func_clock_nanosleep=no ac_cv_lib_rt_clock_nanosleep=no \
        ../src/configure -q \
            --host=wasm32-unknown-wasi --build=x86_64-pc-linux-gnu \
            --with-build-python="$BUILD_PYTHON" \
            --disable-ipv6 --disable-test-modules --without-ensurepip \
            --with-pymalloc --disable-shared >&2
    ) || die "configure failed"
    log "compiling CPython (libpython3.11.a)"
    make -C cpython -j"$(nproc)" -s libpython3.11.a Modules/_decimal/libmpdec/libmpdec.a \
        Modules/expat/libexpat.a pybuilddir.txt >&2 || die "make failed"
fi

# --- the interpreter module ------------------------------------------------------
log "linking the reactor module"
# wasi-libc's emulations (signal, getpid, process clocks) that configure chose.
py_libs=$(sed -n 's/^LIBS=[[:space:]]*//p' cpython/Makefile)
rm -f cpython/vitte_python.o python.raw.wasm
# -ffile-prefix-map: the shim's path (a checkout, or the folder `vitte plugin
# runtime install` extracts to) must not reach the module through __FILE__.
$CC $common_cflags -DNDEBUG -ffile-prefix-map="$here"=adapters/python -Wall -Wextra -Werror -Wno-unused-parameter \
    -I cpython -I src/Include -I src/Include/internal -DPy_BUILD_CORE \
    -c "$here/shim/vitte_python.c" -o cpython/vitte_python.o
$CC -mexec-model=reactor -Wl,--strip-debug -Wl,--stack-first -z stack-size=1048576 \
    -Wl,--initial-memory=16777216 \
    cpython/vitte_python.o cpython/libpython3.11.a \
    cpython/Modules/_decimal/libmpdec/libmpdec.a cpython/Modules/expat/libexpat.a \
    zlib/libz.a $py_libs -lm \
    -o python.raw.wasm || die "link failed"
wasm-opt -O2 --enable-sign-ext --enable-mutable-globals --enable-bulk-memory \
    --strip-debug --strip-producers python.raw.wasm -o python.opt.wasm || die "wasm-opt failed"
# The version section, appended by mkzip.py's helper (custom section "vitte:python").
"$BUILD_PYTHON" "$here/mkzip.py" section python.opt.wasm python.wasm \
    "cpython=$PY_VERSION" "debian-source=$PY_SRC_PKG $PY_SRC_VERSION" "zlib=$ZLIB_SRC_VERSION"

# --- the standard library zip ----------------------------------------------------
log "zipping the standard library"
# The build's sysconfig data records the build folder: make it fixed, so
# that the zip does not depend on (or reveal) where it was built.
sed -i "s#$work#/build#g" cpython/build/lib.*/_sysconfigdata_*.py
"$BUILD_PYTHON" "$here/mkzip.py" stdlib src/Lib "cpython/$(cat cpython/pybuilddir.txt)" \
    "$here/lib" python311.zip

mkdir -p "$out.tmp.$$/lib"
cp python.wasm "$out.tmp.$$/"
cp python311.zip "$out.tmp.$$/lib/"
{
    echo "key=$key"
    echo "cpython=$PY_VERSION"
    echo "debian-source=$PY_SRC_PKG $PY_SRC_VERSION"
    echo "zlib=$ZLIB_SRC_VERSION"
    echo "python.wasm=$(stat -c %s python.wasm)"
    echo "python311.zip=$(stat -c %s python311.zip)"
    echo "build-seconds=$((SECONDS - start))"
} >"$out.tmp.$$/BUILDINFO"
mkdir -p "$(dirname "$out")"
rm -rf "$out"
mv "$out.tmp.$$" "$out"
log "done: $out"
cat "$out/BUILDINFO" >&2
