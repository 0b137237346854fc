;; Sandbox fixture: eval never returns (an infinite loop). The host must time it out and fail closed.
;; tollgate.attributes: path
(module
  (memory (export "memory") 1 1)
  (global (export "tollgate_policy_abi_v1") i32 (i32.const 1))
  (global (export "tollgate_ctx") i32 (i32.const 1024))
  (global (export "tollgate_ctx_capacity") i32 (i32.const 4096))
  (global (export "tollgate_out") i32 (i32.const 8192))
  (func (export "tollgate_eval") (result i64)
    (loop $spin (br $spin))
    (i64.const 0x10000)))
