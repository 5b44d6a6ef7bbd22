/*
 * hostile-onload: on-load returns the error "database unreachable", so the
 * host must refuse to load the plugin, report the message, and never call a
 * handler. `ok` exists only to show that it is never reachable.
 *
 * Built by scripts/build-c-fixtures.sh into hostile-onload.wasm (committed).
 */
#include "vitte_plugin.h"

VITTE_ON_LOAD {
    vp_return_error("database unreachable");
}

VITTE_HANDLER(ok) {
    vp_return_str("still fine");
}
