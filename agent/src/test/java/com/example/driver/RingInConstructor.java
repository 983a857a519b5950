package com.example.driver;

import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaMask;
import io.dmadirect.sim.SimulatedPlatform;

/**
 * A driver that allocates in a constructor, as the NVMe driver's queue pairs do: a ring whose
 * descriptors are taken when it is built. The remove path forgets one ring, so the agent reports the
 * leak with the constructor's call site (the line marked {@code // BUG}).
 */
public final class RingInConstructor {
    private RingInConstructor() {
    }

    /** A descriptor ring whose memory is allocated by its constructor. */
    static final class Ring {
        final DmaBuffer descriptors;

        Ring(DmaDevice device) {
            descriptors = device.allocCoherent(4096); // BUG: the second ring is never freed
        }
    }

    public static void main(String[] args) {
        try (SimulatedPlatform platform = PlantedBugs.platform()) {
            DmaDevice nic = platform.attach(DeviceProperties.simple("ring0"));
            nic.setMaskAndCoherent(DmaMask.BITS_64);
            Ring kept = new Ring(nic);
            new Ring(nic);
            kept.descriptors.close();
            nic.close();
            System.out.println("ring-in-constructor: done");
        }
    }
}
