package io.dmadirect.drivers.e1000e;

import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaMask;
import io.dmadirect.Sizes;
import io.dmadirect.sim.SimulatedPlatform;

/**
 * Two {@link E1000eNic}s on one simulated wire, each on its own device of one {@link SimulatedPlatform}: what
 * {@code a} sends, {@code b} receives, and back. For tests, the benchmark of the ring logic and the demo
 * without hardware. Closing it closes both NICs, then the platform.
 */
public final class SimulatedNicPair implements AutoCloseable {
    /** The MAC addresses QEMU's rig gives its two e1000e (locally administered). */
    public static final byte[] MAC_A = {0x52, 0x54, 0x00, 0x12, 0x34, 0x01};
    public static final byte[] MAC_B = {0x52, 0x54, 0x00, 0x12, 0x34, 0x02};

    private final SimulatedPlatform platform;
    private final E1000eNic a;
    private final E1000eNic b;

    private SimulatedNicPair(SimulatedPlatform platform, E1000eNic a, E1000eNic b) {
        this.platform = platform;
        this.a = a;
        this.b = b;
    }

    /** A platform of 64 MiB and two NICs set up with {@code options}. */
    public static SimulatedNicPair open(E1000eOptions options) {
        return open(SimulatedPlatform.builder().region(0, 64 * Sizes.MiB).build(), options);
    }

    /** Two NICs on {@code platform}, which the pair then owns (and closes, also when this fails). */
    public static SimulatedNicPair open(SimulatedPlatform platform, E1000eOptions options) {
        E1000eNic a = null;
        try {
            DmaDevice dmaA = platform.attach(DeviceProperties.simple("e1000e-sim-a"));
            DmaDevice dmaB = platform.attach(DeviceProperties.simple("e1000e-sim-b"));
            dmaA.setMaskAndCoherent(DmaMask.bits(64));
            dmaB.setMaskAndCoherent(DmaMask.bits(64));
            SimulatedE1000e modelA = new SimulatedE1000e(dmaA, platform.busMaster(dmaA, 64), MAC_A);
            SimulatedE1000e modelB = new SimulatedE1000e(dmaB, platform.busMaster(dmaB, 64), MAC_B);
            modelA.connect(modelB);
            a = E1000eNic.attach(modelA, dmaA, options, "sim-a");
            E1000eNic b = E1000eNic.attach(modelB, dmaB, options, "sim-b");
            return new SimulatedNicPair(platform, a, b);
        } catch (RuntimeException e) {
            if (a != null) {
                a.close();
            }
            platform.close();
            throw e;
        }
    }

    public E1000eNic a() {
        return a;
    }

    public E1000eNic b() {
        return b;
    }

    public SimulatedPlatform platform() {
        return platform;
    }

    @Override
    public void close() {
        try {
            a.close();
            b.close();
        } finally {
            platform.close();
        }
    }
}
