package com.example.driver;

import io.dmadirect.DmaDevice;
import io.dmadirect.DmaDirection;
import io.dmadirect.DmaMapping;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import javax.management.MBeanServer;
import javax.management.ObjectName;

/**
 * The counting of AgentAttachTest's NVMe step (issue 14's flaky rig failure), with the interleaving that
 * broke it forced: a driver reads the agent's global {@code Mappings}, another thread (the rig's edu
 * traffic) maps, forced to bounce, before the driver reads {@code BouncedMappings}; the driver then maps
 * {@link #MAPS} times and reads both again. The global deltas differ by that one mapping although every
 * mapping bounced; the counts at the driver's own call site ({@code streamingCountsAt}) do not.
 */
final class CountRace {
    static final int MAPS = 8;
    static final String SITE = "com.example.driver.CountRace.driverMaps(";
    private static final String AGENT = "io.dmadirect:type=Agent";

    private CountRace() {
    }

    static void run(DmaDevice nic) throws Exception {
        MBeanServer jmx = ManagementFactory.getPlatformMBeanServer();
        ObjectName agent = new ObjectName(AGENT);
        long maps0 = (Long) jmx.getAttribute(agent, "Mappings");
        long[] at0 = at(jmx, agent);
        Thread other = new Thread(() -> otherThreadMaps(nic), "other-driver");
        other.start();
        other.join();
        long bounced0 = (Long) jmx.getAttribute(agent, "BouncedMappings");
        driverMaps(nic);
        long maps = (Long) jmx.getAttribute(agent, "Mappings") - maps0;
        long bounced = (Long) jmx.getAttribute(agent, "BouncedMappings") - bounced0;
        long[] at1 = at(jmx, agent);
        System.out.println("count-race: global maps " + maps + ", bounced " + bounced + "; at the driver's site maps "
                + (at1[0] - at0[0]) + ", bounced " + (at1[1] - at0[1]));
    }

    private static long[] at(MBeanServer jmx, ObjectName agent) throws Exception {
        return (long[]) jmx.invoke(agent, "streamingCountsAt", new Object[] {SITE}, new String[] {String.class.getName()});
    }

    private static void driverMaps(DmaDevice nic) {
        for (int i = 0; i < MAPS; i++) {
            try (DmaMapping m = nic.map(ByteBuffer.allocateDirect(512), DmaDirection.TO_DEVICE)) {
                if (!m.isBounced()) {
                    throw new AssertionError("forceBounce=true, yet mapping " + i + " did not bounce");
                }
            }
        }
    }

    private static void otherThreadMaps(DmaDevice nic) {
        try (DmaMapping m = nic.map(new byte[512], 0, 512, DmaDirection.FROM_DEVICE)) {
            if (!m.isBounced()) {
                throw new AssertionError("forceBounce=true, yet the other thread's mapping did not bounce");
            }
        }
    }
}
