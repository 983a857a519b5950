package io.dmadirect.hil;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.DmaAttr;
import io.dmadirect.DmaBuffer;
import io.dmadirect.Sizes;
import io.dmadirect.drivers.edu.EduDriver;
import io.dmadirect.host.LinuxPlatformOptions;
import io.dmadirect.host.PciPlatforms;
import io.dmadirect.host.PciSession;
import io.dmadirect.iova.IovaMemory;
import io.dmadirect.linux.hugepages.HugepageOptions;
import io.dmadirect.pci.PciAddress;
import java.util.Arrays;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Lab notebook: issue 19, {@code iommuUnmapOnFree} (the agent's {@code iommuFree=true}) on a real IOMMU.
 * Device: edu behind intel-iommu on vfio-pci (IOVA mode, VFIO type1 on 6.1, iommufd on 6.12).
 * Setup: the shared edu session is let go (VFIO gives a device to one opener at a time); a session of 32 MiB is
 * opened with the option, then one without it. In each, a one-page coherent buffer is filled with a canary and
 * freed, while the driver, as a buggy one would, keeps its DMA address.
 * Action: the edu DMA-writes a second pattern to the freed buffer's IOVA, the same page is allocated again
 * (SKIP_ZEROING, so what lies there is seen) and freed; then the edu DMA-reads from that IOVA into its own
 * buffer, which held a third pattern, and writes its buffer back into a live buffer.
 * Seen, with the option: the freed page still holds the canary (the write did not land), the edu did not get the
 * canary by reading, and the guest kernel logged an IOMMU fault for that IOVA after each access. Without it: the
 * write lands in the page that is handed out next, and the read gets the freed memory's bytes, so the test cannot
 * pass vacuously.
 */
@Tag("iommu")
@Order(Integer.MAX_VALUE - 2)
class IommuUnmapOnFreeTest {
    private static final long MEMORY = 32 * Sizes.MiB;
    private static final int N = EduDriver.MAX_TRANSFER;

    @Test
    void aLateDeviceAccessToFreedMemoryFaultsWithTheOptionAndLandsWithout() throws Exception {
        Rig.requireRig();
        Rig.require(Rig.iommu(), "unmapping at free needs an IOMMU; this guest has none");
        Rig.releaseEdu();
        long started = System.nanoTime();
        try (PciSession session = open(true); Bench bench = new Bench(session)) {
            IovaMemory memory = session.iovaMemory().orElseThrow();
            assertTrue(memory.unmapsOnFree(), "the option reached the IOVA memory");
            long iova = bench.freedCanary();
            assertFalse(memory.isMapped(iova), "the freed page is unmapped from the IOMMU");

            int skip = KernelLog.lines().size();
            bench.lateWrite(iova);
            String writeFault = KernelLog.await(skip, faultFor(iova), 15);
            assertNotNull(writeFault, "no IOMMU fault for the late write to " + Sizes.hex(iova) + " in dmesg within 15 s");
            assertArrayEquals(pattern(1), bench.reallocatedBytes(iova), "the late write must not land");
            assertFalse(memory.isMapped(iova), "freed again, unmapped again");

            skip = KernelLog.lines().size();
            byte[] read = bench.lateRead(iova);
            String readFault = KernelLog.await(skip, faultFor(iova), 15);
            assertNotNull(readFault, "no IOMMU fault for the late read of " + Sizes.hex(iova) + " in dmesg within 15 s");
            assertFalse(Arrays.equals(pattern(1), read), "the late read must not see the freed memory");
            Rig.note("iommuUnmapOnFree on " + memory.iommu().name() + ": a late DMA write to freed IOVA "
                    + Sizes.hex(iova) + " did not land (canary intact), dmesg: " + writeFault.trim()
                    + "; a late DMA read did not get its bytes, dmesg: " + readFault.trim());
        }
        try (PciSession session = open(false); Bench bench = new Bench(session)) {
            IovaMemory memory = session.iovaMemory().orElseThrow();
            assertFalse(memory.unmapsOnFree());
            long iova = bench.freedCanary();
            assertTrue(memory.isMapped(iova), "without the option freed memory stays mapped");
            int skip = KernelLog.lines().size();
            bench.lateWrite(iova);
            assertArrayEquals(pattern(2), bench.reallocatedBytes(iova), "without the option the late write lands");
            byte[] read = bench.lateRead(iova);
            assertArrayEquals(pattern(2), read, "without the option the late read gets the freed memory");
            assertNull(KernelLog.await(skip, faultFor(iova), 1), "no fault without the option");
            Rig.note("iommuUnmapOnFree off on " + memory.iommu().name() + ": the same late write to freed IOVA "
                    + Sizes.hex(iova) + " landed in the page handed out next, and the late read got it, no fault");
        }
        Rig.note("iommuUnmapOnFree: both sessions in " + (System.nanoTime() - started) / 1_000_000 + " ms");
    }

    /**
     * The edu with two live one-page buffers, taken before the victim so that the victim's page is the one the
     * freeing thread's cache hands out next.
     */
    private static final class Bench implements AutoCloseable {
        final EduDriver edu;
        final DmaBuffer src;
        final DmaBuffer dst;

        Bench(PciSession session) {
            edu = EduDriver.attach(session.pci(), session.dma());
            src = edu.dma().allocCoherent(4096);
            dst = edu.dma().allocCoherent(4096);
        }

        /** Allocates a one-page buffer, fills it with the canary (pattern 1) and frees it; returns its IOVA. */
        long freedCanary() {
            DmaBuffer victim = edu.dma().allocCoherent(4096);
            victim.cpuView().put(pattern(1));
            long iova = victim.dmaAddress();
            victim.close();
            return iova;
        }

        /** The edu buffer gets pattern 2 from a live buffer, then is written to {@code iova}. */
        void lateWrite(long iova) {
            src.cpuView().put(0, pattern(2));
            edu.toDevice(src.dmaAddress(), 0, N);
            edu.fromDevice(0, iova, N);
        }

        /** The first bytes of the page at {@code iova}, allocated again without zeroing and freed again. */
        byte[] reallocatedBytes(long iova) {
            try (DmaBuffer again = edu.dma().allocCoherent(4096, DmaAttr.SKIP_ZEROING)) {
                assertEquals(iova, again.dmaAddress(), "the test relies on the freed page being handed out again");
                byte[] seen = new byte[N];
                again.cpuView().get(0, seen);
                return seen;
            }
        }

        /** The edu buffer gets pattern 3, then reads {@code iova}; returns what it then holds (written to RAM). */
        byte[] lateRead(long iova) {
            src.cpuView().put(0, pattern(3));
            edu.toDevice(src.dmaAddress(), 0, N);
            edu.toDevice(iova, 0, N);
            edu.fromDevice(0, dst.dmaAddress(), N);
            byte[] seen = new byte[N];
            dst.cpuView().get(0, seen);
            return seen;
        }

        @Override
        public void close() {
            try {
                src.close();
                dst.close();
            } finally {
                edu.close();
            }
        }
    }

    /** An IOMMU's fault line for {@code iova}: intel-iommu (DMAR), AMD-Vi, virtio-iommu. */
    private static java.util.function.Predicate<String> faultFor(long iova) {
        String hex = Sizes.hex(iova);
        return line -> line.contains("fault addr " + hex + " ") || line.endsWith("fault addr " + hex)
                || (line.contains("IO_PAGE_FAULT") && line.contains("address=" + hex))
                || (line.contains("virtio_iommu") && line.contains("fault") && line.contains(" at " + hex));
    }

    /** {@link #N} bytes, distinct per {@code seed} and from zeros and ones. */
    private static byte[] pattern(int seed) {
        byte[] b = new byte[N];
        for (int i = 0; i < N; i++) {
            b[i] = (byte) (i * (seed * 2 + 1) + seed * 0x35 + 1);
        }
        return b;
    }

    private static PciSession open(boolean unmapOnFree) {
        LinuxPlatformOptions options = PciPlatforms.defaults()
                .withHugepages(HugepageOptions.DEFAULTS.withInitialBytes(MEMORY).withName("hil-iommu-free"))
                .withIommuUnmapOnFree(unmapOnFree);
        return PciSession.open(PciAddress.parse(System.getenv("DMADIRECT_RIG_EDU_BDF")), options);
    }
}
