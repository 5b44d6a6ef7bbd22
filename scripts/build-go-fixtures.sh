#!/usr/bin/env bash
# build-go-fixtures.sh: builds the Go plugin fixtures under testdata/wasm in
# place (<dir>/main.go -> <dir>/<name>.wasm), byte for byte reproducibly, and
# compiles the Go kit example (adapters/go/example) to a temporary file as a
# check of the kit. The .wasm files are committed; CI rebuilds them and runs
# `git diff --exit-code testdata/wasm`.
#
# Usage, from anywhere: bash scripts/build-go-fixtures.sh
# Toolchain: the Go of go.mod (the fixtures were committed with $want_go;
# another Go version builds a working module with different bytes).
#
# Each fixture is a package main of this module (directories named testdata
# are left out of ./... but build when named), compiled as a WASI reactor:
#
#   GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath -buildvcs=false -o <name>.wasm ./<dir>
#
# Reproducibility: the build runs from the repository root; -trimpath keeps
# file system paths out of the binary, -buildvcs=false keeps the VCS state
# out, and every environment variable that changes the output (GOFLAGS,
# GOWASM, GOEXPERIMENT, CGO_ENABLED, GOTOOLCHAIN) is pinned. What is left in
# the module's build info is the Go version, the module path and these flags.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

want_go=go1.26.8

die() {
    echo "build-go-fixtures: error: $*" >&2
    exit 1
}

command -v go >/dev/null || die "go not found in PATH"

export GOOS=wasip1 GOARCH=wasm CGO_ENABLED=0 GOTOOLCHAIN=local
export GOFLAGS= GOWASM= GOEXPERIMENT=
export LC_ALL=C TZ=UTC

go_version=$(go env GOVERSION)
echo "build-go-fixtures: $(go version)"
if [ "$go_version" != "$want_go" ]; then
    echo "build-go-fixtures: warning: the committed fixtures were built with $want_go, this is $go_version: expect different bytes" >&2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# check_exports <file>: a reactor (_initialize, no _start) that exports
# memory and cabi_realloc, and whose other function exports (but
# cabi_post_*, on-load and on-unload) all have the handler core type
# (i32, i32) -> i32. Prints the handlers. Skipped without wasm-objdump (wabt).
check_exports() {
    local file=$1
    if ! command -v wasm-objdump >/dev/null; then
        echo "    (wasm-objdump not found: export check skipped)"
        return
    fi
    wasm-objdump -x "$file" | awk -v file="$file" '
        /^[A-Z][a-z]*\[[0-9]+\]:/ { section = $1; sub(/\[.*/, "", section); next }
        section == "Type" && /- type\[/ {
            t = $2; sub(/^type\[/, "", t); sub(/\]$/, "", t)
            sig = $0; sub(/^.*\] /, "", sig); types[t] = sig; next
        }
        (section == "Function" || section == "Import") && /- func\[/ {
            f = $2; sub(/^func\[/, "", f); sub(/\]$/, "", f)
            s = $3; sub(/^sig=/, "", s); fsig[f] = s; next
        }
        section == "Export" && /- func\[/ {
            f = $2; sub(/^func\[/, "", f); sub(/\]$/, "", f)
            name = $0; sub(/^.*-> "/, "", name); sub(/"$/, "", name)
            exported[name] = f; order[++n] = name; next
        }
        section == "Export" && /- memory\[/ { memory = 1 }
        END {
            bad = 0
            if (!("_initialize" in exported) || ("_start" in exported)) {
                print "build-go-fixtures: error: " file ": a reactor must export _initialize and not _start" > "/dev/stderr"; bad = 1
            }
            if (!memory || !("cabi_realloc" in exported)) {
                print "build-go-fixtures: error: " file ": memory or cabi_realloc not exported" > "/dev/stderr"; bad = 1
            }
            handlers = ""
            for (i = 1; i <= n; i++) {
                name = order[i]
                if (name ~ /^_/ || name ~ /^cabi_/ || name == "on-load" || name == "on-unload") continue
                sig = types[fsig[exported[name]]]
                if (sig != "(i32, i32) -> i32") {
                    print "build-go-fixtures: error: " file ": export " name " has type " sig ", not (i32, i32) -> i32" > "/dev/stderr"; bad = 1
                }
                handlers = handlers " " name
            }
            print "    handlers:" handlers
            exit bad
        }' || die "$file: unexpected exports"
}

# build <dir> <name>: compiles the package in <dir> into <dir>/<name>.wasm.
build() {
    local dir=$1 name=$2 out=$1/$2.wasm tmp=$work/$2.wasm
    if [ "$dir" = adapters/go/example ]; then
        echo "build-go-fixtures: ./$dir (compile check)"
    else
        echo "build-go-fixtures: ./$dir -> $out"
    fi
    go build -buildmode=c-shared -trimpath -buildvcs=false -o "$tmp" "./$dir"
    check_exports "$tmp"
    if [ "$dir" = adapters/go/example ]; then
        return # a compile check of the kit: nothing is written
    fi
    cp "$tmp" "$out"
    chmod 0644 "$out"
    echo "    sha256: $(sha256sum "$out" | cut -d' ' -f1)"
}

build testdata/wasm/hello-go hello-go
build testdata/wasm/go-stress go-stress
build testdata/wasm/fs-probe-go fs-probe-go
build adapters/go/example example

echo "build-go-fixtures: ok"
