/*
 * bad-import: a reactor that imports env.launch_missiles, a function no host
 * provides, and calls it from the `launch` handler. The host must refuse the
 * module at load time with an error naming the import "env"."launch_missiles".
 *
 * Built by scripts/build-c-fixtures.sh into bad-import.wasm (committed).
 */
#include "vitte_plugin.h"

__attribute__((import_module("env"), import_name("launch_missiles"))) int launch_missiles(int count);

VITTE_HANDLER(launch) {
    int launched = launch_missiles(3);
    vp_return_fmt("launched %d", launched);
}

VITTE_HANDLER(ok) {
    vp_return_str("still fine");
}
