package io.dmadirect.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class AgentOptionsTest {

    @Test
    void modesCombine() {
        AgentOptions o = AgentOptions.parse("mode=trace+debug,packages=com.acme.nic:com.acme.util,failOnError=true");
        assertTrue(o.trace && o.debug && !o.inject);
        assertEquals(List.of("com.acme.nic", "com.acme.util"), o.packages);
        assertTrue(o.failOnError);
        assertTrue(o.isDriverClass("com.acme.nic.Ring"));
        assertFalse(o.isDriverClass("com.acme.other.Ring"));
    }

    @Test
    void defaultIsTraceAndDriverCodeIsEverythingOutsideTheLibraryAndJdk() {
        AgentOptions o = AgentOptions.parse("");
        assertTrue(o.trace && !o.debug);
        assertTrue(o.isDriverClass("com.acme.nic.Ring"));
        assertTrue(o.isDriverClass("io.dmadirect.drivers.edu.EduDriver"));
        assertFalse(o.isDriverClass("io.dmadirect.direct.DirectDevice"));
        assertFalse(o.isDriverClass("java.nio.ByteBuffer"));
    }

    @Test
    void wrongOptionsSayWhatIsExpected() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> AgentOptions.parse("mode=trase"))
                .getMessage().contains("expected trace, debug or inject"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> AgentOptions.parse("failEvery=3"))
                .getMessage().contains("add it (mode=trace+inject)"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> AgentOptions.parse("colour=red"))
                .getMessage().contains("unknown option 'colour'"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> AgentOptions.parse("mode=inject,maskBits=8"))
                .getMessage().contains("between 12 and 64"));
    }

    @Test
    void seededShareIsRepeatable() {
        for (long n = 1; n < 100; n++) {
            assertEquals(Injector.unit(42, n), Injector.unit(42, n));
            double u = Injector.unit(42, n);
            assertTrue(u >= 0 && u < 1);
        }
    }

    // --- issue 19 (iommufree) ---
    @Test
    void iommuFreeIsOffUnlessAskedAndWorksInAnyMode() {
        assertFalse(AgentOptions.parse("").iommuFree);
        assertTrue(AgentOptions.parse("iommuFree=true").iommuFree, "trace, the default mode");
        assertTrue(AgentOptions.parse("mode=debug,iommuFree=true").iommuFree);
        assertFalse(AgentOptions.parse("mode=debug,iommuFree=false").iommuFree);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> AgentOptions.parse("iommuFree=yes"))
                .getMessage().contains("true or false"));
    }
    // --- end issue 19 ---
}
