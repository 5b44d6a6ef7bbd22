;; threads.wat: atomic instructions on a shared memory.
;; Build: wat2wasm --enable-threads --debug-names threads.wat -o threads.wasm
(module
  (memory (export "memory") 1 1 shared)
  (func (export "atomics") (param $n i32) (result i64)
    (local $i i32)
    (loop $l
      (drop (i32.atomic.rmw.add offset=8 (i32.const 0) (local.get $i)))
      (drop (i64.atomic.rmw32.cmpxchg_u offset=16 (i32.const 0) (i64.const 0) (i64.extend_i32_u (local.get $i))))
      (i32.atomic.store8 offset=32 (i32.const 0) (local.get $i))
      (atomic.fence)
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
    (drop (memory.atomic.notify (i32.const 8) (i32.const 1)))
    (i64.add (i64.extend_i32_u (i32.atomic.load offset=8 (i32.const 0)))
      (i64.add (i64.atomic.load offset=16 (i32.const 0))
        (i64.extend_i32_u (i32.atomic.load8_u offset=32 (i32.const 0)))))))
