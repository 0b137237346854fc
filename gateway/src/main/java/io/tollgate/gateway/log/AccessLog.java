package io.tollgate.gateway.log;

import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.tollgate.config.AccessLogSettings;
import io.tollgate.gateway.metrics.GatewayMetrics;
import java.io.BufferedOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.agrona.BitUtil;
import org.agrona.BufferUtil;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.MessageHandler;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;

/**
 * The JSON-lines access log: event loops {@link #append} binary records into a preallocated Agrona
 * {@link ManyToOneRingBuffer}; one daemon thread, {@code tollgate-access-log}, drains it, renders each record as
 * one JSON line and writes to stdout, stderr or a file.
 *
 * <pre>{@code
 * try (AccessLog log = AccessLog.start(settings.accessLog(), metrics)) {
 *     ...
 *     if (!log.append(entry)) { } // full: the record was dropped and counted, never waited for
 * }
 * }</pre>
 *
 * <p>A line: {@code {"ts":"2026-11-23T00:00:00.123Z","request_id":"..","route":"billing","method":"GET",
 * "path":"/x?y","status":200,"upstream":"10.0.0.1:8080","duration_us":123,"bytes_in":0,"bytes_out":456,
 * "client":"1.2.3.4"}}; {@code route} and {@code upstream} are {@code null} when absent, and
 * {@code "path_truncated":true} follows {@code path} when the target was longer than 1024 bytes. Lines are always
 * valid JSON and pure ASCII, whatever bytes the client sent.
 *
 * <p>Guarantees:
 * <ul>
 *   <li>{@link #append} never blocks, locks or allocates; when the ring is full it returns false and counts a drop
 *       ({@link #droppedRecords()}, {@code tollgate_access_log_dropped_total}).</li>
 *   <li>Records from one event loop are written in append order; records of different loops interleave in the
 *       order they claimed ring space.</li>
 *   <li>Output is buffered and flushed whenever the ring runs empty, so an idle gateway has written everything.</li>
 *   <li>{@link #close()} stops accepting, writes what the ring still holds, flushes and joins the thread.</li>
 *   <li>Write errors do not stop the thread: the records are counted as dropped and the first error is reported
 *       once on stderr.</li>
 * </ul>
 *
 * <p>Threading: {@link #append} from any number of threads; {@link #close()} from a control thread, after the
 * event loops stopped appending (an append racing with close may be lost). If the output blocks (a stalled
 * stdout pipe), appends keep failing fast and {@link #close()} gives up waiting for the thread after 30 s.
 * Ownership: the log owns its output stream and closes it (except stdout/stderr, which are only flushed).
 */
public final class AccessLog implements AutoCloseable {

    private static final int RECORD_TYPE = 1;
    private static final AccessLog DISABLED = new AccessLog();

    private final ManyToOneRingBuffer ring;
    private final CounterDataPoint droppedCounter;
    private final AtomicLong dropped = new AtomicLong();
    private final Writer writer;
    private final Thread thread;
    private volatile boolean accepting = true;

    private AccessLog() {
        ring = null;
        droppedCounter = null;
        writer = null;
        thread = null;
    }

    private AccessLog(int ringBufferBytes, OutputStream out, boolean closeOut, CounterDataPoint droppedCounter) {
        final int capacity = ringBufferBytes + RingBufferDescriptor.TRAILER_LENGTH;
        // Aligned to a cache line: the ring's position counters live in the trailer and need 8-byte alignment.
        final UnsafeBuffer buffer = new UnsafeBuffer(BufferUtil.allocateDirectAligned(capacity, 64));
        this.ring = new ManyToOneRingBuffer(buffer);
        if (ring.maxMsgLength() < AccessLogRecord.MAX_RECORD_BYTES) {
            throw new IllegalArgumentException("access log ringBufferBytes " + ringBufferBytes
                + " too small: needs at least " + BitUtil.findNextPositivePowerOfTwo(
                    AccessLogRecord.MAX_RECORD_BYTES * 8) + " for the largest record");
        }
        this.droppedCounter = droppedCounter;
        this.writer = new Writer(ring, out, closeOut, dropped, droppedCounter);
        this.thread = new Thread(writer, "tollgate-access-log");
        thread.setDaemon(true);
        thread.start();
    }

    /**
     * Starts the log described by {@code settings}, or returns a no-op log when it is disabled.
     *
     * @throws IllegalArgumentException if {@code ringBufferBytes} is not a power of two or too small for a record
     * @throws UncheckedIOException     if the file cannot be opened
     */
    public static AccessLog start(AccessLogSettings settings, GatewayMetrics metrics) {
        if (!settings.enabled()) {
            return DISABLED;
        }
        checkRingBufferBytes(settings.ringBufferBytes());
        final String path = settings.path();
        if ("stdout".equals(path)) {
            return new AccessLog(settings.ringBufferBytes(), new FileOutputStream(FileDescriptor.out), false,
                metrics.accessLogDropped());
        }
        if ("stderr".equals(path)) {
            return new AccessLog(settings.ringBufferBytes(), new FileOutputStream(FileDescriptor.err), false,
                metrics.accessLogDropped());
        }
        try {
            return new AccessLog(settings.ringBufferBytes(), new FileOutputStream(path, true), true,
                metrics.accessLogDropped());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open access log " + path, e);
        }
    }

    /** For tests: a log writing to {@code out} (closed by {@link #close()}). */
    static AccessLog start(int ringBufferBytes, OutputStream out, GatewayMetrics metrics) {
        checkRingBufferBytes(ringBufferBytes);
        return new AccessLog(ringBufferBytes, out, true, metrics.accessLogDropped());
    }

    private static void checkRingBufferBytes(int ringBufferBytes) {
        if (!BitUtil.isPowerOfTwo(ringBufferBytes)) {
            throw new IllegalArgumentException("access log ringBufferBytes must be a power of two: "
                + ringBufferBytes);
        }
    }

    /**
     * Copies {@code e} into the ring. Returns false (and counts a drop) when the ring is full or the log is closed.
     * Threading: any thread. Allocation: none. Ownership: borrows {@code e}; it may be reset as soon as this
     * returns.
     */
    public boolean append(AccessLogEntry e) {
        if (ring == null) {
            return true;
        }
        if (!accepting) {
            return drop();
        }
        final int length = AccessLogRecord.encodedLength(e);
        final int index = ring.tryClaim(RECORD_TYPE, length);
        if (index < 0) { // RingBuffer.INSUFFICIENT_CAPACITY
            return drop();
        }
        final MutableDirectBuffer buffer = ring.buffer();
        AccessLogRecord.encode(e, buffer, index);
        ring.commit(index);
        return true;
    }

    /** Records dropped because the ring was full, the log was closed or a write failed. */
    public long droppedRecords() {
        return dropped.get();
    }

    /** Whether this log writes anything (false for a disabled log). */
    public boolean enabled() {
        return ring != null;
    }

    /**
     * Stops accepting, drains the ring, flushes and closes the output, then joins the writer thread. Idempotent.
     */
    @Override
    public void close() {
        if (ring == null || !accepting) {
            return;
        }
        accepting = false;
        writer.running = false;
        try {
            thread.join(TimeUnit.SECONDS.toMillis(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private boolean drop() {
        dropped.incrementAndGet();
        droppedCounter.inc();
        return false;
    }

    /** The drain loop. Owned by the writer thread except for {@link #running}. */
    private static final class Writer implements Runnable, MessageHandler {

        /** Records per read: bounds how long one pass holds ring space before releasing it to producers. */
        private static final int READ_LIMIT = 256;

        private final RingBuffer ring;
        private final OutputStream out;
        private final boolean closeOut;
        private final AtomicLong dropped;
        private final CounterDataPoint droppedCounter;
        private final byte[] line = new byte[AccessLogRecord.MAX_LINE_BYTES];
        private final IdleStrategy idle = new BackoffIdleStrategy(
            10, 10, TimeUnit.MICROSECONDS.toNanos(1), TimeUnit.MILLISECONDS.toNanos(1));
        private volatile boolean running = true;
        private boolean unflushed;
        private boolean errorReported;

        Writer(RingBuffer ring, OutputStream out, boolean closeOut, AtomicLong dropped,
               CounterDataPoint droppedCounter) {
            this.ring = ring;
            this.out = new BufferedOutputStream(out, 64 * 1024);
            this.closeOut = closeOut;
            this.dropped = dropped;
            this.droppedCounter = droppedCounter;
        }

        @Override
        public void run() {
            while (running) {
                final int records = ring.read(this, READ_LIMIT);
                if (records == 0) {
                    flush();
                }
                idle.idle(records);
            }
            // accepting was cleared before running, so new appends are refused; drain what was committed. An append
            // that passed the accepting check just before close() may commit late: one more pass after a short
            // pause picks it up (callers should stop their event loops before closing the log anyway).
            while (ring.read(this, READ_LIMIT) > 0) {
                // keep draining
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
            while (ring.read(this, READ_LIMIT) > 0) {
                // keep draining
            }
            flush();
            if (closeOut) {
                try {
                    out.close();
                } catch (IOException e) {
                    report(e);
                }
            }
        }

        @Override
        public void onMessage(int msgTypeId, MutableDirectBuffer buffer, int index, int length) {
            final int n = AccessLogRecord.formatJson(buffer, index, line);
            try {
                out.write(line, 0, n);
                unflushed = true;
            } catch (IOException e) {
                dropped.incrementAndGet();
                droppedCounter.inc();
                report(e);
            }
        }

        private void flush() {
            if (!unflushed) {
                return;
            }
            unflushed = false;
            try {
                out.flush();
            } catch (IOException e) {
                report(e);
            }
        }

        private void report(IOException e) {
            if (!errorReported) {
                errorReported = true;
                System.err.println("tollgate-access-log: write failed, further errors counted as drops only: " + e);
            }
        }
    }
}
