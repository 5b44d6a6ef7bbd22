;; The limits Instrument adds besides fuel: the call stack, table growth,
;; memory.grow that can never succeed (limits_test.go). Exceptions, which
;; wabt cannot assemble with try_table, are in catchModule there.
(module
  (memory 1)
  (table $t 1 funcref)
  (table $e 0 externref)
  ;; rec(n) recurses n deep: n+1 frames of 1 parameter.
  (func $rec (export "rec") (param $n i32) (result i32)
    (if (result i32) (i32.eqz (local.get $n))
      (then (i32.const 0))
      (else (i32.add (call $rec (i32.sub (local.get $n) (i32.const 1))) (i32.const 1)))))
  ;; bigrec(n): the same with 31 i64 and 2 v128 locals.
  (func $bigrec (export "bigrec") (param $n i32) (result i32)
    (local i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)
    (local i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)
    (local v128 v128)
    (if (result i32) (i32.eqz (local.get $n))
      (then (i32.const 0))
      (else (i32.add (call $bigrec (i32.sub (local.get $n) (i32.const 1))) (i32.const 1)))))
  ;; tail(n) tail-calls itself n times: one frame.
  (func $tail (export "tail") (param $n i32) (result i32)
    (if (result i32) (i32.eqz (local.get $n))
      (then (i32.const 7))
      (else (return_call $tail (i32.sub (local.get $n) (i32.const 1))))))
  ;; indirect(n) is rec through the table and call_indirect.
  (func $indirect (export "indirect") (param $n i32) (result i32)
    (if (result i32) (i32.eqz (local.get $n))
      (then (i32.const 0))
      (else (i32.add (call_indirect $t (param i32) (result i32) (i32.sub (local.get $n) (i32.const 1)) (i32.const 0)) (i32.const 1)))))
  (elem (table $t) (i32.const 0) func $indirect)
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "tgrow") (param i32) (result i32) (table.grow $t (ref.null func) (local.get 0)))
  (func (export "egrow") (param i32) (result i32) (table.grow $e (ref.null extern) (local.get 0)))
  (func (export "tsize") (result i32) (i32.add (table.size $t) (table.size $e))))
