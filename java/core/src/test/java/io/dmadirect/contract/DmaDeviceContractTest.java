package io.dmadirect.contract;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaMask;
import io.dmadirect.DmaPlatform;
import io.dmadirect.DmaUsageException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What every DmaDevice promises, whatever its address mode: subclassed once per platform (PA on the
 * simulated machine, IOVA over a simulated IOMMU). The device side is played by {@link #deviceWrite},
 * which goes through the same address translation a real device's DMA would.
 */
public abstract class DmaDeviceContractTest {
    private static final byte[] DATA = "written by the device".getBytes(StandardCharsets.US_ASCII);
    protected DmaPlatform platform;

    /** A fresh platform with memory below 16 MiB, below 256 MiB, below 4 GiB and above. */
    protected abstract DmaPlatform newPlatform();

    /** The device writes {@code data} at DMA address {@code dma}; false when the address reaches no memory. */
    protected abstract boolean deviceWrite(long dma, byte[] data);

    @BeforeEach
    void open() {
        platform = newPlatform();
    }

    @AfterEach
    void close() {
        platform.close();
    }

    @Test
    void masksStartAt32Bits() {
        DmaDevice d = platform.attach(DeviceProperties.simple("dev"));
        assertEquals(32, d.dmaMask().bits());
        assertEquals(32, d.coherentMask().bits());
        DmaBuffer b = d.allocCoherent(4096);
        assertTrue(b.dmaAddress() + b.size() - 1 <= 0xffff_ffffL, "default 32-bit mask: " + b.report());
    }

    @Test
    void everyMaskIsHonouredAndTheDeviceSeesTheBuffer() {
        for (int bits : new int[] {24, 28, 32, 64}) {
            DmaDevice d = platform.attach(DeviceProperties.simple("dev" + bits));
            d.setMaskAndCoherent(DmaMask.bits(bits));
            for (int i = 0; i < 16; i++) {
                DmaBuffer b = d.allocCoherent(4096 << (i % 3));
                assertTrue(DmaMask.bits(bits).covers(b.dmaAddress() + b.size() - 1), bits + " bits: " + b.report());
                assertTrue(deviceWrite(b.dmaAddress(), DATA), "the device reaches " + b.dmaAddress());
                byte[] seen = new byte[DATA.length];
                b.cpuView().get(seen);
                assertArrayEquals(DATA, seen);
            }
            d.close();
        }
    }

    /**
     * {@code dma_alloc_pages()} and {@code dma_alloc_noncontiguous()} in either mode: within the coherent mask, one
     * segment, what the device writes read back after the sync for the CPU, a second free refused. In IOVA mode the
     * multi-frame buffer is IOVA-contiguous over memory mapped in chunks, the one-segment table of dma-direct.
     */
    @Test
    void pagesAndNoncontiguousMemoryReachTheDeviceUnderTheMask() {
        for (int bits : new int[] {28, 32, 64}) {
            DmaDevice d = platform.attach(DeviceProperties.simple("pages" + bits));
            d.setMaskAndCoherent(DmaMask.bits(bits));
            io.dmadirect.NoncoherentBuffer pages = d.allocPages(4096, io.dmadirect.DmaDirection.FROM_DEVICE);
            io.dmadirect.NoncontiguousBuffer sgt = d.allocNoncontiguous(3 << 20, io.dmadirect.DmaDirection.FROM_DEVICE);
            for (io.dmadirect.NoncoherentBuffer b : List.of(pages, sgt)) {
                assertTrue(DmaMask.bits(bits).covers(b.dmaAddress() + b.size() - 1), bits + " bits: " + b.report());
                long last = b.dmaAddress() + b.size() - DATA.length;
                assertTrue(deviceWrite(last, DATA), "the device reaches the end of " + b.report());
                b.syncForCpu();
                byte[] seen = new byte[DATA.length];
                b.cpuView().get((int) (b.size() - DATA.length), seen);
                assertArrayEquals(DATA, seen);
            }
            assertEquals(1, sgt.segments().size());
            assertEquals(3 << 20, sgt.segments().get(0).length());
            d.freePages(pages);
            assertThrows(DmaUsageException.class, () -> d.freePages(pages));
            sgt.close();
            d.close();
        }
    }

    @Test
    void buffersAreFoundByDmaAddressAndFreedOnce() {
        DmaDevice d = platform.attach(DeviceProperties.simple("dev"));
        d.setMaskAndCoherent(DmaMask.bits(28));
        List<DmaBuffer> buffers = new ArrayList<>();
        for (int i = 0; i < 32; i++) {
            buffers.add(d.allocCoherent(1000 + i));
        }
        for (DmaBuffer b : buffers) {
            assertEquals(b, d.findBuffer(b.dmaAddress() + 5).orElseThrow());
        }
        DmaBuffer first = buffers.get(0);
        long address = first.dmaAddress();
        first.close();
        assertTrue(first.isFreed());
        assertTrue(d.findBuffer(address).isEmpty());
        assertThrows(DmaUsageException.class, first::close);
    }

    @Test
    void distinctBuffersNeverOverlap() {
        DmaDevice d = platform.attach(DeviceProperties.simple("dev"));
        d.setMaskAndCoherent(DmaMask.bits(28));
        List<DmaBuffer> buffers = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            buffers.add(d.allocCoherent(8192));
        }
        for (int i = 0; i < buffers.size(); i++) {
            for (int j = i + 1; j < buffers.size(); j++) {
                DmaBuffer a = buffers.get(i);
                DmaBuffer b = buffers.get(j);
                assertTrue(a.dmaAddress() + a.allocatedSize() <= b.dmaAddress()
                        || b.dmaAddress() + b.allocatedSize() <= a.dmaAddress(), a.report() + " / " + b.report());
            }
        }
        assertNotEquals(buffers.get(0).dmaAddress(), buffers.get(1).dmaAddress());
    }

    @Test
    void memoryIsZeroedOnAllocation() {
        DmaDevice d = platform.attach(DeviceProperties.simple("dev"));
        DmaBuffer b = d.allocCoherent(4096);
        b.cpuView().put(new byte[4096]).flip();
        byte[] ones = new byte[4096];
        java.util.Arrays.fill(ones, (byte) 0xff);
        b.cpuView().put(ones);
        b.close();
        DmaBuffer again = d.allocCoherent(4096);
        byte[] seen = new byte[4096];
        again.cpuView().get(seen);
        assertArrayEquals(new byte[4096], seen);
    }
}
