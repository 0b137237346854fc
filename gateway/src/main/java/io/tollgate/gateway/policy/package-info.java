/**
 * The access-policy stage of the filter chains (issue 6, gateway side): WebAssembly policies from the
 * {@code policy-vm} module, run per request after identity and before rate limiting.
 *
 * <pre>
 * tollgate {
 *   policies {
 *     orders { file = "policies/orders.conf" }                       # compiled when the config loads
 *     legacy { file = "legacy.wasm", output-headers = [x-tier], failure-status = 500, deadline = 5ms }
 *     rego   { file = "authz.wasm", engine = opa, entrypoint = "authz/allow", data { ... }, input-aliases { user = subject } }
 *   }
 *   routes = [{ name = orders, match { path-prefix = "/orders" }, upstream = orders, policy = orders }]
 * }
 * </pre>
 *
 * <ul>
 *   <li>{@link io.tollgate.gateway.policy.PolicyStage}: loads every policy once (a source is compiled, a module
 *       validated; errors are config problems at the declaration, with the compiler's own file:line), owns the
 *       header names policies may add, and puts one filter per policy on the routes naming it.</li>
 *   <li>{@code TollgatePolicyFilter}: one {@code PolicyInstance} per event loop; copies only the attributes the
 *       module declares (see {@code RequestAttributes}), one {@code eval()}, then continues with the output headers
 *       added upstream or answers with the decision's status from a pre-built reply ({@code policy_denied}, or
 *       {@code policy_failed} with the policy's failure status when it trapped, timed out or output something the
 *       host refuses). No allocation per request.</li>
 *   <li>{@code OpaPolicyFilter}: the opt-in OPA engine (JSON input, allocates, microseconds).</li>
 * </ul>
 *
 * <p>Observability: {@code tollgate_policy_decisions_total{policy,engine,outcome}},
 * {@code tollgate_policy_failures_total{policy,engine,kind}}, {@code tollgate_policy_rebuilds_total{policy,engine}},
 * {@code tollgate_policy_duration_seconds{policy,engine}}; access-log fields {@code policy}, {@code policy_decision}
 * (allow | deny | fail_closed), {@code policy_rule}, {@code policy_reason} or {@code policy_failure}.
 */
package io.tollgate.gateway.policy;
