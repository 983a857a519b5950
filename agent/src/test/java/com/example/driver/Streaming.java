package com.example.driver;

import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaAttr;
import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaDirection;
import io.dmadirect.DmaMapping;
import io.dmadirect.DmaMappingException;
import io.dmadirect.ScatterList;
import io.dmadirect.sim.SimulatedBusMaster;
import io.dmadirect.sim.SimulatedPlatform;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;

/**
 * The streaming-DMA programs of {@link PlantedBugs}: one planted bug each (the line marked {@code // BUG}),
 * a clean one, and the drivers that injection exercises. On the simulated platform a direct
 * {@code ByteBuffer} is not pinned memory, so its mappings bounce; a coherent buffer's CPU view maps directly.
 */
final class Streaming {
    private Streaming() {
    }

    static ByteBuffer packet(int size) {
        ByteBuffer b = ByteBuffer.allocateDirect(size);
        for (int i = 0; i < size; i++) {
            b.put(i, (byte) (i * 3 + 1));
        }
        return b;
    }

    /** Transfers done right: single, scatter-gather, a heap array, a direct mapping, a handled map error. */
    static void clean(SimulatedPlatform platform, DmaDevice nic) {
        for (int i = 0; i < 4; i++) {
            try (DmaMapping tx = nic.map(packet(1500), DmaDirection.TO_DEVICE)) {
                tx.syncForDevice();
            }
        }
        try (ScatterList sg = nic.mapSg(List.of(packet(512), packet(4096), packet(100)), DmaDirection.FROM_DEVICE)) {
            sg.syncForCpu();
            sg.segment(1).syncForCpu(0, 64);
        }
        nic.map(new byte[256], 0, 256, DmaDirection.BIDIRECTIONAL).close();
        try (DmaBuffer coherent = nic.allocCoherent(8192);
                DmaMapping direct = nic.map(coherent.cpuView(), DmaDirection.FROM_DEVICE)) {
            nic.syncForCpu(direct, DmaDirection.FROM_DEVICE);
        }
        // A failed map that the driver acts on: a retry in smaller pieces, and a rethrow with the cause.
        ByteBuffer huge = packet(512 * 1024);
        try {
            nic.map(huge, DmaDirection.TO_DEVICE).close();
        } catch (DmaMappingException e) {
            nic.map(huge.slice(0, 128 * 1024), DmaDirection.TO_DEVICE).close();
        }
        try {
            mapOrFail(nic, huge);
        } catch (IllegalStateException e) {
            System.out.println("stream-clean: the transfer was refused: " + e.getMessage());
        }
        System.out.println("stream-clean: done");
    }

    static void mapOrFail(DmaDevice nic, ByteBuffer b) {
        try {
            nic.map(b, DmaDirection.TO_DEVICE).close();
        } catch (DmaMappingException e) {
            throw new IllegalStateException("transfer too large", e);
        }
    }

    static void doubleUnmap(DmaDevice nic) {
        DmaMapping m = nic.map(packet(4096), DmaDirection.TO_DEVICE);
        m.close();
        try {
            nic.unmap(m); // BUG: unmapped twice
        } catch (RuntimeException e) {
            System.out.println("double-unmap: the library refused: " + e.getMessage());
        }
    }

    /**
     * The unmaps with attributes are watched as close() and unmap(mapping) are; a BIDIRECTIONAL mapping
     * synced one way is no finding (check_sync).
     */
    static void doubleUnmapWithAttrs(DmaDevice nic) {
        DmaMapping both = nic.map(packet(512), DmaDirection.BIDIRECTIONAL);
        nic.syncForCpu(both, DmaDirection.FROM_DEVICE);
        both.syncForDevice();
        both.closeWith(DmaAttr.SKIP_CPU_SYNC);
        DmaMapping m = nic.map(packet(4096), DmaDirection.FROM_DEVICE);
        m.closeWith(DmaAttr.SKIP_CPU_SYNC);
        try {
            nic.unmap(m, DmaAttr.SKIP_CPU_SYNC); // BUG: unmapped twice
        } catch (RuntimeException e) {
            System.out.println("double-unmap-attrs: the library refused: " + e.getMessage());
        }
    }

    static void unmapDifferentDevice(SimulatedPlatform platform, DmaDevice nic) {
        DmaDevice other = platform.attach(DeviceProperties.simple("nvme0"));
        DmaMapping m = nic.map(packet(2048), DmaDirection.FROM_DEVICE);
        try {
            other.unmap(m); // BUG: unmapped through another device
        } catch (RuntimeException e) {
            System.out.println("unmap-different-device: the library refused: " + e.getMessage());
        }
        m.close();
    }

    static void unmapSgSegment(DmaDevice nic) {
        ScatterList sg = nic.mapSg(List.of(packet(512), packet(1024), packet(2048)), DmaDirection.TO_DEVICE);
        sg.segment(1).close(); // BUG: one segment of a scatter list unmapped as a single mapping
        try {
            sg.close();
        } catch (RuntimeException e) {
            System.out.println("unmap-sg-segment: the library refused the list: " + e.getMessage());
        }
    }

    static void syncUnmapped(DmaDevice nic) {
        DmaMapping rx = nic.map(packet(2048), DmaDirection.FROM_DEVICE);
        rx.close();
        try {
            rx.syncForCpu(); // BUG: synced after the unmap
        } catch (RuntimeException e) {
            System.out.println("sync-unmapped: the library refused: " + e.getMessage());
        }
    }

    static void syncOutside(DmaDevice nic) {
        try (DmaMapping rx = nic.map(packet(4096), DmaDirection.FROM_DEVICE)) {
            try {
                rx.syncForCpu(4000, 200); // BUG: past the end of the 4096-byte mapping
            } catch (RuntimeException e) {
                System.out.println("sync-outside: the library refused: " + e.getMessage());
            }
        }
    }

    static void syncDirection(DmaDevice nic) {
        try (DmaMapping tx = nic.map(packet(4096), DmaDirection.TO_DEVICE)) {
            try {
                nic.syncForCpu(tx, DmaDirection.FROM_DEVICE); // BUG: mapped TO_DEVICE
            } catch (RuntimeException e) {
                System.out.println("sync-direction: the library refused: " + e.getMessage());
            }
        }
    }

    static int errors;

    /** A TX path that counts the map error and then syncs the descriptor's stale mapping. */
    static void mapErrorCarriedOn(DmaDevice nic) {
        DmaMapping current = nic.map(packet(1500), DmaDirection.TO_DEVICE);
        current.close();
        try {
            current = nic.map(packet(512 * 1024), DmaDirection.TO_DEVICE);
        } catch (DmaMappingException e) { // BUG: counted, but current still names the last packet's mapping
            errors++;
        }
        try {
            current.syncForDevice();
        } catch (RuntimeException e) {
            System.out.println("map-error-carried-on: the library refused the sync: " + e.getMessage());
        }
    }

    /** A driver that ignores the failure and returns as if the transfer were queued. */
    static void mapErrorSwallowed(DmaDevice nic) {
        try {
            nic.map(packet(512 * 1024), DmaDirection.TO_DEVICE);
        } catch (RuntimeException e) { // BUG: swallowed, nothing retried or reported
        }
        System.out.println("map-error-swallowed: done");
    }

    static void mappingLeakAtClose(SimulatedPlatform platform) {
        DmaDevice edu = platform.attach(DeviceProperties.simple("edu0"));
        DmaMapping ok = edu.map(packet(4096), DmaDirection.TO_DEVICE);
        edu.map(packet(8192), DmaDirection.FROM_DEVICE); // BUG: the remove path below forgets this one
        ok.close();
        edu.close();
        System.out.println("mapping-leak-at-close: done");
    }

    static DmaMapping kept;

    static void mappingLeakAtExit(DmaDevice nic) {
        kept = nic.map(packet(4096), DmaDirection.TO_DEVICE); // BUG: never unmapped
        System.out.println("mapping-leak-at-exit: done");
        System.exit(0);
    }

    /**
     * A TX path with a fallback: when a map fails, the packet is copied into a coherent buffer the driver
     * keeps for that purpose. The device reads each packet back; the data must be right either way.
     */
    static void injectMap(SimulatedPlatform platform, DmaDevice nic) {
        SimulatedBusMaster engine = platform.busMaster(nic, 64);
        int fallbacks = 0;
        int correct = 0;
        try (DmaBuffer fallback = nic.allocCoherent(2048)) {
            for (int i = 0; i < 12; i++) {
                ByteBuffer pkt = packet(1500);
                pkt.put(0, (byte) i);
                byte[] expected = new byte[1500];
                pkt.get(0, expected);
                byte[] seen;
                try (DmaMapping tx = nic.map(pkt, DmaDirection.TO_DEVICE)) {
                    seen = engine.read(tx.dmaAddress(), 1500);
                } catch (DmaMappingException e) {
                    fallbacks++;
                    fallback.cpuView().put(0, expected);
                    seen = engine.read(fallback.dmaAddress(), 1500);
                }
                correct += Arrays.equals(seen, expected) ? 1 : 0;
            }
        }
        System.out.println("inject-map: 12 packets, " + fallbacks + " through the fallback, " + correct + " correct");
    }

    /** Both directions through a mapping of a coherent buffer (normally direct), and whether it bounced. */
    static void bounceData(SimulatedPlatform platform, DmaDevice nic) {
        SimulatedBusMaster engine = platform.busMaster(nic, 64);
        byte[] pattern = new byte[4096];
        for (int i = 0; i < pattern.length; i++) {
            pattern[i] = (byte) (i * 7 + 1);
        }
        boolean bounced;
        boolean rxOk;
        boolean txOk;
        try (DmaBuffer buffer = nic.allocCoherent(4096)) {
            try (DmaMapping rx = nic.map(buffer.cpuView(), DmaDirection.FROM_DEVICE)) {
                bounced = rx.isBounced();
                engine.write(rx.dmaAddress(), pattern);
                rx.syncForCpu();
                byte[] seen = new byte[4096];
                buffer.cpuView().get(0, seen);
                rxOk = Arrays.equals(seen, pattern);
            }
            buffer.cpuView().put(0, new byte[4096]);
            buffer.cpuView().put(0, pattern, 0, 2048);
            try (DmaMapping tx = nic.map(buffer.cpuView(), DmaDirection.TO_DEVICE)) {
                txOk = Arrays.equals(engine.read(tx.dmaAddress(), 2048), Arrays.copyOf(pattern, 2048));
            }
        }
        System.out.println("bounce-data: bounced=" + bounced + ", rx " + (rxOk ? "correct" : "CORRUPT") + ", tx "
                + (txOk ? "correct" : "CORRUPT"));
    }

    /**
     * A queue of 16 in-flight 64 KiB receives. When the bounce pool is full the driver completes the
     * oldest transfer (unmaps it) and tries again: the error path a small pool makes it take.
     */
    static void smallPool(SimulatedPlatform platform, DmaDevice nic) {
        SimulatedBusMaster engine = platform.busMaster(nic, 64);
        Deque<DmaMapping> inFlight = new ArrayDeque<>();
        List<ByteBuffer> buffers = new ArrayList<>();
        int full = 0;
        int correct = 0;
        byte[] pattern = new byte[64 * 1024];
        Arrays.fill(pattern, (byte) 0x5a);
        for (int i = 0; i < 16; i++) {
            ByteBuffer rx = ByteBuffer.allocateDirect(64 * 1024);
            buffers.add(rx);
            while (true) {
                try {
                    DmaMapping m = nic.map(rx, DmaDirection.FROM_DEVICE);
                    engine.write(m.dmaAddress(), pattern);
                    inFlight.add(m);
                    break;
                } catch (DmaMappingException e) {
                    full++;
                    if (inFlight.isEmpty()) {
                        throw e;
                    }
                    inFlight.removeFirst().close();
                }
            }
        }
        while (!inFlight.isEmpty()) {
            inFlight.removeFirst().close();
        }
        for (ByteBuffer rx : buffers) {
            byte[] seen = new byte[64 * 1024];
            rx.get(0, seen);
            correct += Arrays.equals(seen, pattern) ? 1 : 0;
        }
        System.out.println("small-pool: 16 receives, pool full " + full + " times, " + correct + " correct");
    }
}
