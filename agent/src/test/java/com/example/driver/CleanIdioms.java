package com.example.driver;

import static io.dmadirect.Sizes.MiB;

import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaDirection;
import io.dmadirect.DmaMapping;
import io.dmadirect.DmaMappingException;
import io.dmadirect.DmaMask;
import io.dmadirect.DmaPool;
import io.dmadirect.NoncoherentBuffer;
import io.dmadirect.sim.SimulatedBusMaster;
import io.dmadirect.sim.SimulatedPlatform;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.IntStream;

/**
 * Correct driver idioms that must give no finding in any mode, and print the same with and without the agent:
 * refill loops whose handler breaks, continues or returns, retries, lambdas, streams, anonymous and inner
 * classes, constructors, static initialisers, the primitive API, {@code BIDIRECTIONAL} syncs either way, and
 * a large buffer reloaded for a 24-bit device. A 512 KiB map fails on the simulated platform (larger than a
 * bounce slot), which is how the handlers are reached.
 */
final class CleanIdioms {
    static final int TOO_LARGE = 512 * 1024;
    /** Mapped once in a static initialiser; unmapped by {@link #classesAndInitialisers}. */
    static final List<String> LOG = new ArrayList<>();

    static {
        LOG.add("static initialiser ran");
    }

    private CleanIdioms() {
    }

    static ByteBuffer buffer(int size) {
        ByteBuffer b = ByteBuffer.allocateDirect(size);
        for (int i = 0; i < size; i += 97) {
            b.put(i, (byte) i);
        }
        return b;
    }

    /** A receive ring refilled until a map fails; the handler breaks, continues or returns. */
    static void refillLoops(DmaDevice nic) {
        List<DmaMapping> ring = new ArrayList<>();
        int[] sizes = {2048, 2048, TOO_LARGE, 2048};
        for (int size : sizes) {
            DmaMapping m;
            try {
                m = nic.map(buffer(size), DmaDirection.FROM_DEVICE);
            } catch (DmaMappingException e) {
                break;
            }
            ring.add(m);
        }
        System.out.println("refill with break: " + ring.size() + " slots");
        int dropped = 0;
        for (int i = 0; i < sizes.length; i++) {
            try {
                ring.add(nic.map(buffer(sizes[i]), DmaDirection.FROM_DEVICE));
            } catch (DmaMappingException e) {
                dropped++;
                continue;
            }
        }
        System.out.println("refill with continue: " + ring.size() + " slots, " + dropped + " dropped");
        for (int size : sizes) {
            try {
                ring.add(nic.map(buffer(size), DmaDirection.FROM_DEVICE));
            } catch (DmaMappingException e) {
                continue;
            }
        }
        System.out.println("refill with a bare continue: " + ring.size() + " slots");
        System.out.println("refill with return: " + refillOrReturn(nic, ring) + ", " + ring.size() + " slots");
        int i = 0;
        while (i < sizes.length) {
            try {
                ring.add(nic.map(buffer(sizes[i++]), DmaDirection.FROM_DEVICE));
            } catch (DmaMappingException e) {
            }
        }
        System.out.println("refill in a while loop: " + ring.size() + " slots");
        for (DmaMapping m : ring) {
            m.syncForCpu();
            m.close();
        }
    }

    private static String refillOrReturn(DmaDevice nic, List<DmaMapping> ring) {
        for (int size : new int[] {2048, TOO_LARGE, 2048}) {
            try {
                ring.add(nic.map(buffer(size), DmaDirection.FROM_DEVICE));
            } catch (DmaMappingException e) {
                return "stopped at " + size;
            }
        }
        return "all mapped";
    }

    /** A failed map retried smaller, and a retry loop that gives up after three tries. */
    static void retries(DmaDevice nic) {
        ByteBuffer big = buffer(TOO_LARGE);
        DmaMapping m;
        try {
            m = nic.map(big, DmaDirection.TO_DEVICE);
        } catch (DmaMappingException e) {
            m = nic.map(big.slice(0, 64 * 1024), DmaDirection.TO_DEVICE);
        }
        System.out.println("retried: " + m.size() + " bytes");
        m.close();
        int tries = 0;
        DmaMapping got = null;
        while (got == null && tries < 3) {
            tries++;
            try {
                got = nic.map(buffer(tries < 3 ? TOO_LARGE : 4096), DmaDirection.TO_DEVICE);
            } catch (DmaMappingException e) {
                System.out.println("try " + tries + " failed");
            }
        }
        System.out.println("mapped after " + tries + " tries");
        got.close();
    }

    /** DMA calls inside lambdas and streams, with their handlers in the lambda bodies. */
    static void lambdasAndStreams(DmaDevice nic) {
        List<DmaMapping> mapped = new ArrayList<>();
        IntStream.of(1024, TOO_LARGE, 2048).forEach(size -> {
            try {
                mapped.add(nic.map(buffer(size), DmaDirection.TO_DEVICE));
            } catch (DmaMappingException e) {
                System.out.println("stream: " + size + " did not map");
                return;
            }
        });
        long total = mapped.stream().peek(DmaMapping::syncForDevice).mapToLong(DmaMapping::size).sum();
        mapped.forEach(DmaMapping::close);
        System.out.println("stream: " + total + " bytes mapped and unmapped");
        Optional<DmaMapping> maybe = Optional.of(TOO_LARGE).map(size -> {
            try {
                return nic.map(buffer(size), DmaDirection.TO_DEVICE);
            } catch (DmaMappingException e) {
                return null;
            }
        });
        System.out.println("optional: " + maybe.isPresent());
    }

    /** A queue object that maps in its constructor, an inner class, an anonymous class. */
    static void classesAndInitialisers(DmaDevice nic) {
        System.out.println(LOG.get(0));
        Queue q = new Queue(nic, 4);
        System.out.println("queue of " + q.slots.size());
        q.close();
        Runnable anonymous = new Runnable() {
            @Override
            public void run() {
                try (DmaBuffer ring = nic.allocCoherent(4096)) {
                    ring.cpuView().putInt(0, 7);
                    System.out.println("anonymous: " + ring.cpuView().getInt(0));
                }
            }
        };
        anonymous.run();
    }

    /** A queue pair whose constructor maps its slots and stops at the first failure. */
    static final class Queue {
        final List<DmaMapping> slots = new ArrayList<>();

        Queue(DmaDevice nic, int n) {
            for (int i = 0; i < n; i++) {
                try {
                    slots.add(nic.map(buffer(i == 2 ? TOO_LARGE : 1024), DmaDirection.FROM_DEVICE));
                } catch (DmaMappingException e) {
                    break;
                }
            }
        }

        void close() {
            slots.forEach(DmaMapping::close);
        }
    }

    /** The primitive API used right, single and scatter-gather, with range syncs. */
    static void primitive(DmaDevice nic) {
        ByteBuffer b = buffer(8192);
        long a = nic.mapSingle(b, 0, 4096, DmaDirection.FROM_DEVICE, 0);
        long c = nic.mapSingle(b, 4096, 4096, DmaDirection.TO_DEVICE, 0);
        nic.syncSingleForCpu(a + 128, 256, DmaDirection.FROM_DEVICE);
        nic.syncSingleForDevice(c, 4096, DmaDirection.TO_DEVICE);
        nic.unmapSingle(c, 4096, DmaDirection.TO_DEVICE, 0);
        nic.unmapSingle(a, 4096, DmaDirection.FROM_DEVICE, 0);
        ByteBuffer[] segments = {buffer(1024), buffer(2048)};
        long[] addresses = new long[2];
        int[] lengths = {1024, 2048};
        nic.mapSg(segments, 2, DmaDirection.FROM_DEVICE, 0, addresses);
        nic.syncSgForCpu(addresses, lengths, 2, DmaDirection.FROM_DEVICE);
        nic.unmapSg(addresses, lengths, 2, DmaDirection.FROM_DEVICE, 0);
        try (DmaPool pool = nic.createPool("desc", 64, 64, 0)) {
            long d = pool.zalloc(0);
            try (DmaPool.Block block = pool.allocBlock()) {
                block.cpuView().putLong(0, d);
            }
            pool.free(d);
        }
        try {
            nic.mapSingle(buffer(TOO_LARGE), 0, TOO_LARGE, DmaDirection.TO_DEVICE, 0);
        } catch (DmaMappingException e) {
            System.out.println("primitive: the large map failed and was dropped");
            return;
        }
        System.out.println("primitive: not reached");
    }

    /** check_sync(): a BIDIRECTIONAL mapping may be synced in either direction. */
    static void bidirectionalSyncs(DmaDevice nic) {
        try (DmaMapping m = nic.map(buffer(4096), DmaDirection.BIDIRECTIONAL)) {
            nic.syncForDevice(m, DmaDirection.TO_DEVICE);
            nic.syncForCpu(m, DmaDirection.FROM_DEVICE);
            m.syncForCpu();
        }
        long a = nic.mapSingle(buffer(4096), 0, 4096, DmaDirection.BIDIRECTIONAL, 0);
        nic.syncSingleForDevice(a, 4096, DmaDirection.TO_DEVICE);
        nic.syncSingleForCpu(a, 4096, DmaDirection.FROM_DEVICE);
        nic.unmapSingle(a, 4096, DmaDirection.BIDIRECTIONAL, 0);
        System.out.println("bidirectional: synced both ways");
    }

    /**
     * A 24-bit device reloads a 6 MiB firmware buffer four times, as coherent memory and then as
     * {@code allocPages} memory: each must succeed, as without the agent. Two 6 MiB buffers held back from their
     * free leave no room for a third in the 16 MiB the mask reaches, whichever allocator freed them.
     */
    static void reloadForA24BitDevice(SimulatedPlatform platform) {
        DmaDevice dev = platform.attach(DeviceProperties.simple("isa0"));
        dev.setMaskAndCoherent(DmaMask.bits(24));
        DmaBuffer firmware = dev.allocCoherent(6 * MiB);
        for (int reload = 1; reload <= 4; reload++) {
            firmware.close();
            firmware = dev.allocCoherent(6 * MiB);
            firmware.cpuView().put(0, (byte) reload);
            System.out.println("reload " + reload + ": ok");
        }
        firmware.close();
        NoncoherentBuffer pages = dev.allocPages(6 * MiB, DmaDirection.TO_DEVICE);
        for (int reload = 1; reload <= 4; reload++) {
            pages.close();
            pages = dev.allocPages(6 * MiB, DmaDirection.TO_DEVICE);
            pages.cpuView().put(0, (byte) reload);
            System.out.println("pages reload " + reload + ": ok");
        }
        pages.close();
        dev.close();
    }

    /**
     * A pool that grows to three pages, has its blocks freed and is destroyed before its device closes: its
     * pages, allocated inside the pool's alloc and freed by its destroy, are neither the driver's leak nor its
     * free.
     */
    static void poolOfManyPages(SimulatedPlatform platform) {
        DmaDevice dev = platform.attach(DeviceProperties.simple("nvme0"));
        dev.setMaskAndCoherent(DmaMask.BITS_64);
        try (DmaPool pool = dev.createPool("prp-list", 1024, 64, 0)) {
            List<DmaPool.Block> blocks = new ArrayList<>();
            for (int i = 0; i < 12; i++) {
                blocks.add(pool.allocBlock());
            }
            blocks.forEach(DmaPool.Block::close);
            System.out.println("pool: 12 blocks over 3 pages freed, pool destroyed");
        }
        dev.close();
    }

    /** dma_alloc_pages() memory freed each way: freePages, close(), try-with-resources, freeNoncoherent. */
    static void pages(DmaDevice nic) {
        NoncoherentBuffer a = nic.allocPages(4096, DmaDirection.FROM_DEVICE);
        nic.freePages(a);
        nic.allocPages(8192, DmaDirection.TO_DEVICE).close();
        try (NoncoherentBuffer c = nic.allocNoncoherent(4096, DmaDirection.BIDIRECTIONAL)) {
            c.cpuView().put(0, (byte) 1);
        }
        nic.freeNoncoherent(nic.allocNoncoherent(4096, DmaDirection.TO_DEVICE));
        System.out.println("pages: four buffers freed");
    }

    /**
     * The device reaches only memory that is live: a buffer freed after the device finished with it, and its
     * address reused by the next allocation; a mapping unmapped after its completion, and its bounce slot reused.
     */
    static void deviceAccessWhileLive(SimulatedPlatform platform, DmaDevice nic) {
        SimulatedBusMaster engine = platform.busMaster(nic, 64);
        byte[] frame = new byte[64];
        for (int round = 0; round < 3; round++) {
            try (DmaBuffer ring = nic.allocCoherent(4096)) {
                engine.write(ring.dmaAddress(), frame); // completes before the free
            }
            ByteBuffer tx = ByteBuffer.allocateDirect(512);
            try (DmaMapping m = nic.map(tx, DmaDirection.TO_DEVICE)) {
                engine.read(m.dmaAddress(), 512);
            }
            ByteBuffer rxBuf = ByteBuffer.allocateDirect(256);
            try (DmaMapping m = nic.map(rxBuf, DmaDirection.FROM_DEVICE)) {
                engine.write(m.dmaAddress() + 64, new byte[128]); // inside the mapping, not at its start
            }
        }
        System.out.println("device access while live: faults=" + engine.faults().size());
    }
}
