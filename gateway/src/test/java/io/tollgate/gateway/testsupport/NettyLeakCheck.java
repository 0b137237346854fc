package io.tollgate.gateway.testsupport;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import io.netty.util.internal.logging.InternalLoggerFactory;
import io.netty.util.internal.logging.JdkLoggerFactory;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test class when Netty's leak detector reports a leaked buffer while (or shortly after) it ran.
 *
 * <p>How: the test JVM runs the detector at paranoid level (root pom), and Netty logs each leak through JDK
 * logging (no SLF4J or Log4j on the test classpath; checked below so the check cannot pass vacuously). After the
 * class, a few GCs plus fresh tracked allocations make the detector poll its reference queue and report.
 */
public final class NettyLeakCheck implements BeforeAllCallback, AfterAllCallback {

    private static final Logger DETECTOR_LOGGER = Logger.getLogger(ResourceLeakDetector.class.getName());

    private final List<String> leaks = new CopyOnWriteArrayList<>();
    private final Handler handler = new Handler() {
        @Override
        public void publish(LogRecord record) {
            final String message = record.getMessage();
            if (message != null && message.contains("LEAK")) {
                leaks.add(message);
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    @Override
    public void beforeAll(ExtensionContext context) {
        assertTrue(InternalLoggerFactory.getDefaultFactory() instanceof JdkLoggerFactory,
            "leak check needs Netty on JDK logging, got " + InternalLoggerFactory.getDefaultFactory());
        assertTrue(ResourceLeakDetector.getLevel() == ResourceLeakDetector.Level.PARANOID,
            "tests must run with -Dio.netty.leakDetection.level=paranoid");
        DETECTOR_LOGGER.addHandler(handler);
    }

    @Override
    public void afterAll(ExtensionContext context) throws InterruptedException {
        try {
            for (int round = 0; round < 5; round++) {
                System.gc();
                Thread.sleep(50);
                // Tracking a new buffer makes the detector drain its queue of collected, unreleased ones.
                final ByteBuf probe = ByteBufAllocator.DEFAULT.directBuffer(1);
                probe.release();
            }
        } finally {
            DETECTOR_LOGGER.removeHandler(handler);
        }
        assertTrue(leaks.isEmpty(), () -> "Netty reported leaks:\n" + String.join("\n", leaks));
    }
}
