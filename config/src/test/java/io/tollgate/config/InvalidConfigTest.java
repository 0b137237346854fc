package io.tollgate.config;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static io.tollgate.config.Fixtures.assertSingleProblem;
import static io.tollgate.config.Fixtures.problemsOf;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One fixture per validation rule under src/test/resources/invalid, each asserting the exact
 * {@code file:line: path: message} a user would see.
 */
class InvalidConfigTest {

    // ------------------------------------------------------------ reporting

    @Test
    void reportsEveryErrorAtOnce() {
        assertEquals(List.of(
                "several-errors.conf:3: tollgate.timeouts.conect: unknown key (did you mean \"connect\"?)",
                "several-errors.conf:6: tollgate.listeners[0].port: must be between 0 and 65535, got 80800",
                "several-errors.conf:9: tollgate.routes[0].upstream: no upstream named \"billing\""),
                problemsOf("invalid/several-errors.conf"));
    }

    @Test
    void exceptionMessageListsOneProblemPerLine() {
        final ConfigValidationException e = assertThrows(ConfigValidationException.class,
                () -> ConfigLoader.load(Fixtures.fixture("invalid/several-errors.conf")));
        assertEquals(3, e.getMessage().split("\n").length);
        assertTrue(e.getMessage().startsWith("several-errors.conf:3: tollgate.timeouts.conect: unknown key"));
    }

    @Test
    void reportsSyntaxErrorWithFileAndLine() {
        final List<String> problems = problemsOf("invalid/syntax-error.conf");
        assertEquals(1, problems.size());
        // the message after file:line is typesafe-config's own
        assertTrue(problems.get(0).startsWith("syntax-error.conf:3: Expecting a value but got wrong token: ']'"),
                problems.get(0));
    }

    @Test
    void reportsUnresolvedSubstitutionWithFileAndLine() {
        assertSingleProblem("invalid/unresolved-substitution.conf",
                "unresolved-substitution.conf:3: Could not resolve substitution to a value: "
                        + "${TOLLGATE_TEST_PORT_THAT_IS_NEVER_SET}");
    }

    @Test
    void reportsMissingFile() {
        final Path missing = Path.of("does-not-exist.conf");
        final ConfigValidationException e = assertThrows(ConfigValidationException.class, () -> ConfigLoader.load(missing));
        assertEquals("does-not-exist.conf: no such file: does-not-exist.conf", e.getMessage());
    }

    @Test
    void locatesProblemInIncludedFile() {
        assertSingleProblem("invalid/include-bad-value.conf",
                "bad-timeouts.conf:3: tollgate.timeouts.drain: must be a positive duration, got \"-5s\"");
    }

    @Test
    void namesStringOriginInProblems() {
        final ConfigValidationException e = assertThrows(ConfigValidationException.class,
                () -> ConfigLoader.loadString("tollgate {\n  event-loops = -1\n}", "--proxy"));
        assertEquals("--proxy:2: tollgate.event-loops: must be between 0 and 1024, got -1", e.getMessage());
    }

    // ------------------------------------------------------------ unknown keys

    @Test
    void rejectsUnknownKeyWithSuggestion() {
        assertSingleProblem("invalid/unknown-key-typo.conf",
                "unknown-key-typo.conf:3: tollgate.timeouts.conect: unknown key (did you mean \"connect\"?)");
    }

    @Test
    void listsKnownKeysWhenNoneIsClose() {
        assertSingleProblem("invalid/unknown-key-without-suggestion.conf",
                "unknown-key-without-suggestion.conf:2: tollgate.http.compression: unknown key (expected one of: "
                        + "max-request-line-bytes, max-header-bytes, max-headers, max-request-body-bytes, "
                        + "max-response-header-bytes)");
    }

    @Test
    void rejectsMisspelledRootKey() {
        assertSingleProblem("invalid/unknown-top-level-key.conf",
                "unknown-top-level-key.conf:1: tolgate: unknown key (did you mean \"tollgate\"?)");
    }

    @Test
    void pointsSettingsWrittenOutsideTheRootToTheirPlace() {
        assertSingleProblem("invalid/settings-outside-root.conf",
                "settings-outside-root.conf:2: listeners: unknown key (did you mean \"tollgate.listeners\"?)");
    }

    @Test
    void rejectsUnknownKeyInsideRouteMatch() {
        assertSingleProblem("invalid/unknown-key-in-route-match.conf",
                "unknown-key-in-route-match.conf:5: tollgate.routes[0].match.path-prefx: "
                        + "unknown key (did you mean \"path-prefix\"?)");
    }

    @Test
    void reportsUnknownTemplateKeyOnceAtTheTemplate() {
        assertSingleProblem("invalid/unknown-key-in-defaults.conf",
                "unknown-key-in-defaults.conf:3: tollgate.defaults.upstream.idle-timout: "
                        + "unknown key (did you mean \"idle-timeout\"?)");
    }

    @Test
    void reportsBadTemplateValueOnceNotPerElement() {
        assertSingleProblem("invalid/bad-default-reported-once.conf",
                "bad-default-reported-once.conf:4: tollgate.defaults.upstream.ejection-time: "
                        + "must be a positive duration, got \"-1s\"");
    }

    // ------------------------------------------------------------ types and ranges

    @Test
    void rejectsNonBooleanForBooleanKey() {
        assertSingleProblem("invalid/wrong-type-boolean.conf",
                "wrong-type-boolean.conf:3: tollgate.admin.enabled: expected true or false, got \"maybe\"");
    }

    @Test
    void rejectsScalarWhereObjectExpected() {
        assertSingleProblem("invalid/wrong-type-object.conf",
                "wrong-type-object.conf:2: tollgate.http: expected an object, got 5");
    }

    @Test
    void rejectsEventLoopsOutOfRange() {
        assertSingleProblem("invalid/event-loops-out-of-range.conf",
                "event-loops-out-of-range.conf:2: tollgate.event-loops: must be between 0 and 1024, got 5000");
    }

    @Test
    void rejectsUnknownTransport() {
        assertSingleProblem("invalid/unknown-transport.conf",
                "unknown-transport.conf:2: tollgate.transport: expected one of auto, epoll, nio, got \"kqueue\"");
    }

    @Test
    void rejectsNonPositiveSize() {
        assertSingleProblem("invalid/non-positive-size.conf",
                "non-positive-size.conf:3: tollgate.http.max-header-bytes: must be between 1 and 2147483647 bytes, got 0");
    }

    @Test
    void rejectsMalformedSize() {
        assertSingleProblem("invalid/malformed-size.conf",
                "malformed-size.conf:3: tollgate.http.max-request-body-bytes: "
                        + "expected a size such as 64 KiB or 1048576, got \"lots\"");
    }

    @Test
    void rejectsHttp2WithoutStreams() {
        assertSingleProblem("invalid/http2-no-streams.conf",
                "http2-no-streams.conf:3: tollgate.http2.max-concurrent-streams: must be between 1 and 2147483647, got 0");
    }

    @Test
    void rejectsHttp2HeaderListBelowOneKibibyte() {
        assertSingleProblem("invalid/http2-header-list-too-small.conf",
                "http2-header-list-too-small.conf:3: tollgate.http2.max-header-list-size: must be between 1024 and "
                        + "2147483647 bytes, got 100");
    }

    @Test
    void rejectsHttp2FloodWindowUnderOneSecond() {
        assertSingleProblem("invalid/http2-flood-window-too-short.conf",
                "http2-flood-window-too-short.conf:3: tollgate.http2.flood-window: must be at least 1s (the limits "
                        + "count whole seconds)");
    }

    @Test
    void rejectsWebSocketOnADirectResponseRoute() {
        assertSingleProblem("invalid/websocket-on-direct-response.conf",
                "websocket-on-direct-response.conf:5: tollgate.routes[0].websocket: a direct-response route cannot "
                        + "upgrade to WebSocket");
    }

    @Test
    void rejectsAWildcardUpstreamServerName() {
        assertSingleProblem("invalid/upstream-tls-wildcard-server-name.conf",
                "upstream-tls-wildcard-server-name.conf:3: tollgate.upstreams.a.tls.server-name: invalid server name "
                        + "\"*.example.com\": expected a DNS name (no wildcard, IP address or port)");
    }

    @Test
    void rejectsWebSocketToAnHttp2Upstream() {
        assertSingleProblem("invalid/websocket-to-h2-upstream.conf",
                "websocket-to-h2-upstream.conf:4: tollgate.routes[0].websocket: upstream \"grpc\" speaks h2: "
                        + "WebSocket needs an http1 upstream");
    }

    @Test
    void rejectsAnUnknownUpstreamProtocol() {
        assertSingleProblem("invalid/upstream-protocol-unknown.conf",
                "upstream-protocol-unknown.conf:3: tollgate.upstreams.a.protocol: expected one of http1, h2, got \"h3\"");
    }

    @Test
    void rejectsAnUpstreamClientCertificateWithoutItsKey() {
        assertSingleProblem("invalid/upstream-tls-cert-without-key.conf",
                "upstream-tls-cert-without-key.conf:3: tollgate.upstreams.a.tls.private-key: required key is missing");
    }

    @Test
    void rejectsAnUpstreamCaBundleThatIsNotPem() {
        final List<String> problems = problemsOf("invalid/upstream-tls-ca-not-pem.conf");
        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.get(0).startsWith("upstream-tls-ca-not-pem.conf:3: tollgate.upstreams.a.tls.ca: "),
                problems.get(0));
    }

    @Test
    void rejectsUnknownUpstreamTlsKey() {
        final List<String> problems = problemsOf("invalid/upstream-tls-unknown-key.conf");
        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.get(0).startsWith(
                "upstream-tls-unknown-key.conf:3: tollgate.upstreams.a.tls.verify: unknown key"), problems.get(0));
    }

    @Test
    void rejectsATicketKeyRotationUnderAMinute() {
        assertSingleProblem("invalid/tls-ticket-rotation-too-short.conf",
                "tls-ticket-rotation-too-short.conf:3: tollgate.listeners[0].tls.session-ticket-key-rotation: must be "
                        + "at least 1m, got \"10s\"");
    }

    @Test
    void rejectsAnOcspResponseThatIsNotDer() {
        final List<String> problems = problemsOf("invalid/tls-ocsp-not-der.conf");
        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.get(0).startsWith("tls-ocsp-not-der.conf:3: tollgate.listeners[0].tls.ocsp-response: ")
                && problems.get(0).contains("not a DER-encoded OCSP response"), problems.get(0));
    }

    @Test
    void rejectsNonPositiveTimeout() {
        assertSingleProblem("invalid/non-positive-timeout.conf",
                "non-positive-timeout.conf:3: tollgate.timeouts.connect: must be a positive duration, got \"0s\"");
    }

    @Test
    void rejectsMalformedDuration() {
        assertSingleProblem("invalid/malformed-duration.conf",
                "malformed-duration.conf:3: tollgate.timeouts.idle: "
                        + "expected a duration such as 10s or 500ms, got \"forever\"");
    }

    @Test
    void rejectsRingBufferThatIsNotAPowerOfTwo() {
        assertSingleProblem("invalid/ring-buffer-not-power-of-two.conf",
                "ring-buffer-not-power-of-two.conf:3: tollgate.access-log.ring-buffer-bytes: "
                        + "must be a power of two between 4 KiB (4096) and 1 GiB (1073741824), got 5000 bytes");
    }

    @Test
    void rejectsRingBufferAboveOneGibibyte() {
        assertSingleProblem("invalid/ring-buffer-too-large.conf",
                "ring-buffer-too-large.conf:3: tollgate.access-log.ring-buffer-bytes: "
                        + "must be a power of two between 4 KiB (4096) and 1 GiB (1073741824), got 2147483648 bytes");
    }

    // ------------------------------------------------------------ listeners and admin

    @Test
    void rejectsListenerPortAbove65535() {
        assertSingleProblem("invalid/listener-port-out-of-range.conf",
                "listener-port-out-of-range.conf:3: tollgate.listeners[0].port: must be between 0 and 65535, got 70000");
    }

    @Test
    void rejectsListenerThatIsNotAnObject() {
        assertSingleProblem("invalid/listener-not-an-object.conf",
                "listener-not-an-object.conf:3: tollgate.listeners[0]: expected an object, got \"0.0.0.0:8080\"");
    }

    @Test
    void rejectsInvalidListenerAddress() {
        assertSingleProblem("invalid/invalid-listener-address.conf",
                "invalid-listener-address.conf:3: tollgate.listeners[0].address: "
                        + "invalid address \"not an address\": expected an IP address or host name");
    }

    @Test
    void rejectsEmptyListenerList() {
        assertSingleProblem("invalid/no-listeners.conf",
                "no-listeners.conf:2: tollgate.listeners: at least one listener is required");
    }

    @Test
    void rejectsDuplicateListenerName() {
        assertSingleProblem("invalid/duplicate-listener-name.conf",
                "duplicate-listener-name.conf:4: tollgate.listeners[1].name: "
                        + "duplicate listener name \"http\" (first used by tollgate.listeners[0])");
    }

    @Test
    void rejectsTwoListenersOnOverlappingAddressAndPort() {
        assertSingleProblem("invalid/listener-address-conflict.conf",
                "listener-address-conflict.conf:4: tollgate.listeners[1].port: "
                        + "address 127.0.0.1:8080 is already used by listener \"public\" (0.0.0.0:8080)");
    }

    @Test
    void rejectsAdminPortEqualToListenerPort() {
        assertSingleProblem("invalid/admin-port-conflict.conf",
                "admin-port-conflict.conf:6: tollgate.admin.port: "
                        + "admin address 127.0.0.1:8080 is already used by listener \"http\" (127.0.0.1:8080)");
    }

    @Test
    void blamesTheListenerWhenItTakesTheDefaultAdminPort() {
        assertSingleProblem("invalid/listener-on-default-admin-port.conf",
                "listener-on-default-admin-port.conf:3: tollgate.listeners[0].port: "
                        + "address 0.0.0.0:9901 is already used by the admin listener (127.0.0.1:9901)");
    }

    // ------------------------------------------------------------ upstreams

    @Test
    void rejectsEndpointPortZero() {
        assertSingleProblem("invalid/endpoint-port-out-of-range.conf",
                "endpoint-port-out-of-range.conf:6: tollgate.upstreams.billing.endpoints[1]: "
                        + "invalid endpoint \"10.0.0.2:0\": port must be between 1 and 65535");
    }

    @Test
    void rejectsEndpointWithoutPort() {
        assertSingleProblem("invalid/endpoint-without-port.conf",
                "endpoint-without-port.conf:3: tollgate.upstreams.billing.endpoints[0]: "
                        + "invalid endpoint \"billing.internal\": expected \"host:port\"");
    }

    @Test
    void rejectsIpv6EndpointWithoutBrackets() {
        assertSingleProblem("invalid/endpoint-ipv6-without-brackets.conf",
                "endpoint-ipv6-without-brackets.conf:4: tollgate.upstreams.billing.endpoints[0]: "
                        + "invalid endpoint \"::1:9000\": write IPv6 addresses in brackets, as in \"[::1]:9000\"");
    }

    @Test
    void rejectsUpstreamWithEmptyEndpointList() {
        assertSingleProblem("invalid/upstream-without-endpoints.conf",
                "upstream-without-endpoints.conf:4: tollgate.upstreams.billing.endpoints: at least one endpoint is required");
    }

    @Test
    void rejectsUpstreamWithoutEndpointsKey() {
        assertSingleProblem("invalid/upstream-missing-endpoints.conf",
                "upstream-missing-endpoints.conf:3: tollgate.upstreams.billing.endpoints: required key is missing");
    }

    @Test
    void rejectsUpstreamNameWithUpperCase() {
        assertSingleProblem("invalid/invalid-upstream-name.conf",
                "invalid-upstream-name.conf:3: tollgate.upstreams.Billing: "
                        + "invalid name \"Billing\": use only a-z, 0-9, '_' and '-'");
    }

    // ------------------------------------------------------------ routes

    @Test
    void rejectsRouteNameWithSpacesAndUpperCase() {
        assertSingleProblem("invalid/invalid-route-name.conf",
                "invalid-route-name.conf:4: tollgate.routes[0].name: "
                        + "invalid name \"Billing API\": use only a-z, 0-9, '_' and '-'");
    }

    @Test
    void rejectsRouteWithoutName() {
        assertSingleProblem("invalid/missing-route-name.conf",
                "missing-route-name.conf:3: tollgate.routes[0].name: required key is missing");
    }

    @Test
    void rejectsRouteToUndeclaredUpstream() {
        assertSingleProblem("invalid/route-upstream-not-found.conf",
                "route-upstream-not-found.conf:11: tollgate.routes[2].upstream: no upstream named \"billing\"");
    }

    @Test
    void reportsInvalidUpstreamOnceNotAgainAtRoutesThatUseIt() {
        final ConfigValidationException e = assertThrows(ConfigValidationException.class,
                () -> ConfigLoader.loadString("tollgate {\n"
                        + "  upstreams { billing { endpoints = [] } }\n"
                        + "  routes = [{ name = billing, upstream = billing }]\n"
                        + "}", "inline"));
        assertEquals("inline:2: tollgate.upstreams.billing.endpoints: at least one endpoint is required", e.getMessage());
    }

    @Test
    void rejectsDuplicateRouteName() {
        assertSingleProblem("invalid/duplicate-route-name.conf",
                "duplicate-route-name.conf:4: tollgate.routes[1].name: "
                        + "duplicate route name \"hello\" (first used by tollgate.routes[0])");
    }

    @Test
    void rejectsRouteWhoseMatchRepeatsAnEarlierOne() {
        assertSingleProblem("invalid/duplicate-route-match.conf",
                "duplicate-route-match.conf:4: tollgate.routes[1].match: same match as route \"a\" "
                        + "(tollgate.routes[0]); this route could never be selected");
    }

    @Test
    void rejectsRouteBodyLimitAboveGlobalLimit() {
        assertSingleProblem("invalid/route-body-limit-above-global.conf",
                "route-body-limit-above-global.conf:6: tollgate.routes[0].max-request-body-bytes: "
                        + "must not exceed tollgate.http.max-request-body-bytes (10485760 bytes), got 20971520 bytes");
    }

    @Test
    void rejectsRouteWithBothUpstreamAndDirectResponse() {
        assertSingleProblem("invalid/route-with-both-actions.conf",
                "route-with-both-actions.conf:4: tollgate.routes[0]: "
                        + "a route needs exactly one of \"upstream\" or \"direct-response\", not both");
    }

    @Test
    void rejectsRouteWithNeitherUpstreamNorDirectResponse() {
        assertSingleProblem("invalid/route-with-no-action.conf",
                "route-with-no-action.conf:3: tollgate.routes[0]: "
                        + "a route needs exactly one of \"upstream\" or \"direct-response\", found neither");
    }

    @Test
    void rejectsMatchHostWithPort() {
        assertSingleProblem("invalid/route-host-with-port.conf",
                "route-host-with-port.conf:5: tollgate.routes[0].match.host: "
                        + "must not include a port: \"api.example.com:443\"");
    }

    @Test
    void rejectsWildcardOutsideTheLeadingLabel() {
        assertSingleProblem("invalid/route-host-misplaced-wildcard.conf",
                "route-host-misplaced-wildcard.conf:5: tollgate.routes[0].match.host: "
                        + "invalid host \"api.*.example.com\": a wildcard is only allowed as the leading \"*.\" label");
    }

    @Test
    void rejectsPathPrefixWithoutLeadingSlash() {
        assertSingleProblem("invalid/path-prefix-without-slash.conf",
                "path-prefix-without-slash.conf:5: tollgate.routes[0].match.path-prefix: "
                        + "must start with \"/\", got \"billing\"");
    }

    @Test
    void rejectsPathPrefixWithDotSegment() {
        assertSingleProblem("invalid/path-prefix-dot-segment.conf",
                "path-prefix-dot-segment.conf:5: tollgate.routes[0].match.path-prefix: "
                        + "must not contain dot segments (\".\" or \"..\"), got \"/public/../admin\"");
    }

    @Test
    void rejectsPathPrefixWithQuery() {
        assertSingleProblem("invalid/path-prefix-with-query.conf",
                "path-prefix-with-query.conf:5: tollgate.routes[0].match.path-prefix: "
                        + "must not contain '?' (a prefix matches the path only)");
    }

    @Test
    void rejectsMethodThatIsNotAToken() {
        assertSingleProblem("invalid/method-not-a-token.conf",
                "method-not-a-token.conf:7: tollgate.routes[0].match.methods[0]: "
                        + "invalid method \"GET POST\": expected an HTTP method token such as GET");
    }

    @Test
    void rejectsDuplicateMethodIgnoringCase() {
        assertSingleProblem("invalid/duplicate-method.conf",
                "duplicate-method.conf:5: tollgate.routes[0].match.methods[1]: duplicate method \"GET\"");
    }

    @Test
    void rejectsDirectResponseStatusOutOfRange() {
        assertSingleProblem("invalid/direct-response-status-out-of-range.conf",
                "direct-response-status-out-of-range.conf:6: tollgate.routes[0].direct-response.status: "
                        + "must be between 200 and 599, got 700");
    }

    @Test
    void rejectsDirectResponseWithoutStatus() {
        assertSingleProblem("invalid/direct-response-missing-status.conf",
                "direct-response-missing-status.conf:5: tollgate.routes[0].direct-response.status: "
                        + "required key is missing");
    }

    @Test
    void rejectsContentTypeWithLineBreak() {
        assertSingleProblem("invalid/content-type-with-line-break.conf",
                "content-type-with-line-break.conf:7: tollgate.routes[0].direct-response.content-type: "
                        + "must contain only printable ASCII (no control characters or line breaks)");
    }

    // ------------------------------------------------------------ TLS

    /** The absolute path a fixture's {@code ../tls/<name>} resolves to (problems show it for relative paths). */
    private static String tlsFile(String name) {
        return Fixtures.fixture("tls/" + name).toAbsolutePath().normalize().toString();
    }

    @Test
    void rejectsMissingCertificateFile() {
        final String resolved = Fixtures.fixture("invalid/tls-cert-file-missing.conf").getParent()
                .resolve("../tls/missing.pem").normalize().toString();
        assertSingleProblem("invalid/tls-cert-file-missing.conf",
                "tls-cert-file-missing.conf:3: tollgate.listeners[0].tls.cert-chain: \"../tls/missing.pem\" ("
                        + resolved + "): no such file");
    }

    @Test
    void rejectsCertificateFileThatIsNotPem() {
        assertSingleProblem("invalid/tls-cert-not-pem.conf",
                "tls-cert-not-pem.conf:3: tollgate.listeners[0].tls.cert-chain: \"../tls/not-pem.pem\" ("
                        + tlsFile("not-pem.pem") + "): no PEM certificate in it (expected -----BEGIN CERTIFICATE-----)");
    }

    @Test
    void rejectsKeyFileWithoutPrivateKey() {
        assertSingleProblem("invalid/tls-key-not-pem.conf",
                "tls-key-not-pem.conf:4: tollgate.listeners[0].tls.private-key: \"../tls/server.pem\" ("
                        + tlsFile("server.pem") + "): no PEM private key in it (expected -----BEGIN PRIVATE KEY-----, "
                        + "RSA PRIVATE KEY or EC PRIVATE KEY)");
    }

    @Test
    void rejectsEncryptedPrivateKey() {
        assertSingleProblem("invalid/tls-key-encrypted.conf",
                "tls-key-encrypted.conf:4: tollgate.listeners[0].tls.private-key: \"../tls/encrypted-key.pem\" ("
                        + tlsFile("encrypted-key.pem") + "): the private key is encrypted; store it unencrypted with "
                        + "tight file permissions (openssl pkey -in encrypted.pem -out key.pem)");
    }

    @Test
    void rejectsKeyThatDoesNotMatchCertificate() {
        assertSingleProblem("invalid/tls-key-mismatch.conf",
                "tls-key-mismatch.conf:4: tollgate.listeners[0].tls.private-key: the private key does not belong to "
                        + "the certificate in ../tls/server.pem (CN=localhost)");
    }

    @Test
    void rejectsExpiredCertificate() {
        assertSingleProblem("invalid/tls-cert-expired.conf",
                "tls-cert-expired.conf:3: tollgate.listeners[0].tls.cert-chain: \"../tls/expired.pem\" ("
                        + tlsFile("expired.pem") + "): the certificate (CN=expired.example.com) expired on "
                        + "2000-01-02T00:00:00Z");
    }

    @Test
    void rejectsUnknownClientAuth() {
        assertSingleProblem("invalid/tls-client-auth-invalid.conf",
                "tls-client-auth-invalid.conf:5: tollgate.listeners[0].tls.client-auth: expected one of none, "
                        + "optional, required, got \"sometimes\"");
    }

    @Test
    void requiresClientCaWhenClientCertificatesAreAskedFor() {
        assertSingleProblem("invalid/tls-client-ca-missing.conf",
                "tls-client-ca-missing.conf:2: tollgate.listeners[0].tls.client-ca: required key is missing");
    }

    @Test
    void rejectsClientCaThatIsNotPem() {
        assertSingleProblem("invalid/tls-client-ca-not-pem.conf",
                "tls-client-ca-not-pem.conf:5: tollgate.listeners[0].tls.client-ca: \"../tls/not-pem.pem\" ("
                        + tlsFile("not-pem.pem") + "): no PEM certificate in it (expected -----BEGIN CERTIFICATE-----)");
    }

    @Test
    void rejectsClientCaWithoutCaCertificate() {
        assertSingleProblem("invalid/tls-client-ca-not-a-ca.conf",
                "tls-client-ca-not-a-ca.conf:5: tollgate.listeners[0].tls.client-ca: \"../tls/server.pem\" ("
                        + tlsFile("server.pem") + "): no CA certificate in it (the certificates in it lack "
                        + "basicConstraints CA:TRUE)");
    }

    @Test
    void rejectsClientCaWithClientAuthNone() {
        assertSingleProblem("invalid/tls-client-ca-without-client-auth.conf",
                "tls-client-ca-without-client-auth.conf:5: tollgate.listeners[0].tls.client-ca: has no effect with "
                        + "client-auth = none (set client-auth = optional or required, or remove client-ca)");
    }

    @Test
    void rejectsIdentityHeaderThatIsNotAHeaderName() {
        assertSingleProblem("invalid/tls-identity-header-invalid.conf",
                "tls-identity-header-invalid.conf:5: tollgate.listeners[0].tls.forward-client-identity.subject: "
                        + "expected a header name (letters, digits, -) or \"\" for off, got \"x client\"");
    }

    @Test
    void rejectsIdentityHeaderTheGatewaySetsItself() {
        assertSingleProblem("invalid/tls-identity-header-reserved.conf",
                "tls-identity-header-reserved.conf:5: tollgate.listeners[0].tls.forward-client-identity.uri-san: "
                        + "\"x-forwarded-for\" is a header the gateway sets or strips itself; choose another name");
    }

    @Test
    void rejectsZeroReloadInterval() {
        assertSingleProblem("invalid/tls-reload-interval-zero.conf",
                "tls-reload-interval-zero.conf:5: tollgate.listeners[0].tls.reload-interval: must be a positive duration, "
                        + "got \"0s\"");
    }

    @Test
    void requiresPrivateKey() {
        assertSingleProblem("invalid/tls-missing-private-key.conf",
                "tls-missing-private-key.conf:2: tollgate.listeners[0].tls.private-key: required key is missing");
    }

    @Test
    void rejectsProtocolsOlderThanTls12() {
        assertSingleProblem("invalid/tls-unsupported-protocol.conf",
                "tls-unsupported-protocol.conf:4: tollgate.listeners[0].tls.protocols[1]: unsupported protocol "
                        + "\"TLSv1.1\": expected TLSv1.3 or TLSv1.2 (older versions are deprecated by RFC 8996)");
    }

    @Test
    void rejectsEmptyProtocols() {
        assertSingleProblem("invalid/tls-empty-protocols.conf",
                "tls-empty-protocols.conf:4: tollgate.listeners[0].tls.protocols: "
                        + "at least one protocol is required (TLSv1.3, TLSv1.2)");
    }

    @Test
    void rejectsEmptyCiphers() {
        assertSingleProblem("invalid/tls-empty-ciphers.conf",
                "tls-empty-ciphers.conf:4: tollgate.listeners[0].tls.ciphers: at least one cipher suite is required");
    }

    @Test
    void rejectsOpensslCipherStringInsteadOfSuiteNames() {
        assertSingleProblem("invalid/tls-invalid-cipher-name.conf",
                "tls-invalid-cipher-name.conf:4: tollgate.listeners[0].tls.ciphers[0]: invalid cipher suite "
                        + "\"ECDHE+AESGCM:!aNULL\": expected a name such as TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
    }

    @Test
    void rejectsDuplicateSniHostIgnoringCase() {
        assertSingleProblem("invalid/tls-duplicate-sni-host.conf",
                "tls-duplicate-sni-host.conf:6: tollgate.listeners[0].tls.sni[1].host: duplicate SNI host "
                        + "\"*.example.com\" (first used by tollgate.listeners[0].tls.sni[0])");
    }

    @Test
    void rejectsMisplacedWildcardInSniHost() {
        assertSingleProblem("invalid/tls-sni-host-invalid.conf",
                "tls-sni-host-invalid.conf:4: tollgate.listeners[0].tls.sni[0].host: invalid host "
                        + "\"api.*.example.com\": a wildcard is only allowed as the leading \"*.\" label");
    }

    @Test
    void rejectsTlsInListenerTemplate() {
        assertSingleProblem("invalid/tls-in-listener-template.conf",
                "tls-in-listener-template.conf:2: tollgate.defaults.listener.tls: unknown key (expected one of: "
                        + "address, port)");
    }

    @Test
    void rejectsUnknownKeyInTlsBlock() {
        assertSingleProblem("invalid/tls-unknown-key.conf",
                "tls-unknown-key.conf:4: tollgate.listeners[0].tls.handshake-timout: "
                        + "unknown key (did you mean \"handshake-timeout\"?)");
    }
}
