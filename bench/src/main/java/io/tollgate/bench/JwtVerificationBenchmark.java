package io.tollgate.bench;

import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.tollgate.gateway.auth.AuthReason;
import io.tollgate.gateway.auth.Base64Url;
import io.tollgate.gateway.auth.IdentityHeaders;
import io.tollgate.gateway.auth.Issuer;
import io.tollgate.gateway.auth.Issuers;
import io.tollgate.gateway.auth.JwsAlgorithm;
import io.tollgate.gateway.auth.Jwks;
import io.tollgate.gateway.auth.JwtVerifier;
import io.tollgate.gateway.auth.KeySet;
import io.tollgate.gateway.auth.KeySource;
import io.tollgate.gateway.auth.Principal;
import io.tollgate.gateway.auth.VerifiedTokenCache;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * JWT verification on an event loop, the two ways it goes:
 * <ul>
 *   <li>{@code cachedHit}: a token already verified on this loop, read from a pooled direct buffer as it sits in the
 *       request head: one hash (of its length and last 32 bytes) and one comparison of all its bytes with the
 *       cached copy. Target: at most 100 ns and 0 B/op.</li>
 *   <li>{@code uncached}: the whole verification of a token seen for the first time (base64url, both JSON objects,
 *       header checks, key lookup, signature, claims, principal), RS256 (2048-bit key), ES256 (P-256) or EdDSA
 *       (Ed25519).</li>
 * </ul>
 * Tokens carry typical access-token claims (iss, aud, sub, org, roles, exp, iat, jti): 686 bytes for RS256,
 * 430 for ES256 and EdDSA. Uncached ES256 is the JDK 17 SunEC provider's pure-Java ECDSA (about a millisecond);
 * the gateway's own share of the work is the same for every algorithm (compare with EdDSA).
 *
 * <pre>bench/jmh.sh JwtVerification -f 1 -wi 3 -i 5 -w 1 -r 1</pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class JwtVerificationBenchmark {

    private static final String ISS = "https://login.example.com/";
    private static final long NOW_MS = 1_800_000_000_000L;

    @Param({"RS256", "ES256", "EdDSA"})
    public String alg;

    private JwtVerifier verifier;
    private VerifiedTokenCache cache;
    private byte[] token;
    private ByteBuf buf;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        final KeyPair rsa = generate("RSA");
        final KeyPair ec = generate("EC");
        final KeyPair ed = generate("Ed25519");
        final KeySet keys = KeySet.of(List.of(Jwks.fromPublicKey("rsa-1", rsa.getPublic()),
                Jwks.fromPublicKey("ec-1", ec.getPublic()), Jwks.fromPublicKey("ed-1", ed.getPublic())));
        final Issuer issuer = new Issuer(0, "corp", ISS, List.of("api"), Set.of(JwsAlgorithm.RS256,
                JwsAlgorithm.ES256, JwsAlgorithm.EDDSA), 60, "org_id", "roles", List.of("reader", "writer", "admin"),
                List.of(), KeySource.fixed(keys));
        verifier = new JwtVerifier(new Issuers(List.of(issuer)),
                new IdentityHeaders("x-org-id", "x-user-id", "x-roles", ""), JwtVerifier.DEFAULT_MAX_TOKEN_BYTES);
        cache = new VerifiedTokenCache(1024, 2048);
        token = switch (alg) {
            case "RS256" -> sign(JwsAlgorithm.RS256, "SHA256withRSA", rsa, "rsa-1");
            case "ES256" -> sign(JwsAlgorithm.ES256, "SHA256withECDSA", ec, "ec-1");
            default -> sign(JwsAlgorithm.EDDSA, "Ed25519", ed, "ed-1");
        };
        if (verifier.verify(token, token.length, NOW_MS) != AuthReason.OK) {
            throw new IllegalStateException("benchmark token does not verify");
        }
        cache.put(token, token.length, verifier.principal(), NOW_MS);
        buf = PooledByteBufAllocator.DEFAULT.directBuffer(token.length + 64).writeZero(64).writeBytes(token);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        buf.release();
    }

    @Benchmark
    public Principal cachedHit() {
        return cache.get(buf, 64, token.length, NOW_MS);
    }

    @Benchmark
    public AuthReason uncached() {
        return verifier.verify(token, token.length, NOW_MS);
    }

    private static KeyPair generate(String algorithm) throws Exception {
        final KeyPairGenerator g = KeyPairGenerator.getInstance(algorithm);
        if (algorithm.equals("EC")) {
            g.initialize(new ECGenParameterSpec("secp256r1"));
        } else if (algorithm.equals("RSA")) {
            g.initialize(2048);
        }
        return g.generateKeyPair();
    }

    private static byte[] sign(JwsAlgorithm alg, String jca, KeyPair pair, String kid) throws Exception {
        final String header = "{\"alg\":\"" + alg.jose() + "\",\"typ\":\"JWT\",\"kid\":\"" + kid + "\"}";
        final long now = NOW_MS / 1000;
        final String claims = "{\"iss\":\"" + ISS + "\",\"aud\":\"api\",\"sub\":\"user-8f2a41c7\",\"org_id\":\"acme\","
                + "\"roles\":[\"reader\",\"writer\"],\"iat\":" + now + ",\"exp\":" + (now + 3600)
                + ",\"jti\":\"4f1c0d6e-2b7a-4c59-9d0e-8a7b6c5d4e3f\"}";
        final String input = b64(header) + "." + b64(claims);
        final Signature s = Signature.getInstance(jca);
        s.initSign(pair.getPrivate());
        s.update(input.getBytes(StandardCharsets.US_ASCII));
        byte[] sig = s.sign();
        if (alg == JwsAlgorithm.ES256) {
            sig = JwtFixture.derToRaw(sig, 32);
        }
        return (input + "." + Base64Url.encode(sig)).getBytes(StandardCharsets.US_ASCII);
    }

    private static String b64(String s) {
        return Base64Url.encode(s.getBytes(StandardCharsets.UTF_8));
    }
}
