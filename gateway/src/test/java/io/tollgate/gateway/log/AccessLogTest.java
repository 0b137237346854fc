package io.tollgate.gateway.log;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tollgate.config.AccessLogSettings;
import io.tollgate.gateway.testsupport.AllocationMeter;
import io.tollgate.gateway.metrics.GatewayMetrics;
import io.tollgate.policy.Decision;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AccessLogTest {

    private static final byte[] BILLING = "billing".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] UPSTREAM = "10.0.0.1:8080".getBytes(StandardCharsets.US_ASCII);

    private static void fill(AccessLogEntry e, String requestId, String target) {
        e.reset();
        e.startEpochMs = 1_795_392_000_123L; // 2026-11-23T00:00:00.123Z
        e.durationNs = 123_456;
        e.status = 200;
        e.bytesIn = 0;
        e.bytesOut = 456;
        e.routeName = BILLING;
        e.upstreamEndpoint = UPSTREAM;
        final byte[] id = requestId.getBytes(StandardCharsets.ISO_8859_1);
        e.setRequestId(id, 0, id.length);
        final ByteBuf head = Unpooled.copiedBuffer("GET " + target + " HTTP/1.1", StandardCharsets.ISO_8859_1);
        try {
            e.setMethod(head, 0, 3);
            e.setTarget(head, 4, target.length());
        } finally {
            head.release();
        }
        final byte[] client = "1.2.3.4".getBytes(StandardCharsets.US_ASCII);
        e.setClientAddress(client, 0, client.length);
    }

    private static List<String> lines(ByteArrayOutputStream out) {
        final String text = out.toString(StandardCharsets.ISO_8859_1);
        final List<String> lines = new ArrayList<>();
        for (String line : text.split("\n", -1)) {
            if (!line.isEmpty()) {
                lines.add(line);
            }
        }
        assertTrue(text.isEmpty() || text.endsWith("\n"), "last line not terminated");
        return lines;
    }

    @Test
    void writesOneJsonLinePerRecordInTheDocumentedShape() {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (AccessLog log = AccessLog.start(64 * 1024, out, new GatewayMetrics())) {
            final AccessLogEntry e = new AccessLogEntry();
            fill(e, "req-1", "/x?y");
            assertTrue(log.append(e));
            e.reset();
            e.startEpochMs = 0;
            e.status = 404;
            assertTrue(log.append(e));
        }
        final List<String> lines = lines(out);
        assertEquals(2, lines.size());
        assertEquals("{\"ts\":\"2026-11-23T00:00:00.123Z\",\"request_id\":\"req-1\",\"route\":\"billing\","
            + "\"method\":\"GET\",\"path\":\"/x?y\",\"status\":200,\"upstream\":\"10.0.0.1:8080\","
            + "\"duration_us\":123,\"bytes_in\":0,\"bytes_out\":456,\"client\":\"1.2.3.4\"}", lines.get(0));
        final Map<String, Object> second = MiniJson.parseObject(lines.get(1));
        assertEquals("1970-01-01T00:00:00.000Z", second.get("ts"));
        assertNull(second.get("route"));
        assertNull(second.get("upstream"));
        assertTrue(second.containsKey("route"));
        assertEquals(404L, second.get("status"));
    }

    @Test
    void carriesThePolicyDecisionWhenAPolicyRan() {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final String longName = "p".repeat(100);
        try (AccessLog log = AccessLog.start(16 * 1024, out, new GatewayMetrics())) {
            final AccessLogEntry e = new AccessLogEntry();
            fill(e, "req-1", "/x");
            e.policyName = "orders".getBytes(StandardCharsets.US_ASCII);
            e.policyDecision = Decision.deny(405, 9, 2);
            assertTrue(log.append(e));
            fill(e, "req-2", "/y");
            e.policyName = longName.getBytes(StandardCharsets.US_ASCII);
            e.policyDecision = Decision.hostFailure(500, Decision.Failure.TIMEOUT);
            assertTrue(log.append(e));
            fill(e, "req-3", "/z");
            e.policyName = "orders".getBytes(StandardCharsets.US_ASCII);
            e.policyDecision = Decision.allow(5, 4);
            assertTrue(log.append(e));
        }
        final List<String> lines = lines(out);
        assertTrue(lines.get(0).endsWith(",\"client\":\"1.2.3.4\",\"policy\":\"orders\",\"policy_decision\":\"deny\","
                + "\"policy_rule\":2,\"policy_reason\":9}"), lines.get(0));
        final Map<String, Object> failed = MiniJson.parseObject(lines.get(1));
        assertEquals("p".repeat(AccessLogRecord.MAX_POLICY_NAME_BYTES), failed.get("policy"), "truncated");
        assertEquals("fail_closed", failed.get("policy_decision"));
        assertEquals("timeout", failed.get("policy_failure"));
        final Map<String, Object> allowed = MiniJson.parseObject(lines.get(2));
        assertEquals("allow", allowed.get("policy_decision"));
        assertEquals(4L, allowed.get("policy_rule"));
        assertEquals(5L, allowed.get("policy_reason"));
    }

    @Test
    void formatsTimestampsAcrossCalendarEdges() {
        final byte[] out = new byte[32];
        final long[] epochMs = {951_782_400_000L, 4_107_542_399_999L, 1_709_164_800_001L, -1L};
        final String[] expected = {"2000-02-29T00:00:00.000Z", "2100-02-28T23:59:59.999Z",
            "2024-02-29T00:00:00.001Z", "1969-12-31T23:59:59.999Z"};
        for (int k = 0; k < epochMs.length; k++) {
            final int n = AccessLogRecord.putTimestamp(out, 0, epochMs[k]);
            assertEquals(expected[k], new String(out, 0, n, StandardCharsets.US_ASCII));
            assertEquals(java.time.Instant.ofEpochMilli(epochMs[k]).toString().replace("Z", ""),
                expected[k].replace(".000Z", "").replace("Z", ""));
        }
    }

    @Test
    void escapesHostileBytesIntoValidAsciiJson() {
        final byte[] hostile = new byte[256];
        for (int b = 0; b < 256; b++) {
            hostile[b] = (byte) b;
        }
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (AccessLog log = AccessLog.start(64 * 1024, out, new GatewayMetrics())) {
            final AccessLogEntry e = new AccessLogEntry();
            fill(e, "x", "/");
            e.setRequestId(hostile, 0, 128);
            final ByteBuf buf = Unpooled.wrappedBuffer(hostile);
            try {
                e.setTarget(buf, 0, 256);
                e.setMethod(buf, 0x22, 32); // starts with '"' and contains '\\'
            } finally {
                buf.release();
            }
            e.routeName = "r\"}\n{\"evil\":1".getBytes(StandardCharsets.ISO_8859_1);
            assertTrue(log.append(e));
        }
        final String text = out.toString(StandardCharsets.ISO_8859_1);
        for (int i = 0; i < text.length(); i++) {
            assertTrue(text.charAt(i) >= 0x20 && text.charAt(i) < 0x7f || text.charAt(i) == '\n',
                "non-printable-ASCII output at " + i);
        }
        final List<String> lines = lines(out);
        assertEquals(1, lines.size(), "a hostile value must not split the line");
        final Map<String, Object> json = MiniJson.parseObject(lines.get(0));
        // Escaping round-trips: every byte comes back as the Latin-1 char of the same value.
        assertEquals(new String(hostile, 0, 256, StandardCharsets.ISO_8859_1), json.get("path"));
        assertEquals(new String(hostile, 0, 128, StandardCharsets.ISO_8859_1), json.get("request_id"));
        assertEquals(new String(hostile, 0x22, 32, StandardCharsets.ISO_8859_1), json.get("method"));
        assertEquals("r\"}\n{\"evil\":1", json.get("route"));
        assertFalse(json.containsKey("evil"));
        assertFalse(json.containsKey("path_truncated"));
    }

    @Test
    void truncatesLongTargetsAndFlagsThem() {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final String longTarget = "/" + "a".repeat(2000);
        try (AccessLog log = AccessLog.start(64 * 1024, out, new GatewayMetrics())) {
            final AccessLogEntry e = new AccessLogEntry();
            fill(e, "id", longTarget);
            assertTrue(e.targetTruncated);
            assertTrue(log.append(e));
        }
        final Map<String, Object> json = MiniJson.parseObject(lines(out).get(0));
        assertEquals(longTarget.substring(0, 1024), json.get("path"));
        assertEquals(Boolean.TRUE, json.get("path_truncated"));
    }

    @Test
    void concurrentAppendsFromFourThreadsAllBecomeValidLines() throws Exception {
        final int threads = 4;
        final int perThread = 20_000;
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final GatewayMetrics metrics = new GatewayMetrics();
        final long[] accepted = new long[threads];
        final AccessLog log = AccessLog.start(1 << 20, out, metrics);
        final CountDownLatch go = new CountDownLatch(1);
        final List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            final int thread = t;
            final Thread worker = new Thread(() -> {
                final AccessLogEntry e = new AccessLogEntry();
                try {
                    go.await();
                } catch (InterruptedException ex) {
                    return;
                }
                for (int i = 0; i < perThread; i++) {
                    fill(e, "t" + thread + "-" + i, "/p/" + i);
                    if (log.append(e)) {
                        accepted[thread]++;
                    } else {
                        Thread.yield(); // the writer is behind: let it run on this small machine
                    }
                }
            });
            worker.start();
            workers.add(worker);
        }
        go.countDown();
        for (Thread w : workers) {
            w.join();
        }
        log.close();

        final long acceptedTotal = accepted[0] + accepted[1] + accepted[2] + accepted[3];
        assertEquals(threads * (long) perThread, acceptedTotal + log.droppedRecords());
        assertTrue(acceptedTotal > perThread, "almost everything should fit a 1 MiB ring: " + acceptedTotal);
        final List<String> lines = lines(out);
        assertEquals(acceptedTotal, lines.size());
        final Set<Object> ids = new HashSet<>();
        final int[] lastSeqByThread = {-1, -1, -1, -1};
        for (String line : lines) {
            final Map<String, Object> json = MiniJson.parseObject(line);
            final String id = (String) json.get("request_id");
            assertTrue(ids.add(id), "duplicate " + id);
            final int thread = id.charAt(1) - '0';
            final int seq = Integer.parseInt(id.substring(3));
            assertTrue(seq > lastSeqByThread[thread], "records of one producer stay in order");
            lastSeqByThread[thread] = seq;
            assertEquals("/p/" + seq, json.get("path"));
        }
    }

    @Test
    void dropsAndCountsWhenTheWriterIsStalled() throws Exception {
        final CountDownLatch writerEntered = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        final ByteArrayOutputStream sink = new ByteArrayOutputStream();
        final OutputStream stalled = new OutputStream() {
            @Override
            public void write(int b) {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) {
                writerEntered.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                sink.write(b, off, len);
            }
        };
        final GatewayMetrics metrics = new GatewayMetrics();
        // The smallest ring that takes a worst-case record: 16 KiB.
        final AccessLog log = AccessLog.start(16 * 1024, stalled, metrics);
        final AccessLogEntry e = new AccessLogEntry();
        fill(e, "first", "/");
        assertTrue(log.append(e));
        assertTrue(log.append(e)); // the writer flushes once the ring is empty, then blocks in write()
        assertTrue(writerEntered.await(10, TimeUnit.SECONDS));
        int accepted = 2;
        int refused = 0;
        final long startNs = System.nanoTime();
        for (int i = 0; i < 1_000; i++) {
            fill(e, "r" + i, "/" + "z".repeat(200));
            if (log.append(e)) {
                accepted++;
            } else {
                refused++;
            }
        }
        final long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNs);
        assertTrue(refused > 900, "a 16 KiB ring holds few records, refused only " + refused);
        assertEquals(refused, log.droppedRecords());
        assertTrue(elapsedMs < 2_000, "append must not wait for the writer, took " + elapsedMs + " ms");
        assertTrue(scrape(metrics).contains("tollgate_access_log_dropped_total " + refused + ".0"));

        release.countDown();
        log.close();
        assertEquals(accepted, lines(sink).size());
    }

    private static String scrape(GatewayMetrics metrics) throws IOException {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter.create()
            .write(out, metrics.registry().scrape());
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void appendDoesNotAllocate() {
        final AccessLog log = AccessLog.start(1 << 20, OutputStream.nullOutputStream(), new GatewayMetrics());
        try {
            final AccessLogEntry e = new AccessLogEntry();
            fill(e, "0123456789abcdef0123456789abcdef", "/api/v1/users/12345?expand=orders");
            final Runnable hundredThousand = () -> {
                for (int i = 0; i < 100_000; i++) {
                    e.status = 200 + (i & 3);
                    e.durationNs = i;
                    log.append(e); // full or not, neither path may allocate
                }
            };
            final long allocatedBytes = AllocationMeter.minOf(20, 3, hundredThousand, "AccessLog.append x100000");
            System.out.println("dropped so far " + log.droppedRecords() + " (both paths exercised)");
            assertTrue(allocatedBytes < 1024, () -> "allocated " + allocatedBytes + " bytes");
        } finally {
            log.close();
        }
    }

    @Test
    void entrySettersFromDirectBuffersDoNotAllocate() {
        final AccessLogEntry e = new AccessLogEntry();
        // Wrapped, not allocated: a buffer from the allocator is leak-tracked, and at paranoid level the tracker
        // records a stack trace on every access, which is test-harness allocation, not ours.
        final ByteBuf direct = Unpooled.wrappedBuffer(ByteBuffer.allocateDirect(2048)).clear();
        try {
            direct.writeBytes(("GET /" + "q".repeat(1500) + " HTTP/1.1").getBytes(StandardCharsets.US_ASCII));
            final Runnable calls = () -> {
                for (int i = 0; i < 100_000; i++) {
                    e.reset();
                    e.setMethod(direct, 0, 3);
                    e.setTarget(direct, 4, 1501);
                    e.setRequestId(direct, 4, 40);
                }
            };
            final long allocatedBytes = AllocationMeter.minOf(20, 3, calls, "AccessLogEntry setters x100000");
            assertTrue(allocatedBytes < 1024, () -> "allocated " + allocatedBytes + " bytes");
            assertTrue(e.targetTruncated);
            assertEquals(1024, e.targetLength);
        } finally {
            direct.release();
        }
    }

    @Test
    void disabledLogAcceptsWithoutWork() {
        final AccessLog log = AccessLog.start(new AccessLogSettings(false, "stdout", 7), new GatewayMetrics());
        assertFalse(log.enabled());
        assertTrue(log.append(new AccessLogEntry()));
        log.close();
        assertEquals(0, log.droppedRecords());
    }

    @Test
    void appendsToAFileAndRejectsBadRingSizes(@TempDir Path dir) throws IOException {
        final Path file = dir.resolve("access.log");
        Files.writeString(file, "existing\n");
        try (AccessLog log = AccessLog.start(new AccessLogSettings(true, file.toString(), 32 * 1024),
            new GatewayMetrics())) {
            final AccessLogEntry e = new AccessLogEntry();
            fill(e, "f", "/file");
            assertTrue(log.append(e));
        }
        final List<String> lines = Files.readAllLines(file);
        assertEquals(2, lines.size());
        assertEquals("existing", lines.get(0));
        assertEquals("/file", MiniJson.parseObject(lines.get(1)).get("path"));
        assertThrows(IllegalArgumentException.class,
            () -> AccessLog.start(new AccessLogSettings(true, "stdout", 30_000), new GatewayMetrics()));
        assertThrows(IllegalArgumentException.class,
            () -> AccessLog.start(new AccessLogSettings(true, "stdout", 4096), new GatewayMetrics()));
    }
}
