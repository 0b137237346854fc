package io.tollgate.gateway.auth;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Verifies a JWS compact token (RFC 7515, RFC 7519, with the RFC 8725 best practices) against the configured
 * issuers and, on success, builds its {@link Principal}. This is the uncached path: the event loop's
 * {@link VerifiedTokenCache} answers repeated tokens without coming here.
 *
 * <pre>{@code
 * JwtVerifier v = new JwtVerifier(issuers, IdentityHeaders.NONE, 8192);   // one per event loop
 * AuthReason r = v.verify(token, token.length, System.currentTimeMillis());
 * if (r == AuthReason.OK) { Principal p = v.principal(); }
 * else if (r == AuthReason.UNKNOWN_KEY && v.keySource().remote() != null) { ... refetch, retry ... }
 *
 * // On an event loop: everything but an asymmetric signature, which a verifier thread checks later.
 * r = v.verifyDeferringSignature(token, token.length, nowMs);
 * if (r == AuthReason.OK && v.pendingSignature() != null) { pool.offer(...v.pendingSignature()...); }
 * }</pre>
 *
 * <p>Order of checks, cheapest first, the signature last (so a malformed, expired or misaddressed token never costs
 * a signature check, and never a verifier thread). Nothing from the token is trusted before its signature is
 * checked: the claims are only compared with the configuration, and the principal built from them is not handed
 * out until the signature verifies.
 * <ol>
 *   <li>size (before any decoding), exactly three non-empty segments;</li>
 *   <li>header: strict base64url, strict JSON (no duplicate members), {@code alg} present and implemented
 *       ({@code none} refused by name), no {@code jku}/{@code x5u}/{@code jwk}/{@code x5c} (keys come only from
 *       configuration), no {@code crit} (no extension is implemented), {@code typ} absent or a JWT type,
 *       {@code kid} a string when present;</li>
 *   <li>payload: strict base64url and JSON; {@code iss} selects the configured issuer; the issuer must allow
 *       {@code alg};</li>
 *   <li>key: by {@code kid} in the issuer's current keys, of the family and curve {@code alg} needs (no HS/RS
 *       confusion);</li>
 *   <li>claims, with the issuer's clock skew: {@code exp} required and in the future, {@code nbf} and {@code iat}
 *       not in the future, {@code aud} naming one of the issuer's audiences, {@code sub} a string; then the org
 *       claim, the roles (array, or space-separated string) mapped to the issuer's role bits;</li>
 *   <li>the signature, of exactly the algorithm's length: here, or (asymmetric algorithms, with
 *       {@link #verifyDeferringSignature}) on another thread through {@link PendingSignature}.</li>
 * </ol>
 *
 * <p>Threading: confined to one thread (it reuses its scratch buffers and JCA objects): one per event loop.
 * Allocation: JSON trees, strings and the principal, on this uncached path only; refusals before the JSON stage
 * allocate nothing.
 */
public final class JwtVerifier {

    /** Default and maximum token size in bytes (RFC 8725 gives no number; 8 KiB is generous for a JWT). */
    public static final int DEFAULT_MAX_TOKEN_BYTES = 8192;
    /** Roles kept per principal; more are ignored (a token is not a database). */
    public static final int MAX_ROLES_PER_TOKEN = 256;
    private static final int HEADER_MAX_DEPTH = 3;
    private static final int PAYLOAD_MAX_DEPTH = 8;

    private final Issuers issuers;
    private final IdentityHeaders headers;
    private final int maxTokenBytes;
    private final byte[] headerBytes;
    private final byte[] payloadBytes;
    private final byte[] signatureBytes;
    private final SignatureChecker signatures = new SignatureChecker();

    private Principal principal;
    private Issuer issuer;
    private KeySource keySource;
    private long keyGeneration;
    private PendingSignature pending;
    private Principal forged;

    public JwtVerifier(Issuers issuers, IdentityHeaders headers, int maxTokenBytes) {
        this.issuers = issuers;
        this.headers = headers;
        this.maxTokenBytes = maxTokenBytes;
        final int decoded = Base64Url.decodedLength(maxTokenBytes & ~3) + 3;
        this.headerBytes = new byte[decoded];
        this.payloadBytes = new byte[decoded];
        this.signatureBytes = new byte[decoded];
    }

    public int maxTokenBytes() {
        return maxTokenBytes;
    }

    /** After {@link AuthReason#OK}: the principal. */
    public Principal principal() {
        return principal;
    }

    /** The issuer the last token named (null when it was refused before {@code iss} was read), for metrics. */
    public Issuer issuer() {
        return issuer;
    }

    /** After {@link AuthReason#UNKNOWN_KEY} or {@link AuthReason#KEYS_UNAVAILABLE}: the issuer's key source. */
    public KeySource keySource() {
        return keySource;
    }

    /**
     * After {@link AuthReason#OK}: the generation of the issuer's keys the token was checked against, read before
     * the keys themselves, so a cache entry recorded with it can only be dropped early, never kept past a key change.
     */
    public long keyGeneration() {
        return keyGeneration;
    }

    /**
     * After {@link #verifyDeferringSignature} returned {@link AuthReason#OK}: the signature still to check, or null
     * when it was checked here (HMAC) and {@link #principal()} is set.
     */
    public PendingSignature pendingSignature() {
        return pending;
    }

    /**
     * After {@link AuthReason#BAD_SIGNATURE}: what the forged token claimed. Never an identity: only its expiry and
     * issuer are used, to remember the forgery ({@link AuthFilter}'s rejected-token table) until either changes.
     */
    public Principal forgedPrincipal() {
        return forged;
    }

    /**
     * Verifies {@code token[0, length)}, signature included.
     *
     * @param nowMs the current time, epoch milliseconds
     * @return {@link AuthReason#OK}, or why the token is refused
     */
    public AuthReason verify(byte[] token, int length, long nowMs) {
        return verify(token, length, nowMs, false);
    }

    /**
     * As {@link #verify}, but an asymmetric signature (RS*, PS*, ES*, EdDSA: 35 us to 1 ms of CPU on JDK 17) is not
     * checked: {@link AuthReason#OK} then means every other check passed, {@link #principal()} is null and
     * {@link #pendingSignature()} holds copies of what checking it takes. HMAC signatures cost microseconds and are
     * checked here as {@link #verify} does.
     */
    public AuthReason verifyDeferringSignature(byte[] token, int length, long nowMs) {
        return verify(token, length, nowMs, true);
    }

    private AuthReason verify(byte[] token, int length, long nowMs, boolean deferAsymmetric) {
        principal = null;
        issuer = null;
        keySource = null;
        pending = null;
        forged = null;
        if (length > maxTokenBytes) {
            return AuthReason.TOKEN_TOO_LARGE;
        }
        int dot1 = -1;
        int dot2 = -1;
        for (int i = 0; i < length; i++) {
            if (token[i] == '.') {
                if (dot1 < 0) {
                    dot1 = i;
                } else if (dot2 < 0) {
                    dot2 = i;
                } else {
                    return AuthReason.MALFORMED; // JWE (five segments) or garbage
                }
            }
        }
        if (dot2 < 0 || dot1 == 0 || dot2 == dot1 + 1 || dot2 == length - 1) {
            return AuthReason.MALFORMED;
        }
        final int headerLength = Base64Url.decode(token, 0, dot1, headerBytes, 0);
        if (headerLength < 0) {
            return AuthReason.BAD_BASE64;
        }

        final Map<String, Object> header;
        try {
            header = Json.parseObject(headerBytes, 0, headerLength, HEADER_MAX_DEPTH);
        } catch (Json.Failure e) {
            return e.reason();
        }
        final Object algValue = header.get("alg");
        if (!(algValue instanceof String algName)) {
            return AuthReason.ALG_UNSUPPORTED;
        }
        if (algName.equalsIgnoreCase("none")) {
            return AuthReason.ALG_NONE;
        }
        final JwsAlgorithm alg = JwsAlgorithm.byJoseName(algName);
        if (alg == null) {
            return AuthReason.ALG_UNSUPPORTED;
        }
        if (header.containsKey("jku") || header.containsKey("x5u") || header.containsKey("jwk")
                || header.containsKey("x5c")) {
            return AuthReason.UNTRUSTED_KEY_HEADER;
        }
        if (header.containsKey("crit") || header.containsKey("b64")) {
            return AuthReason.CRIT_UNSUPPORTED; // b64 is only meaningful under crit (RFC 7797 6)
        }
        final Object typ = header.get("typ");
        if (typ != null && !(typ instanceof String t && jwtType(t))) {
            return AuthReason.WRONG_TYPE;
        }
        final Object kidValue = header.get("kid");
        if (kidValue != null && !(kidValue instanceof String)) {
            return AuthReason.MALFORMED;
        }
        final String kid = (String) kidValue;
        final int payloadLength = Base64Url.decode(token, dot1 + 1, dot2 - dot1 - 1, payloadBytes, 0);
        final int signatureLength = Base64Url.decode(token, dot2 + 1, length - dot2 - 1, signatureBytes, 0);
        if (payloadLength < 0 || signatureLength < 0) {
            return AuthReason.BAD_BASE64;
        }

        final Map<String, Object> claims;
        try {
            claims = Json.parseObject(payloadBytes, 0, payloadLength, PAYLOAD_MAX_DEPTH);
        } catch (Json.Failure e) {
            return e.reason();
        }
        final Object issValue = claims.get("iss");
        final Issuer iss = issValue instanceof String s ? issuers.byIss(s) : null;
        if (iss == null) {
            return AuthReason.UNKNOWN_ISSUER;
        }
        issuer = iss;
        if (!iss.allows(alg)) {
            return AuthReason.ALG_NOT_ALLOWED;
        }

        final KeySource source = iss.keys();
        keyGeneration = source.generation(); // before keys(): see keyGeneration()
        final KeySet keys = source.keys();
        final int k = keys.find(kid, alg);
        if (k == KeySet.MISMATCH) {
            return AuthReason.KEY_ALG_MISMATCH;
        }
        if (k < 0) {
            keySource = source;
            return source.ready() || keys.size() > 0 ? AuthReason.UNKNOWN_KEY : AuthReason.KEYS_UNAVAILABLE;
        }
        final AuthReason claimsReason = claims(iss, claims, nowMs);
        if (claimsReason != AuthReason.OK) {
            return claimsReason;
        }
        final VerificationKey key = keys.get(k);
        if (deferAsymmetric && alg.keyType() != JwsAlgorithm.KeyType.OCT) {
            pending = new PendingSignature(alg, key, token, length, dot2, signatureBytes, signatureLength, principal,
                    keyGeneration);
            principal = null;
            return AuthReason.OK;
        }
        if (!signatures.verify(alg, key, token, dot2, signatureBytes, signatureLength)) {
            forged = principal;
            principal = null;
            return AuthReason.BAD_SIGNATURE;
        }
        return AuthReason.OK;
    }

    private static boolean jwtType(String typ) {
        return typ.equalsIgnoreCase("JWT") || typ.equalsIgnoreCase("at+jwt")
                || typ.equalsIgnoreCase("application/jwt") || typ.equalsIgnoreCase("application/at+jwt");
    }

    private AuthReason claims(Issuer iss, Map<String, Object> claims, long nowMs) {
        final long skewMs = iss.clockSkewSeconds() * 1000;
        final Object exp = claims.get("exp");
        if (exp == null) {
            return AuthReason.MISSING_CLAIM; // required: it bounds the cache entry and the token's life
        }
        final long expMs = numericDateMs(exp);
        if (expMs == Long.MIN_VALUE) {
            return AuthReason.INVALID_CLAIM;
        }
        if (nowMs >= saturatedAdd(expMs, skewMs)) {
            return AuthReason.EXPIRED;
        }
        final Object nbf = claims.get("nbf");
        if (nbf != null) {
            final long nbfMs = numericDateMs(nbf);
            if (nbfMs == Long.MIN_VALUE) {
                return AuthReason.INVALID_CLAIM;
            }
            if (saturatedAdd(nowMs, skewMs) < nbfMs) {
                return AuthReason.NOT_YET_VALID;
            }
        }
        final Object iat = claims.get("iat");
        if (iat != null) {
            final long iatMs = numericDateMs(iat);
            if (iatMs == Long.MIN_VALUE) {
                return AuthReason.INVALID_CLAIM;
            }
            if (iatMs > saturatedAdd(nowMs, skewMs)) {
                return AuthReason.ISSUED_IN_FUTURE;
            }
        }
        final AuthReason aud = audience(iss, claims.get("aud"));
        if (aud != AuthReason.OK) {
            return aud;
        }
        final Object sub = claims.get("sub");
        if (sub == null) {
            return AuthReason.MISSING_CLAIM;
        }
        if (!(sub instanceof String subject) || subject.isEmpty()) {
            return AuthReason.INVALID_CLAIM;
        }
        String org = null;
        if (iss.orgClaim() != null) {
            final Object o = claim(claims, iss.orgClaim());
            if (o != null) {
                if (!(o instanceof String s) || s.isEmpty()) {
                    return AuthReason.INVALID_CLAIM;
                }
                org = s;
            }
        }
        final List<String> roles = new ArrayList<>();
        if (iss.rolesClaim() != null) {
            final Object r = claim(claims, iss.rolesClaim());
            if (r instanceof String s) {
                for (String part : s.split(" ")) {
                    if (!part.isEmpty() && roles.size() < MAX_ROLES_PER_TOKEN) {
                        roles.add(part);
                    }
                }
            } else if (r instanceof List<?> list) {
                for (Object e : list) {
                    if (!(e instanceof String s)) {
                        return AuthReason.INVALID_CLAIM;
                    }
                    if (roles.size() < MAX_ROLES_PER_TOKEN) {
                        roles.add(s);
                    }
                }
            } else if (r != null) {
                return AuthReason.INVALID_CLAIM;
            }
        }
        long mask = 0;
        for (String role : roles) {
            mask |= iss.roleBit(role);
        }
        final List<String> forwarded = iss.forwardedClaims();
        final byte[][] values = new byte[forwarded.size()][];
        for (int i = 0; i < values.length; i++) {
            values[i] = claimBytes(claim(claims, forwarded.get(i)));
        }
        principal = new Principal(iss, subject, org, mask, roles, expMs, values,
                headers.values(iss, subject, org, roles));
        return AuthReason.OK;
    }

    private static AuthReason audience(Issuer iss, Object aud) {
        if (aud == null) {
            return AuthReason.WRONG_AUDIENCE;
        }
        if (aud instanceof String s) {
            return iss.audiences().contains(s) ? AuthReason.OK : AuthReason.WRONG_AUDIENCE;
        }
        if (aud instanceof List<?> list) {
            boolean match = false;
            for (Object e : list) {
                if (!(e instanceof String s)) {
                    return AuthReason.INVALID_CLAIM;
                }
                match |= iss.audiences().contains(s);
            }
            return match ? AuthReason.OK : AuthReason.WRONG_AUDIENCE;
        }
        return AuthReason.INVALID_CLAIM;
    }

    /**
     * A claim by name: the top-level member when present (namespaced claims such as
     * {@code https://example.com/roles} contain dots), else a dotted path into nested objects
     * ({@code realm_access.roles}).
     */
    static Object claim(Map<String, Object> claims, String name) {
        final Object direct = claims.get(name);
        if (direct != null || name.indexOf('.') < 0) {
            return direct == Json.NULL ? null : direct;
        }
        Object node = claims;
        for (String part : name.split("\\.")) {
            if (!(node instanceof Map<?, ?> m)) {
                return null;
            }
            node = m.get(part);
        }
        return node == Json.NULL ? null : node;
    }

    private static byte[] claimBytes(Object v) {
        if (v == null) {
            return null;
        }
        if (v instanceof String s) {
            return s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        }
        if (v instanceof Long || v instanceof Double || v instanceof Boolean) {
            return v.toString().getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        }
        return null; // objects and arrays are not forwarded
    }

    /** A NumericDate (seconds, possibly fractional) in milliseconds, or Long.MIN_VALUE when not a number. */
    static long numericDateMs(Object v) {
        if (v instanceof Long l) {
            if (l > Long.MAX_VALUE / 1000 || l < Long.MIN_VALUE / 1000 + 1) {
                return l > 0 ? Long.MAX_VALUE : Long.MIN_VALUE + 1;
            }
            return l * 1000;
        }
        if (v instanceof Double d) {
            final double ms = Math.floor(d * 1000);
            if (ms >= 9.2e18) {
                return Long.MAX_VALUE;
            }
            if (ms <= -9.2e18) {
                return Long.MIN_VALUE + 1;
            }
            return (long) ms;
        }
        return Long.MIN_VALUE;
    }

    private static long saturatedAdd(long a, long b) {
        final long r = a + b;
        return ((a ^ r) & (b ^ r)) < 0 ? (a < 0 ? Long.MIN_VALUE : Long.MAX_VALUE) : r;
    }
}
