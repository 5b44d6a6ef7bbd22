#!/usr/bin/env bash
# install-toolchains.sh: installs the C-to-WebAssembly toolchain that
# scripts/build-c-fixtures.sh and the C guest kit (adapters/c) need, from
# Debian 12 (bookworm) stable: clang 16, lld 16 (wasm-ld-16), wasi-libc and
# the wasm32 compiler-rt builtins. Also wabt (wasm-objdump, wasm-validate),
# which the fixture build uses to check its output, and minisign, whose
# interoperability tests in trust/ fail without it when CI=true.
#
# Idempotent: does nothing when everything is already there. Needs root (CI)
# when something is missing.
#
# Usage: bash scripts/install-toolchains.sh
set -euo pipefail

packages=(clang-16 lld-16 wasi-libc libclang-rt-16-dev-wasm32 wabt minisign)

have_toolchain() {
    command -v clang-16 >/dev/null &&
        command -v wasm-ld-16 >/dev/null &&
        [ -f /usr/lib/wasm32-wasi/libc.a ] &&
        [ -f /usr/lib/llvm-16/lib/clang/16/lib/wasi/libclang_rt.builtins-wasm32.a ] &&
        command -v wasm-objdump >/dev/null &&
        command -v wasm-validate >/dev/null &&
        command -v minisign >/dev/null
}

if have_toolchain; then
    echo "install-toolchains: clang-16, wasm-ld-16, wasi-libc, wasm32 builtins, wabt and minisign already installed"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "install-toolchains: error: missing packages and not root; run: sudo bash $0" >&2
    exit 1
fi

echo "install-toolchains: installing ${packages[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${packages[@]}"

if ! have_toolchain; then
    echo "install-toolchains: error: toolchain still incomplete after apt-get install" >&2
    exit 1
fi
echo "install-toolchains: done"
