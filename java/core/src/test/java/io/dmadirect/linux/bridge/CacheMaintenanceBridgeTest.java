package io.dmadirect.linux.bridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.memory.RawMemory;
import io.dmadirect.spi.CacheMaintenance;
import io.dmadirect.testing.CapturedLogs;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.Test;

/** The host's cache maintenance: real instructions that leave data intact, or the fallback with its one warning. */
class CacheMaintenanceBridgeTest {

    @Test
    void theHostGetsTheNativeInstructions() {
        CacheMaintenance caches = CacheMaintenanceBridge.load();
        assertInstanceOf(NativeCacheMaintenance.class, caches);
        assertTrue(caches.toString().contains("clean " + NativeLibrary.status().cleanInstruction()), caches.toString());
    }

    @Test
    void maintenanceNeverChangesData() {
        CacheMaintenance caches = CacheMaintenanceBridge.load();
        ByteBuffer buffer = ByteBuffer.allocateDirect(64 * 1024 + 3);
        for (int i = 0; i < buffer.capacity(); i++) {
            buffer.put(i, (byte) (i * 31));
        }
        long address = RawMemory.addressOf(buffer);
        for (long offset : new long[] {0, 1, 63, 64, 4095}) {
            for (long size : new long[] {0, 1, 64, 65, 4096, 60_000}) {
                caches.clean(address + offset, size);
                caches.invalidate(address + offset, size);
                caches.flush(address + offset, size);
            }
        }
        for (int i = 0; i < buffer.capacity(); i++) {
            assertEquals((byte) (i * 31), buffer.get(i), "byte " + i);
        }
    }

    @Test
    void aNegativeSizeNeverReachesC() {
        CacheMaintenance caches = CacheMaintenanceBridge.load();
        assertThrows(IllegalArgumentException.class, () -> caches.clean(4096, -1));
        assertThrows(IllegalArgumentException.class, () -> caches.flush(4096, Long.MIN_VALUE));
    }

    @Test
    void withoutTheLibraryX86FencesAndStaysQuiet() {
        CacheMaintenance caches = CacheMaintenanceBridge.select(NativeLibrary.Status.unavailable("test"), "amd64");
        FenceCacheMaintenance fences = assertInstanceOf(FenceCacheMaintenance.class, caches);
        List<LogRecord> records = capture(() -> {
            fences.clean(0, 4096);
            fences.flush(0, 4096);
        });
        assertFalse(fences.warned());
        assertEquals(List.of(), records);
        assertEquals("fences only (test)", fences.toString());
    }

    @Test
    void withoutTheLibraryArm64WarnsOnceWithTheReason() {
        CacheMaintenance caches = CacheMaintenanceBridge.select(
                NativeLibrary.Status.unavailable("disabled with -Ddmadirect.native=false"), "aarch64");
        FenceCacheMaintenance fences = assertInstanceOf(FenceCacheMaintenance.class, caches);
        List<LogRecord> records = capture(() -> {
            fences.clean(0, 4096);
            fences.invalidate(0, 4096);
            fences.flush(0, 4096);
        });
        assertTrue(fences.warned());
        assertEquals(1, records.size(), records.toString());
        assertEquals(java.util.logging.Level.WARNING, records.get(0).getLevel());
    }

    /** The System.Logger of the JDK goes to java.util.logging when nothing else is installed. */
    private static List<LogRecord> capture(Runnable action) {
        return CapturedLogs.capture(FenceCacheMaintenance.class.getName(), Level.ALL, action);
    }
}
