/*
 * bad-command: a WASI command, not a plugin. It is linked without
 * -mexec-model=reactor, so it exports _start (which runs main) and no
 * _initialize. Everything else looks like a plugin (memory, cabi_realloc, a
 * `greet` handler, a valid plugin.toml), so the only reason to refuse it is
 * that it is a command: the host must say so clearly.
 *
 * Built by scripts/build-c-fixtures.sh into bad-command.wasm (committed).
 */
#include <stdio.h>

#include "vitte_plugin.h"

VITTE_HANDLER(greet) {
    vp_return_str("Hello from a command");
}

int main(void) {
    printf("bad-command: main should never run\n");
    return 0;
}
