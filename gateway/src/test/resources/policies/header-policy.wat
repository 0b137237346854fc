;; A hand-written ABI v1 policy (see policy-vm/README.md): lets GET requests with the right API key through and
;; tells the upstream so; everything else is denied.
;;   method == "GET" and header x-api-key == "let-me-in"  -> allow, reason 7, rule 1, header "x-auth: key"
;;   no x-api-key header                                  -> deny 401, reason 3, rule 2
;;   otherwise                                            -> deny 403, reason 4, rule 3
;; wat2wasm (wabt 1.0.32) drops (@custom ...) annotations, so the fixture build appends the attributes section
;; named on the next line (see WatFixtures).
;; tollgate.attributes: method header.x-api-key
(module
  (memory (export "memory") 1 1)
  (global (export "tollgate_policy_abi_v1") i32 (i32.const 1))
  (global (export "tollgate_ctx") i32 (i32.const 1024))
  (global (export "tollgate_ctx_capacity") i32 (i32.const 4096))
  (global (export "tollgate_out") i32 (i32.const 8192))
  (data (i32.const 16) "GET")
  (data (i32.const 32) "let-me-in")
  (data (i32.const 48) "x-auth")
  (data (i32.const 64) "key")
  ;; header table: name 48/6, value 64/3
  (data (i32.const 96) "\30\00\00\00\06\00\00\00\40\00\00\00\03\00\00\00")

  ;; 1 if slot $slot holds exactly the $n bytes at $c
  (func $equals (param $slot i32) (param $c i32) (param $n i32) (result i32)
    (local $v i32)
    (if (i32.ne (i32.load offset=1028 (i32.shl (local.get $slot) (i32.const 3))) (local.get $n))
      (then (return (i32.const 0))))
    (local.set $v (i32.load offset=1024 (i32.shl (local.get $slot) (i32.const 3))))
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (if (i32.ne (i32.load8_u (local.get $v)) (i32.load8_u (local.get $c)))
          (then (return (i32.const 0))))
        (local.set $v (i32.add (local.get $v) (i32.const 1)))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next)))
    (i32.const 1))

  (func (export "tollgate_eval") (result i64)
    (if (i32.and (call $equals (i32.const 0) (i32.const 16) (i32.const 3))
                 (call $equals (i32.const 1) (i32.const 32) (i32.const 9)))
      (then
        (i32.store (i32.const 8192) (i32.const 1))
        (i32.store (i32.const 8196) (i32.const 96))
        (return (i64.const 0x0001_0007_0003_0000))))
    (if (i32.eq (i32.load (i32.const 1036)) (i32.const -1))
      (then (return (i64.const 0x0002_0003_0000_0191))))
    (i64.const 0x0003_0004_0000_0193)))
