package io.dmadirect.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.linux.headers.Capability;
import org.junit.jupiter.api.Test;

class ProcessCapabilitiesTest {

    @Test
    void parsesCapEffHex() {
        String status = "Name:\tjava\nCapInh:\t0000000000000000\nCapEff:\t0000000000004000\nCapBnd:\t000001ffffffffff\n";
        ProcessCapabilities caps = new ProcessCapabilities(ProcessCapabilities.parseEffective(status));
        assertEquals(1L << 14, caps.effective());
        assertTrue(caps.has(Capability.CAP_IPC_LOCK));
        assertFalse(caps.has(Capability.CAP_SYS_ADMIN));
    }
}
