#!/usr/bin/env bash
# install-toolchains.sh: installs the C-to-WebAssembly toolchain that
# scripts/build-c-fixtures.sh and the C guest kit (adapters/c) need, from
# Debian 12 (bookworm) stable: clang 16, lld 16 (wasm-ld-16), wasi-libc and
# the wasm32 compiler-rt builtins. Also wabt (wasm-objdump, wasm-validate),
# which the fixture build uses to check its output, and minisign, whose
# interoperability tests in trust/ fail without it when CI=true. And
# docker-registry (the CNCF distribution registry, 2.8.2 in bookworm): the
# oci/ tests start their own copy on 127.0.0.1 with a config of their own;
# the package's service (all interfaces, port 5000) is never started here
# (a policy-rc.d refuses it during the install) and never used.
#
# Idempotent: does nothing when everything is already there. Needs root (CI)
# when something is missing.
#
# Usage: bash scripts/install-toolchains.sh
set -euo pipefail

packages=(clang-16 lld-16 wasi-libc libclang-rt-16-dev-wasm32 wabt minisign docker-registry)

have_toolchain() {
    command -v clang-16 >/dev/null &&
        command -v wasm-ld-16 >/dev/null &&
        [ -f /usr/lib/wasm32-wasi/libc.a ] &&
        [ -f /usr/lib/llvm-16/lib/clang/16/lib/wasi/libclang_rt.builtins-wasm32.a ] &&
        command -v wasm-objdump >/dev/null &&
        command -v wasm-validate >/dev/null &&
        command -v minisign >/dev/null &&
        command -v docker-registry >/dev/null
}

if have_toolchain; then
    echo "install-toolchains: clang-16, wasm-ld-16, wasi-libc, wasm32 builtins, wabt, minisign and docker-registry already installed"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "install-toolchains: error: missing packages and not root; run: sudo bash $0" >&2
    exit 1
fi

echo "install-toolchains: installing ${packages[*]}"
export DEBIAN_FRONTEND=noninteractive
# Services are not started by the install (docker-registry's would listen
# on every interface): a policy-rc.d that says no, unless one exists.
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get update
apt-get install -y --no-install-recommends "${packages[@]}"

if ! have_toolchain; then
    echo "install-toolchains: error: toolchain still incomplete after apt-get install" >&2
    exit 1
fi
echo "install-toolchains: done"
