;; Sandbox fixture: traps unless the path is exactly 4 bytes long. Path "/oob!" (5 bytes) reads out of bounds,
;; any other length hits unreachable. Path of 4 bytes: allow.
;; tollgate.attributes: path
(module
  (memory (export "memory") 1 1)
  (global (export "tollgate_policy_abi_v1") i32 (i32.const 1))
  (global (export "tollgate_ctx") i32 (i32.const 1024))
  (global (export "tollgate_ctx_capacity") i32 (i32.const 4096))
  (global (export "tollgate_out") i32 (i32.const 8192))
  (func (export "tollgate_eval") (result i64)
    (if (i32.eq (i32.load (i32.const 1028)) (i32.const 4))
      (then (return (i64.const 0x10000))))
    (if (i32.eq (i32.load (i32.const 1028)) (i32.const 5))
      (then (drop (i32.load (i32.const 0xFFFFFFF0)))))
    (unreachable)))
