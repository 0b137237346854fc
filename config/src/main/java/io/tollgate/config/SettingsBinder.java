package io.tollgate.config;

import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValue;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Binds the resolved config tree (user file merged over reference.conf) to {@link GatewaySettings}, by hand:
 * every key is read explicitly, checked, and recorded as known, so that anything left over is a typo.
 * <p>
 * Order: scalar sections first, then the element templates under {@code tollgate.defaults} (validated on their
 * own, at their own paths), then listeners, upstreams and routes, each element merged over its template, and
 * the cross-element checks (duplicate names, colliding addresses, dangling upstream references, shadowed
 * routes) as elements are read. One binder per load; not thread-safe.
 */
final class SettingsBinder {

    private static final String ROOT_KEY = "tollgate";
    private static final long MIN_RING_BYTES = 4L * 1024;
    private static final long MAX_RING_BYTES = 1L << 30;
    /** TLS versions a listener may enable: older ones are broken (RFC 8996). */
    private static final List<String> TLS_PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");

    private final Problems problems;
    private final AuthBinder auth;
    private final RateLimitBinder rateLimitBinder;
    private final PolicyBinder policies;

    /** Gateway-wide body limit, needed to check the routes' limits; null when invalid. */
    private Long globalMaxRequestBodyBytes;
    /** The value it was read from, to recognize the route template's substitution of it. */
    private ConfigValue globalMaxRequestBodyValue;
    private ConfigObject listenerTemplate;
    private ConfigObject listenerTlsTemplate;
    private ConfigObject upstreamTemplate;
    /** Upstreams bound with protocol = h2, for the route checks that need HTTP/1.1. */
    private final Set<String> http2Upstreams = new HashSet<>();
    private ConfigObject routeTemplate;
    private ConfigObject directResponseTemplate;
    /** Readers of the bound listeners, parallel to the list, to locate conflicts found later (admin). */
    private final List<ObjectReader> listenerReaders = new ArrayList<>();

    SettingsBinder(Problems problems) {
        this.problems = problems;
        this.auth = new AuthBinder(problems);
        this.rateLimitBinder = new RateLimitBinder(problems);
        this.policies = new PolicyBinder(problems);
    }

    /**
     * @param root         the resolved, merged root object
     * @param userRootKeys top-level keys the user's file wrote (see {@link #checkRootKeys}; reference.conf files
     *                     of other libraries may add their own top-level keys, which are none of our business)
     * @param source       value of {@link GatewaySettings#source()}
     * @return the settings, or null when a problem was recorded
     */
    GatewaySettings bind(ConfigObject root, Set<String> userRootKeys, String source) {
        final ObjectReader rootReader = ObjectReader.of(problems, "", root);
        if (!rootReader.require(ROOT_KEY)) {
            return null;
        }
        final ObjectReader t = rootReader.object(ROOT_KEY);
        if (t == null) {
            return null;
        }

        final Integer eventLoops = t.require("event-loops") ? t.int32("event-loops", 0, 1024) : null;
        final Transport transport = t.require("transport") ? t.enumValue("transport", Transport.class) : null;
        final HttpSettings http = bindHttp(section(t, "http"));
        final TimeoutSettings timeouts = bindTimeouts(section(t, "timeouts"));
        final Http2Settings http2 = bindHttp2(section(t, "http2"));
        bindTemplates(section(t, "defaults"));
        final List<ListenerSettings> listeners = bindListeners(t);
        final AdminSettings admin = bindAdmin(section(t, "admin"), listeners);
        final Set<String> upstreamNames = new LinkedHashSet<>();
        final List<UpstreamSettings> upstreams = bindUpstreams(section(t, "upstreams"), upstreamNames);
        final AuthSettings authSettings = auth.bind(section(t, "auth"));
        final RateLimitSettings rateLimits = rateLimitBinder.bind(t);
        final List<PolicySettings> policyList = policies.bindSection(t);
        final List<RouteSettings> routes = bindRoutes(t, upstreamNames);
        final AccessLogSettings accessLog = bindAccessLog(section(t, "access-log"));
        t.finish();
        checkRootKeys(root, userRootKeys, t.knownKeys());

        if (eventLoops == null || transport == null || listeners == null || admin == null || http == null
                || timeouts == null || http2 == null || upstreams == null || routes == null || accessLog == null
                || authSettings == null || rateLimits == null || policyList == null) {
            return null;
        }
        return new GatewaySettings(eventLoops, transport, listeners, admin, http, timeouts, http2, upstreams, routes,
                accessLog, source, authSettings, rateLimits, policyList);
    }

    /**
     * Top-level keys other than {@code tollgate} are allowed: they hold values for substitutions
     * ({@code connect-timeout = 750ms} ... {@code connect = ${connect-timeout}}). Two mistakes are still caught:
     * a misspelled root ({@code tolgate}) and a setting written without the root ({@code listeners = [...]}).
     */
    private void checkRootKeys(ConfigObject root, Set<String> userRootKeys, Set<String> tollgateKeys) {
        for (String key : userRootKeys) {
            if (key.equals(ROOT_KEY)) {
                continue;
            }
            final String suggestion = tollgateKeys.contains(key)
                    ? ROOT_KEY + "." + key
                    : ObjectReader.closest(key, List.of(ROOT_KEY));
            if (suggestion != null) {
                problems.add(root.get(key).origin(), ConfigUtil.joinPath(key),
                        "unknown key (did you mean \"" + suggestion + "\"?)");
            }
        }
    }

    private static ObjectReader section(ObjectReader parent, String key) {
        return parent.require(key) ? parent.object(key) : null;
    }

    /** In template mode nothing is required; otherwise a missing key is reported. */
    private static boolean required(ObjectReader r, String key, boolean template) {
        return template || r.require(key);
    }

    // ---------------------------------------------------------------- sections

    private HttpSettings bindHttp(ObjectReader r) {
        if (r == null) {
            return null;
        }
        final Long line = r.require("max-request-line-bytes") ? r.bytes("max-request-line-bytes", 1, Integer.MAX_VALUE) : null;
        final Long header = r.require("max-header-bytes") ? r.bytes("max-header-bytes", 1, Integer.MAX_VALUE) : null;
        final Integer headers = r.require("max-headers") ? r.int32("max-headers", 1, Integer.MAX_VALUE) : null;
        final Long body = r.require("max-request-body-bytes") ? r.bytes("max-request-body-bytes", 1, Long.MAX_VALUE) : null;
        final Long response = r.require("max-response-header-bytes")
                ? r.bytes("max-response-header-bytes", 1, Integer.MAX_VALUE) : null;
        r.finish();
        globalMaxRequestBodyBytes = body;
        globalMaxRequestBodyValue = r.get("max-request-body-bytes");
        if (line == null || header == null || headers == null || body == null || response == null) {
            return null;
        }
        return new HttpSettings(line.intValue(), header.intValue(), headers, body, response.intValue());
    }

    private Http2Settings bindHttp2(ObjectReader r) {
        if (r == null) {
            return null;
        }
        final Boolean enabled = r.require("enabled") ? r.bool("enabled") : null;
        final Boolean cleartext = r.require("cleartext") ? r.bool("cleartext") : null;
        final Integer streams = r.require("max-concurrent-streams")
                ? r.int32("max-concurrent-streams", 1, Integer.MAX_VALUE) : null;
        // RFC 9113 6.5.2: the window is at most 2^31-1; a header list needs room for at least a request line.
        final Long headerList = r.require("max-header-list-size")
                ? r.bytes("max-header-list-size", 1024, Integer.MAX_VALUE) : null;
        final Long window = r.require("initial-window-size")
                ? r.bytes("initial-window-size", 1, Integer.MAX_VALUE) : null;
        final Integer resets = r.require("max-resets-per-window")
                ? r.int32("max-resets-per-window", 1, Integer.MAX_VALUE) : null;
        final Integer control = r.require("max-control-frames-per-window")
                ? r.int32("max-control-frames-per-window", 1, Integer.MAX_VALUE) : null;
        final Long windowNs = r.require("flood-window") ? r.positiveDurationNs("flood-window") : null;
        final Integer empty = r.require("max-empty-data-frames")
                ? r.int32("max-empty-data-frames", 1, Integer.MAX_VALUE) : null;
        final Integer continuation = r.require("max-continuation-frames")
                ? r.int32("max-continuation-frames", 1, Integer.MAX_VALUE) : null;
        final Integer queued = r.require("max-queued-control-frames")
                ? r.int32("max-queued-control-frames", 1, Integer.MAX_VALUE) : null;
        r.finish();
        if (windowNs != null && windowNs < 1_000_000_000L) {
            r.problem("flood-window", "must be at least 1s (the limits count whole seconds)");
            return null;
        }
        if (enabled == null || cleartext == null || streams == null || headerList == null || window == null
                || resets == null || control == null || windowNs == null || empty == null || continuation == null
                || queued == null) {
            return null;
        }
        return new Http2Settings(enabled, cleartext, streams, headerList.intValue(), window.intValue(), resets,
                control, windowNs, empty, continuation, queued);
    }

    private TimeoutSettings bindTimeouts(ObjectReader r) {
        if (r == null) {
            return null;
        }
        final Long connect = r.require("connect") ? r.positiveDurationNs("connect") : null;
        final Long head = r.require("request-head") ? r.positiveDurationNs("request-head") : null;
        final Long upstream = r.require("upstream-response") ? r.positiveDurationNs("upstream-response") : null;
        final Long idle = r.require("idle") ? r.positiveDurationNs("idle") : null;
        final Long drain = r.require("drain") ? r.positiveDurationNs("drain") : null;
        r.finish();
        if (connect == null || head == null || upstream == null || idle == null || drain == null) {
            return null;
        }
        return new TimeoutSettings(connect, head, upstream, idle, drain);
    }

    private AccessLogSettings bindAccessLog(ObjectReader r) {
        if (r == null) {
            return null;
        }
        final Boolean enabled = r.require("enabled") ? r.bool("enabled") : null;
        String path = r.require("path") ? r.string("path") : null;
        if (path != null && (path.isBlank() || path.indexOf('\0') >= 0)) {
            r.invalid("path", "expected stdout, stderr or a file path, got " + ObjectReader.describe(r.get("path")));
            path = null;
        }
        Long ring = r.require("ring-buffer-bytes") ? r.bytes("ring-buffer-bytes", Long.MIN_VALUE, Long.MAX_VALUE) : null;
        if (ring != null && (ring < MIN_RING_BYTES || ring > MAX_RING_BYTES || Long.bitCount(ring) != 1)) {
            r.invalid("ring-buffer-bytes", "must be a power of two between 4 KiB (4096) and 1 GiB (1073741824), got "
                    + ring + " bytes");
            ring = null;
        }
        r.finish();
        if (enabled == null || path == null || ring == null) {
            return null;
        }
        return new AccessLogSettings(enabled, path, ring.intValue());
    }

    // ---------------------------------------------------------------- templates

    /**
     * Validates each template at its own path ({@code tollgate.defaults.route...}) so that a bad default is
     * reported once, and keeps it (minus unknown keys) for merging under the elements.
     */
    private void bindTemplates(ObjectReader d) {
        if (d == null) {
            return;
        }
        listenerTemplate = template(d, "listener", r -> bindListener(r, true));
        listenerTlsTemplate = template(d, "listener-tls", r -> bindTls(r, true));
        upstreamTemplate = template(d, "upstream", r -> bindUpstream(r, "", true));
        routeTemplate = template(d, "route", r -> bindRoute(r, true, Set.of()));
        directResponseTemplate = template(d, "direct-response", r -> bindDirectResponse(r, true));
        auth.bindTemplate(d);
        rateLimitBinder.bindTemplates(d);
        policies.bindTemplate(d);
        d.finish();
    }

    private static ConfigObject template(ObjectReader defaults, String key, Consumer<ObjectReader> validate) {
        final ObjectReader r = defaults.object(key);
        if (r == null) {
            return null;
        }
        validate.accept(r);
        r.finish();
        return r.knownOnly();
    }

    // ---------------------------------------------------------------- listeners and admin

    private List<ListenerSettings> bindListeners(ObjectReader t) {
        final ConfigList list = t.require("listeners") ? t.list("listeners") : null;
        if (list == null) {
            return null;
        }
        if (list.isEmpty()) {
            t.problem("listeners", "at least one listener is required");
            return null;
        }
        final List<ListenerSettings> out = new ArrayList<>(list.size());
        final Map<String, Integer> names = new HashMap<>();
        boolean ok = true;
        for (int i = 0; i < list.size(); i++) {
            final ConfigValue v = list.get(i);
            if (!(v instanceof ConfigObject o)) {
                t.elementProblem("listeners", i, v, "expected an object, got " + ObjectReader.describe(v));
                ok = false;
                continue;
            }
            final ObjectReader r = ObjectReader.element(problems, indexed(t, "listeners", i), o, listenerTemplate);
            final ListenerSettings l = bindListener(r, false);
            r.finish();
            if (l == null) {
                ok = false;
                continue;
            }
            final Integer first = names.putIfAbsent(l.name(), i);
            if (first != null) {
                r.problem("name", "duplicate listener name \"" + l.name() + "\" (first used by "
                        + indexed(t, "listeners", first) + ")");
                ok = false;
            }
            for (int j = 0; j < out.size(); j++) {
                final ListenerSettings other = out.get(j);
                if (collide(l.address(), l.port(), other.address(), other.port())) {
                    r.problem("port", "address " + hostPort(l.address(), l.port()) + " is already used by listener \""
                            + other.name() + "\" (" + hostPort(other.address(), other.port()) + ")");
                    ok = false;
                    break;
                }
            }
            out.add(l);
            listenerReaders.add(r);
        }
        return ok ? out : null;
    }

    private ListenerSettings bindListener(ObjectReader r, boolean template) {
        final String name = template ? null : name(r);
        final String address = required(r, "address", template) ? bindAddress(r) : null;
        final Integer port = required(r, "port", template) ? r.int32("port", 0, 65535) : null;
        if (template) {
            return null; // "tls" is not a listener template key: a TLS default would turn every listener into TLS
        }
        TlsSettings tls = null;
        boolean tlsOk = true;
        if (r.has("tls")) {
            final ObjectReader t = r.object("tls", listenerTlsTemplate);
            tls = t == null ? null : bindTls(t, false);
            tlsOk = tls != null;
        }
        if (name == null || address == null || port == null || !tlsOk) {
            return null;
        }
        return new ListenerSettings(name, address, port, tls);
    }

    // ---------------------------------------------------------------- TLS

    /**
     * A listener's {@code tls} block merged over {@code tollgate.defaults.listener-tls}. The certificate files are
     * read and checked here (PEM, key matches certificate, validity period), so a bad file fails the load with its
     * file and line instead of failing the gateway later.
     *
     * @param template validating the template: protocols, ciphers, handshake-timeout, client-auth,
     *                 forward-client-identity and reload-interval are template keys; files are per listener
     */
    private TlsSettings bindTls(ObjectReader r, boolean template) {
        final TlsCertificate certificate = template ? null : bindCertificate(r);
        final List<String> protocols = required(r, "protocols", template) && r.has("protocols")
                ? bindProtocols(r) : null;
        final List<String> ciphers = required(r, "ciphers", template) && r.has("ciphers") ? bindCiphers(r) : null;
        final Long handshakeNs = required(r, "handshake-timeout", template)
                ? r.positiveDurationNs("handshake-timeout") : null;
        final List<SniCertificateSettings> sni = template ? null : bindSni(r);
        final ClientAuth clientAuth = required(r, "client-auth", template) && r.has("client-auth")
                ? bindClientAuth(r) : null;
        final ClientIdentityHeaders identity = required(r, "forward-client-identity", template)
                && r.has("forward-client-identity") ? bindIdentityHeaders(r) : null;
        final Long reloadNs = required(r, "reload-interval", template) && r.has("reload-interval")
                ? r.positiveDurationNs("reload-interval") : null;
        final Long ticketNs = required(r, "session-ticket-key-rotation", template)
                && r.has("session-ticket-key-rotation") ? r.positiveDurationNs("session-ticket-key-rotation") : null;
        if (ticketNs != null && ticketNs < 60_000_000_000L) {
            r.invalid("session-ticket-key-rotation", "must be at least 1m, got " + ObjectReader.describe(
                    r.get("session-ticket-key-rotation")));
        }
        // ocsp-response is per listener, like the certificate it vouches for.
        Path ocspFile = null;
        boolean ocspOk = true;
        if (!template && r.has("ocsp-response")) {
            ocspFile = filePath(r, "ocsp-response");
            ocspOk = ocspFile != null;
            if (ocspFile != null) {
                final String problem = TlsFiles.ocspResponseProblem(ocspFile);
                if (problem != null) {
                    r.invalid("ocsp-response", fileProblem(r, "ocsp-response", ocspFile, problem));
                    ocspOk = false;
                }
            }
        }
        Path clientCaFile = null;
        List<X509Certificate> clientCa = List.of();
        boolean clientCaOk = true;
        if (!template && clientAuth != null) {
            // client-ca is per listener (a relative path resolves against the file naming it), never a template key.
            if (clientAuth == ClientAuth.NONE) {
                if (r.has("client-ca")) {
                    r.invalid("client-ca", "has no effect with client-auth = none (set client-auth = optional or "
                            + "required, or remove client-ca)");
                    clientCaOk = false;
                }
            } else if (!r.require("client-ca")) {
                clientCaOk = false;
            } else {
                clientCaFile = filePath(r, "client-ca");
                clientCaOk = clientCaFile != null;
                if (clientCaFile != null) {
                    try {
                        clientCa = TlsFiles.readClientCa(clientCaFile);
                    } catch (IllegalArgumentException e) {
                        r.invalid("client-ca", fileProblem(r, "client-ca", clientCaFile, e.getMessage()));
                        clientCaOk = false;
                    }
                }
            }
        }
        final TlsRevocationAndTicketsBinder.Bound more = template ? null
                : TlsRevocationAndTicketsBinder.bind(r, clientAuth, clientCaOk ? clientCa : null);
        r.finish();
        if (template || certificate == null || protocols == null || ciphers == null || handshakeNs == null
                || sni == null || clientAuth == null || identity == null || reloadNs == null || !clientCaOk
                || ticketNs == null || ticketNs < 60_000_000_000L || !ocspOk || more == null) {
            return null;
        }
        return new TlsSettings(certificate, protocols, ciphers, handshakeNs, sni, clientAuth, clientCaFile, clientCa,
                identity, reloadNs, ticketNs, ocspFile, more.clientCrlFile(), more.clientCrl(),
                more.sessionTicketKeysFile(), more.sessionTicketKeys());
    }

    /** {@code cert-chain} and {@code private-key} of {@code r}, both required. */
    private static TlsCertificate bindCertificate(ObjectReader r) {
        final Path chainFile = r.require("cert-chain") ? filePath(r, "cert-chain") : null;
        final Path keyFile = r.require("private-key") ? filePath(r, "private-key") : null;
        List<X509Certificate> chain = null;
        if (chainFile != null) {
            try {
                chain = TlsFiles.readChain(chainFile);
            } catch (IllegalArgumentException e) {
                r.invalid("cert-chain", fileProblem(r, "cert-chain", chainFile, e.getMessage()));
            }
        }
        PrivateKey key = null;
        if (keyFile != null) {
            try {
                key = TlsFiles.readKey(keyFile);
            } catch (IllegalArgumentException e) {
                r.invalid("private-key", fileProblem(r, "private-key", keyFile, e.getMessage()));
            }
        }
        if (chain == null || key == null) {
            return null;
        }
        if (!TlsFiles.matches(key, chain.get(0))) {
            r.invalid("private-key", "the private key does not belong to the certificate in "
                    + r.string("cert-chain") + " (" + chain.get(0).getSubjectX500Principal().getName() + ")");
            return null;
        }
        return new TlsCertificate(chainFile, keyFile, chain, key);
    }

    private static ClientAuth bindClientAuth(ObjectReader r) {
        final String raw = r.string("client-auth");
        if (raw == null) {
            return null;
        }
        return switch (raw.trim().toLowerCase(Locale.ROOT)) {
            case "none" -> ClientAuth.NONE;
            case "optional" -> ClientAuth.OPTIONAL;
            case "required" -> ClientAuth.REQUIRED;
            default -> {
                r.invalid("client-auth", "expected one of none, optional, required, got "
                        + ObjectReader.describe(r.get("client-auth")));
                yield null;
            }
        };
    }

    private static ClientIdentityHeaders bindIdentityHeaders(ObjectReader t) {
        final ObjectReader r = t.object("forward-client-identity");
        if (r == null) {
            return null;
        }
        final String subject = identityHeader(r, "subject");
        final String uriSan = identityHeader(r, "uri-san");
        final String sha256 = identityHeader(r, "sha256");
        r.finish();
        if (subject == null || uriSan == null || sha256 == null) {
            return null;
        }
        final List<String> seen = new ArrayList<>();
        for (String[] kv : new String[][] {{"subject", subject}, {"uri-san", uriSan}, {"sha256", sha256}}) {
            if (!kv[1].isEmpty() && seen.contains(kv[1])) {
                r.invalid(kv[0], "header \"" + kv[1] + "\" is already used by another identity header");
                return null;
            }
            seen.add(kv[1]);
        }
        return new ClientIdentityHeaders(subject, uriSan, sha256);
    }

    /** A header name (lower-cased), or "" for off; null after reporting a problem. */
    private static String identityHeader(ObjectReader r, String key) {
        return Syntax.headerNameOrOff(r, key, Syntax.PROXY_HEADERS, "sets or strips itself; choose another name");
    }

    /**
     * A file path; a relative one is relative to the directory of the config file that wrote it (as includes are),
     * or to the working directory for a config given as a string.
     */
    static Path filePath(ObjectReader r, String key) {
        final String raw = r.string(key);
        if (raw == null) {
            return null;
        }
        Path path = null;
        if (!raw.isBlank()) {
            try {
                path = Path.of(raw);
            } catch (InvalidPathException e) {
                // reported below
            }
        }
        if (path == null) {
            r.invalid(key, "expected a file path, got " + ObjectReader.describe(r.get(key)));
            return null;
        }
        if (!path.isAbsolute()) {
            final String file = r.get(key).origin().filename();
            final Path dir = file == null ? null : Path.of(file).toAbsolutePath().getParent();
            if (dir != null) {
                path = dir.resolve(path);
            }
        }
        return path.toAbsolutePath().normalize();
    }

    static String fileProblem(ObjectReader r, String key, Path resolved, String message) {
        final String raw = r.string(key);
        return "\"" + raw + "\"" + (Path.of(raw).isAbsolute() ? "" : " (" + resolved + ")") + ": " + message;
    }

    private static List<String> bindProtocols(ObjectReader r) {
        return bindDistinctStrings(r, "protocols", "at least one protocol is required (TLSv1.3, TLSv1.2)",
                "unsupported protocol", "expected TLSv1.3 or TLSv1.2 (older versions are deprecated by RFC 8996)",
                "protocol", raw -> {
                    for (String known : TLS_PROTOCOLS) {
                        if (known.equalsIgnoreCase(raw == null ? "" : raw.trim())) {
                            return known;
                        }
                    }
                    return null;
                });
    }

    private static List<String> bindCiphers(ObjectReader r) {
        // Only the shape is checked here; whether the TLS provider knows the suite is checked at startup.
        return bindDistinctStrings(r, "ciphers", "at least one cipher suite is required", "invalid cipher suite",
                "expected a name such as TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "cipher suite",
                raw -> raw == null || raw.isEmpty() || !raw.chars().allMatch(c -> c >= 'A' && c <= 'Z'
                        || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') ? null : raw);
    }

    private List<SniCertificateSettings> bindSni(ObjectReader r) {
        if (!r.has("sni")) {
            return List.of();
        }
        final ConfigList list = r.list("sni");
        if (list == null) {
            return null;
        }
        final List<SniCertificateSettings> out = new ArrayList<>(list.size());
        final Map<String, Integer> hosts = new HashMap<>();
        boolean ok = true;
        for (int i = 0; i < list.size(); i++) {
            final ConfigValue v = list.get(i);
            if (!(v instanceof ConfigObject o)) {
                r.elementProblem("sni", i, v, "expected an object, got " + ObjectReader.describe(v));
                ok = false;
                continue;
            }
            final ObjectReader e = ObjectReader.element(problems, indexed(r, "sni", i), o, null);
            String host = null;
            if (e.require("host")) {
                final String raw = e.string("host");
                if (raw != null) {
                    final String h = raw.trim().toLowerCase(Locale.ROOT);
                    final String problem = h.startsWith("[") || Syntax.isIpv6(h)
                            ? "expected a DNS name or *.domain, got \"" + raw + "\" (SNI carries no IP addresses)"
                            : Syntax.matchHostProblem(h);
                    if (problem != null) {
                        e.invalid("host", problem);
                    } else {
                        host = h;
                    }
                }
            }
            final TlsCertificate certificate = bindCertificate(e);
            e.finish();
            if (host != null) {
                final Integer first = hosts.putIfAbsent(host, i);
                if (first != null) {
                    e.problem("host", "duplicate SNI host \"" + host + "\" (first used by "
                            + indexed(r, "sni", first) + ")");
                    host = null;
                }
            }
            if (host == null || certificate == null) {
                ok = false;
                continue;
            }
            out.add(new SniCertificateSettings(host, certificate));
        }
        return ok ? out : null;
    }

    private AdminSettings bindAdmin(ObjectReader r, List<ListenerSettings> listeners) {
        if (r == null) {
            return null;
        }
        final Boolean enabled = r.require("enabled") ? r.bool("enabled") : null;
        final String address = r.require("address") ? bindAddress(r) : null;
        final Integer port = r.require("port") ? r.int32("port", 0, 65535) : null;
        r.finish();
        if (enabled == null || address == null || port == null) {
            return null;
        }
        if (enabled && listeners != null) {
            for (int i = 0; i < listeners.size(); i++) {
                final ListenerSettings l = listeners.get(i);
                if (!collide(address, port, l.address(), l.port())) {
                    continue;
                }
                // point at what the user wrote: the admin port, or the listener when the admin port is the default
                if (Problems.isReference(r.get("port").origin())) {
                    listenerReaders.get(i).problem("port", "address " + hostPort(l.address(), l.port())
                            + " is already used by the admin listener (" + hostPort(address, port) + ")");
                } else {
                    r.problem("port", "admin address " + hostPort(address, port) + " is already used by listener \""
                            + l.name() + "\" (" + hostPort(l.address(), l.port()) + ")");
                }
                return null;
            }
        }
        return new AdminSettings(enabled, address, port);
    }

    private static String bindAddress(ObjectReader r) {
        final String raw = r.string("address");
        if (raw == null) {
            return null;
        }
        final String address = Syntax.normalizeBindAddress(raw);
        if (address == null) {
            r.invalid("address", "invalid address \"" + raw + "\": expected an IP address or host name");
        }
        return address;
    }

    /**
     * Whether two binds would fail with "address in use". Port 0 never collides (each bind picks a free port).
     * A wildcard overlaps every address of its family ({@code ::} overlaps all, being dual-stack); host names
     * are not resolved, so only identical names collide with each other.
     */
    static boolean collide(String a, int aPort, String b, int bPort) {
        if (aPort != bPort || aPort == 0) {
            return false;
        }
        if (a.equals(b) || a.equals("::") || b.equals("::") || a.equals("0:0:0:0:0:0:0:0") || b.equals("0:0:0:0:0:0:0:0")) {
            return true;
        }
        return a.equals("0.0.0.0") && !Syntax.isIpv6(b) || b.equals("0.0.0.0") && !Syntax.isIpv6(a);
    }

    private static String hostPort(String host, int port) {
        return new EndpointSettings(host, port).toString();
    }

    // ---------------------------------------------------------------- upstreams

    private List<UpstreamSettings> bindUpstreams(ObjectReader ups, Set<String> declaredNames) {
        if (ups == null) {
            return null;
        }
        // typesafe-config objects do not keep key order; file order is the order of the lines they start on
        final List<String> names = new ArrayList<>(ups.keys());
        names.sort(Comparator.comparingInt((String n) -> lineOrMax(ups.get(n))).thenComparing(n -> n));
        final List<UpstreamSettings> out = new ArrayList<>(names.size());
        boolean ok = true;
        for (String name : names) {
            declaredNames.add(name);
            final ConfigValue v = ups.get(name);
            final String nameProblem = Syntax.nameProblem(name);
            if (nameProblem != null) {
                ups.problem(name, nameProblem);
                ok = false;
            }
            if (!(v instanceof ConfigObject o)) {
                ups.invalid(name, "expected an object, got " + ObjectReader.describe(v));
                ok = false;
                continue;
            }
            final ObjectReader r = ObjectReader.element(problems, ups.pathOf(name), o, upstreamTemplate);
            final UpstreamSettings u = bindUpstream(r, name, false);
            r.finish();
            if (u == null) {
                ok = false;
            } else {
                out.add(u);
            }
        }
        ups.finish();
        return ok ? out : null;
    }

    private static int lineOrMax(ConfigValue v) {
        final int line = v == null ? -1 : Problems.lineOf(v.origin());
        return line < 0 ? Integer.MAX_VALUE : line;
    }

    private UpstreamSettings bindUpstream(ObjectReader r, String name, boolean template) {
        List<EndpointSettings> endpoints = null;
        if (!template && r.require("endpoints")) {
            endpoints = bindEndpoints(r);
        }
        final Integer maxIdle = required(r, "max-idle-per-loop", template) ? r.int32("max-idle-per-loop", 0, 65535) : null;
        final Long idleNs = required(r, "idle-timeout", template) ? r.positiveDurationNs("idle-timeout") : null;
        final Integer ejectAfter = required(r, "eject-after-failures", template)
                ? r.int32("eject-after-failures", 1, 1000) : null;
        final Long ejectionNs = required(r, "ejection-time", template) ? r.positiveDurationNs("ejection-time") : null;
        final UpstreamProtocol protocol = required(r, "protocol", template)
                ? r.enumValue("protocol", UpstreamProtocol.class) : null;
        final Long pingNs = required(r, "ping-interval", template) ? r.positiveDurationNs("ping-interval") : null;
        // Like a listener's, an upstream's tls block is not a template key: a default would turn every upstream TLS.
        UpstreamTlsSettings tls = null;
        boolean tlsOk = true;
        if (!template && r.has("tls")) {
            final ObjectReader t = r.object("tls");
            tls = t == null ? null : bindUpstreamTls(t);
            tlsOk = tls != null;
        }
        if (template || endpoints == null || maxIdle == null || idleNs == null || ejectAfter == null || ejectionNs == null
                || !tlsOk || protocol == null || pingNs == null) {
            return null;
        }
        if (protocol == UpstreamProtocol.H2) {
            http2Upstreams.add(name);
        }
        return new UpstreamSettings(name, endpoints, maxIdle, idleNs, ejectAfter, ejectionNs, tls, protocol, pingNs);
    }

    /** An upstream's {@code tls} block: every key optional; {@code tls {}} verifies against the JVM's trust store. */
    private static UpstreamTlsSettings bindUpstreamTls(ObjectReader r) {
        boolean ok = true;
        String serverName = null;
        if (r.has("server-name")) {
            serverName = r.string("server-name");
            if (serverName != null) {
                serverName = serverName.trim().toLowerCase(Locale.ROOT);
                final String problem = Syntax.serverNameProblem(serverName);
                if (problem != null) {
                    r.invalid("server-name", problem);
                    serverName = null;
                }
            }
            ok = serverName != null;
        }
        Path caFile = null;
        List<X509Certificate> trusted = List.of();
        if (r.has("ca")) {
            caFile = filePath(r, "ca");
            if (caFile == null) {
                ok = false;
            } else {
                try {
                    trusted = TlsFiles.readChain(caFile);
                } catch (IllegalArgumentException e) {
                    r.invalid("ca", fileProblem(r, "ca", caFile, e.getMessage()));
                    ok = false;
                }
            }
        }
        TlsCertificate client = null;
        if (r.has("cert-chain") || r.has("private-key")) {
            client = bindCertificate(r);
            ok &= client != null;
        }
        r.finish();
        return ok ? new UpstreamTlsSettings(serverName, caFile, trusted, client) : null;
    }

    private static List<EndpointSettings> bindEndpoints(ObjectReader r) {
        final ConfigList list = r.list("endpoints");
        if (list == null) {
            return null;
        }
        if (list.isEmpty()) {
            r.invalid("endpoints", "at least one endpoint is required");
            return null;
        }
        final List<EndpointSettings> out = new ArrayList<>(list.size());
        boolean ok = true;
        for (int i = 0; i < list.size(); i++) {
            final ConfigValue v = list.get(i);
            final String text = ObjectReader.asString(v);
            if (text == null) {
                r.elementProblem("endpoints", i, v, "expected a \"host:port\" string, got " + ObjectReader.describe(v));
                ok = false;
                continue;
            }
            try {
                out.add(Syntax.parseEndpoint(text));
            } catch (IllegalArgumentException e) {
                r.elementProblem("endpoints", i, v, e.getMessage());
                ok = false;
            }
        }
        return ok ? out : null;
    }

    // ---------------------------------------------------------------- routes

    /** What makes two routes indistinguishable to the router; methods as a set (order does not matter). */
    private record MatchKey(String host, String pathPrefix, Set<String> methods) {
    }

    private List<RouteSettings> bindRoutes(ObjectReader t, Set<String> upstreamNames) {
        final ConfigList list = t.require("routes") ? t.list("routes") : null;
        if (list == null) {
            return null;
        }
        final List<RouteSettings> out = new ArrayList<>(list.size());
        final Map<String, Integer> names = new HashMap<>();
        final Map<MatchKey, RouteSettings> matches = new HashMap<>();
        final Map<MatchKey, Integer> matchIndexes = new HashMap<>();
        boolean ok = true;
        for (int i = 0; i < list.size(); i++) {
            final ConfigValue v = list.get(i);
            if (!(v instanceof ConfigObject o)) {
                t.elementProblem("routes", i, v, "expected an object, got " + ObjectReader.describe(v));
                ok = false;
                continue;
            }
            final ObjectReader r = ObjectReader.element(problems, indexed(t, "routes", i), o, routeTemplate);
            final RouteSettings route = bindRoute(r, false, upstreamNames);
            r.finish();
            if (route == null) {
                ok = false;
                continue;
            }
            final Integer first = names.putIfAbsent(route.name(), i);
            if (first != null) {
                r.problem("name", "duplicate route name \"" + route.name() + "\" (first used by "
                        + indexed(t, "routes", first) + ")");
                ok = false;
            }
            final MatchKey key = new MatchKey(route.host(), route.pathPrefix(), Set.copyOf(route.methods()));
            final RouteSettings earlier = matches.putIfAbsent(key, route);
            if (earlier != null) {
                r.problem("match", "same match as route \"" + earlier.name() + "\" ("
                        + indexed(t, "routes", matchIndexes.get(key)) + "); this route could never be selected");
                ok = false;
            } else {
                matchIndexes.put(key, i);
            }
            out.add(route);
        }
        return ok ? out : null;
    }

    /**
     * @param template      validating {@code tollgate.defaults.route}: nothing required, and name, upstream and
     *                      direct-response are not template keys (they are left unread, hence unknown)
     * @param upstreamNames every upstream declared, valid or not (a route pointing at an invalid upstream gets
     *                      the upstream's problem, not a second "no upstream named")
     */
    private RouteSettings bindRoute(ObjectReader r, boolean template, Set<String> upstreamNames) {
        final String name = template ? null : name(r);

        boolean matchOk = !template;
        String host = null;
        String pathPrefix = null;
        List<String> methods = null;
        final ObjectReader m = required(r, "match", template) ? r.object("match") : null;
        if (m != null) {
            if (m.has("host")) {
                final String raw = m.string("host");
                if (raw == null) {
                    matchOk = false;
                } else {
                    final String h = raw.trim().toLowerCase(Locale.ROOT);
                    final String problem = Syntax.matchHostProblem(h);
                    if (problem != null) {
                        m.invalid("host", problem);
                        matchOk = false;
                    } else {
                        host = h;
                    }
                }
            }
            if (required(m, "path-prefix", template) && m.has("path-prefix")) {
                pathPrefix = m.string("path-prefix");
                final String problem = pathPrefix == null ? null : Syntax.pathPrefixProblem(pathPrefix);
                if (problem != null) {
                    m.invalid("path-prefix", problem);
                    pathPrefix = null;
                }
            }
            if (required(m, "methods", template) && m.has("methods")) {
                methods = bindMethods(m);
            }
            m.finish();
        }
        matchOk = matchOk && m != null && pathPrefix != null && methods != null;

        // The template default is ${?tollgate.http.max-request-body-bytes}: the very value checked in bindHttp, so
        // use its result rather than report a bad one twice. Absent only when that is not a value (reported there).
        final ConfigValue bodyValue = r.get("max-request-body-bytes");
        Long maxBody = bodyValue == null || isGlobalMaxBody(bodyValue)
                ? globalMaxRequestBodyBytes
                : r.bytes("max-request-body-bytes", 1, Long.MAX_VALUE);
        if (maxBody != null && globalMaxRequestBodyBytes != null && maxBody > globalMaxRequestBodyBytes) {
            r.invalid("max-request-body-bytes", "must not exceed tollgate.http.max-request-body-bytes ("
                    + globalMaxRequestBodyBytes + " bytes), got " + maxBody + " bytes");
            maxBody = null;
        }
        final Boolean websocket = required(r, "websocket", template) ? r.bool("websocket") : null;
        final AuthSettings.Route routeAuth = auth.bindRoute(r, template);
        final List<String> rateLimits = rateLimitBinder.bindRoute(r, template);
        if (template) {
            return null;
        }

        final boolean hasUpstream = r.has("upstream");
        final boolean hasDirect = r.has("direct-response");
        boolean actionOk = true;
        if (hasUpstream == hasDirect) {
            r.problem(hasUpstream
                    ? "a route needs exactly one of \"upstream\" or \"direct-response\", not both"
                    : "a route needs exactly one of \"upstream\" or \"direct-response\", found neither");
            actionOk = false;
        }
        String upstream = null;
        if (hasUpstream) {
            upstream = r.string("upstream");
            if (upstream != null && !upstreamNames.contains(upstream)) {
                r.problem("upstream", "no upstream named \"" + upstream + "\"");
                upstream = null;
            }
            actionOk &= upstream != null;
        }
        DirectResponseSettings direct = null;
        if (hasDirect) {
            final ObjectReader d = r.object("direct-response", directResponseTemplate);
            direct = d == null ? null : bindDirectResponse(d, false);
            actionOk &= direct != null;
        }
        if (websocket != null && websocket && hasDirect) {
            r.invalid("websocket", "a direct-response route cannot upgrade to WebSocket");
            actionOk = false;
        }
        if (websocket != null && websocket && upstream != null && http2Upstreams.contains(upstream)) {
            // The upgrade is an HTTP/1.1 mechanism; over HTTP/2 it would take RFC 8441's extended CONNECT.
            r.invalid("websocket", "upstream \"" + upstream + "\" speaks h2: WebSocket needs an http1 upstream");
            actionOk = false;
        }
        final boolean[] policyOk = {true};
        final String policy = policies.bindRoutePolicy(r, policyOk);
        if (name == null || !matchOk || maxBody == null || !actionOk || websocket == null || auth.routeFailed()
                || rateLimits == null || !policyOk[0]) {
            return null;
        }
        return new RouteSettings(name, host, pathPrefix, methods, upstream, direct, maxBody, websocket, routeAuth,
                rateLimits, policy);
    }

    private boolean isGlobalMaxBody(ConfigValue v) {
        final ConfigValue global = globalMaxRequestBodyValue;
        return global != null && v.origin().equals(global.origin()) && v.equals(global);
    }

    private static List<String> bindMethods(ObjectReader m) {
        return bindDistinctStrings(m, "methods", null, "invalid method", "expected an HTTP method token such as GET",
                "method", raw -> raw == null || !Syntax.isToken(raw) ? null : raw.toUpperCase(Locale.ROOT));
    }

    /**
     * A list of strings, each normalized by {@code normalize} (null: invalid) and none twice. Every bad element is
     * reported, as {@code <invalidWhat> <value>: <expected>} or {@code duplicate <noun> "<value>"}; an empty list is
     * a problem when {@code emptyProblem} is given.
     *
     * @return the normalized values, or null when the list is absent or had a problem
     */
    static List<String> bindDistinctStrings(ObjectReader r, String key, String emptyProblem,
                                                    String invalidWhat, String expected, String noun,
                                                    Function<String, String> normalize) {
        final ConfigList list = r.list(key);
        if (list == null) {
            return null;
        }
        if (list.isEmpty() && emptyProblem != null) {
            r.invalid(key, emptyProblem);
            return null;
        }
        final List<String> out = new ArrayList<>(list.size());
        boolean ok = true;
        for (int i = 0; i < list.size(); i++) {
            final ConfigValue v = list.get(i);
            final String value = normalize.apply(ObjectReader.asString(v));
            if (value == null) {
                r.elementProblem(key, i, v, invalidWhat + " " + ObjectReader.describe(v) + ": " + expected);
                ok = false;
            } else if (out.contains(value)) {
                r.elementProblem(key, i, v, "duplicate " + noun + " \"" + value + "\"");
                ok = false;
            } else {
                out.add(value);
            }
        }
        return ok ? out : null;
    }

    private static DirectResponseSettings bindDirectResponse(ObjectReader r, boolean template) {
        final Integer status = required(r, "status", template) ? r.int32("status", 200, 599) : null;
        final String body = required(r, "body", template) ? r.string("body") : null;
        String contentType = required(r, "content-type", template) ? r.string("content-type") : null;
        if (contentType != null) {
            final String problem = Syntax.headerValueProblem(contentType);
            if (problem != null) {
                r.invalid("content-type", problem);
                contentType = null;
            }
        }
        r.finish();
        if (template || status == null || body == null || contentType == null) {
            return null;
        }
        return new DirectResponseSettings(status, body, contentType);
    }

    // ---------------------------------------------------------------- helpers

    /** The element's {@code name}: required, [a-z0-9_-]+. */
    private static String name(ObjectReader r) {
        if (!r.require("name")) {
            return null;
        }
        final String name = r.string("name");
        if (name == null) {
            return null;
        }
        final String problem = Syntax.nameProblem(name);
        if (problem != null) {
            r.invalid("name", problem);
            return null;
        }
        return name;
    }

    private static String indexed(ObjectReader parent, String key, int index) {
        return parent.pathOf(key) + "[" + index + "]";
    }
}
