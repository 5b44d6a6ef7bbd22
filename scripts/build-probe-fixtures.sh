#!/usr/bin/env bash
# build-probe-fixtures.sh: builds the capability probe fixtures under
# testdata/wasm in place, byte for byte reproducibly:
#
#   testdata/wasm/fs-probe/fs-probe.c      -> fs-probe.wasm     (C kit, clang-16)
#   testdata/wasm/fs-probe-go/main.go      -> fs-probe-go.wasm  (Go kit, GOOS=wasip1), when present
#
# The .wasm files are committed; CI rebuilds them and runs
# `git diff --exit-code testdata/wasm`. The C flags are those of
# scripts/build-c-fixtures.sh (see there for why each one is needed).
#
# Usage, from anywhere: bash scripts/build-probe-fixtures.sh
# Toolchain: bash scripts/install-toolchains.sh (Debian 12: clang-16, lld-16,
# wasi-libc, libclang-rt-16-dev-wasm32, wabt), and Go for the Go probe.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

CC=clang-16
BUILTINS=/usr/lib/llvm-16/lib/clang/16/lib/wasi/libclang_rt.builtins-wasm32.a

die() {
    echo "build-probe-fixtures: error: $*" >&2
    exit 1
}

missing=()
command -v "$CC" >/dev/null || missing+=("$CC")
command -v wasm-ld-16 >/dev/null || missing+=(wasm-ld-16)
[ -f /usr/lib/wasm32-wasi/libc.a ] || missing+=(/usr/lib/wasm32-wasi/libc.a)
[ -f /usr/include/wasm32-wasi/stdio.h ] || missing+=(/usr/include/wasm32-wasi/stdio.h)
[ -f "$BUILTINS" ] || missing+=("$BUILTINS")
command -v wasm-validate >/dev/null || missing+=(wasm-validate)
if [ "${#missing[@]}" -ne 0 ]; then
    echo "build-probe-fixtures: error: toolchain missing: ${missing[*]}" >&2
    echo "build-probe-fixtures: hint: run bash scripts/install-toolchains.sh (as root)" >&2
    exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

export LC_ALL=C TZ=UTC SOURCE_DATE_EPOCH=0

cflags=(
    --target=wasm32-wasi
    --sysroot=/usr
    -nostdlibinc
    -idirafter /usr/include/wasm32-wasi
    -O2
    -Wall -Wextra -Werror
    -I adapters/c
    -ffile-prefix-map="$PWD"=.
    -Wl,--stack-first
    -Wl,--strip-debug
)

# build_c <dir> <name>: compiles <dir>/<name>.c into <dir>/<name>.wasm, a reactor.
build_c() {
    local dir=$1 name=$2 out=$1/$2.wasm tmp
    tmp=$(mktemp "$work/out.XXXXXX")
    echo "build-probe-fixtures: $dir/$name.c -> $out"
    "$CC" "${cflags[@]}" -mexec-model=reactor -o "$tmp" "$dir/$name.c"
    wasm-validate "$tmp" || die "$out: wasm-validate failed"
    cp "$tmp" "$out"
    chmod 0644 "$out"
}

# build_go <dir> <name>: builds the Go package in <dir> into <dir>/<name>.wasm,
# a wasip1 reactor, with the command and the pinned environment of
# scripts/build-go-fixtures.sh (the bytes depend on the Go version: go.mod's).
build_go() {
    local dir=$1 name=$2 out=$1/$2.wasm tmp
    tmp=$(mktemp "$work/out.XXXXXX")
    echo "build-probe-fixtures: $dir -> $out ($(go env GOVERSION))"
    GOOS=wasip1 GOARCH=wasm CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS= GOWASM= GOEXPERIMENT= \
        go build -buildmode=c-shared -trimpath -buildvcs=false -o "$tmp" "./$dir"
    wasm-validate "$tmp" || die "$out: wasm-validate failed"
    cp "$tmp" "$out"
    chmod 0644 "$out"
}

build_c testdata/wasm/fs-probe fs-probe
if [ -f testdata/wasm/fs-probe-go/main.go ]; then
    build_go testdata/wasm/fs-probe-go fs-probe-go
fi

echo "build-probe-fixtures: ok"
