package io.tollgate.bench;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.util.Arrays;
import java.util.List;

import io.tollgate.gateway.auth.Base64Url;
import io.tollgate.gateway.auth.Jwks;

/**
 * Plays the identity provider for {@code bench/jwt-compare.sh}: makes a P-256 key, writes its JWKS to
 * {@code <dir>/jwks.json} and one ES256 access token (org "acme", role "reader", valid for a day) to
 * {@code <dir>/token.txt}.
 *
 * <pre>java -cp bench/target/benchmarks.jar io.tollgate.bench.JwtFixture /tmp/dir</pre>
 */
public final class JwtFixture {

    private JwtFixture() {
    }

    public static void main(String[] args) throws Exception {
        final Path dir = Path.of(args[0]);
        final KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        final KeyPair pair = g.generateKeyPair();
        Files.writeString(dir.resolve("jwks.json"), Jwks.toJson(List.of(Jwks.fromPublicKey("bench-1",
                pair.getPublic()))));
        final long now = System.currentTimeMillis() / 1000;
        final String input = b64("{\"alg\":\"ES256\",\"typ\":\"JWT\",\"kid\":\"bench-1\"}") + "."
                + b64("{\"iss\":\"https://login.bench.test/\",\"aud\":\"api\",\"sub\":\"user-8f2a41c7\","
                + "\"org_id\":\"acme\",\"roles\":[\"reader\"],\"iat\":" + now + ",\"exp\":" + (now + 86400) + "}");
        final Signature s = Signature.getInstance("SHA256withECDSA");
        s.initSign(pair.getPrivate());
        s.update(input.getBytes(StandardCharsets.US_ASCII));
        Files.writeString(dir.resolve("token.txt"), input + "." + Base64Url.encode(derToRaw(s.sign(), 32)));
    }

    private static String b64(String s) {
        return Base64Url.encode(s.getBytes(StandardCharsets.UTF_8));
    }

    /** DER SEQUENCE { r, s } to JOSE R || S. */
    static byte[] derToRaw(byte[] der, int n) {
        int o = 2;
        final byte[] out = new byte[2 * n];
        for (int part = 0; part < 2; part++) {
            final int len = der[o + 1];
            byte[] v = Arrays.copyOfRange(der, o + 2, o + 2 + len);
            if (v.length > n) {
                v = Arrays.copyOfRange(v, v.length - n, v.length);
            }
            System.arraycopy(v, 0, out, part * n + n - v.length, v.length);
            o += 2 + len;
        }
        return out;
    }
}
