;; eh_legacy.wat: legacy exception handling (try, catch, catch_all,
;; delegate, rethrow). wazero does not run it: the tests only validate it.
;; Build: wat2wasm --enable-exceptions --debug-names eh_legacy.wat -o eh_legacy.wasm
(module
  (tag $e (param i32))
  (func $thrower (param i32)
    (if (local.get 0) (then (throw $e (local.get 0)))))
  (func (export "catch") (param i32) (result i32)
    (local $r i32)
    (loop $l
      (try
        (do (call $thrower (local.get 0)))
        (catch $e (local.set $r (i32.add (local.get $r))))
        (catch_all (local.set $r (i32.const -1))))
      (br_if $l (i32.gt_s (local.tee 0 (i32.sub (local.get 0) (i32.const 1))) (i32.const 0))))
    (local.get $r))
  (func (export "delegate") (param i32) (result i32)
    (try (result i32)
      (do
        (try
          (do (call $thrower (local.get 0)))
          (delegate 0))
        (i32.const 0))
      (catch $e)))
  (func (export "rethrow") (param i32)
    (try
      (do (call $thrower (local.get 0)))
      (catch_all (rethrow 0)))))
