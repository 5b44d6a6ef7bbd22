#!/usr/bin/env bash
# build-spec-c.sh: builds testdata/wasm/spec-c/spec-c.c into spec-c.wasm in
# place, byte for byte reproducibly. spec-c is a plugin written from
# docs/spec/abi-v1.md alone (no guest kit, no header of the project), so it
# is compiled with nothing but wasi-libc on the include path. The .wasm is
# committed; CI rebuilds it and runs `git diff --exit-code testdata/wasm`.
#
# Usage, from anywhere: bash scripts/build-spec-c.sh
# Toolchain: bash scripts/install-toolchains.sh (Debian 12: clang-16, lld-16,
# wasi-libc, libclang-rt-16-dev-wasm32, wabt).
#
# Reproducibility: the build runs from the repository root with relative
# paths; no debug info is emitted or kept (-Wl,--strip-debug also drops the
# DWARF that Debian's libc.a carries), so no path reaches the output; the
# only custom sections left are "name" (function names, for trap
# backtraces), "producers" (the clang version) and "target_features".
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

CC=clang-16
# clang runs binaryen's wasm-opt on the linked module whenever one is on PATH
# (binaryen comes with the Python interpreter's build), which changes the
# output; it looks in its own folder first, then PATH. The fixtures are built
# without it: clang runs from LLVM's folder (no wasm-opt there) with a PATH
# holding only the linker it calls (wasm-ld-16), made below in $work/bin.
cc() { PATH="$work/bin" /usr/lib/llvm-16/bin/clang "$@"; }
BUILTINS=/usr/lib/llvm-16/lib/clang/16/lib/wasi/libclang_rt.builtins-wasm32.a
src=testdata/wasm/spec-c/spec-c.c
out=testdata/wasm/spec-c/spec-c.wasm

die() {
    echo "build-spec-c: error: $*" >&2
    exit 1
}

missing=()
command -v "$CC" >/dev/null || missing+=("$CC")
command -v wasm-ld-16 >/dev/null || missing+=(wasm-ld-16)
[ -f /usr/lib/wasm32-wasi/libc.a ] || missing+=(/usr/lib/wasm32-wasi/libc.a)
[ -f /usr/include/wasm32-wasi/stdio.h ] || missing+=(/usr/include/wasm32-wasi/stdio.h)
[ -f "$BUILTINS" ] || missing+=("$BUILTINS")
command -v wasm-objdump >/dev/null || missing+=(wasm-objdump)
command -v wasm-validate >/dev/null || missing+=(wasm-validate)
if [ "${#missing[@]}" -ne 0 ]; then
    echo "build-spec-c: error: toolchain missing: ${missing[*]}" >&2
    echo "build-spec-c: hint: run bash scripts/install-toolchains.sh (as root)" >&2
    exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/bin"
ln -s "$(command -v wasm-ld-16)" "$work/bin/wasm-ld-16"

export LC_ALL=C TZ=UTC SOURCE_DATE_EPOCH=0

# Debian's wasi-libc lives in /usr/include/wasm32-wasi and /usr/lib/wasm32-wasi.
# With --sysroot=/usr alone, clang would also search the host's /usr/include;
# -nostdlibinc drops it and -idirafter puts wasi-libc back after clang's own
# headers. Linking finds /usr/lib/wasm32-wasi through --sysroot=/usr.
echo "build-spec-c: $(cc --version | head -n1)"
echo "build-spec-c: $src -> $out (reactor)"
cc --target=wasm32-wasi --sysroot=/usr -nostdlibinc -idirafter /usr/include/wasm32-wasi \
    -mexec-model=reactor -O2 -Wall -Wextra -Werror \
    -ffile-prefix-map="$PWD"=. \
    -Wl,--stack-first -Wl,--strip-debug \
    -o "$work/spec-c.wasm" "$src"
wasm-validate "$work/spec-c.wasm" || die "$out: wasm-validate failed"

# The exports the spec asks of a reactor plugin, with their core types.
exports=$(wasm-objdump -x -j Export "$work/spec-c.wasm" | sed -n 's/^ - \(func\|memory\)\[[0-9]*\] .*-> "\(.*\)"$/\2/p' | sort | tr '\n' ' ')
want="_initialize cabi_post_echo cabi_post_greet cabi_realloc count-vowels echo fail greet memory on-load on-unload "
[ "$exports" = "$want" ] || die "$out: exports are: $exports; want: $want"
imports=$(wasm-objdump -x -j Import "$work/spec-c.wasm" | sed -n 's/.*<- \(vitte:[^ ]*\)$/\1/p' | sort | tr '\n' ' ')
[ "$imports" = "vitte:plugin/host@1.0.0.config-get vitte:plugin/host@1.0.0.log " ] || die "$out: vitte imports are: $imports"
echo "    exports: $exports"
echo "    imports: $imports"

cp "$work/spec-c.wasm" "$out"
chmod 0644 "$out"
echo "    sha256: $(sha256sum "$out" | cut -d' ' -f1)"
echo "build-spec-c: ok"
