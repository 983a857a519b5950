package io.dmadirect.junit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The extension seen from outside: test classes run through the launcher, and what became of each test. */
class DmaTestExtensionTest {
    private static final String RIG_REQUIRED = System.getenv("DMADIRECT_REQUIRE_RIG");

    @BeforeEach
    void clear() {
        Fixtures.SEEN.clear();
    }

    @Test
    void aLeakedBufferFailsTheTestNamingTheLineThatAllocatedIt() {
        Launch.Outcome o = Launch.only(Launch.run(Fixtures.Leaky.class), "leaksABuffer");
        assertEquals("FAILED", o.status(), o.toString());
        assertTrue(o.message().startsWith("DMA leak: the test left 1 allocation(s) or mapping(s) on simulated:"), o.message());
        assertTrue(o.message().contains("allocCoherent(4096 bytes) at DMA 0x"), o.message());
        assertTrue(o.message().contains(", allocated at io.dmadirect.junit.Fixtures$Leaky.leaksABuffer(Fixtures.java:"
                + Fixtures.LEAK_LINE + ")"), o.message());
    }

    @Test
    void aLeakedBouncedMappingFailsTooAndItsSlotsAreGivenBack() {
        Launch.Outcome o = Launch.only(Launch.run(Fixtures.Leaky.class), "leaksABouncedMapping");
        assertEquals("FAILED", o.status(), o.toString());
        assertTrue(o.message().contains("map(512 bytes, TO_DEVICE, bounced) at DMA 0x"), o.message());
        assertTrue(o.message().contains("allocated at io.dmadirect.junit.Fixtures$Leaky.leaksABouncedMapping(Fixtures.java:"
                + Fixtures.MAP_LEAK_LINE + ")"), o.message());
        assertTrue(!o.message().contains("bounce slots leaked"), "released before the slot count: " + o.message());
    }

    @Test
    void aTestThatFreesEverythingPasses() {
        Launch.Outcome o = Launch.only(Launch.run(Fixtures.Leaky.class), "freesEverything");
        assertEquals("SUCCESSFUL", o.status(), o.toString());
        assertEquals(List.of("clean on DmaPlatform[dmadirect-junit standard]"), Fixtures.SEEN);
    }

    @Test
    void injectionFailsTheChosenCallOnlyAndNamesIt() {
        List<Launch.Outcome> outcomes = Launch.run(Fixtures.Injected.class);
        assertEquals("SUCCESSFUL", Launch.only(outcomes, "firstAllocationFails").status(), outcomes.toString());
        String injected = Fixtures.SEEN.stream().filter(s -> s.startsWith("injected")).findFirst().orElseThrow();
        // The call site is the driver's frame that called the device: here the lambda inside assertThrows.
        assertTrue(injected.startsWith("injected failure 1 of allocCoherent at "
                + "io.dmadirect.junit.Fixtures$Injected.lambda$firstAllocationFails$"), injected);
        assertTrue(injected.endsWith("(Fixtures.java:" + Fixtures.INJECTED_LINE + ") (@InjectFaults, dmadirect-junit)"), injected);
    }

    @Test
    void seededInjectionRepeatsExactly() {
        Launch.run(Fixtures.Injected.class);
        Launch.run(Fixtures.Injected.class);
        List<String> patterns = Fixtures.SEEN.stream().filter(s -> s.startsWith("pattern")).collect(Collectors.toList());
        assertEquals(2, patterns.size(), Fixtures.SEEN.toString());
        assertEquals(patterns.get(0), patterns.get(1), "the same seed, the same failures");
        assertTrue(patterns.get(0).contains("x") && patterns.get(0).contains("."), "rate 0.5 fails some: " + patterns);
    }

    @Test
    void shapesRunOncePerHostileMachineWithTheirPolicy() {
        List<Launch.Outcome> outcomes = Launch.run(Fixtures.Shapes.class);
        assertEquals(7, outcomes.size(), outcomes.toString());
        assertTrue(outcomes.stream().allMatch(o -> o.status().equals("SUCCESSFUL")), outcomes.toString());
        assertEquals(List.of("standard", "no low memory", "limit 24 bit", "tiny bounce pool", "forced bounce",
                "confidential guest", "iova"), outcomes.stream().map(Launch.Outcome::name).collect(Collectors.toList()));
        String limited = Fixtures.SEEN.stream().filter(s -> s.startsWith("simulated, limit 24 bit")).findFirst().orElseThrow();
        long address = Long.parseLong(limited.substring(limited.lastIndexOf("0x") + 2), 16);
        assertTrue(address + 8192 - 1 <= 0xff_ffffL, "the bus limit holds: " + limited);
        String confidential = Fixtures.SEEN.stream().filter(s -> s.startsWith("simulated, confidential")).findFirst().orElseThrow();
        assertTrue(confidential.contains("unencrypted"), "a confidential guest forces DMA unencrypted: " + confidential);
        String iova = Fixtures.SEEN.stream().filter(s -> s.startsWith("simulated, iova")).findFirst().orElseThrow();
        assertTrue(iova.contains("-> IOVA") || iova.contains("at 0x"), iova);
    }

    @Test
    void aRigTestOutsideTheRigSkipsOrFailsWhenTheRigIsRequired() {
        Launch.Outcome o = Launch.only(Launch.run(Fixtures.NeedsTheRig.class), "edu");
        assertEquals("1".equals(RIG_REQUIRED) ? "FAILED" : "ABORTED", o.status(), o.toString());
        assertTrue(o.message().startsWith("not in the QEMU rig guest"), o.message());
        assertTrue(Fixtures.SEEN.isEmpty());
    }

    @Test
    void aPciDeviceWithoutADeviceIsAClearError() {
        Launch.Outcome o = Launch.only(Launch.run(Fixtures.NeedsPciWithoutDevice.class), "edu");
        assertEquals("FAILED", o.status(), o.toString());
        assertTrue(o.message().startsWith("@DmaTest needs device = \"vendor:device\""), o.message());
    }
}
