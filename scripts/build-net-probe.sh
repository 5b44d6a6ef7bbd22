#!/usr/bin/env bash
# build-net-probe.sh: builds the network capability fixture
# testdata/wasm/net-probe/net-probe.c into net-probe.wasm, in place, byte for
# byte reproducibly, with the flags of scripts/build-c-fixtures.sh. The .wasm
# is committed; rebuild it after changing net-probe.c or adapters/c and check
# `git diff --exit-code testdata/wasm/net-probe`.
#
# Usage, from anywhere: bash scripts/build-net-probe.sh
# Toolchain: bash scripts/install-toolchains.sh (Debian 12: clang-16, lld-16,
# wasi-libc, libclang-rt-16-dev-wasm32, wabt).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

CC=clang-16
BUILTINS=/usr/lib/llvm-16/lib/clang/16/lib/wasi/libclang_rt.builtins-wasm32.a
dir=testdata/wasm/net-probe
name=net-probe

die() {
    echo "build-net-probe: error: $*" >&2
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
    echo "build-net-probe: error: toolchain missing: ${missing[*]}" >&2
    echo "build-net-probe: hint: run bash scripts/install-toolchains.sh (as root)" >&2
    exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

export LC_ALL=C TZ=UTC SOURCE_DATE_EPOCH=0

# The flags of scripts/build-c-fixtures.sh (see there why each is needed).
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

# check_exports (copied from scripts/build-c-fixtures.sh) <file> <model>: the module has the exports of its model, and
# every function export that is not reserved (_*, cabi_*, on-load, on-unload)
# has the handler core type (i32, i32) -> i32. Prints the handlers.
check_exports() {
    local file=$1 model=$2 dump
    dump=$(wasm-objdump -x "$file")
    awk -v file="$file" -v model="$model" '
        /^[A-Z][a-z]*\[[0-9]+\]:/ { section = $1; sub(/\[.*/, "", section); next }
        section == "Type" && /- type\[/ {
            t = $2; sub(/^type\[/, "", t); sub(/\]$/, "", t)
            sig = $0; sub(/^.*\] /, "", sig); types[t] = sig; next
        }
        section == "Function" && /- func\[/ {
            f = $2; sub(/^func\[/, "", f); sub(/\]$/, "", f)
            s = $3; sub(/^sig=/, "", s); fsig[f] = s; next
        }
        section == "Import" && /- func\[/ {
            f = $2; sub(/^func\[/, "", f); sub(/\]$/, "", f)
            s = $3; sub(/^sig=/, "", s); fsig[f] = s; next
        }
        section == "Export" && /- func\[/ {
            f = $2; sub(/^func\[/, "", f); sub(/\]$/, "", f)
            name = $0; sub(/^.*-> "/, "", name); sub(/"$/, "", name)
            exported[name] = f; order[++n] = name; next
        }
        END {
            bad = 0
            if (model == "reactor" && (!("_initialize" in exported) || ("_start" in exported))) {
                print "build-net-probe: error: " file ": a reactor must export _initialize and not _start" > "/dev/stderr"; bad = 1
            }
            if (model == "command" && (!("_start" in exported) || ("_initialize" in exported))) {
                print "build-net-probe: error: " file ": a command must export _start and not _initialize" > "/dev/stderr"; bad = 1
            }
            if (!("cabi_realloc" in exported)) {
                print "build-net-probe: error: " file ": no cabi_realloc export" > "/dev/stderr"; bad = 1
            }
            handlers = ""
            for (i = 1; i <= n; i++) {
                name = order[i]
                if (name ~ /^_/ || name ~ /^cabi_/ || name == "on-load" || name == "on-unload") continue
                sig = types[fsig[exported[name]]]
                if (sig != "(i32, i32) -> i32") {
                    print "build-net-probe: error: " file ": export " name " has type " sig ", not (i32, i32) -> i32" > "/dev/stderr"; bad = 1
                }
                handlers = handlers " " name
            }
            print "    handlers:" handlers
            exit bad
        }' <<<"$dump" || die "$file: unexpected exports"
}

echo "build-net-probe: $dir/$name.c -> $dir/$name.wasm (reactor)"
"$CC" "${cflags[@]}" -mexec-model=reactor -o "$work/$name.wasm" "$dir/$name.c"
wasm-validate "$work/$name.wasm" || die "$dir/$name.wasm: wasm-validate failed"

check_exports "$work/$name.wasm" reactor
wasm-objdump -x -j Import "$work/$name.wasm" | grep -q '<- vitte:plugin/http@1.0.0.request' ||
    die "$name.wasm: does not import vitte:plugin/http@1.0.0 request"

cp "$work/$name.wasm" "$dir/$name.wasm"
chmod 0644 "$dir/$name.wasm"
echo "build-net-probe: ok"
