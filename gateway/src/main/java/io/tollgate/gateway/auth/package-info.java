/**
 * Identity at the edge: JWS/JWT verification with the JDK's crypto, the JWKS lifecycle, tenant (org) isolation and
 * role rules, as the first filter of a route's chain.
 *
 * <h2>The way of a token</h2>
 * <pre>
 * TokenExtractor     offsets of the token in the inbound buffer (Authorization: Bearer, a header, a cookie, a
 *                    query parameter where the route allows it); two candidates = 401 multiple_tokens; size limit
 * VerifiedTokenCache per event loop: hash of the token's tail + full byte compare -> Principal (0 B, no crypto)
 *                    and a second instance of forged tokens (rejected-token table): a replay is a lookup
 * JwtVerifier        on a miss: strict base64url, strict JSON (Json: duplicate members, depth, UTF-8), header rules,
 *                    iss -> Issuer, alg allowed for it, key by kid of the alg's family/curve (KeySet),
 *                    exp/nbf/iat/aud/sub, org, roles -> role bits -> Principal (not yet trusted), then the
 *                    signature: HMAC inline; RSA, PSS, ECDSA, Ed25519 as a PendingSignature
 * SignatureVerifierPool  verifier threads (bounded queue; full -> 503 auth_overloaded) check it with their own
 *                    SignatureChecker and post the verdict to the loop, which caches it and resumes the request
 * AuthFilter         issuer accepted by the route, org in the path template or a header, first matching role rule
 *                    (any-of / all-of, deny-by-default), identity headers upstream; 401/403 per RFC 6750
 * RemoteJwks         fetch before ready, refresh ahead of max-age, unknown kid -> PAUSE + one (deferred) fetch per
 *                    window, stale keys kept on failure with backoff; KeySource publishes, generation invalidates
 * </pre>
 *
 * <h2>What an attacker can send, and what happens</h2>
 * <table>
 *   <caption>Refusals (stable codes, {@link io.tollgate.gateway.auth.AuthReason})</caption>
 *   <tr><th>attack</th><th>defence</th><th>code</th></tr>
 *   <tr><td>{@code alg: none}, any case</td><td>no such algorithm exists here</td><td>alg_none</td></tr>
 *   <tr><td>HS256 signed with the RSA public key</td><td>algorithm allowed per issuer; a key verifies only its own
 *       family and curve; secrets only from hmac-secret-file / local JWKS</td>
 *       <td>alg_not_allowed / key_alg_mismatch</td></tr>
 *   <tr><td>{@code jku}, {@code x5u}, {@code jwk}, {@code x5c}</td><td>keys only from configuration</td>
 *       <td>untrusted_key_header</td></tr>
 *   <tr><td>{@code crit} (and {@code b64})</td><td>no extension implemented, so none accepted</td>
 *       <td>crit_unsupported</td></tr>
 *   <tr><td>duplicate JSON members (also via escapes)</td><td>parser refuses them</td>
 *       <td>duplicate_json_member</td></tr>
 *   <tr><td>oversized token</td><td>refused from its length, before decoding</td><td>token_too_large</td></tr>
 *   <tr><td>padding, +/, whitespace, non-canonical last character</td><td>strict base64url</td>
 *       <td>bad_base64url</td></tr>
 *   <tr><td>DER or truncated signatures, r = 0</td><td>exact length per algorithm</td><td>bad_signature</td></tr>
 *   <tr><td>expired, not yet valid, issued in the future</td><td>clock skew per issuer; cache entries end at exp</td>
 *       <td>token_expired / token_not_yet_valid / token_issued_in_future</td></tr>
 *   <tr><td>wrong aud, unknown iss</td><td>exact string comparison</td><td>wrong_audience / unknown_issuer</td></tr>
 *   <tr><td>invalid-curve JWK, weak RSA, short secret</td><td>refused when the JWKS is read</td><td>(load error)</td></tr>
 *   <tr><td>well-formed tokens with forged ES256 signatures, to burn event-loop CPU</td><td>signatures checked
 *       on the bounded verifier pool, never on the loop; a full queue refuses at once; replays found in the
 *       rejected-token table</td><td>bad_signature / auth_overloaded (503)</td></tr>
 *   <tr><td>random kids to hammer the IdP</td><td>one fetch per min-refresh-interval, waiters capped</td>
 *       <td>unknown_kid</td></tr>
 *   <tr><td>other tenant in the path, {@code %2f}, {@code \}, dot segments</td><td>whole-segment byte compare;
 *       ambiguous paths refused (dot segments already by the request parser)</td><td>org_mismatch (403)</td></tr>
 *   <tr><td>client-sent X-Org-Id / X-User-Id / X-Roles</td><td>stripped on every route</td><td>-</td></tr>
 *   <tr><td>CR/LF or commas in claims</td><td>identity header values escaped as \XX</td><td>-</td></tr>
 * </table>
 * The token is never logged or echoed; replies carry the code only.
 *
 * <h2>Figures</h2>
 * Measured on the shared 2-core development machine (other builds running; load average 2-3 during the runs),
 * JDK 17, JMH {@code -f 2 -wi 5 -i 10 -w 1 -r 1 -prof gc} ({@code bench/jmh.sh JwtVerification}); tokens with typical
 * access-token claims: RS256 686 bytes, ES256 and EdDSA 430 bytes.
 * <table>
 *   <caption>JwtVerificationBenchmark</caption>
 *   <tr><th>case</th><th>ns/op</th><th>B/op</th></tr>
 *   <tr><td>cached hit, RS256 token (pooled direct buffer)</td><td>52 &plusmn; 5</td><td>0</td></tr>
 *   <tr><td>cached hit, ES256 token</td><td>43 &plusmn; 4</td><td>0</td></tr>
 *   <tr><td>uncached RS256 (2048-bit)</td><td>35,000</td><td>9,650</td></tr>
 *   <tr><td>uncached ES256 (P-256)</td><td>1,030,000</td><td>47,400</td></tr>
 *   <tr><td>uncached EdDSA (Ed25519)</td><td>631,000</td><td>53,400</td></tr>
 * </table>
 * The uncached ECDSA and EdDSA figures are dominated by the JDK 17 providers' pure-Java curve arithmetic (SunEC):
 * the gateway's own share (base64url, two JSON objects, checks, principal) is the same for every algorithm and is
 * bounded by the whole RS256 figure. A first-seen ES256 token costs about a millisecond of CPU, which is why that
 * check runs on {@link io.tollgate.gateway.auth.SignatureVerifierPool}, not on the event loop: a flood of forged
 * ES256 tokens costs each loop only the cheap checks and a queue offer per request, and the pool's bounded queue
 * turns the excess into 503 auth_overloaded (the README's Identity section has the measured effect on an open route
 * of the same gateway, {@code bench/jwt-flood.sh}). Legitimate first-seen tokens compete with forgeries for the
 * pool during such a flood; rate-limit unauthenticated traffic per client in front of such routes, prefer RS256
 * issuers for high-churn token populations, or run on a newer JDK.
 *
 * <p>End to end ({@code JwtAllocationTest}): keep-alive requests through a JWT route (cache hit, org and role
 * checks, three identity headers) allocate 0.10 B per request on the event loop, as the core proxy does.
 * Throughput with and without JWT ({@code bench/jwt-compare.sh}) could not be measured meaningfully on the shared
 * machine (run-to-run spread above 50%); run the script on a quiet machine.
 */
package io.tollgate.gateway.auth;
