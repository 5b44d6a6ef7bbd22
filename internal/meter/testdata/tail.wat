;; tail.wat: tail calls, direct and indirect; spin never returns and makes
;; no loop: only the check at function entry can stop it.
;; Build: wat2wasm --enable-tail-call --debug-names tail.wat -o tail.wasm
(module
  (type $ii_i (func (param i32 i32) (result i32)))
  (type $v (func))
  (table 2 funcref)
  (elem (i32.const 0) $count $spin)
  (func $count (export "count") (type $ii_i)
    (if (i32.eqz (local.get 0)) (then (return (local.get 1))))
    (return_call_indirect (type $ii_i)
      (i32.sub (local.get 0) (i32.const 1)) (i32.add (local.get 1) (i32.const 3)) (i32.const 0)))
  (func (export "sum") (param i32) (result i32)
    (return_call $count (local.get 0) (i32.const 0)))
  (func $spin (export "spin") (type $v)
    (return_call $spin)))
