package io.tollgate.gateway.ratelimit;

import java.nio.charset.StandardCharsets;

import io.netty.buffer.ByteBuf;
import io.tollgate.gateway.filter.Exchange;
import io.tollgate.gateway.filter.Principal;
import io.tollgate.gateway.filter.RequestFilter;
import io.tollgate.gateway.http1.RequestHead;

/**
 * A stand-in for the identity stage in tests: a filter that sets a principal from the {@code x-test-principal} header
 * ({@code sub/org/plan}), as a verified token would, so the rate-limit filter after it keys on {@code sub}, {@code org}
 * or a claim. Requests without the header get no principal.
 */
record TestPrincipal(byte[] subject, byte[] org, byte[] plan) implements Principal {

    static final RequestFilter FILTER = TestPrincipal::fromHeader;

    @Override
    public String issuer() {
        return "test";
    }

    @Override
    public long roleMask() {
        return 0;
    }

    @Override
    public byte[] claim(String name) {
        return "plan".equals(name) ? plan : null;
    }

    private static int fromHeader(Exchange exchange) {
        final RequestHead head = exchange.head();
        final ByteBuf buf = exchange.buffer();
        for (int i = 0; i < head.headerCount(); i++) {
            if (buf.toString(head.nameOffset(i), head.nameLength(i), StandardCharsets.US_ASCII)
                    .equalsIgnoreCase("x-test-principal")) {
                final String[] parts = buf.toString(head.valueOffset(i), head.valueLength(i), StandardCharsets.UTF_8)
                        .split("/", -1);
                exchange.principal(new TestPrincipal(utf8(parts[0]), utf8(parts[1]), parts.length > 2 ? utf8(parts[2]) : null));
            }
        }
        return RequestFilter.CONTINUE;
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
