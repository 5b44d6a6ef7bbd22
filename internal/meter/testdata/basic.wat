;; basic.wat: functions whose results must not change when the module is
;; metered (meter_test.go), covering every place a function index appears.
;; Build: wat2wasm --debug-names basic.wat -o basic.wasm
(module
  (type $v (func))
  (type $ii_i (func (param i32 i32) (result i32)))
  (type $i_i (func (param i32) (result i32)))
  (type $i_ii (func (param i32) (result i32 i32)))
  (import "env" "note" (func $note (param i32)))
  (import "env" "base" (global $base i32))
  (memory (export "memory") 1 4)
  (table $t (export "table") 8 16 funcref)
  (table $t2 4 funcref)
  (global $started (mut i32) (i32.const 0))
  (global $fref funcref (ref.func $double))
  (global $acc (mut i64) (i64.const 0))

  ;; Element segments in each of the eight encodings.
  (elem (i32.const 0) $add $sub $mul)
  (elem $passive func $double $square)
  (elem (table $t2) (i32.const 0) func $add $sub)
  (elem declare func $fac)
  (elem (i32.const 3) funcref (ref.func $square) (ref.null func))
  (elem $pexpr funcref (ref.func $fib) (ref.null func))
  (elem (table $t2) (i32.const 2) funcref (ref.func $double) (ref.null func))
  (elem declare funcref (ref.func $sum) (ref.func $spin) (ref.null func))

  (data $hello "hello, world")
  (data (i32.const 100) "abcdefgh")

  (start $start)
  (func $start (global.set $started (i32.add (global.get $base) (i32.const 42))))
  (func (export "started") (result i32) (global.get $started))

  (func $add (type $ii_i) (i32.add (local.get 0) (local.get 1)))
  (func $sub (type $ii_i) (i32.sub (local.get 0) (local.get 1)))
  (func $mul (type $ii_i) (i32.mul (local.get 0) (local.get 1)))
  (func $double (type $i_i) (i32.shl (local.get 0) (i32.const 1)))
  (func $square (type $i_i) (i32.mul (local.get 0) (local.get 0)))

  ;; call_indirect through the active segments.
  (func (export "dispatch") (param i32 i32 i32) (result i32)
    (call_indirect $t (type $ii_i) (local.get 1) (local.get 2) (local.get 0)))
  (func (export "dispatch2") (param i32 i32 i32) (result i32)
    (call_indirect $t2 (type $ii_i) (local.get 1) (local.get 2) (local.get 0)))
  (func (export "unary") (param i32 i32) (result i32)
    (call_indirect $t (type $i_i) (local.get 1) (local.get 0)))
  (func (export "unary2") (param i32 i32) (result i32)
    (call_indirect $t2 (type $i_i) (local.get 1) (local.get 0)))

  ;; ref.func and a funcref global, stored in the table at run time.
  (func (export "reffunc") (param i32) (result i32)
    (table.set $t (i32.const 5) (ref.func $square))
    (table.set $t (i32.const 6) (global.get $fref))
    (i32.add
      (call_indirect $t (type $i_i) (local.get 0) (i32.const 5))
      (call_indirect $t (type $i_i) (local.get 0) (i32.const 6))))

  ;; The passive segments: table.init, elem.drop, table.copy, table.fill,
  ;; table.grow, table.size.
  (func (export "tableops") (param i32) (result i32)
    (local $r i32)
    (table.init $t $passive (i32.const 6) (i32.const 0) (i32.const 2))
    (elem.drop $passive)
    (table.init $t $pexpr (i32.const 4) (i32.const 0) (i32.const 1))
    (local.set $r (call_indirect $t (type $i_i) (local.get 0) (i32.const 4)))
    (table.copy $t $t2 (i32.const 0) (i32.const 0) (i32.const 3))
    (local.set $r (i32.add (local.get $r)
      (call_indirect $t (type $i_i) (local.get 0) (i32.const 2))))
    (table.fill $t (i32.const 7) (ref.func $double) (i32.const 1))
    (local.set $r (i32.add (local.get $r)
      (call_indirect $t (type $i_i) (local.get 0) (i32.const 7))))
    (drop (table.grow $t (ref.null func) (i32.const 2)))
    (i32.add (local.get $r) (table.size $t)))

  (func $fac (export "fac") (param i64) (result i64)
    (if (result i64) (i64.le_s (local.get 0) (i64.const 1))
      (then (i64.const 1))
      (else (i64.mul (local.get 0) (call $fac (i64.sub (local.get 0) (i64.const 1)))))))

  (func $fib (export "fib") (param i32) (result i32)
    (if (i32.lt_s (local.get 0) (i32.const 2)) (then (return (local.get 0))))
    (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
             (call $fib (i32.sub (local.get 0) (i32.const 2)))))

  ;; sum 1..n with a loop.
  (func $sum (export "sum") (param i32) (result i32)
    (local $s i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get 0)))
        (local.set $s (i32.add (local.get $s) (local.get 0)))
        (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
        (br $next)))
    (local.get $s))

  ;; Nested loops, an if without else and a loop never branched to.
  (func (export "nested") (param i32) (result i32)
    (local $i i32) (local $j i32) (local $s i32)
    (loop $once (local.set $s (i32.const 1)))
    (loop $outer
      (local.set $j (i32.const 0))
      (loop $inner
        (if (i32.and (local.get $j) (i32.const 1))
          (then (local.set $s (i32.add (local.get $s) (i32.mul (local.get $i) (local.get $j))))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br_if $inner (i32.lt_u (local.get $j) (local.get 0))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $outer (i32.lt_u (local.get $i) (local.get 0))))
    (local.get $s))

  ;; br_table, select and typed select.
  (func (export "switch") (param i32) (result i32)
    (block $d
      (block $c
        (block $b
          (block $a
            (br_table $a $b $c $d (local.get 0)))
          (return (i32.const 10)))
        (return (select (i32.const 20) (i32.const 21) (local.get 0))))
      (return (select (result i32) (i32.const 30) (i32.const 31) (i32.eqz (local.get 0)))))
    (i32.const 40))

  ;; Multi-value: blocks and loops with parameters, two results.
  (func $divmod (export "divmod") (type $i_ii)
    (i32.div_u (local.get 0) (i32.const 7))
    (i32.rem_u (local.get 0) (i32.const 7)))
  (func (export "multi") (param i32) (result i32)
    (local $k i32)
    (call $divmod (local.get 0))
    (block (type $ii_i) (param i32 i32) (result i32)
      (i32.mul (i32.const 100))
      (i32.add))
    (local.set $k (i32.const 3))
    (loop $l (param i32) (result i32)
      (i32.add (i32.const 1))
      (local.tee $k (i32.sub (local.get $k) (i32.const 1)))
      (br_if $l)))

  ;; Bulk memory: memory.init, data.drop, memory.copy, memory.fill, memory.grow.
  (func (export "bulk") (param i32) (result i32)
    (local $i i32) (local $h i32)
    (memory.init $hello (i32.const 200) (i32.const 0) (i32.const 12))
    (data.drop $hello)
    (memory.copy (i32.const 220) (i32.const 100) (i32.const 8))
    (memory.fill (i32.const 228) (local.get 0) (i32.const 4))
    (loop $l
      (local.set $h (i32.add (i32.mul (local.get $h) (i32.const 31))
        (i32.load8_u offset=200 (local.get $i))))
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 32))))
    (local.get $h))
  (func (export "fill") (param i32 i32)
    (memory.fill (i32.const 0) (i32.const 7) (local.get 0))
    (drop (memory.grow (local.get 1))))
  (func (export "grow") (param i32) (result i32)
    (memory.grow (local.get 0)))

  ;; Calls to an import, sign extension, saturating truncation, globals.
  (func (export "misc") (param i32) (result i64)
    (call $note (local.get 0))
    (global.set $acc (i64.add (global.get $acc) (i64.extend8_s (i64.extend_i32_u (local.get 0)))))
    (i64.add (global.get $acc)
      (i64.trunc_sat_f64_s (f64.mul (f64.convert_i32_s (local.get 0)) (f64.const 1e300)))))

  (func (export "trap") (param i32) (result i32)
    (if (local.get 0) (then unreachable))
    (i32.div_s (i32.const 1) (local.get 0)))

  ;; Never end without the host.
  (func (export "forever")
    (loop $l (br $l)))
  (func $recurse (export "recurse") (param i32) (result i32)
    (i32.add (call $recurse (i32.add (local.get 0) (i32.const 1))) (i32.const 1)))
  (func (export "forever-indirect")
    (table.set $t (i32.const 7) (ref.func $spin))
    (call_indirect $t (type $v) (i32.const 7)))
  (func $spin (type $v)
    (call_indirect $t (type $v) (i32.const 7)))
)
