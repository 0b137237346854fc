package io.tollgate.gateway.auth;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.SSLContext;

import io.netty.handler.ssl.JdkSslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.tollgate.config.AuthSettings;
import io.tollgate.config.GatewaySettings;
import io.tollgate.config.RouteSettings;
import io.tollgate.gateway.filter.FilterChains;
import io.tollgate.gateway.http1.Methods;
import io.tollgate.gateway.metrics.GatewayMetrics;

/**
 * The identity stage of {@link FilterChains}: compiles {@code tollgate.auth} and the routes' {@code auth} blocks into
 * issuers, key sources (local files read now, remote JWKS fetchers started now), one verifier and one
 * verified-token cache per event loop, the verifier threads ({@link SignatureVerifierPool}, one per gateway, closed
 * with the chains), and an {@link AuthFilter} per auth route. Also registers the identity
 * headers as gateway-owned (stripped from every client request on every route, auth or not), the readiness check
 * (every remote JWKS fetched once), and the fetchers as resources closed with the chains.
 *
 * <p>Role bits: for each issuer, the roles named by the rules of the routes that accept it, in first-seen order.
 *
 * <p>Threading: runs once per config on the control thread. Allocation: startup only.
 */
public final class AuthStage {

    private AuthStage() {
    }

    /**
     * @throws IllegalArgumentException when a key file cannot be used (the message names the issuer and file)
     */
    public static void install(FilterChains.Builder b, GatewaySettings settings, GatewayMetrics metrics,
                               int eventLoops) {
        final AuthSettings auth = settings.auth();
        final IdentityHeaders headers = new IdentityHeaders(auth.orgHeader(), auth.userHeader(), auth.rolesHeader(),
                auth.issuerHeader());
        for (byte[] name : headers.names()) {
            b.ownHeader(new String(name, StandardCharsets.US_ASCII));
        }
        if (auth.issuers().isEmpty()) {
            return;
        }
        final List<String> names = new ArrayList<>();
        auth.issuers().forEach(i -> names.add(i.name()));
        final AuthMetrics stats = new AuthMetrics(metrics.registry(), names);
        final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            final Thread t = new Thread(r, "tollgate-jwks");
            t.setDaemon(true);
            return t;
        });
        b.resource(scheduler::shutdownNow);

        final List<Issuer> issuers = new ArrayList<>();
        for (int i = 0; i < auth.issuers().size(); i++) {
            final AuthSettings.Issuer s = auth.issuers().get(i);
            final KeySource keys = keys(s, scheduler, stats, b);
            issuers.add(new Issuer(i, s.name(), s.iss(), s.audiences(), algorithms(s.algorithms()),
                    TimeUnit.NANOSECONDS.toSeconds(s.clockSkewNs()), s.orgClaim().isEmpty() ? null : s.orgClaim(),
                    s.rolesClaim().isEmpty() ? null : s.rolesClaim(), rolesOf(settings, s.name()),
                    s.forwardClaims(), keys));
        }
        final Issuers table = new Issuers(issuers);
        b.readiness(() -> {
            for (int i = 0; i < table.size(); i++) {
                if (!table.get(i).keys().ready()) {
                    final RemoteJwks r = table.get(i).keys().remote();
                    return "auth: issuer " + table.get(i).name() + " has no keys yet"
                            + (r != null && r.lastError() != null ? " (" + r.lastError() + ")" : "");
                }
            }
            return null;
        });

        final AuthSettings.Verification verification = auth.verification();
        final SignatureVerifierPool pool = SignatureVerifierPool.start(
                verification.threadsFor(Runtime.getRuntime().availableProcessors()), verification.maxPending(), stats);
        b.resource(pool);
        final AuthFilter.LoopState[] loops = new AuthFilter.LoopState[eventLoops];
        for (int i = 0; i < eventLoops; i++) {
            loops[i] = new AuthFilter.LoopState(new JwtVerifier(table, headers, auth.maxTokenBytes()),
                    new VerifiedTokenCache(auth.cacheEntries(), auth.cacheTokenBytes()),
                    verification.rejectedTokenEntries() == 0 ? null
                            : new VerifiedTokenCache(verification.rejectedTokenEntries(), auth.cacheTokenBytes()));
        }
        final byte[][] forward = new byte[4][];
        for (int slot = 0; slot < 4; slot++) {
            forward[slot] = headers.name(slot);
        }
        for (RouteSettings route : settings.routes()) {
            final AuthSettings.Route ra = route.auth();
            if (ra == null) {
                continue;
            }
            long mask = 0;
            final Set<TokenSource> sources = new LinkedHashSet<>();
            for (String name : ra.issuers()) {
                final Issuer issuer = table.byName(name);
                mask |= 1L << issuer.index();
                for (String spec : auth.issuers().get(issuer.index()).tokenSources()) {
                    sources.add(TokenSource.parse(spec));
                }
            }
            final List<AuthFilter.Rule> rules = new ArrayList<>();
            for (AuthSettings.Rule rule : ra.rules()) {
                int methods = 0;
                for (String m : rule.methods()) {
                    methods |= Methods.bit(Methods.code(m)); // extension methods share the OTHER bit
                }
                final long[] any = new long[table.size()];
                final long[] all = new long[table.size()];
                for (int i = 0; i < table.size(); i++) {
                    for (String role : rule.anyOf()) {
                        any[i] |= table.get(i).roleBit(role);
                    }
                    for (String role : rule.allOf()) {
                        all[i] |= table.get(i).roleBit(role);
                    }
                }
                rules.add(new AuthFilter.Rule(methods, any, all));
            }
            final String template = ra.orgPathTemplate();
            b.add(route.name(), new AuthFilter(loops, List.copyOf(sources), auth.maxTokenBytes(), stats, mask,
                    ra.allowQueryToken(), template == null ? null : template.substring(0, template.indexOf("{org}")),
                    ra.orgHeader(), ra.denyByDefault(), rules, forward, pool));
        }
    }

    /** Roles the rules of the routes accepting this issuer name, in first-seen order. */
    private static List<String> rolesOf(GatewaySettings settings, String issuer) {
        final Set<String> roles = new LinkedHashSet<>();
        for (RouteSettings r : settings.routes()) {
            if (r.auth() != null && r.auth().issuers().contains(issuer)) {
                for (AuthSettings.Rule rule : r.auth().rules()) {
                    roles.addAll(rule.anyOf());
                    roles.addAll(rule.allOf());
                }
            }
        }
        if (roles.size() > Issuer.MAX_ROLES) {
            throw new IllegalArgumentException("auth: the routes accepting issuer " + issuer + " name "
                    + roles.size() + " distinct roles; at most " + Issuer.MAX_ROLES);
        }
        return List.copyOf(roles);
    }

    private static Set<JwsAlgorithm> algorithms(List<String> names) {
        final Set<JwsAlgorithm> out = new LinkedHashSet<>();
        for (String n : names) {
            out.add(JwsAlgorithm.byJoseName(n));
        }
        return out;
    }

    private static KeySource keys(AuthSettings.Issuer s, ScheduledExecutorService scheduler, AuthMetrics stats,
                                  FilterChains.Builder b) {
        KeySet local = KeySet.EMPTY;
        try {
            if (s.jwksFile() != null) {
                final Jwks.Result r = Jwks.parse(Files.readAllBytes(s.jwksFile()), true);
                local = local.union(r.keys());
            }
            if (s.pemFile() != null) {
                local = local.union(Jwks.parsePem(Files.readString(s.pemFile(), StandardCharsets.US_ASCII)));
            }
            if (s.hmacSecretFile() != null) {
                local = local.union(Jwks.secret(Files.readAllBytes(s.hmacSecretFile())));
            }
        } catch (IOException | IllegalArgumentException e) {
            throw new IllegalArgumentException("auth: issuer " + s.name() + ": cannot use its key file: "
                    + e.getMessage(), e);
        }
        if (s.jwksUrl() == null) {
            return KeySource.fixed(local);
        }
        final SSLContext ssl;
        try {
            ssl = s.jwksCaFile() == null ? null : ((JdkSslContext) SslContextBuilder.forClient()
                    .trustManager(s.jwksCaFile().toFile()).sslProvider(SslProvider.JDK).build()).context();
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("auth: issuer " + s.name() + ": cannot use jwks-ca-file "
                    + s.jwksCaFile() + ": " + e.getMessage(), e);
        }
        final RemoteJwks remote = RemoteJwks.start(s.name(), URI.create(s.jwksUrl()), local,
                new RemoteJwks.Options(Math.min(s.fetchTimeoutNs(), TimeUnit.SECONDS.toNanos(5)), s.fetchTimeoutNs(),
                        s.maxJwksBytes(), s.refreshIntervalNs(), s.minRefreshIntervalNs(), false),
                ssl, scheduler, stats);
        b.resource(remote::close);
        return remote.source();
    }
}
