package io.tollgate.gateway.auth;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.interfaces.ECPublicKey;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;

/**
 * The verifier against the RFC test vectors (RFC 7515 A.2, A.3, A.4; RFC 8037 A.4/A.5) and against every class of
 * forged or broken token, each refused with its stable reason code.
 */
class JwtVerifierTest {

    private static final long NOW_MS = 1_800_000_000_000L;
    private static final long NOW_S = NOW_MS / 1000;
    private static final String ISS = "https://idp.test/";
    static final KeyPair RSA = Tokens.rsa();
    static final KeyPair EC256 = Tokens.ec("secp256r1");
    static final KeyPair EC384 = Tokens.ec("secp384r1");
    static final KeyPair EC521 = Tokens.ec("secp521r1");
    static final KeyPair ED = Tokens.ed25519();
    private static final byte[] SECRET = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
            .getBytes(StandardCharsets.US_ASCII);

    // ------------------------------------------------------------------ RFC vectors

    /** RFC 7515 A.1-A.3 payload: {"iss":"joe",\r\n "exp":1300819380,\r\n "http://example.com/is_root":true}. */
    private static final String RFC_PAYLOAD =
            "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";
    private static final String A2_N = "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp"
            + "-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOW"
            + "vG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUs"
            + "LA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9k"
            + "G4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2"
            + "PAcDTW9gb54h4FRWyuXpoQ";
    private static final String A2_TOKEN = "eyJhbGciOiJSUzI1NiJ9." + RFC_PAYLOAD + "."
            + "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdb"
            + "F9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN938"
            + "3LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWk"
            + "WywlVmtVrBp0igcN_IoypGlUPQGe77Rw";
    private static final String A3_JWKS = "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\","
            + "\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","
            + "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}]}";
    private static final String A3_TOKEN = "eyJhbGciOiJFUzI1NiJ9." + RFC_PAYLOAD + "."
            + "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";
    private static final String A4_JWKS = "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-521\","
            + "\"x\":\"AekpBQ8ST8a8VcfVOTNl353vSrDCLLJXmPk06wTjxrrjcBpXp5EOnYG_NjFZ6OvLFV1jSfS9tsz4qUxcWceqwQGk\","
            + "\"y\":\"ADSmRA43Z1DSNx_RvcLI87cdL07l6jQyyBXMoxVg_l2Th-x3S1WDhjDly79ajL4Kkd0AZMaZmh9ubmf63e3kyMj2\"}]}";
    private static final String A4_TOKEN = "eyJhbGciOiJFUzUxMiJ9.UGF5bG9hZA."
            + "AdwMgeerwtHoh-l192l60hp9wAHZFVJbLfD_UxMi70cwnZOYaRI1bKPWROc-mZZqwqT2SI-KGDKB34XO0aw_7XdtAG8GaSwFKdCAPZgo"
            + "XD2YBJZCPEX3xKpRwcdOO8KpEHwJjyqOgzDO7iKvU8vcnwNrmxYbSW9ERBXukOXolLzeO_Jn";
    private static final String ED_JWKS = "{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
            + "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}]}";
    private static final String ED_TOKEN = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc."
            + "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";

    @Test
    void verifiesRfc7515AppendixA1Hs256() {
        // A.1: the header has a CRLF inside ({"typ":"JWT",\r\n "alg":"HS256"}), the key is a 64-byte oct JWK.
        final String token = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9." + RFC_PAYLOAD
                + ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        final KeySet keys = Jwks.parse(ascii("{\"keys\":[{\"kty\":\"oct\",\"k\":\"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-"
                + "EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow\"}]}"), true).keys();
        assertTrue(signatureVerifies(JwsAlgorithm.HS256, keys, token));
        assertFalse(signatureVerifies(JwsAlgorithm.HS256, keys, flipLastSignatureChar(token)));
        final JwtVerifier v = verifier(issuer("joe", keys, JwsAlgorithm.HS256));
        assertEquals(AuthReason.WRONG_AUDIENCE, verify(v, token, 1_300_819_000_000L));
        // The same oct key is never read from a remote JWKS.
        assertEquals(0, Jwks.parse(ascii("{\"keys\":[{\"kty\":\"oct\",\"k\":\"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-"
                + "EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow\"}]}"), false).keys().size());
    }

    @Test
    void verifiesRfc7515AppendixA2Rs256() {
        final KeySet keys = Jwks.parse(("{\"keys\":[{\"kty\":\"RSA\",\"n\":\"" + A2_N + "\",\"e\":\"AQAB\"}]}")
                .getBytes(StandardCharsets.US_ASCII), false).keys();
        assertTrue(signatureVerifies(JwsAlgorithm.RS256, keys, A2_TOKEN));
        assertFalse(signatureVerifies(JwsAlgorithm.RS256, keys, flipLastSignatureChar(A2_TOKEN)));
        // Through the whole verifier at the RFC's time: the signature and exp pass, then the audience is checked.
        final JwtVerifier v = verifier(issuer("joe", keys, JwsAlgorithm.RS256));
        assertEquals(AuthReason.WRONG_AUDIENCE, verify(v, A2_TOKEN, 1_300_819_000_000L));
        assertEquals(AuthReason.EXPIRED, verify(v, A2_TOKEN, 1_300_819_380_000L + 61_000));
    }

    @Test
    void verifiesRfc7515AppendixA3Es256() {
        final KeySet keys = Jwks.parse(ascii(A3_JWKS), false).keys();
        assertTrue(signatureVerifies(JwsAlgorithm.ES256, keys, A3_TOKEN));
        assertFalse(signatureVerifies(JwsAlgorithm.ES256, keys, flipLastSignatureChar(A3_TOKEN)));
        final JwtVerifier v = verifier(issuer("joe", keys, JwsAlgorithm.ES256));
        assertEquals(AuthReason.WRONG_AUDIENCE, verify(v, A3_TOKEN, 1_300_819_000_000L));
    }

    @Test
    void verifiesRfc7515AppendixA4Es512() {
        final KeySet keys = Jwks.parse(ascii(A4_JWKS), false).keys();
        assertTrue(signatureVerifies(JwsAlgorithm.ES512, keys, A4_TOKEN));
        assertFalse(signatureVerifies(JwsAlgorithm.ES512, keys, flipLastSignatureChar(A4_TOKEN)));
        // The payload "Payload" is not JSON: a JWT verifier must refuse it as such.
        assertEquals(AuthReason.BAD_JSON, verify(verifier(issuer("joe", keys, JwsAlgorithm.ES512)), A4_TOKEN, NOW_MS));
    }

    @Test
    void verifiesRfc8037Ed25519Example() {
        final KeySet keys = Jwks.parse(ascii(ED_JWKS), false).keys();
        assertEquals("Ed25519", keys.get(0).curve());
        assertTrue(signatureVerifies(JwsAlgorithm.EDDSA, keys, ED_TOKEN));
        assertFalse(signatureVerifies(JwsAlgorithm.EDDSA, keys, flipLastSignatureChar(ED_TOKEN)));
    }

    private static boolean signatureVerifies(JwsAlgorithm alg, KeySet keys, String token) {
        final byte[] t = ascii(token);
        final int dot2 = token.lastIndexOf('.');
        final byte[] sig = Base64Url.decode(token.substring(dot2 + 1));
        return new SignatureChecker().verify(alg, keys.get(0), t, dot2, sig, sig.length);
    }

    private static String flipLastSignatureChar(String token) {
        final int dot2 = token.lastIndexOf('.');
        final char c = token.charAt(dot2 + 1);
        return token.substring(0, dot2 + 1) + (c == 'A' ? 'B' : 'A') + token.substring(dot2 + 2);
    }

    // ------------------------------------------------------------------ every algorithm, round trip

    @Test
    void acceptsEveryAlgorithmWithAKeyOfItsOwnKind() throws Exception {
        check(JwsAlgorithm.RS256, RSA, "rsa");
        check(JwsAlgorithm.RS384, RSA, "rsa");
        check(JwsAlgorithm.RS512, RSA, "rsa");
        check(JwsAlgorithm.PS256, RSA, "rsa");
        check(JwsAlgorithm.PS384, RSA, "rsa");
        check(JwsAlgorithm.PS512, RSA, "rsa");
        check(JwsAlgorithm.ES256, EC256, "p256");
        check(JwsAlgorithm.ES384, EC384, "p384");
        check(JwsAlgorithm.ES512, EC521, "p521");
        check(JwsAlgorithm.EDDSA, ED, "ed");
    }

    private static void check(JwsAlgorithm alg, KeyPair pair, String kid) throws Exception {
        final JwtVerifier v = verifier(issuer(ISS, allPublicKeys(), alg));
        final String token = Tokens.sign(alg, pair.getPrivate(), header(alg, kid), claims(""));
        assertEquals(AuthReason.OK, verify(v, token, NOW_MS), alg.jose());
        final Principal p = v.principal();
        assertEquals("user-1", p.subjectText());
        assertEquals("acme", p.orgText());
        assertEquals(NOW_S * 1000 + 3_600_000, p.expiresAtMs());
    }

    @Test
    void acceptsHmacOnlyWithAConfiguredSecret() {
        final JwtVerifier v = verifier(issuer(ISS, Jwks.secret(SECRET), JwsAlgorithm.HS256, JwsAlgorithm.HS512));
        assertEquals(AuthReason.OK, verify(v, Tokens.sign(JwsAlgorithm.HS256, SECRET, "{\"alg\":\"HS256\"}",
                claims("")), NOW_MS));
        assertEquals(AuthReason.OK, verify(v, Tokens.sign(JwsAlgorithm.HS512, SECRET, "{\"alg\":\"HS512\"}",
                claims("")), NOW_MS));
        final byte[] other = SECRET.clone();
        other[0] ^= 1;
        assertEquals(AuthReason.BAD_SIGNATURE, verify(v, Tokens.sign(JwsAlgorithm.HS256, other,
                "{\"alg\":\"HS256\"}", claims("")), NOW_MS));
        // A truncated MAC (31 of 32 bytes) is refused.
        final String token = Tokens.sign(JwsAlgorithm.HS256, SECRET, "{\"alg\":\"HS256\"}", claims(""));
        final int dot2 = token.lastIndexOf('.');
        final byte[] mac = Base64Url.decode(token.substring(dot2 + 1));
        assertEquals(AuthReason.BAD_SIGNATURE, verify(v, token.substring(0, dot2 + 1)
                + Base64Url.encode(java.util.Arrays.copyOf(mac, 31)), NOW_MS));
    }

    // ------------------------------------------------------------------ deferred signatures (off the event loop)

    @Test
    void defersEveryAsymmetricSignatureWithCopiesTheVerifierMayReuseItsBuffersAfter() {
        for (Object[] c : new Object[][] {{JwsAlgorithm.RS256, RSA, "rsa"}, {JwsAlgorithm.PS256, RSA, "rsa"},
                {JwsAlgorithm.ES256, EC256, "p256"}, {JwsAlgorithm.EDDSA, ED, "ed"}}) {
            final JwsAlgorithm alg = (JwsAlgorithm) c[0];
            final JwtVerifier v = verifier(issuer(ISS, allPublicKeys(), alg));
            final byte[] token = ascii(Tokens.sign(alg, ((KeyPair) c[1]).getPrivate(), header(alg, (String) c[2]),
                    claims("")));
            assertEquals(AuthReason.OK, v.verifyDeferringSignature(token, token.length, NOW_MS), alg.jose());
            assertNull(v.principal(), "no identity before the signature is checked");
            final PendingSignature pending = v.pendingSignature();
            java.util.Arrays.fill(token, (byte) 'x'); // the loop's scratch buffer, reused by its next request
            assertTrue(pending.check(new SignatureChecker()), alg.jose());
            assertEquals("user-1", pending.claimedPrincipal().subjectText());
            assertEquals(alg, pending.algorithm());
        }
    }

    @Test
    void aDeferredForgeryFailsItsCheckAndCheapRefusalsComeBeforeTheSignature() {
        final JwtVerifier v = verifier(issuer(ISS, allPublicKeys(), JwsAlgorithm.ES256));
        final String good = Tokens.sign(JwsAlgorithm.ES256, EC256.getPrivate(), header(JwsAlgorithm.ES256, "p256"),
                claims(""));
        final String forged = flipLastSignatureChar(good);
        final byte[] f = ascii(forged);
        assertEquals(AuthReason.OK, v.verifyDeferringSignature(f, f.length, NOW_MS));
        assertFalse(v.pendingSignature().check(new SignatureChecker()));
        // Inline, the forgery is refused and what it claimed is kept for the rejected-token table only.
        assertEquals(AuthReason.BAD_SIGNATURE, verify(v, forged, NOW_MS));
        assertNull(v.principal());
        assertEquals(NOW_S * 1000 + 3_600_000, v.forgedPrincipal().expiresAtMs());
        // Expired or misaddressed forgeries never get as far as a signature check (nor a verifier thread).
        final String sig = forged.substring(forged.lastIndexOf('.'));
        final byte[] expired = ascii(Tokens.b64(header(JwsAlgorithm.ES256, "p256")) + "."
                + Tokens.b64("{\"iss\":\"" + ISS + "\",\"aud\":\"api\",\"sub\":\"u\",\"exp\":" + (NOW_S - 3600) + "}")
                + sig);
        assertEquals(AuthReason.EXPIRED, v.verifyDeferringSignature(expired, expired.length, NOW_MS));
        assertNull(v.pendingSignature());
        final byte[] wrongAud = ascii(Tokens.b64(header(JwsAlgorithm.ES256, "p256")) + "."
                + Tokens.b64("{\"iss\":\"" + ISS + "\",\"aud\":\"other\",\"sub\":\"u\",\"exp\":" + (NOW_S + 60) + "}")
                + sig);
        assertEquals(AuthReason.WRONG_AUDIENCE, v.verifyDeferringSignature(wrongAud, wrongAud.length, NOW_MS));
        assertNull(v.pendingSignature());
    }

    @Test
    void hmacIsCheckedInlineEvenWhenDeferring() {
        final JwtVerifier v = verifier(issuer(ISS, Jwks.secret(SECRET), JwsAlgorithm.HS256));
        final byte[] t = ascii(Tokens.sign(JwsAlgorithm.HS256, SECRET, "{\"alg\":\"HS256\"}", claims("")));
        assertEquals(AuthReason.OK, v.verifyDeferringSignature(t, t.length, NOW_MS));
        assertNull(v.pendingSignature());
        assertEquals("user-1", v.principal().subjectText());
        final byte[] forged = ascii(flipLastSignatureChar(new String(t, StandardCharsets.US_ASCII)));
        assertEquals(AuthReason.BAD_SIGNATURE, v.verifyDeferringSignature(forged, forged.length, NOW_MS));
    }

    // ------------------------------------------------------------------ algorithm attacks

    @Test
    void refusesAlgNoneInEveryCaseWithOrWithoutSignature() {
        final JwtVerifier v = verifier(issuer(ISS, allPublicKeys(), JwsAlgorithm.RS256));
        final String unsigned = Tokens.b64("{\"alg\":\"none\"}") + "." + Tokens.b64(claims(""));
        assertEquals(AuthReason.MALFORMED, verify(v, unsigned + ".", NOW_MS));
        assertEquals(AuthReason.ALG_NONE, verify(v, unsigned + ".AAAA", NOW_MS));
        assertEquals(AuthReason.ALG_NONE, verify(v, Tokens.b64("{\"alg\":\"NoNe\"}") + "." + Tokens.b64(claims(""))
                + ".AAAA", NOW_MS));
        assertEquals(AuthReason.ALG_UNSUPPORTED, verify(v, Tokens.b64("{\"typ\":\"JWT\"}") + "."
                + Tokens.b64(claims("")) + ".AAAA", NOW_MS));
        assertEquals(AuthReason.ALG_UNSUPPORTED, verify(v, Tokens.b64("{\"alg\":\"RS1\"}") + "."
                + Tokens.b64(claims("")) + ".AAAA", NOW_MS));
        assertEquals(AuthReason.ALG_UNSUPPORTED, verify(v, Tokens.b64("{\"alg\":\"rs256\"}") + "."
                + Tokens.b64(claims("")) + ".AAAA", NOW_MS));
    }

    @Test
    void refusesHmacSignedWithThePublicKeyAsSecret() {
        // The classic HS/RS confusion: the attacker signs HS256 with the issuer's public key bytes.
        final byte[] publicBytes = RSA.getPublic().getEncoded();
        final String forged = Tokens.sign(JwsAlgorithm.HS256, publicBytes, "{\"alg\":\"HS256\",\"kid\":\"rsa\"}",
                claims(""));
        assertEquals(AuthReason.ALG_NOT_ALLOWED,
                verify(verifier(issuer(ISS, allPublicKeys(), JwsAlgorithm.RS256)), forged, NOW_MS));
        // Even with HS256 allowed for the issuer, an RSA key never serves as an HMAC secret.
        assertEquals(AuthReason.KEY_ALG_MISMATCH, verify(verifier(issuer(ISS, allPublicKeys(), JwsAlgorithm.RS256,
                JwsAlgorithm.HS256)), forged, NOW_MS));
    }

    @Test
    void refusesAKeyOfAnotherCurveOrPinnedAlgorithm() throws Exception {
        final JwtVerifier v = verifier(issuer(ISS, allPublicKeys(), JwsAlgorithm.ES256, JwsAlgorithm.ES384,
                JwsAlgorithm.PS256));
        // ES384 token naming the P-256 key.
        assertEquals(AuthReason.KEY_ALG_MISMATCH, verify(v, Tokens.sign(JwsAlgorithm.ES384, EC384.getPrivate(),
                header(JwsAlgorithm.ES384, "p256"), claims("")), NOW_MS));
        // A JWK pinned to RS256 does not verify PS256.
        final KeySet pinned = Jwks.parse(ascii(Jwks.toJson(List.of(Jwks.fromPublicKey("rsa", RSA.getPublic())))
                .replace("\"kty\"", "\"alg\":\"RS256\",\"kty\"")), false).keys();
        final JwtVerifier pv = verifier(issuer(ISS, pinned, JwsAlgorithm.RS256, JwsAlgorithm.PS256));
        assertEquals(AuthReason.KEY_ALG_MISMATCH, verify(pv, Tokens.sign(JwsAlgorithm.PS256, RSA.getPrivate(),
                header(JwsAlgorithm.PS256, "rsa"), claims("")), NOW_MS));
        assertEquals(AuthReason.OK, verify(pv, Tokens.sign(JwsAlgorithm.RS256, RSA.getPrivate(),
                header(JwsAlgorithm.RS256, "rsa"), claims("")), NOW_MS));
    }

    @Test
    void refusesAlgorithmsTheIssuerDoesNotAllow() {
        final JwtVerifier v = verifier(issuer(ISS, allPublicKeys(), JwsAlgorithm.ES256));
        assertEquals(AuthReason.ALG_NOT_ALLOWED, verify(v, Tokens.sign(JwsAlgorithm.RS256, RSA.getPrivate(),
                header(JwsAlgorithm.RS256, "rsa"), claims("")), NOW_MS));
    }

    @Test
    void neverTrustsKeysOrKeyLocationsFromTheToken() throws Exception {
        final JwtVerifier v = verifier(issuer(ISS, allPublicKeys(), JwsAlgorithm.RS256));
        final KeyPair attacker = Tokens.rsa();
        final String jwk = Jwks.toJson(List.of(Jwks.fromPublicKey("evil", attacker.getPublic())));
        final String embedded = jwk.substring(jwk.indexOf('[') + 1, jwk.lastIndexOf(']'));
        for (String h : List.of(
                "{\"alg\":\"RS256\",\"kid\":\"rsa\",\"jku\":\"https://evil.test/jwks.json\"}",
                "{\"alg\":\"RS256\",\"kid\":\"rsa\",\"x5u\":\"https://evil.test/cert.pem\"}",
                "{\"alg\":\"RS256\",\"jwk\":" + embedded + "}",
                "{\"alg\":\"RS256\",\"x5c\":[\"MIIB\"]}")) {
            assertEquals(AuthReason.UNTRUSTED_KEY_HEADER, verify(v, Tokens.sign(JwsAlgorithm.RS256,
                    attacker.getPrivate(), h, claims("")), NOW_MS), h);
        }
    }

    @Test
    void refusesCriticalExtensions() {
        final JwtVerifier v = verifier(issuer(ISS, allPublicKeys(), JwsAlgorithm.RS256));
        for (String h : List.of("{\"alg\":\"RS256\",\"kid\":\"rsa\",\"crit\":[\"exp\"],\"exp\":1}",
                "{\"alg\":\"RS256\",\"kid\":\"rsa\",\"crit\":[]}",
                "{\"alg\":\"RS256\",\"kid\":\"rsa\",\"b64\":false,\"crit\":[\"b64\"]}")) {
            assertEquals(AuthReason.CRIT_UNSUPPORTED, verify(v, Tokens.sign(JwsAlgorithm.RS256, RSA.getPrivate(), h,
                    claims("")), NOW_MS), h);
        }
    }

    @Test
    void refusesOtherTokenTypes() {
        final JwtVerifier v = verifier(issuer(ISS, allPublicKeys(), JwsAlgorithm.RS256));
        assertEquals(AuthReason.WRONG_TYPE, verify(v, Tokens.sign(JwsAlgorithm.RS256, RSA.getPrivate(),
                "{\"alg\":\"RS256\",\"kid\":\"rsa\",\"typ\":\"dpop+jwt\"}", claims("")), NOW_MS));
        assertEquals(AuthReason.OK, verify(v, Tokens.sign(JwsAlgorithm.RS256, RSA.getPrivate(),
                "{\"alg\":\"RS256\",\"kid\":\"rsa\",\"typ\":\"at+jwt\"}", claims("")), NOW_MS));
    }

    // ------------------------------------------------------------------ encoding attacks

    @Test
    void refusesDuplicateMembersInHeaderOrPayloadEvenWhenEscaped() {
        final JwtVerifier v = verifier(issuer(ISS, allPublicKeys(), JwsAlgorithm.RS256));
        assertEquals(AuthReason.DUPLICATE_MEMBER, verify(v, Tokens.sign(JwsAlgorithm.RS256, RSA.getPrivate(),
                "{\"alg\":\"RS256\",\"kid\":\"rsa\",\"alg\":\"none\"}", claims("")), NOW_MS));
        assertEquals(AuthReason.DUPLICATE_MEMBER, verify(v, Tokens.sign(JwsAlgorithm.RS256, RSA.getPrivate(),
                header(JwsAlgorithm.RS256, "rsa"), claims(",\"sub\":\"admin\"")), NOW_MS));
        assertEquals(AuthReason.DUPLICATE_MEMBER, verify(v, Tokens.sign(JwsAlgorithm.RS256, RSA.getPrivate(),
                header(JwsAlgorithm.RS256, "rsa"), claims(",\"s\\u0075b\":\"admin\"")), NOW_MS));
    }

    @Test
    void refusesMalformedBase64Url() {
        final JwtVerifier v = verifier(issuer(ISS, allPublicKeys(), JwsAlgorithm.RS256));
        final String good = Tokens.sign(JwsAlgorithm.RS256, RSA.getPrivate(), header(JwsAlgorithm.RS256, "rsa"),
                claims(""));
        final int dot1 = good.indexOf('.');
        final int dot2 = good.lastIndexOf('.');
        assertEquals(AuthReason.OK, verify(v, good, NOW_MS));
        // padding, standard-alphabet characters, whitespace, an impossible length
        assertEquals(AuthReason.BAD_BASE64, verify(v, good + "==", NOW_MS));
        assertEquals(AuthReason.BAD_BASE64, verify(v, good.substring(0, dot2) + ".+/" + good.substring(dot2 + 3),
                NOW_MS));
        assertEquals(AuthReason.BAD_BASE64, verify(v, good.substring(0, dot1) + ". " + good.substring(dot1 + 1),
                NOW_MS));
        assertEquals(AuthReason.BAD_BASE64, verify(v, good + "AAA", NOW_MS)); // 342 + 3 = 1 mod 4
        // Non-canonical last character: "eyJ9" style groups with unused bits set. {"alg":"RS256","kid":"rsa"} is
        // 27 bytes = 36 characters, no partial group; make one with a 2-char tail and set its low bits.
        final String header = Tokens.b64("{\"alg\":\"RS256\",\"kid\":\"rsa\" }");
        assertEquals(2, header.length() % 4);
        final char last = header.charAt(header.length() - 1);
        final String bent = header.substring(0, header.length() - 1) + (char) (last + 1);
        assertEquals(AuthReason.BAD_BASE64, verify(v, bent + good.substring(dot1), NOW_MS));
    }

    @Test
    void refusesWrongSegmentCounts() {
        final JwtVerifier v = verifier(issuer(ISS, allPublicKeys(), JwsAlgorithm.RS256));
        final String good = Tokens.sign(JwsAlgorithm.RS256, RSA.getPrivate(), header(JwsAlgorithm.RS256, "rsa"),
                claims(""));
        assertEquals(AuthReason.MALFORMED, verify(v, good.substring(0, good.lastIndexOf('.')), NOW_MS));
        assertEquals(AuthReason.MALFORMED, verify(v, good + ".AAAA", NOW_MS));
        assertEquals(AuthReason.MALFORMED, verify(v, good + ".AAAA.AAAA", NOW_MS)); // JWE shape
        assertEquals(AuthReason.MALFORMED, verify(v, "..", NOW_MS));
        assertEquals(AuthReason.MALFORMED, verify(v, "", NOW_MS));
        assertEquals(AuthReason.MALFORMED, verify(v, "abc", NOW_MS));
    }

    @Test
    void refusesNonJsonDeepJsonAndBrokenUtf8() {
        final JwtVerifier v = verifier(issuer(ISS, allPublicKeys(), JwsAlgorithm.RS256));
        final String h = header(JwsAlgorithm.RS256, "rsa");
        for (String payload : List.of("not json", "[1,2]", "{\"a\":1,}", "{\"a\":01}", "{\"a\":1} x",
                "{'a':1}", "{\"a\":\"\\ud800\"}", "{\"a\":NaN}", "\ufeff{\"a\":1}",
                "{\"a\":" + "[".repeat(20) + "]".repeat(20) + "}")) {
            assertEquals(AuthReason.BAD_JSON, verify(v, Tokens.sign(JwsAlgorithm.RS256, RSA.getPrivate(), h, payload),
                    NOW_MS), payload);
        }
        // Raw bytes that are not UTF-8 inside a string.
        final byte[] bad = "{\"sub\":\"\u00ff\u00ff\"}".getBytes(StandardCharsets.ISO_8859_1);
        final String input = Tokens.b64(h) + "." + Base64Url.encode(bad);
        final String token = input + "." + Base64Url.encode(Tokens.signature(JwsAlgorithm.RS256, RSA.getPrivate(),
                ascii(input)));
        assertEquals(AuthReason.BAD_JSON, verify(v, token, NOW_MS));
    }

    @Test
    void refusesOversizedTokensBeforeDecoding() {
        final JwtVerifier v = new JwtVerifier(new Issuers(List.of(issuer(ISS, allPublicKeys(), JwsAlgorithm.RS256))),
                IdentityHeaders.NONE, 1024);
        final String big = Tokens.sign(JwsAlgorithm.RS256, RSA.getPrivate(), header(JwsAlgorithm.RS256, "rsa"),
                claims(",\"pad\":\"" + "x".repeat(1000) + "\""));
        assertEquals(AuthReason.TOKEN_TOO_LARGE, verify(v, big, NOW_MS));
        assertEquals(AuthReason.TOKEN_TOO_LARGE, verify(v, "!".repeat(1025), NOW_MS));
    }

    @Test
    void refusesSignaturesOfTheWrongShape() throws Exception {
        final JwtVerifier v = verifier(issuer(ISS, allPublicKeys(), JwsAlgorithm.ES256, JwsAlgorithm.RS256));
        final String good = Tokens.sign(JwsAlgorithm.ES256, EC256.getPrivate(), header(JwsAlgorithm.ES256, "p256"),
                claims(""));
        final String input = good.substring(0, good.lastIndexOf('.'));
        // DER instead of R || S.
        final java.security.Signature s = java.security.Signature.getInstance("SHA256withECDSA");
        s.initSign(EC256.getPrivate());
        s.update(ascii(input));
        assertEquals(AuthReason.BAD_SIGNATURE, verify(v, input + "." + Base64Url.encode(s.sign()), NOW_MS));
        // r = 0, s = 0
        assertEquals(AuthReason.BAD_SIGNATURE, verify(v, input + "." + Base64Url.encode(new byte[64]), NOW_MS));
        // one byte short, one byte long
        final byte[] sig = Base64Url.decode(good.substring(good.lastIndexOf('.') + 1));
        assertEquals(AuthReason.BAD_SIGNATURE, verify(v, input + "." + Base64Url.encode(java.util.Arrays.copyOf(sig,
                63)), NOW_MS));
        assertEquals(AuthReason.BAD_SIGNATURE, verify(v, input + "." + Base64Url.encode(java.util.Arrays.copyOf(sig,
                65)), NOW_MS));
        // RSA signature one byte short (leading zero stripped)
        final String rsa = Tokens.sign(JwsAlgorithm.RS256, RSA.getPrivate(), header(JwsAlgorithm.RS256, "rsa"),
                claims(""));
        final byte[] rsig = Base64Url.decode(rsa.substring(rsa.lastIndexOf('.') + 1));
        assertEquals(AuthReason.BAD_SIGNATURE, verify(v, rsa.substring(0, rsa.lastIndexOf('.') + 1)
                + Base64Url.encode(java.util.Arrays.copyOfRange(rsig, 1, rsig.length)), NOW_MS));
        // A payload changed after signing.
        final String other = Tokens.b64(claims(",\"admin\":true"));
        assertEquals(AuthReason.BAD_SIGNATURE, verify(v, good.substring(0, good.indexOf('.') + 1) + other
                + good.substring(good.lastIndexOf('.')), NOW_MS));
    }

    // ------------------------------------------------------------------ claims

    @Test
    void checksTimesWithClockSkew() {
        final JwtVerifier v = verifier(issuer(ISS, allPublicKeys(), JwsAlgorithm.ES256));
        assertEquals(AuthReason.EXPIRED, verify(v, es256("\"exp\":" + (NOW_S - 61)), NOW_MS));
        assertEquals(AuthReason.OK, verify(v, es256("\"exp\":" + (NOW_S - 59)), NOW_MS)); // within the 60 s skew
        assertEquals(AuthReason.NOT_YET_VALID, verify(v, es256("\"exp\":" + (NOW_S + 600) + ",\"nbf\":"
                + (NOW_S + 61)), NOW_MS));
        assertEquals(AuthReason.OK, verify(v, es256("\"exp\":" + (NOW_S + 600) + ",\"nbf\":" + (NOW_S + 59)), NOW_MS));
        assertEquals(AuthReason.ISSUED_IN_FUTURE, verify(v, es256("\"exp\":" + (NOW_S + 600) + ",\"iat\":"
                + (NOW_S + 61)), NOW_MS));
        assertEquals(AuthReason.OK, verify(v, es256("\"exp\":" + (NOW_S + 600) + ".5,\"iat\":" + (NOW_S - 10)),
                NOW_MS));
        assertEquals(AuthReason.MISSING_CLAIM, verify(v, es256("\"iat\":" + NOW_S), NOW_MS));
        assertEquals(AuthReason.INVALID_CLAIM, verify(v, es256("\"exp\":\"" + (NOW_S + 600) + "\""), NOW_MS));
        assertEquals(AuthReason.INVALID_CLAIM, verify(v, es256("\"exp\":" + (NOW_S + 600) + ",\"nbf\":true"), NOW_MS));
    }

    @Test
    void checksIssuerAudienceAndSubject() {
        final JwtVerifier v = verifier(issuer(ISS, allPublicKeys(), JwsAlgorithm.ES256));
        final String exp = "\"exp\":" + (NOW_S + 600);
        assertEquals(AuthReason.UNKNOWN_ISSUER, verify(v, es256raw("{\"iss\":\"https://evil.test/\",\"aud\":\"api\","
                + "\"sub\":\"u\"," + exp + "}"), NOW_MS));
        assertEquals(AuthReason.UNKNOWN_ISSUER, verify(v, es256raw("{\"aud\":\"api\",\"sub\":\"u\"," + exp + "}"),
                NOW_MS));
        assertEquals(AuthReason.UNKNOWN_ISSUER, verify(v, es256raw("{\"iss\":\"https://IDP.test/\",\"aud\":\"api\","
                + "\"sub\":\"u\"," + exp + "}"), NOW_MS));
        assertEquals(AuthReason.WRONG_AUDIENCE, verify(v, es256raw("{\"iss\":\"" + ISS + "\",\"aud\":\"other\","
                + "\"sub\":\"u\"," + exp + "}"), NOW_MS));
        assertEquals(AuthReason.WRONG_AUDIENCE, verify(v, es256raw("{\"iss\":\"" + ISS + "\",\"aud\":[\"a\",\"b\"],"
                + "\"sub\":\"u\"," + exp + "}"), NOW_MS));
        assertEquals(AuthReason.WRONG_AUDIENCE, verify(v, es256raw("{\"iss\":\"" + ISS + "\",\"sub\":\"u\"," + exp
                + "}"), NOW_MS));
        assertEquals(AuthReason.OK, verify(v, es256raw("{\"iss\":\"" + ISS + "\",\"aud\":[\"a\",\"api\"],"
                + "\"sub\":\"u\"," + exp + "}"), NOW_MS));
        assertEquals(AuthReason.INVALID_CLAIM, verify(v, es256raw("{\"iss\":\"" + ISS + "\",\"aud\":[\"api\",1],"
                + "\"sub\":\"u\"," + exp + "}"), NOW_MS));
        assertEquals(AuthReason.MISSING_CLAIM, verify(v, es256raw("{\"iss\":\"" + ISS + "\",\"aud\":\"api\"," + exp
                + "}"), NOW_MS));
        assertEquals(AuthReason.INVALID_CLAIM, verify(v, es256raw("{\"iss\":\"" + ISS + "\",\"aud\":\"api\","
                + "\"sub\":42," + exp + "}"), NOW_MS));
    }

    @Test
    void mapsRolesFromArraysOrSpaceSeparatedScopesToBits() {
        final Issuer iss = issuer(ISS, allPublicKeys(), JwsAlgorithm.ES256);
        final JwtVerifier v = verifier(iss);
        assertEquals(AuthReason.OK, verify(v, es256("\"exp\":" + (NOW_S + 600) + ",\"roles\":[\"reader\",\"other\","
                + "\"admin\"]"), NOW_MS));
        assertEquals(iss.roleBit("reader") | iss.roleBit("admin"), v.principal().roleMask());
        assertEquals(List.of("reader", "other", "admin"), v.principal().roles());
        assertEquals(AuthReason.OK, verify(v, es256("\"exp\":" + (NOW_S + 600) + ",\"roles\":\"writer  reader\""),
                NOW_MS));
        assertEquals(iss.roleBit("reader") | iss.roleBit("writer"), v.principal().roleMask());
        assertEquals(AuthReason.INVALID_CLAIM, verify(v, es256("\"exp\":" + (NOW_S + 600) + ",\"roles\":[1]"),
                NOW_MS));
        assertEquals(AuthReason.INVALID_CLAIM, verify(v, es256("\"exp\":" + (NOW_S + 600) + ",\"org_id\":7"),
                NOW_MS));
    }

    @Test
    void readsNestedAndNamespacedClaims() {
        final Issuer iss = new Issuer(0, "corp", ISS, List.of("api"), Set.of(JwsAlgorithm.ES256), 60,
                "https://example.com/org", "realm_access.roles", List.of("admin"), List.of("email"),
                KeySource.fixed(allPublicKeys()));
        final JwtVerifier v = verifier(iss);
        assertEquals(AuthReason.OK, verify(v, es256("\"exp\":" + (NOW_S + 600) + ",\"https://example.com/org\":\"o1\","
                + "\"realm_access\":{\"roles\":[\"admin\"]},\"email\":\"a@b.test\""), NOW_MS));
        assertEquals("o1", v.principal().orgText());
        assertEquals(1L, v.principal().roleMask());
        assertArrayEquals(ascii("a@b.test"), v.principal().claim("email"));
        assertNull(v.principal().claim("phone"));
    }

    @Test
    void escapesIdentityHeaderValues() {
        final Issuer iss = issuer(ISS, allPublicKeys(), JwsAlgorithm.ES256);
        final JwtVerifier v = new JwtVerifier(new Issuers(List.of(iss)),
                new IdentityHeaders("X-Org-Id", "x-user-id", "x-roles", ""), 8192);
        assertEquals(AuthReason.OK, verify(v, es256raw("{\"iss\":\"" + ISS + "\",\"aud\":\"api\",\"exp\":"
                + (NOW_S + 600) + ",\"sub\":\"a\\r\\nx-evil: 1\",\"org_id\":\"\u00e9\",\"roles\":[\"a,b\",\"c\"]}"),
                NOW_MS));
        final Principal p = v.principal();
        assertEquals("a\\0d\\0ax-evil: 1", new String(p.headerValue(IdentityHeaders.USER), StandardCharsets.US_ASCII));
        assertEquals("\\c3\\a9", new String(p.headerValue(IdentityHeaders.ORG), StandardCharsets.US_ASCII));
        assertEquals("a\\2cb,c", new String(p.headerValue(IdentityHeaders.ROLES), StandardCharsets.US_ASCII));
        assertNull(p.headerValue(IdentityHeaders.ISSUER));
    }

    // ------------------------------------------------------------------ keys

    @Test
    void reportsUnknownKidSoTheCallerCanRefetch() {
        final JwtVerifier v = verifier(issuer(ISS, allPublicKeys(), JwsAlgorithm.ES256));
        assertEquals(AuthReason.UNKNOWN_KEY, verify(v, Tokens.sign(JwsAlgorithm.ES256, EC256.getPrivate(),
                header(JwsAlgorithm.ES256, "next-key"), claims("")), NOW_MS));
        assertTrue(v.keySource() != null);
    }

    @Test
    void refusesJwksKeysThatAreBrokenOrWeak() throws Exception {
        final ECPublicKey ec = (ECPublicKey) EC256.getPublic();
        final String x = Base64Url.encode(Jwks.unsigned(ec.getW().getAffineX(), 32));
        final String y = Base64Url.encode(Jwks.unsigned(ec.getW().getAffineY().add(java.math.BigInteger.ONE), 32));
        final IllegalArgumentException offCurve = assertThrows(IllegalArgumentException.class, () -> Jwks.parse(
                ascii("{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" + x + "\",\"y\":\"" + y + "\"}]}"),
                false));
        assertTrue(offCurve.getMessage().contains("not on P-256"), offCurve.getMessage());
        // Short coordinates (leading zero stripped) are refused: RFC 7518 6.2.1.2 fixes the length.
        assertThrows(IllegalArgumentException.class, () -> Jwks.parse(ascii("{\"keys\":[{\"kty\":\"EC\","
                + "\"crv\":\"P-256\",\"x\":\"AAAA\",\"y\":\"AAAA\"}]}"), false));
        final java.security.KeyPairGenerator g = java.security.KeyPairGenerator.getInstance("RSA");
        g.initialize(1024);
        final String weak = Jwks.toJson(List.of(new VerificationKey("w", JwsAlgorithm.KeyType.RSA, null, null,
                g.generateKeyPair().getPublic())));
        assertThrows(IllegalArgumentException.class, () -> Jwks.parse(ascii(weak), false));
        assertThrows(IllegalArgumentException.class, () -> Jwks.parse(ascii("{\"keys\":[{\"kty\":\"oct\","
                + "\"k\":\"c2hvcnQ\"}]}"), true));
        // Duplicate members in a JWKS are as fatal as in a token.
        assertThrows(IllegalArgumentException.class, () -> Jwks.parse(ascii("{\"keys\":[],\"keys\":[]}"), false));
    }

    @Test
    void skipsKeysThatAreNotForVerification() {
        final Jwks.Result r = Jwks.parse(ascii("{\"keys\":[" + "{\"kty\":\"oct\",\"k\":\"" + Base64Url.encode(SECRET)
                + "\"}," + "{\"kty\":\"RSA\",\"use\":\"enc\",\"n\":\"AQAB\",\"e\":\"AQAB\"},"
                + "{\"kty\":\"EC\",\"crv\":\"P-256\",\"d\":\"AAAA\",\"x\":\"AAAA\",\"y\":\"AAAA\"},"
                + "{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":\"AAAA\"}," + ED_JWKS.substring(9, ED_JWKS.length() - 2)
                + "]}"), false);
        assertEquals(1, r.keys().size());
        assertEquals(4, r.skipped().size(), r.skipped().toString());
    }

    @Test
    void readsPemPublicKeysAndCertificates() throws Exception {
        final String pem = "-----BEGIN PUBLIC KEY-----\n"
                + java.util.Base64.getMimeEncoder().encodeToString(EC256.getPublic().getEncoded())
                + "\n-----END PUBLIC KEY-----\n";
        final KeySet keys = Jwks.parsePem(pem);
        final JwtVerifier v = verifier(issuer(ISS, keys, JwsAlgorithm.ES256));
        assertEquals(AuthReason.OK, verify(v, Tokens.sign(JwsAlgorithm.ES256, EC256.getPrivate(),
                header(JwsAlgorithm.ES256, "any-kid"), claims("")), NOW_MS));
        assertThrows(IllegalArgumentException.class, () -> Jwks.parsePem("no pem here"));
    }

    // ------------------------------------------------------------------ helpers

    static KeySet allPublicKeys() {
        try {
            return KeySet.of(List.of(Jwks.fromPublicKey("rsa", RSA.getPublic()),
                    Jwks.fromPublicKey("p256", EC256.getPublic()), Jwks.fromPublicKey("p384", EC384.getPublic()),
                    Jwks.fromPublicKey("p521", EC521.getPublic()), Jwks.fromPublicKey("ed", ED.getPublic())));
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    static Issuer issuer(String iss, KeySet keys, JwsAlgorithm... algs) {
        return new Issuer(0, "corp", iss, List.of("api"), Set.of(algs), 60, "org_id", "roles",
                List.of("admin", "reader", "writer"), List.of("email"), KeySource.fixed(keys));
    }

    static JwtVerifier verifier(Issuer issuer) {
        return new JwtVerifier(new Issuers(List.of(issuer)), IdentityHeaders.NONE, 8192);
    }

    static AuthReason verify(JwtVerifier v, String token, long nowMs) {
        final byte[] t = token.getBytes(StandardCharsets.ISO_8859_1);
        return v.verify(t, t.length, nowMs);
    }

    static String header(JwsAlgorithm alg, String kid) {
        return "{\"alg\":\"" + alg.jose() + "\",\"typ\":\"JWT\",\"kid\":\"" + kid + "\"}";
    }

    /** Standard claims for {@link #ISS}, valid for an hour from NOW, plus {@code extra} (",\"k\":v"). */
    static String claims(String extra) {
        return "{\"iss\":\"" + ISS + "\",\"aud\":\"api\",\"sub\":\"user-1\",\"org_id\":\"acme\",\"exp\":"
                + (NOW_S + 3600) + ",\"iat\":" + NOW_S + extra + "}";
    }

    private static String es256(String timeClaims) {
        return es256raw("{\"iss\":\"" + ISS + "\",\"aud\":\"api\",\"sub\":\"u\"," + timeClaims + "}");
    }

    private static String es256raw(String payload) {
        return Tokens.sign(JwsAlgorithm.ES256, EC256.getPrivate(), header(JwsAlgorithm.ES256, "p256"), payload);
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
