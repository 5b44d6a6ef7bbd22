#!/usr/bin/env bash
# build-peers.sh: builds what the peers' rows of the benchmarks run, into
# the peers' cache directory (never into the repository):
#
#   hashicorp-kv        the hashicorp/go-plugin plugin process (peers/hashicorp-kv)
#   knqyf-count.wasm    the knqyf263/go-plugin Go guests (peers/knqyf-*),
#   knqyf-empty.wasm      GOOS=wasip1, on go-plugin's generated helloworld code
#   extism/*.wasm       Extism's own test plugins count_vowels.wasm and
#                       noop.wasm, copied from its Go SDK module (go.sum
#                       checks the module's content)
#
# The versions are those of bench/go.mod. The directory is $VITTE_BENCH_PEERS,
# default <user cache dir>/vitte/bench-peers, as the tests read it.
# Go's build cache makes a second run fast.
#
# Usage, from anywhere: bash bench/build-peers.sh
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"

die() {
    echo "build-peers: error: $*" >&2
    exit 1
}

command -v go >/dev/null || die "go not found in PATH"

out=${VITTE_BENCH_PEERS:-${XDG_CACHE_HOME:-$HOME/.cache}/vitte/bench-peers}
mkdir -p "$out/extism"
echo "build-peers: into $out"

# install <file> <dest>: moves a finished file into place (no half-written
# peer is ever seen).
install_file() {
    chmod "$3" "$1"
    mv -f "$1" "$2"
}

tmp=$(mktemp -d "$out/.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

export GOFLAGS=-mod=readonly CGO_ENABLED=0
go build -trimpath -o "$tmp/hashicorp-kv" ./peers/hashicorp-kv
install_file "$tmp/hashicorp-kv" "$out/hashicorp-kv" 0755
echo "build-peers: hashicorp-kv"

for g in knqyf-count knqyf-empty; do
    GOOS=wasip1 GOARCH=wasm go build -trimpath -buildmode=c-shared -o "$tmp/$g.wasm" "./peers/$g"
    install_file "$tmp/$g.wasm" "$out/$g.wasm" 0644
    echo "build-peers: $g.wasm"
done

extism_dir=$(go list -m -f '{{.Dir}}' github.com/extism/go-sdk)
[ -n "$extism_dir" ] && [ -d "$extism_dir/wasm" ] || {
    go mod download github.com/extism/go-sdk
    extism_dir=$(go list -m -f '{{.Dir}}' github.com/extism/go-sdk)
}
for f in count_vowels.wasm noop.wasm; do
    [ -f "$extism_dir/wasm/$f" ] || die "$extism_dir/wasm/$f: not found"
    cp "$extism_dir/wasm/$f" "$tmp/$f"
    install_file "$tmp/$f" "$out/extism/$f" 0644
    echo "build-peers: extism/$f (from $(go list -m -f '{{.Path}}@{{.Version}}' github.com/extism/go-sdk))"
done

echo "build-peers: ok"
