package io.tollgate.config;

import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;

/**
 * A certificate chain and its private key, read and checked at load: both files parsed, the key matching the leaf,
 * the leaf within its validity period. The gateway builds its TLS contexts from {@link #chain()} and
 * {@link #privateKey()}, so what was validated is what is served; a live reload reads the files again through
 * {@link TlsFiles#reread}, with the same checks, into a new instance.
 *
 * @param certChainFile  absolute path of the PEM chain (leaf first, then intermediates)
 * @param privateKeyFile absolute path of the PEM private key
 * @param chain          the parsed chain, leaf first; at least one certificate
 * @param privateKey     the parsed key (PKCS#8 encoded, whatever PEM form the file used)
 */
public record TlsCertificate(Path certChainFile, Path privateKeyFile, List<X509Certificate> chain,
                             PrivateKey privateKey) {

    public TlsCertificate {
        chain = List.copyOf(chain);
        if (chain.isEmpty()) {
            throw new IllegalArgumentException("empty certificate chain");
        }
    }

    /** The leaf certificate. */
    public X509Certificate leaf() {
        return chain.get(0);
    }

    /** Names the files and the leaf's subject; never the key material. */
    @Override
    public String toString() {
        return "TlsCertificate[" + certChainFile + ", " + privateKeyFile + ", "
                + leaf().getSubjectX500Principal().getName() + "]";
    }
}
