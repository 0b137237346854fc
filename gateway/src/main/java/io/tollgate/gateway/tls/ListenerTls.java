package io.tollgate.gateway.tls;

import java.security.SecureRandom;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

import javax.net.ssl.SSLException;

import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandler;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.IdentityCipherSuiteFilter;
import io.netty.handler.ssl.OpenSslSessionContext;
import io.netty.handler.ssl.OpenSslSessionTicketKey;
import io.netty.handler.ssl.ReferenceCountedOpenSslEngine;
import io.netty.handler.ssl.SniHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.DomainWildcardMappingBuilder;
import io.netty.util.Mapping;
import io.netty.util.ReferenceCountUtil;
import io.tollgate.config.SessionTicketKey;
import io.tollgate.config.SniCertificateSettings;
import io.tollgate.config.TlsFiles;
import io.tollgate.config.TlsCertificate;
import io.tollgate.config.TlsSettings;

/**
 * The compiled TLS side of one listener: one {@link SslContext} per certificate, built at startup, and the first
 * handler of each accepted connection's pipeline.
 *
 * <pre>{@code
 * ListenerTls tls = ListenerTls.build("public", settings.tls(), TlsProviders.select());  // startup
 * ch.pipeline().addLast(tls.newHandler(ch.alloc()));                                    // per connection
 * ch.pipeline().addLast(new DownstreamConnection(runtime, stats, tlsStats, identity));
 * tls.reload();                                                                        // TlsReloader, when the files change
 * }</pre>
 *
 * <ul>
 *   <li>Without SNI entries the handler is a plain {@link SslHandler} on the listener's certificate. With them it is
 *       Netty's {@link SniHandler}, which reads the ClientHello's server name, picks a context through a
 *       {@link DomainWildcardMappingBuilder} mapping (exact names first, then {@code *.domain} one label deep, then the
 *       listener's certificate as the default) and replaces itself with that context's {@link SslHandler}.</li>
 *   <li>Both apply the handshake timeout from the moment the connection is active, so a client that connects and
 *       never speaks is closed after it (the SniHandler before the ClientHello, its SslHandler after).</li>
 *   <li>ALPN offers {@code http/1.1} only; a client that offers only {@code h2} still gets a handshake
 *       (no ALPN selected) and HTTP/1.1, as the RFC 7301 fallback allows.</li>
 *   <li>Resumption (OpenSSL provider): the server session cache (TLS 1.2 session IDs) and session tickets (TLS 1.2
 *       and 1.3). Ticket keys are either random, per instance, replaced every {@code session-ticket-key-rotation}
 *       ({@link #rotateTicketKeys}), or, with {@code session-ticket-keys}, the operator's keys from a file shared by
 *       the fleet (a ticket from one instance resumes on any other), re-read on {@link #reload} and never rotated
 *       here. Either way every context of the listener holds the same keys. The JDK provider keeps its own keys:
 *       a key file is then ignored, logged at SEVERE and reported by {@link #standingWarning}.</li>
 *   <li>Client certificates ({@code client-auth = optional | required}): every context asks for them and verifies
 *       them against the listener's {@code client-ca} certificates (the JDK's PKIX trust manager: chain, validity,
 *       extended key usage), and with {@code client-crl} refuse certificates their issuer's CRL lists
 *       ({@link ClientCrlTrustManager}). The verified identity is read by {@code DownstreamConnection} after the
 *       handshake.</li>
 *   <li>Live reload: {@link #reload} builds a complete new set of contexts from re-read files and swaps it in with
 *       one volatile write. Each new connection reads the set once in {@link #newHandler}; an established
 *       connection keeps the engine (and certificate) it was made with. {@link TlsReloader} calls it.</li>
 * </ul>
 *
 * <p>Threading: {@link #newHandler} is called on each connection's event loop; {@link #reload} on the reload
 * thread; they share only the volatile {@link Contexts} reference. Allocation: a handler and an engine per
 * connection (handshakes are off the steady-state path).
 */
public final class ListenerTls {

    private static final ApplicationProtocolConfig ALPN_HTTP11 = new ApplicationProtocolConfig(
            ApplicationProtocolConfig.Protocol.ALPN,
            // Both providers support these two behaviours; a client offering no common protocol still connects.
            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
            ApplicationProtocolNames.HTTP_1_1);
    /** h2 first: a client offering both gets HTTP/2 (RFC 7301 lets the server choose). */
    private static final ApplicationProtocolConfig ALPN_H2_HTTP11 = new ApplicationProtocolConfig(
            ApplicationProtocolConfig.Protocol.ALPN,
            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
            ApplicationProtocolNames.HTTP_2, ApplicationProtocolNames.HTTP_1_1);

    /**
     * One complete, immutable set of contexts and the settings (files) it was built from; {@code all} lists every
     * context (for ticket keys), {@code ocspResponse} is the default certificate's staple or null.
     */
    private record Contexts(TlsSettings settings, SslContext defaultContext, Mapping<String, SslContext> sniMapping,
                            List<SslContext> all, byte[] ocspResponse) {
    }

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Logger LOG = Logger.getLogger(ListenerTls.class.getName());

    private final String listener;
    private final SslProvider provider;
    private final long handshakeTimeoutMs;
    /** Replaced as a whole by {@link #reload}; read once per new connection. */
    private volatile Contexts contexts;

    private final boolean offerH2;
    /** Session-ticket keys, the first encrypts, all decrypt; null off OpenSSL. */
    private volatile OpenSslSessionTicketKey[] ticketKeys;
    /** Whether {@link #ticketKeys} come from the listener's key file (then they are not rotated here). */
    private final boolean sharedTicketKeys;
    /** A setting the provider cannot honour, for /readyz; null when none. */
    private final String standingWarning;

    private ListenerTls(String listener, SslProvider provider, Contexts contexts, long handshakeTimeoutMs,
                        boolean offerH2, String standingWarning) {
        this.offerH2 = offerH2;
        this.sharedTicketKeys = contexts.settings().sessionTicketKeysFile() != null;
        this.standingWarning = standingWarning;
        this.listener = listener;
        this.provider = provider;
        this.contexts = contexts;
        this.handshakeTimeoutMs = handshakeTimeoutMs;
    }

    /**
     * Builds the listener's contexts.
     *
     * @throws IllegalStateException naming the listener when the provider refuses the settings (e.g. a cipher suite
     *                               it does not know)
     */
    public static ListenerTls build(String listener, TlsSettings settings, SslProvider provider) {
        return build(listener, settings, provider, false);
    }

    /** @param offerH2 advertise {@code h2} before {@code http/1.1} by ALPN */
    public static ListenerTls build(String listener, TlsSettings settings, SslProvider provider, boolean offerH2) {
        String warning = null;
        if (settings.sessionTicketKeysFile() != null && provider == SslProvider.JDK) {
            warning = "session-ticket-keys (" + settings.sessionTicketKeysFile() + ") is ignored: shared ticket keys "
                    + "need the OpenSSL provider and the JDK provider is in use; sessions resume only on the "
                    + "instance that issued them";
            // SEVERE, not WARNING: a fleet that counts on shared keys silently loses cross-instance resumption.
            LOG.severe("listener " + listener + ": " + warning);
        }
        final ListenerTls tls = new ListenerTls(listener, provider, contexts(listener, settings, provider, offerH2),
                Math.max(1, TimeUnit.NANOSECONDS.toMillis(settings.handshakeTimeoutNs())), offerH2, warning);
        if (provider != SslProvider.JDK) {
            tls.ticketKeys = tls.sharedTicketKeys ? openSslKeys(settings.sessionTicketKeys())
                    : new OpenSslSessionTicketKey[] {newTicketKey()};
            tls.applyTicketKeys(tls.contexts);
        }
        return tls;
    }

    /**
     * The file's keys for BoringSSL's ticket callback, which seals with AES-128-CBC and HMAC-SHA256 under 16-byte
     * keys: the first 16 bytes of each of nginx's 32-byte secrets (still 128 bits of the operator's randomness).
     */
    private static OpenSslSessionTicketKey[] openSslKeys(List<SessionTicketKey> keys) {
        final OpenSslSessionTicketKey[] out = new OpenSslSessionTicketKey[keys.size()];
        for (int i = 0; i < out.length; i++) {
            final SessionTicketKey k = keys.get(i);
            out[i] = new OpenSslSessionTicketKey(k.name(),
                    Arrays.copyOf(k.hmacSecret(), OpenSslSessionTicketKey.HMAC_KEY_SIZE),
                    Arrays.copyOf(k.aesSecret(), OpenSslSessionTicketKey.AES_KEY_SIZE));
        }
        return out;
    }

    /**
     * A setting of this listener that the TLS provider cannot honour (shared ticket keys on the JDK provider), for
     * {@code /readyz}; null when there is none. It does not make the gateway unready: TLS works, only resumption
     * across instances does not.
     */
    public String standingWarning() {
        return standingWarning;
    }

    /** Whether {@link #rotateTicketKeys} replaces keys: random keys on OpenSSL; not a key file's, not the JDK's. */
    public boolean rotatesTicketKeys() {
        return ticketKeys != null && !sharedTicketKeys;
    }

    /**
     * Replaces the session-ticket key: new tickets are sealed with a fresh random key, tickets sealed with the
     * previous key still resume until the next rotation. Threading: the reload thread.
     */
    public void rotateTicketKeys() {
        final OpenSslSessionTicketKey[] current = ticketKeys;
        if (current == null || sharedTicketKeys) {
            return; // the JDK's own keys, or the operator's: rotated by rewriting the file
        }
        ticketKeys = new OpenSslSessionTicketKey[] {newTicketKey(), current[0]};
        applyTicketKeys(contexts);
    }

    /** How often {@link #rotateTicketKeys} should run. */
    public long ticketKeyRotationNs() {
        return contexts.settings().ticketKeyRotationNs();
    }

    private void applyTicketKeys(Contexts set) {
        final OpenSslSessionTicketKey[] keys = ticketKeys;
        if (keys == null) {
            return;
        }
        for (SslContext c : set.all()) {
            if (c.sessionContext() instanceof OpenSslSessionContext session) {
                session.setTicketKeys(keys);
            }
        }
    }

    private static OpenSslSessionTicketKey newTicketKey() {
        final byte[] name = new byte[OpenSslSessionTicketKey.NAME_SIZE];
        final byte[] hmac = new byte[OpenSslSessionTicketKey.HMAC_KEY_SIZE];
        final byte[] aes = new byte[OpenSslSessionTicketKey.AES_KEY_SIZE];
        RANDOM.nextBytes(name);
        RANDOM.nextBytes(hmac);
        RANDOM.nextBytes(aes);
        return new OpenSslSessionTicketKey(name, hmac, aes);
    }

    private static Contexts contexts(String listener, TlsSettings settings, SslProvider provider, boolean offerH2) {
        byte[] ocsp = null;
        if (settings.ocspResponseFile() != null) {
            if (provider == SslProvider.JDK) {
                LOG.warning("listener " + listener + ": ocsp-response is ignored: stapling from a file needs the "
                        + "OpenSSL provider, and the JDK provider is in use");
            } else {
                try {
                    ocsp = TlsFiles.readOcspResponse(settings.ocspResponseFile());
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(settings.ocspResponseFile() + ": " + e.getMessage(), e);
                }
            }
        }
        final List<SslContext> all = new ArrayList<>();
        final SslContext defaultContext = context(listener, "cert-chain", settings, settings.certificate(), provider,
                offerH2, ocsp != null);
        all.add(defaultContext);
        Mapping<String, SslContext> mapping = null;
        if (!settings.sni().isEmpty()) {
            final DomainWildcardMappingBuilder<SslContext> builder =
                    new DomainWildcardMappingBuilder<>(settings.sni().size(), defaultContext);
            for (SniCertificateSettings sni : settings.sni()) {
                final SslContext sniContext = context(listener, "sni " + sni.host(), settings, sni.certificate(),
                        provider, offerH2, false);
                all.add(sniContext);
                builder.add(sni.host(), sniContext);
            }
            mapping = builder.build();
        }
        return new Contexts(settings, defaultContext, mapping, List.copyOf(all), ocsp);
    }

    /**
     * Re-reads every file of the listener (certificates, keys, client CA, client CRL, session-ticket keys) with the
     * checks of the config load, builds new contexts and swaps them in for new connections. On any failure nothing
     * changes: the previous certificates, CRLs and ticket keys stay in force.
     * Threading: the reload thread (one caller at a time).
     *
     * @throws IllegalArgumentException naming the file, when a file fails a check
     * @throws IllegalStateException    when the provider refuses the new material
     */
    public void reload() {
        final TlsSettings current = contexts.settings();
        final TlsCertificate certificate = TlsFiles.reread(current.certificate().certChainFile(),
                current.certificate().privateKeyFile());
        final List<SniCertificateSettings> sni = new ArrayList<>(current.sni().size());
        for (SniCertificateSettings entry : current.sni()) {
            sni.add(new SniCertificateSettings(entry.host(), TlsFiles.reread(entry.certificate().certChainFile(),
                    entry.certificate().privateKeyFile())));
        }
        final List<X509Certificate> clientCa = current.clientCaFile() == null ? current.clientCa()
                : TlsFiles.rereadClientCa(current.clientCaFile());
        // Checked against the CAs just read: a CA replaced with a new key needs a CRL signed by that key.
        final List<X509CRL> clientCrl = current.clientCrlFile() == null ? current.clientCrl()
                : TlsFiles.rereadClientCrl(current.clientCrlFile(), clientCa, new Date());
        final List<SessionTicketKey> sharedKeys = current.sessionTicketKeysFile() == null ? current.sessionTicketKeys()
                : TlsFiles.rereadSessionTicketKeys(current.sessionTicketKeysFile());
        final Contexts next = contexts(listener, current.withFiles(certificate, sni, clientCa, clientCrl, sharedKeys),
                provider, offerH2);
        if (sharedTicketKeys && ticketKeys != null) {
            ticketKeys = openSslKeys(sharedKeys);
        }
        applyTicketKeys(next); // resumption survives a certificate reload; a rewritten key file takes effect
        contexts = next;
    }

    /** The settings the current contexts were built from (with the files as last loaded). */
    public TlsSettings settings() {
        return contexts.settings();
    }

    /** Sets the default certificate's OCSP response on a handshake that will present that certificate. */
    private static void staple(Contexts set, SslContext context, SslHandler handler) {
        if (set.ocspResponse() != null && context == set.defaultContext()
                && handler.engine() instanceof ReferenceCountedOpenSslEngine engine) {
            engine.setOcspResponse(set.ocspResponse());
        }
    }

    /** The listener's name. */
    public String listener() {
        return listener;
    }

    private static SslContext context(String listener, String what, TlsSettings settings, TlsCertificate certificate,
                                      SslProvider provider, boolean offerH2, boolean staple) {
        final SslContext context;
        try {
            final SslContextBuilder builder = SslContextBuilder
                    .forServer(certificate.privateKey(), certificate.chain().toArray(new X509Certificate[0]))
                    .sslProvider(provider)
                    .protocols(settings.protocols())
                    .ciphers(settings.ciphers(), IdentityCipherSuiteFilter.INSTANCE)
                    .applicationProtocolConfig(offerH2 ? ALPN_H2_HTTP11 : ALPN_HTTP11)
                    .enableOcsp(staple);
            switch (settings.clientAuth()) {
                case OPTIONAL -> clientTrust(builder.clientAuth(ClientAuth.OPTIONAL), settings);
                case REQUIRED -> clientTrust(builder.clientAuth(ClientAuth.REQUIRE), settings);
                case NONE -> builder.clientAuth(ClientAuth.NONE);
            }
            context = builder.build();
            // The JDK provider applies the suites only when an engine is made, i.e. on the first connection: make
            // one now so a refused setting fails startup, not every handshake.
            ReferenceCountUtil.release(context.newEngine(ByteBufAllocator.DEFAULT));
        } catch (SSLException | RuntimeException e) {
            throw new IllegalStateException("listener " + listener + ": TLS context for " + what + " ("
                    + certificate.certChainFile() + ") cannot be built: " + e.getMessage(), e);
        }
        // OpenSSL drops suites it does not know without a word; a typo must not silently shrink the list.
        final List<String> unknown = new ArrayList<>(settings.ciphers());
        unknown.removeAll(context.cipherSuites());
        if (!unknown.isEmpty()) {
            throw new IllegalStateException("listener " + listener + ": TLS context for " + what + " ("
                    + certificate.certChainFile() + ") cannot be built: cipher suites unknown to the "
                    + TlsProviders.label(provider) + " provider: " + String.join(", ", unknown));
        }
        return context;
    }

    private static void clientTrust(SslContextBuilder builder, TlsSettings settings) {
        if (settings.clientCrl().isEmpty()) {
            builder.trustManager(settings.clientCa().toArray(new X509Certificate[0]));
        } else {
            builder.trustManager(new ClientCrlTrustManager(settings.clientCa(), settings.clientCrl()));
        }
    }

    /**
     * The first handler of a new connection's pipeline: an {@link SslHandler}, or an {@link SniHandler} when the
     * listener has SNI certificates. Threading: the connection's event loop.
     */
    public ChannelHandler newHandler(ByteBufAllocator allocator) {
        final Contexts current = contexts; // one read: the whole connection uses one set
        if (current.sniMapping() == null) {
            final SslHandler handler = current.defaultContext().newHandler(allocator);
            handler.setHandshakeTimeoutMillis(handshakeTimeoutMs);
            staple(current, current.defaultContext(), handler);
            return handler;
        }
        if (current.ocspResponse() == null) {
            return new SniHandler(current.sniMapping(), handshakeTimeoutMs);
        }
        return new SniHandler(current.sniMapping(), handshakeTimeoutMs) {
            @Override
            protected SslHandler newSslHandler(SslContext context, ByteBufAllocator alloc) {
                final SslHandler handler = super.newSslHandler(context, alloc);
                staple(current, context, handler);
                return handler;
            }
        };
    }
}
