package io.dmadirect.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaAttr;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaDirection;
import io.dmadirect.sim.SimulatedPlatform;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * {@code add_dma_entry()}'s overlap report and the attributes that exempt a new mapping from it (Linux 7.1):
 * two {@code FROM_DEVICE} mappings of other bytes of one 64-byte line of a non-coherent device.
 */
class OverlapCheckTest {
    private static final long LINE_START = 0x4_0000;

    /** Each attribute, and whether the kernel still reports the shared line when the new mapping carries it. */
    private enum Case {
        NONE(0, true),
        SKIP_CPU_SYNC(DmaAttr.flags(DmaAttr.SKIP_CPU_SYNC), false),
        DEBUGGING_IGNORE_CACHELINES(DmaAttr.flags(DmaAttr.DEBUGGING_IGNORE_CACHELINES), false),
        REQUIRE_COHERENT(DmaAttr.flags(DmaAttr.REQUIRE_COHERENT), false),
        /** An attribute that says nothing of sharing does not exempt. */
        WEAK_ORDERING(DmaAttr.flags(DmaAttr.WEAK_ORDERING), true);

        final int attrs;
        final boolean reported;

        Case(int attrs, boolean reported) {
            this.attrs = attrs;
            this.reported = reported;
        }
    }

    private record Owner(String describe) implements OverlapCheck.Described {
        @Override
        public String mapSite() {
            return "test";
        }

        @Override
        public boolean bounced() {
            return false;
        }
    }

    @Test
    void aSharedLineIsReportedUnlessTheNewMappingSaysItSharesOnPurpose() {
        try (SimulatedPlatform platform = SimulatedPlatform.builder().region(0, 16L << 20).atomicPools(0, 0).build()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("arm64").withCoherent(false));
            assertEquals(64, device.cacheAlignment(), "the case needs 64-byte lines");
            for (Case c : Case.values()) {
                Findings findings = new Findings(AgentOptions.parse("mode=debug"),
                        new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
                OverlapCheck check = new OverlapCheck(findings);
                var first = check.add(device, null, LINE_START, 32, DmaDirection.FROM_DEVICE, 0, new Owner("first"), 0);
                var second = check.add(device, null, LINE_START + 32, 32, DmaDirection.FROM_DEVICE, c.attrs,
                        new Owner("second"), 0);
                assertEquals(c.reported ? 1 : 0, findings.list().size(), c + ": " + findings.list());
                check.remove(second);
                check.remove(first);
                var again = check.add(device, null, LINE_START + 32, 32, DmaDirection.FROM_DEVICE, 0, new Owner("again"), 0);
                assertEquals(c.reported ? 1 : 0, findings.list().size(), c + ": after both unmapped the line is free");
                check.remove(again);
            }
        }
    }

    @Test
    void theSameBytesAreExemptOnlyByTheSameAttributes() {
        try (SimulatedPlatform platform = SimulatedPlatform.builder().region(0, 16L << 20).atomicPools(0, 0).build()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("arm64").withCoherent(false));
            for (Case c : Case.values()) {
                Findings findings = new Findings(AgentOptions.parse("mode=debug"),
                        new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
                OverlapCheck check = new OverlapCheck(findings);
                check.add(device, null, LINE_START, 64, DmaDirection.BIDIRECTIONAL, 0, new Owner("first"), 0);
                check.add(device, null, LINE_START, 64, DmaDirection.FROM_DEVICE, c.attrs, new Owner("second"), 0);
                assertEquals(c.reported ? 1 : 0, findings.list().size(), c + ": " + findings.list());
            }
        }
    }
}
