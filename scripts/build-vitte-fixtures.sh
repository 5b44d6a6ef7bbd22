#!/usr/bin/env bash
# build-vitte-fixtures.sh: builds the Vitte plugin fixtures under
# testdata/wasm in place with the project's own compiler (adapters/vitte),
# byte for byte reproducibly:
#
#   testdata/wasm/hello-vitte/hello.vit                    -> hello.wasm, plugin.toml
#   testdata/wasm/vitte-handlers/vitte-handlers.vit        -> vitte-handlers.wasm, plugin.toml
#   testdata/wasm/vitte-*/<name>.vit                       -> likewise, for any other vitte-* folder
#
# The outputs are committed; CI rebuilds them and runs
# `git diff --exit-code testdata/wasm`, and TestFixtures_reproducible in
# adapters/vitte checks the same thing from go test.
#
# Usage, from anywhere: bash scripts/build-vitte-fixtures.sh
# Toolchain: Go only. The compiler is adapters/vitte/cmd/vittec, the same
# code as `vitte plugin build`.
#
# Reproducibility: the compiler reads nothing but the source; the outputs
# hold no path, time or version (plugin.toml names the source by its base
# name only).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

die() {
    echo "build-vitte-fixtures: error: $*" >&2
    exit 1
}

command -v go >/dev/null || die "go not found"

export LC_ALL=C TZ=UTC

bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/vittec" ./adapters/vitte/cmd/vittec

# build <dir> <source>: compiles <dir>/<source> into <dir>.
build() {
    local dir=$1 src=$2
    [ -f "$dir/$src" ] || die "$dir/$src: no such file"
    echo "build-vitte-fixtures: $dir/$src -> $dir"
    "$bin/vittec" -o "$dir" "$dir/$src" >/dev/null || die "$dir/$src: compile failed"
}

build testdata/wasm/hello-vitte hello.vit
for dir in testdata/wasm/vitte-*/; do
    dir=${dir%/}
    name=${dir#testdata/wasm/}
    build "$dir" "$name.vit"
done

echo "build-vitte-fixtures: ok"
