package io.dmadirect.streaming;

import static io.dmadirect.Sizes.MiB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaAttr;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaDirection;
import io.dmadirect.DmaMapping;
import io.dmadirect.DmaMappingException;
import io.dmadirect.sim.SimulatedPlatform;
import io.dmadirect.swiotlb.Swiotlb;
import io.dmadirect.testing.CapturedLogs;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.Test;

/**
 * {@code DMA_ATTR_NO_WARN}: the kernel's {@code swiotlb_tbl_map_single()} logs "swiotlb buffer is full" unless
 * the caller passed it. A failed mapping logs a warning on {@code io.dmadirect.direct} unless
 * {@link DmaAttr#NO_WARN} is given; the exception is thrown either way.
 */
class StreamingNoWarnTest {
    private static final int SEGMENT = (int) Swiotlb.SEGMENT_BYTES;

    @Test
    void aFullPoolWarnsUnlessNoWarn() {
        try (SimulatedPlatform platform = SimulatedPlatform.builder().region(0, 64 * MiB).atomicPools(0, 0).build()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("nowarn"));
            List<DmaMapping> held = new ArrayList<>();
            while (platform.direct().swiotlb().stats().largestFreeRun() >= 128) {
                held.add(device.map(new byte[SEGMENT], 0, SEGMENT, DmaDirection.TO_DEVICE));
            }
            List<LogRecord> warned = capture(() -> assertThrows(DmaMappingException.class,
                    () -> device.map(new byte[SEGMENT], 0, SEGMENT, DmaDirection.TO_DEVICE)));
            assertEquals(1, warned.size(), "a failure is logged");
            assertEquals(Level.WARNING, warned.get(0).getLevel());
            assertTrue(warned.get(0).getMessage().contains("nowarn"), warned.get(0).getMessage());

            List<LogRecord> quiet = capture(() -> assertThrows(DmaMappingException.class,
                    () -> device.map(new byte[SEGMENT], 0, SEGMENT, DmaDirection.TO_DEVICE, DmaAttr.NO_WARN)));
            assertEquals(0, quiet.size(), "NO_WARN: the failure is expected, so not logged");

            List<LogRecord> quietBuffer = capture(() -> assertThrows(DmaMappingException.class,
                    () -> device.map(ByteBuffer.allocateDirect(SEGMENT), DmaDirection.FROM_DEVICE, DmaAttr.NO_WARN)));
            assertEquals(0, quietBuffer.size(), "also for a buffer");
            List<LogRecord> quietSg = capture(() -> assertThrows(DmaMappingException.class,
                    () -> device.mapSg(List.of(ByteBuffer.allocateDirect(SEGMENT)), DmaDirection.TO_DEVICE, DmaAttr.NO_WARN)));
            assertEquals(0, quietSg.size(), "and for a scatter list");
            held.forEach(DmaMapping::close);
        }
    }

    /** The System.Logger of the JDK goes to java.util.logging when nothing else is installed. */
    private static List<LogRecord> capture(Runnable action) {
        return CapturedLogs.capture("io.dmadirect.direct", Level.WARNING, action);
    }
}
