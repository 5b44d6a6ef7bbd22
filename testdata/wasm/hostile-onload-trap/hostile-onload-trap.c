/*
 * hostile-onload-trap: on-load traps (`unreachable`), so the host must refuse
 * to load the plugin with an error naming on-load and the trap, and never
 * call a handler. `ok` exists only to show that it is never reachable.
 *
 * Built by scripts/build-c-fixtures.sh into hostile-onload-trap.wasm (committed).
 */
#include "vitte_plugin.h"

VITTE_ON_LOAD {
    __builtin_trap();
}

VITTE_HANDLER(ok) {
    vp_return_str("still fine");
}
