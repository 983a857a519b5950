package com.example.driver;

import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaDirection;
import io.dmadirect.DmaMapping;
import io.dmadirect.DmaMappingException;
import io.dmadirect.DmaPool;
import io.dmadirect.NoncoherentBuffer;
import io.dmadirect.sim.SimulatedBusMaster;
import io.dmadirect.sim.SimulatedPlatform;
import java.nio.ByteBuffer;

/**
 * Planted bugs for the checks issue 19 added (one per method, on the line marked {@code // BUG}): overlapping
 * device-writable mappings, map errors and double unmaps inside lambdas, and the primitive API's wrong size,
 * direction, address and function. Run through {@link Corpus}. A refusal by the library is caught and printed,
 * as a driver under test would carry on.
 */
final class DebugPlanted {
    private DebugPlanted() {
    }

    static ByteBuffer rx(int size) {
        return ByteBuffer.allocateDirect(size);
    }

    static void overlappingReceiveSlots(DmaDevice nic) {
        ByteBuffer buffer = rx(2048);
        DmaMapping slot0 = nic.map(buffer, DmaDirection.FROM_DEVICE);
        DmaMapping slot1 = nic.map(buffer, DmaDirection.FROM_DEVICE); // BUG: the same buffer in two ring slots
        slot1.close();
        slot0.close();
    }

    static void overlappingPrimitive(DmaDevice nic) {
        ByteBuffer buffer = rx(4096);
        long a = nic.mapSingle(buffer, 0, 2048, DmaDirection.FROM_DEVICE, 0);
        long b = nic.mapSingle(buffer, 0, 1024, DmaDirection.BIDIRECTIONAL, 0); // BUG: overlaps the first
        nic.unmapSingle(b, 1024, DmaDirection.BIDIRECTIONAL, 0);
        nic.unmapSingle(a, 2048, DmaDirection.FROM_DEVICE, 0);
    }

    static void swallowedInALambda(DmaDevice nic) {
        Runnable send = () -> {
            try {
                nic.map(rx(512 * 1024), DmaDirection.TO_DEVICE).close();
            } catch (DmaMappingException e) { // BUG: swallowed inside a lambda
            }
        };
        send.run();
    }

    static void doubleUnmapInALambda(DmaDevice nic) {
        DmaMapping m = nic.map(rx(1024), DmaDirection.TO_DEVICE);
        Runnable complete = () -> {
            try {
                nic.unmap(m); // BUG: the completion runs twice
            } catch (RuntimeException e) {
                System.out.println("lambda-double-unmap: the library refused");
            }
        };
        complete.run();
        complete.run();
    }

    static void unmapWrongSize(DmaDevice nic) {
        long a = nic.mapSingle(rx(4096), 0, 4096, DmaDirection.TO_DEVICE, 0);
        nic.unmapSingle(a, 2048, DmaDirection.TO_DEVICE, 0); // BUG: not the size mapped
    }

    static void unmapWrongDirection(DmaDevice nic) {
        long a = nic.mapSingle(rx(4096), 0, 4096, DmaDirection.FROM_DEVICE, 0);
        try {
            nic.unmapSingle(a, 4096, DmaDirection.TO_DEVICE, 0); // BUG: not the direction mapped
        } catch (RuntimeException e) {
            System.out.println("unmap-direction: the library refused");
            nic.unmapSingle(a, 4096, DmaDirection.FROM_DEVICE, 0);
        }
    }

    static void unmapNeverMapped(DmaDevice nic) {
        try {
            nic.unmapSingle(0x7654_3000L, 4096, DmaDirection.TO_DEVICE, 0); // BUG: never mapped
        } catch (RuntimeException e) {
            System.out.println("unmap-never-mapped: the library refused");
        }
    }

    static void doubleUnmapPrimitive(DmaDevice nic) {
        long a = nic.mapSingle(rx(4096), 0, 4096, DmaDirection.TO_DEVICE, 0);
        nic.unmapSingle(a, 4096, DmaDirection.TO_DEVICE, 0);
        try {
            nic.unmapSingle(a, 4096, DmaDirection.TO_DEVICE, 0); // BUG: unmapped twice
        } catch (RuntimeException e) {
            System.out.println("double-unmap-primitive: the library refused");
        }
    }

    static void syncOutsidePrimitive(DmaDevice nic) {
        long a = nic.mapSingle(rx(4096), 0, 4096, DmaDirection.FROM_DEVICE, 0);
        try {
            nic.syncSingleForCpu(a + 4000, 200, DmaDirection.FROM_DEVICE); // BUG: runs past the mapping's end
        } catch (RuntimeException e) {
            System.out.println("sync-outside-primitive: the library refused");
        }
        nic.unmapSingle(a, 4096, DmaDirection.FROM_DEVICE, 0);
    }

    static void syncDirectionPrimitive(DmaDevice nic) {
        long a = nic.mapSingle(rx(4096), 0, 4096, DmaDirection.TO_DEVICE, 0);
        try {
            nic.syncSingleForCpu(a, 4096, DmaDirection.FROM_DEVICE); // BUG: mapped TO_DEVICE
        } catch (RuntimeException e) {
            System.out.println("sync-direction-primitive: the library refused");
        }
        nic.unmapSingle(a, 4096, DmaDirection.TO_DEVICE, 0);
    }

    static void sgUnmappedAsSingle(DmaDevice nic) {
        ByteBuffer[] segments = {rx(1024), rx(2048)};
        long[] addresses = new long[2];
        nic.mapSg(segments, 2, DmaDirection.TO_DEVICE, 0, addresses);
        nic.unmapSingle(addresses[0], 1024, DmaDirection.TO_DEVICE, 0); // BUG: a segment unmapped as single
        nic.unmapSingle(addresses[1], 2048, DmaDirection.TO_DEVICE, 0);
    }

    static void primitiveLeakAtClose(SimulatedPlatform platform) {
        DmaDevice edu = platform.attach(DeviceProperties.simple("edu0"));
        edu.mapSingle(rx(8192), 0, 8192, DmaDirection.FROM_DEVICE, 0); // BUG: the remove path forgets it
        edu.close();
    }

    static void poolDoubleFree(DmaDevice nic) {
        DmaPool pool = nic.createPool("rx-desc", 64, 64, 0);
        long a = pool.alloc(0);
        pool.free(a);
        try {
            pool.free(a); // BUG: freed twice
        } catch (RuntimeException e) {
            System.out.println("pool-double-free: the library refused");
        }
        pool.close();
    }

    static void poolFreeNotAllocated(DmaDevice nic) {
        DmaPool pool = nic.createPool("rx-desc", 64, 64, 0);
        long a = pool.alloc(0);
        try {
            pool.free(a + 8); // BUG: not an address the pool handed out
        } catch (RuntimeException e) {
            System.out.println("pool-free-not-allocated: the library refused");
        }
        pool.free(a);
        pool.close();
    }

    static void poolBlocksLeakAtClose(SimulatedPlatform platform) {
        DmaDevice edu = platform.attach(DeviceProperties.simple("edu0"));
        DmaPool pool = edu.createPool("cmd", 128, 64, 0);
        pool.allocBlock(); // BUG: never freed
        try {
            pool.close();
        } catch (RuntimeException e) {
            System.out.println("pool-leak: the library refused the destroy");
        }
        edu.close();
    }

    static void poolNotDestroyed(SimulatedPlatform platform) {
        DmaDevice edu = platform.attach(DeviceProperties.simple("edu1"));
        DmaPool pool = edu.createPool("sq-entries", 1024, 64, 0); // BUG: never destroyed
        long[] blocks = new long[12]; // three pages of four blocks each
        for (int i = 0; i < blocks.length; i++) {
            blocks[i] = pool.alloc(0);
        }
        for (long b : blocks) {
            pool.free(b);
        }
        edu.close();
    }

    static void pagesDoubleFree(DmaDevice nic) {
        NoncoherentBuffer b = nic.allocPages(8192, DmaDirection.FROM_DEVICE);
        nic.freePages(b);
        try {
            nic.freePages(b); // BUG: freed twice
        } catch (RuntimeException e) {
            System.out.println("pages-double-free: the library refused");
        }
    }

    static void pagesLeakAtClose(SimulatedPlatform platform) {
        DmaDevice edu = platform.attach(DeviceProperties.simple("edu2"));
        edu.allocNoncoherent(4096, DmaDirection.TO_DEVICE); // BUG: the remove path forgets it
        edu.close();
    }

    static void staleRead(DmaDevice nic) {
        ByteBuffer buffer = rx(256);
        for (int i = 0; i < 256; i++) {
            buffer.put(i, (byte) 0x11);
        }
        DmaMapping m = nic.map(buffer, DmaDirection.FROM_DEVICE);
        int early = buffer.get(7) & 0xff; // BUG: read before syncForCpu
        m.close();
        System.out.printf("stale-read: before the sync 0x%02x, after the unmap 0x%02x%n", early, buffer.get(7) & 0xff);
    }

    /** The driver frees a receive buffer without stopping the device, which then completes into it. */
    static void deviceWritesFreedBuffer(SimulatedPlatform platform, DmaDevice nic) {
        SimulatedBusMaster engine = platform.busMaster(nic, 64);
        DmaBuffer ring = nic.allocCoherent(4096);
        long given = ring.dmaAddress(); // the address the device was given
        ring.close(); // freed while the device may still write it
        boolean landed = engine.write(given, new byte[64]); // BUG: the device writes memory the driver freed
        System.out.println("device-write-after-free: landed=" + landed + ", faults=" + engine.faults().size());
    }

    /** The driver unmaps a transmit buffer before the device has read it. */
    static void deviceReadsUnmappedMapping(SimulatedPlatform platform, DmaDevice nic) {
        SimulatedBusMaster engine = platform.busMaster(nic, 64);
        DmaMapping m = nic.map(rx(512), DmaDirection.TO_DEVICE);
        long given = m.dmaAddress();
        m.close(); // unmapped before the completion
        byte[] seen = engine.read(given, 512); // BUG: the device reads a mapping the driver unmapped
        System.out.println("device-read-after-unmap: read=" + (seen != null) + ", faults=" + engine.faults().size());
    }
}
