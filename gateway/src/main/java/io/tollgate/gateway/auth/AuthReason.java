package io.tollgate.gateway.auth;

import java.nio.charset.StandardCharsets;

/**
 * Why a request was refused by identity or authorization: a stable code, sent to the client in the JSON body of the
 * 401/403 and used as the {@code reason} label of {@code tollgate_auth_requests_total}. Codes never change meaning;
 * new ones are added at the end.
 *
 * <p>The codes say what class of problem the token had, never what it contained: the token itself is never echoed.
 */
public enum AuthReason {
    /** Verified (not a refusal; the {@code reason} label of successes). */
    OK("ok", 200),
    /** No token where the route's issuers look for one. */
    MISSING_TOKEN("missing_token", 401),
    /** More than one token candidate (two Authorization fields, a header and a cookie...). */
    MULTIPLE_TOKENS("multiple_tokens", 401),
    /** Over the configured size limit; refused before any decoding. */
    TOKEN_TOO_LARGE("token_too_large", 401),
    /** Not three non-empty dot-separated segments, or an Authorization scheme other than Bearer. */
    MALFORMED("malformed_token", 401),
    /** A segment is not strict unpadded base64url. */
    BAD_BASE64("bad_base64url", 401),
    /** Header or payload is not a JSON object within the parser's limits (depth, size, UTF-8). */
    BAD_JSON("bad_json", 401),
    /** Header or payload repeats a member name (RFC 7515 section 5.2: must be rejected). */
    DUPLICATE_MEMBER("duplicate_json_member", 401),
    /** {@code alg} is {@code none}: never accepted. */
    ALG_NONE("alg_none", 401),
    /** {@code alg} missing, not a string, or not an algorithm the gateway implements. */
    ALG_UNSUPPORTED("alg_unsupported", 401),
    /** {@code alg} is implemented but not allowed for the token's issuer. */
    ALG_NOT_ALLOWED("alg_not_allowed", 401),
    /** {@code jku}, {@code x5u}, {@code jwk} or {@code x5c}: key references from the token are never trusted. */
    UNTRUSTED_KEY_HEADER("untrusted_key_header", 401),
    /** {@code crit} lists extensions; none is implemented, so any {@code crit} is refused (RFC 7515 4.1.11). */
    CRIT_UNSUPPORTED("crit_unsupported", 401),
    /** {@code typ} names another kind of JWT (a logout token, a DPoP proof...): RFC 8725 3.11. */
    WRONG_TYPE("wrong_token_type", 401),
    /** {@code iss} missing or not a configured issuer. */
    UNKNOWN_ISSUER("unknown_issuer", 401),
    /** No key with the token's {@code kid} (after a refetch when the issuer has a JWKS URL). */
    UNKNOWN_KEY("unknown_kid", 401),
    /** The key found is of another type or curve than {@code alg}, or its own {@code alg} differs. */
    KEY_ALG_MISMATCH("key_alg_mismatch", 401),
    /** The signature does not verify (or is not of the exact length the algorithm produces). */
    BAD_SIGNATURE("bad_signature", 401),
    /** {@code exp} (plus clock skew) is in the past. */
    EXPIRED("token_expired", 401),
    /** {@code nbf} (minus clock skew) is in the future. */
    NOT_YET_VALID("token_not_yet_valid", 401),
    /** {@code iat} (minus clock skew) is in the future. */
    ISSUED_IN_FUTURE("token_issued_in_future", 401),
    /** {@code aud} missing or naming none of the issuer's audiences. */
    WRONG_AUDIENCE("wrong_audience", 401),
    /** A required claim ({@code exp}, {@code sub}) is missing. */
    MISSING_CLAIM("missing_claim", 401),
    /** A registered claim has the wrong type ({@code exp} as a string, {@code sub} as a number...). */
    INVALID_CLAIM("invalid_claim", 401),
    /** The issuer has no keys yet (its JWKS was never fetched successfully). */
    KEYS_UNAVAILABLE("keys_unavailable", 401),
    /** The token is valid but its issuer is not one the route accepts. */
    ISSUER_NOT_ALLOWED("issuer_not_allowed", 401),
    /** The org in the path or header differs from the token's org (or the token has none). */
    ORG_MISMATCH("org_mismatch", 403),
    /** The token lacks the roles or scopes the route requires for this method. */
    INSUFFICIENT_ROLE("insufficient_role", 403),
    /** Deny-by-default: the route names no rule for this method. */
    NO_RULE("no_matching_rule", 403),
    /**
     * The token needs a signature check and every verifier thread is busy with a full queue behind it
     * ({@code tollgate.auth.verification.max-pending}): refused at once, with Retry-After, rather than queued without
     * bound. Says nothing about the token; cached tokens are still served.
     */
    OVERLOADED("auth_overloaded", 503);

    private final String code;
    private final byte[] codeBytes;
    private final int status;

    AuthReason(String code, int status) {
        this.code = code;
        this.codeBytes = code.getBytes(StandardCharsets.US_ASCII);
        this.status = status;
    }

    /** The stable code, {@code [a-z_]+}. */
    public String code() {
        return code;
    }

    /** The code as ASCII bytes (pre-encoded for replies). Do not modify. */
    public byte[] codeBytes() {
        return codeBytes;
    }

    /** 401 (authentication) or 403 (authorization); 503 for {@link #OVERLOADED}; 200 for {@link #OK}. */
    public int status() {
        return status;
    }
}
