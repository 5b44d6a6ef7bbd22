;; env.wat: the "env" module basic.wasm imports: the global base and the
;; function note, re-exported from the Go host module "host".
;; Build: wat2wasm env.wat -o env.wasm
(module
  (import "host" "note" (func $note (param i32)))
  (global (export "base") i32 (i32.const 100))
  (export "note" (func $note)))
