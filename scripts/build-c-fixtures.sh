#!/usr/bin/env bash
# build-c-fixtures.sh: builds the C plugin fixtures under testdata/wasm in
# place (<dir>/<name>.c -> <dir>/<name>.wasm), byte for byte reproducibly, and
# compiles the C kit example (adapters/c/example) to a temporary file as a
# check of the kit. The .wasm files are committed; CI rebuilds them and runs
# `git diff --exit-code testdata/wasm`.
#
# Usage, from anywhere: bash scripts/build-c-fixtures.sh
# Toolchain: bash scripts/install-toolchains.sh (Debian 12: clang-16, lld-16,
# wasi-libc, libclang-rt-16-dev-wasm32, wabt).
#
# Reproducibility: the build runs from the repository root with relative
# paths; no debug info is emitted or kept (-Wl,--strip-debug drops the DWARF
# that Debian's libc.a carries), so no path reaches the output; the only
# custom sections left are "name" (function names, for trap backtraces),
# "producers" (the clang version) and "target_features".
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

die() {
    echo "build-c-fixtures: error: $*" >&2
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
    echo "build-c-fixtures: error: toolchain missing: ${missing[*]}" >&2
    echo "build-c-fixtures: hint: run bash scripts/install-toolchains.sh (as root)" >&2
    exit 1
fi

# Debian's wasi-libc lives in /usr/include/wasm32-wasi and /usr/lib/wasm32-wasi.
# With --sysroot=/usr alone, clang would also search the host's /usr/include and
# /usr/local/include; -nostdlibinc drops those, -idirafter puts wasi-libc back
# after clang's own headers (the order a normal sysroot gives). Linking finds
# /usr/lib/wasm32-wasi through --sysroot=/usr.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/bin"
ln -s "$(command -v wasm-ld-16)" "$work/bin/wasm-ld-16"

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

# check_exports <file> <model>: the module has the exports of its model, and
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
                print "build-c-fixtures: error: " file ": a reactor must export _initialize and not _start" > "/dev/stderr"; bad = 1
            }
            if (model == "command" && (!("_start" in exported) || ("_initialize" in exported))) {
                print "build-c-fixtures: error: " file ": a command must export _start and not _initialize" > "/dev/stderr"; bad = 1
            }
            if (!("cabi_realloc" in exported)) {
                print "build-c-fixtures: error: " file ": no cabi_realloc export" > "/dev/stderr"; bad = 1
            }
            handlers = ""
            for (i = 1; i <= n; i++) {
                name = order[i]
                if (name ~ /^_/ || name ~ /^cabi_/ || name == "on-load" || name == "on-unload") continue
                sig = types[fsig[exported[name]]]
                if (sig != "(i32, i32) -> i32") {
                    print "build-c-fixtures: error: " file ": export " name " has type " sig ", not (i32, i32) -> i32" > "/dev/stderr"; bad = 1
                }
                handlers = handlers " " name
            }
            print "    handlers:" handlers
            exit bad
        }' <<<"$dump" || die "$file: unexpected exports"
}

# build <dir> <name> <model>: compiles <dir>/<name>.c into <dir>/<name>.wasm.
build() {
    local dir=$1 name=$2 model=$3 out=$1/$2.wasm tmp
    tmp=$(mktemp "$work/out.XXXXXX")
    echo "build-c-fixtures: $dir/$name.c -> $out ($model)"
    if [ "$model" = reactor ]; then
        cc "${cflags[@]}" -mexec-model=reactor -o "$tmp" "$dir/$name.c"
    else
        cc "${cflags[@]}" -o "$tmp" "$dir/$name.c"
    fi
    wasm-validate "$tmp" || die "$out: wasm-validate failed"
    check_exports "$tmp" "$model"
    if [ "$dir" = adapters/c/example ]; then
        return # a compile check of the kit: nothing is written
    fi
    cp "$tmp" "$out"
    chmod 0644 "$out"
}

build testdata/wasm/hello-c hello-c reactor
build testdata/wasm/hostile hostile reactor
build testdata/wasm/hostile-onload hostile-onload reactor
build testdata/wasm/hostile-onload-trap hostile-onload-trap reactor
build testdata/wasm/bad-command bad-command command
build testdata/wasm/bad-import bad-import reactor
build testdata/wasm/caps-c caps-c reactor
build testdata/wasm/bench-c bench-c reactor
build testdata/wasm/fs-probe fs-probe reactor
build testdata/wasm/net-probe net-probe reactor
wasm-objdump -x -j Import testdata/wasm/net-probe/net-probe.wasm | grep -q '<- vitte:plugin/http@1.0.0.request' ||
    die "net-probe.wasm: does not import vitte:plugin/http@1.0.0 request"
build adapters/c/example example reactor

echo "build-c-fixtures: ok"
