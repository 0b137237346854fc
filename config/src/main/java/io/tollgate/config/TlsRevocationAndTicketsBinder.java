package io.tollgate.config;

import java.nio.file.Path;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.util.Date;
import java.util.List;

/**
 * Binds the two per-listener TLS files that production fleets add to a listener's {@code tls} block:
 * {@code client-crl} (revoked client certificates) and {@code session-ticket-keys} (ticket keys shared by every
 * instance). Both files are read and checked here, with file and line, by the same {@link TlsFiles} methods the live
 * reload uses. Neither is a template key: like {@code client-ca}, a file belongs to one listener.
 *
 * <p>Kept apart from {@link SettingsBinder}, which calls {@link #bind} once per listener {@code tls} block after
 * {@code client-auth} and {@code client-ca}. Stateless.
 */
final class TlsRevocationAndTicketsBinder {

    /** What {@link #bind} read; the files are null and the lists empty when the keys are absent. */
    record Bound(Path clientCrlFile, List<X509CRL> clientCrl, Path sessionTicketKeysFile,
                 List<SessionTicketKey> sessionTicketKeys) {
    }

    private TlsRevocationAndTicketsBinder() {
    }

    /**
     * @param clientAuth the block's client-auth, null when it was invalid (reported already)
     * @param clientCa   the client CAs the CRLs must be signed by, null when client-ca was invalid (reported already)
     * @return null when a problem was recorded
     */
    static Bound bind(ObjectReader r, ClientAuth clientAuth, List<X509Certificate> clientCa) {
        boolean ok = true;
        Path crlFile = null;
        List<X509CRL> crl = List.of();
        if (r.has("client-crl")) {
            if (clientAuth == ClientAuth.NONE) {
                r.invalid("client-crl", "has no effect with client-auth = none (set client-auth = optional or "
                        + "required, or remove client-crl)");
                ok = false;
            } else {
                crlFile = SettingsBinder.filePath(r, "client-crl");
                ok = crlFile != null && clientAuth != null && clientCa != null;
                if (ok) {
                    try {
                        crl = TlsFiles.readClientCrl(crlFile, clientCa, new Date());
                    } catch (IllegalArgumentException e) {
                        r.invalid("client-crl", SettingsBinder.fileProblem(r, "client-crl", crlFile, e.getMessage()));
                        ok = false;
                    }
                }
            }
        }
        Path keysFile = null;
        List<SessionTicketKey> keys = List.of();
        if (r.has("session-ticket-keys")) {
            if (r.has("session-ticket-key-rotation") && !r.inherited("session-ticket-key-rotation")) {
                // Written next to each other they contradict: the file's keys change only when it is rewritten.
                r.invalid("session-ticket-key-rotation", "has no effect with session-ticket-keys (shared keys are "
                        + "rotated by rewriting the key file); remove one of them");
                ok = false;
            }
            keysFile = SettingsBinder.filePath(r, "session-ticket-keys");
            if (keysFile == null) {
                ok = false;
            } else {
                try {
                    keys = TlsFiles.readSessionTicketKeys(keysFile);
                } catch (IllegalArgumentException e) {
                    r.invalid("session-ticket-keys", SettingsBinder.fileProblem(r, "session-ticket-keys", keysFile,
                            e.getMessage()));
                    ok = false;
                }
            }
        }
        return ok ? new Bound(crlFile, crl, keysFile, keys) : null;
    }
}
