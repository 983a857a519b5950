package io.dmadirect.hil;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.drivers.nvme.NvmeController;
import io.dmadirect.drivers.nvme.NvmeNamespace;
import io.dmadirect.drivers.nvme.NvmeOptions;
import io.dmadirect.drivers.nvme.NvmeQueuePair;
import io.dmadirect.host.PciSession;
import io.dmadirect.pci.PciAddress;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Lab notebook (issue 21, hot-unplug): the rig's NVMe on vfio-pci, a session with DMA memory mapped and a thread
 * doing write-and-read-back rounds on it. Action: the guest removes the function ({@code echo 1 > remove} in
 * sysfs, what a hot-unplug or {@code device_del} starts); then the application lets the device go; then a
 * rescan brings it back, it is bound to vfio-pci again and a new session drives it.
 * Seen: VFIO holds the removal until the process releases the device and asks for it (dmesg: "blocked until
 * released by user"); meanwhile the I/O goes on, byte-identical, nothing crashes; once the driver and session
 * are closed the queue pair refuses I/O with a clear exception, the removal completes, the device is gone from
 * sysfs, opening it again names the missing device, and every hugepage is free again. After the rescan a new
 * session writes and reads back.
 */
@Tag("nvme")
@Tag("reset")
// After every class without an order (JUnit gives them MAX_VALUE / 2), before IommuInterfaceTest and the agent tests:
// the device is removed and comes back as a new one, so no other test may hold it.
@Order(Integer.MAX_VALUE - 3)
class NvmeHotUnplugTest {
    private static final Path PCI = Path.of("/sys/bus/pci");

    @Test
    void aRemovedDeviceIsReleasedCleanlyAndARescanBringsItBack() throws Exception {
        Rig.require(Rig.iommu(), "NVMe is on vfio-pci only in the IOMMU variants");
        PciAddress bdf = PciAddress.parse(System.getenv("DMADIRECT_RIG_NVME_BDF"));
        Path device = PCI.resolve("devices").resolve(bdf.toString());
        long freeBefore = freeHugepages();
        PciSession session = NvmeRig.open("hil-nvme-unplug", false);
        NvmeController nvme = NvmeController.attach(session.pci(), session.dma(), NvmeOptions.DEFAULTS);
        NvmeNamespace ns = nvme.namespace(1);
        NvmeQueuePair q = nvme.queuePair(0);
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong rounds = new AtomicLong();
        AtomicReference<Throwable> ioFailure = new AtomicReference<>();
        DmaBuffer buffer = session.dma().allocCoherent(64 * 1024);
        Thread io = new Thread(() -> {
            try {
                while (!stop.get()) {
                    byte[] data = NvmeRig.pattern(64 * 1024, rounds.get());
                    buffer.cpuView().put(0, data);
                    q.write(ns, 128, buffer, 0, data.length);
                    byte[] back = new byte[data.length];
                    q.read(ns, 128, back, 0, back.length);
                    NvmeRig.assertSameBytes(data, back, "round " + rounds.get());
                    rounds.incrementAndGet();
                }
            } catch (Throwable t) {
                ioFailure.set(t);
            }
        }, "hil-nvme-unplug-io");
        io.start();
        awaitRounds(rounds, 2, ioFailure);

        int logMark = KernelLog.lines().size();
        long t0 = System.nanoTime();
        Process remove = new ProcessBuilder("sh", "-c", "echo 1 > " + device.resolve("remove")).redirectErrorStream(true)
                .start();
        String request = KernelLog.await(logMark, l -> l.contains(bdf.toString().substring(5))
                && (l.contains("blocked until released by user") || l.contains("Relaying device request")), 30);
        assertNotNull(request, "vfio-pci did not ask for the device within 30 s");
        assertTrue(remove.isAlive(), "the removal waits for the process to let the device go");
        long during = rounds.get();
        awaitRounds(rounds, during + 2, ioFailure);

        stop.set(true);
        io.join(30_000);
        assertFalse(io.isAlive(), "the I/O thread stopped");
        assertNull(ioFailure.get(), () -> "I/O failed while the removal waited: " + ioFailure.get());
        buffer.close();
        nvme.close();
        IllegalStateException closed = assertThrows(IllegalStateException.class,
                () -> q.read(ns, 0, new byte[ns.blockSize()], 0, ns.blockSize()));
        assertEquals("NVMe queue pair 1 is closed", closed.getMessage());
        DmaDevice dma = session.dma();
        session.close();
        RuntimeException afterClose = assertThrows(RuntimeException.class, () -> dma.allocCoherent(4096));
        assertTrue(remove.waitFor(60, TimeUnit.SECONDS), "the removal completes once the device is released");
        long removedMs = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(0, remove.exitValue(), "echo 1 > remove");
        assertFalse(Files.exists(device), device + " is gone");
        assertEquals(freeBefore, freeHugepages(), "every hugepage of the session is free again");
        RuntimeException gone = assertThrows(RuntimeException.class, () -> NvmeRig.open("hil-nvme-gone", false));
        assertTrue(String.valueOf(gone.getMessage()).contains(bdf.toString()), gone.getMessage());

        long t1 = System.nanoTime();
        Files.writeString(PCI.resolve("rescan"), "1");
        awaitPath(device, 30);
        Files.writeString(device.resolve("driver_override"), "vfio-pci");
        Files.writeString(PCI.resolve("drivers_probe"), bdf.toString());
        awaitPath(Path.of("/dev/vfio", Path.of(Files.readSymbolicLink(device.resolve("iommu_group")).toString())
                .getFileName().toString()), 30);
        long rescanMs = (System.nanoTime() - t1) / 1_000_000;
        try (PciSession again = NvmeRig.open("hil-nvme-rescanned", false);
                NvmeController back = NvmeController.attach(again.pci(), again.dma())) {
            byte[] data = NvmeRig.pattern(8 * ns.blockSize(), 2122);
            back.queuePair(0).write(back.namespace(1), 256, data, 0, data.length);
            byte[] read = new byte[data.length];
            back.queuePair(0).read(back.namespace(1), 256, read, 0, read.length);
            NvmeRig.assertSameBytes(data, read, "after the rescan");
            Rig.note("nvme hot-unplug: " + during + " rounds before the removal request, " + rounds.get()
                    + " in all, none failed; dmesg: " + request.trim() + "; released and removed " + removedMs
                    + " ms after 'echo 1 > remove'; after close: '" + closed.getMessage() + "', '"
                    + afterClose.getMessage() + "'; reopening the removed device: '" + gone.getMessage()
                    + "'; hugepages free " + freeBefore + " before and after; rescan + vfio-pci in " + rescanMs
                    + " ms, BAR0 now " + Files.readAllLines(device.resolve("resource")).get(0)
                    + ", a new session wrote and read back " + data.length + " bytes");
        }
    }

    private static long freeHugepages() throws IOException {
        return Long.parseLong(Files.readString(Path.of("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages")).trim());
    }

    private static void awaitRounds(AtomicLong rounds, long target, AtomicReference<Throwable> failure)
            throws InterruptedException {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (rounds.get() < target && failure.get() == null && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertNull(failure.get(), () -> "I/O failed: " + failure.get());
        assertTrue(rounds.get() >= target, "I/O rounds: " + rounds.get() + " of " + target + " in 60 s");
    }

    private static void awaitPath(Path path, long seconds) throws InterruptedException {
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        while (!Files.exists(path) && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertTrue(Files.exists(path), path + " did not appear within " + seconds + " s");
    }
}
