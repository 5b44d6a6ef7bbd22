;; simd.wat: SIMD instructions with every kind of immediate (memarg, lane,
;; 16-byte constant, shuffle), in a loop.
;; Build: wat2wasm --debug-names simd.wat -o simd.wasm
(module
  (memory (export "memory") 1)
  (data (i32.const 0) "\00\01\02\03\04\05\06\07\08\09\0a\0b\0c\0d\0e\0f\10\11\12\13\14\15\16\17\18\19\1a\1b\1c\1d\1e\1f")
  (func (export "simd") (param $n i32) (result i64)
    (local $v v128) (local $i i32)
    (local.set $v (v128.const i32x4 1 2 3 4))
    (loop $l
      (local.set $v (i32x4.add (local.get $v) (v128.load offset=4 align=4 (i32.const 0))))
      (local.set $v (i8x16.shuffle 15 14 13 12 11 10 9 8 7 6 5 4 3 2 1 0 (local.get $v) (v128.load (i32.const 16))))
      (local.set $v (i32x4.replace_lane 2 (local.get $v) (i32.add (local.get $i) (i32x4.extract_lane 1 (local.get $v)))))
      (local.set $v (v128.load8_lane 3 (i32.const 7) (local.get $v)))
      (v128.store32_lane offset=64 1 (i32.const 0) (local.get $v))
      (v128.store offset=128 (i32.const 0) (local.get $v))
      (local.set $v (v128.xor (local.get $v) (v128.load32_zero (i32.const 64))))
      (local.set $v (i16x8.add_sat_u (local.get $v) (v128.load64_splat (i32.const 8))))
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
    (i64.add
      (i64x2.extract_lane 0 (local.get $v))
      (i64.extend_i32_u (i8x16.extract_lane_u 15 (local.get $v))))))
