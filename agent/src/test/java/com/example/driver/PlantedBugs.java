package com.example.driver;

import static io.dmadirect.Sizes.GiB;
import static io.dmadirect.Sizes.MiB;

import io.dmadirect.AllocationPath;
import io.dmadirect.AllocationReport;
import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaAllocationException;
import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaDirection;
import io.dmadirect.DmaMask;
import io.dmadirect.NoncoherentBuffer;
import io.dmadirect.Zone;
import io.dmadirect.sim.SimulatedBusMaster;
import io.dmadirect.sim.SimulatedPlatform;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Small driver programs for the agent's tests, each with one planted bug (or none: {@code clean}). The
 * tests run each in a child JVM with {@code -javaagent} and read its report. The bug's line is marked
 * {@code // BUG} so the tests can check that the report names it.
 */
public final class PlantedBugs {
    private PlantedBugs() {
    }

    static SimulatedPlatform platform() {
        return SimulatedPlatform.builder().region(0, 16 * MiB).region(GiB, 32 * MiB).region(4 * GiB, 32 * MiB).build();
    }

    public static void main(String[] args) throws Exception {
        try (SimulatedPlatform platform = platform()) {
            DmaDevice nic = platform.attach(DeviceProperties.simple("nic0"));
            nic.setMaskAndCoherent(DmaMask.BITS_64);
            switch (args[0]) {
                case "clean" -> clean(nic);
                case "leak-at-exit" -> leakAtExit(nic);
                case "leak-at-close" -> leakAtClose(platform);
                case "double-free" -> doubleFree(nic);
                case "free-not-allocated" -> freeNotAllocated(nic);
                case "free-different-device" -> freeDifferentDevice(platform, nic);
                case "write-after-free" -> writeAfterFree(nic);
                case "pages-write-after-free" -> pagesWriteAfterFree(nic);
                case "allocate-direct" -> allocateDirect(nic);
                case "inject-alloc" -> injectAlloc(nic);
                case "narrow-mask" -> narrowMask(platform);
                case "attach-target" -> attachTarget(nic);
                case "stream-clean" -> Streaming.clean(platform, nic);
                case "double-unmap" -> Streaming.doubleUnmap(nic);
                case "double-unmap-attrs" -> Streaming.doubleUnmapWithAttrs(nic);
                case "unmap-different-device" -> Streaming.unmapDifferentDevice(platform, nic);
                case "unmap-sg-segment" -> Streaming.unmapSgSegment(nic);
                case "sync-unmapped" -> Streaming.syncUnmapped(nic);
                case "sync-outside" -> Streaming.syncOutside(nic);
                case "sync-direction" -> Streaming.syncDirection(nic);
                case "map-error-carried-on" -> Streaming.mapErrorCarriedOn(nic);
                case "map-error-swallowed" -> Streaming.mapErrorSwallowed(nic);
                case "mapping-leak-at-close" -> Streaming.mappingLeakAtClose(platform);
                case "mapping-leak-at-exit" -> Streaming.mappingLeakAtExit(nic);
                case "inject-map" -> Streaming.injectMap(platform, nic);
                case "bounce-data" -> Streaming.bounceData(platform, nic);
                case "small-pool" -> Streaming.smallPool(platform, nic);
                case "count-race" -> CountRace.run(nic);
                default -> throw new IllegalArgumentException(args[0]);
            }
        }
    }

    /** A ring and its buffers, set up and torn down correctly. */
    static void clean(DmaDevice nic) {
        List<DmaBuffer> ring = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            ring.add(nic.allocCoherent(2048));
        }
        for (DmaBuffer buffer : ring) {
            buffer.cpuView().putInt(0, 42);
            buffer.close();
        }
        try (DmaBuffer descriptors = nic.allocCoherent(4096)) {
            descriptors.cpuView().putLong(0, 1);
        }
        System.out.println("clean: done");
    }

    static DmaBuffer kept;

    static void leakAtExit(DmaDevice nic) {
        kept = nic.allocCoherent(4096); // BUG: never freed, and the JVM exits with it allocated
        System.out.println("leak-at-exit: done");
        System.exit(0); // exit without closing the platform, as a driver that forgets its remove path does
    }

    static void leakAtClose(SimulatedPlatform platform) {
        DmaDevice edu = platform.attach(DeviceProperties.simple("edu0"));
        DmaBuffer ok = edu.allocCoherent(4096);
        edu.allocCoherent(8192); // BUG: the remove path below forgets this one
        ok.close();
        edu.close();
        System.out.println("leak-at-close: done");
    }

    static void doubleFree(DmaDevice nic) {
        DmaBuffer buffer = nic.allocCoherent(4096);
        buffer.close();
        try {
            nic.freeCoherent(buffer); // BUG: freed twice
        } catch (RuntimeException e) {
            System.out.println("double-free: the library refused: " + e.getMessage());
        }
    }

    /** A driver's own stand-in for a buffer, passed where a real one belongs. */
    static void freeNotAllocated(DmaDevice nic) {
        DmaBuffer real = nic.allocCoherent(4096);
        DmaBuffer fake = new DmaBuffer() {
            public DmaDevice device() {
                return nic;
            }

            public long dmaAddress() {
                return real.dmaAddress();
            }

            public long size() {
                return 4096;
            }

            public long allocatedSize() {
                return 4096;
            }

            public Zone zone() {
                return real.zone();
            }

            public AllocationPath path() {
                return real.path();
            }

            public AllocationReport report() {
                return real.report();
            }

            public boolean hasCpuView() {
                return false;
            }

            public ByteBuffer cpuView() {
                throw new UnsupportedOperationException();
            }

            public boolean isFreed() {
                return false;
            }

            public void close() {
            }
        };
        try {
            nic.freeCoherent(fake); // BUG: never allocated by the device
        } catch (RuntimeException e) {
            System.out.println("free-not-allocated: the library refused: " + e.getMessage());
        }
        real.close();
    }

    static void freeDifferentDevice(SimulatedPlatform platform, DmaDevice nic) {
        DmaDevice other = platform.attach(DeviceProperties.simple("nvme0"));
        DmaBuffer buffer = nic.allocCoherent(4096);
        try {
            other.freeCoherent(buffer); // BUG: freed through another device
        } catch (RuntimeException e) {
            System.out.println("free-different-device: the library refused: " + e.getMessage());
        }
        buffer.close();
    }

    static void writeAfterFree(DmaDevice nic) {
        DmaBuffer buffer = nic.allocCoherent(4096);
        ByteBuffer view = buffer.cpuView();
        buffer.close();
        view.putInt(128, 0xdeadbeef); // BUG: write through a stale CPU view
        System.out.println("write-after-free: done");
    }

    static void pagesWriteAfterFree(DmaDevice nic) {
        NoncoherentBuffer buffer = nic.allocPages(8192, DmaDirection.FROM_DEVICE);
        ByteBuffer view = buffer.cpuView();
        nic.freePages(buffer);
        view.putInt(256, 0xdeadbeef); // BUG: write through a stale CPU view of freed pages
        try {
            nic.freePages(buffer);
        } catch (RuntimeException e) {
            System.out.println("pages-write-after-free: the second free was refused");
        }
    }

    static void allocateDirect(DmaDevice nic) {
        ByteBuffer rx = ByteBuffer.allocateDirect(4096); // BUG: not DMA memory
        System.out.println("allocate-direct: got " + rx.capacity() + " bytes that no device can reach");
    }

    /** A driver that sets up a ring and unwinds cleanly when an allocation fails. */
    static void injectAlloc(DmaDevice nic) {
        int failures = 0;
        for (int round = 0; round < 4; round++) {
            List<DmaBuffer> ring = new ArrayList<>();
            try {
                for (int i = 0; i < 4; i++) {
                    ring.add(nic.allocCoherent(2048));
                }
                System.out.println("inject-alloc: round " + round + " set up");
            } catch (DmaAllocationException e) {
                failures++;
                System.out.println("inject-alloc: round " + round + " failed cleanly: " + e.getMessage());
            } finally {
                for (DmaBuffer b : ring) {
                    b.close();
                }
            }
        }
        System.out.println("inject-alloc: " + failures + " rounds failed, all unwound");
    }

    /**
     * An edu-like device: its DMA engine drives 28 address lines. The driver claims 64 bits; the agent
     * narrows the mask to 28, and the data must still be right because the policy then allocates low.
     */
    static void narrowMask(SimulatedPlatform platform) {
        DmaDevice edu = platform.attach(DeviceProperties.simple("edu0"));
        edu.setMaskAndCoherent(DmaMask.BITS_64);
        SimulatedBusMaster engine = platform.busMaster(edu, 28);
        byte[] pattern = new byte[4096];
        for (int i = 0; i < pattern.length; i++) {
            pattern[i] = (byte) (i * 7 + 1);
        }
        try (DmaBuffer buffer = edu.allocCoherent(4096)) {
            engine.write(buffer.dmaAddress(), pattern);
            byte[] seen = new byte[4096];
            buffer.cpuView().get(seen);
            System.out.println("narrow-mask: mask " + edu.coherentMask() + ", buffer at 0x"
                    + Long.toHexString(buffer.dmaAddress()) + " in " + buffer.zone() + ", data "
                    + (Arrays.equals(seen, pattern) ? "correct" : "CORRUPT") + ", faults " + engine.faults());
        }
    }

    static void allocateSome(DmaDevice nic, List<DmaBuffer> held) {
        held.add(nic.allocCoherent(4096));
        held.add(nic.allocCoherent(65536));
    }

    /** Waits for commands on stdin, so that a test can attach to it while it runs. */
    static void attachTarget(DmaDevice nic) throws Exception {
        List<DmaBuffer> held = new ArrayList<>();
        // Allocated before any attach and freed after it: the agent must not count that free against
        // what it saw allocated (its live bytes went negative).
        DmaBuffer beforeAttach = nic.allocCoherent(8192);
        // Loaded and not linked before the attach, as the rig's JUnit run loads classes its tests name.
        Class.forName("com.example.driver.LoadedBeforeAttach", false, PlantedBugs.class.getClassLoader());
        Class.forName("com.example.driver.LinkedByTheAttach", false, PlantedBugs.class.getClassLoader());
        // As NvmeController: loaded unlinked before, its signatures naming a class (QueueShape) not loaded yet.
        Class.forName("com.example.driver.ControllerShape", false, PlantedBugs.class.getClassLoader());
        System.out.println("attach-target: ready " + ProcessHandle.current().pid());
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        String line;
        while ((line = in.readLine()) != null) {
            if (line.equals("alloc")) {
                // A method entered after the attach runs the rewritten code; the loop above it cannot.
                allocateSome(nic, held);
                System.out.println("attach-target: allocated " + held.size());
            } else if (line.equals("alloc-fresh")) {
                LoadedAfterAttach.allocate(nic, held);
                LoadedBeforeAttach.allocate(nic, held);
                LinkedByTheAttach.make(nic, held);
                ControllerShape.bringUp(nic, held);
                System.out.println("attach-target: allocated " + held.size());
            } else if (line.equals("exit")) {
                break;
            }
        }
        for (DmaBuffer b : held) {
            b.close();
        }
        beforeAttach.close();
        System.out.println("attach-target: done");
    }
}
