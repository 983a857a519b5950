package io.dmadirect.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class StacksTest {
    private static final StackTraceElement[] NVME = {
        new StackTraceElement("io.dmadirect.drivers.nvme.NvmeQueuePair", "<init>", "NvmeQueuePair.java", 96)};

    @Test
    void anUnrewrittenCallerOutsideThePackagesIsToldToSetThem() {
        AgentOptions options = AgentOptions.parse("packages=io.dmadirect.hil");
        assertEquals("io.dmadirect.drivers.nvme.NvmeQueuePair.<init>(NvmeQueuePair.java:96)"
                + " (caller not rewritten; set packages=)", Stacks.siteOf(NVME, options));
        assertEquals("io.dmadirect.drivers.nvme.NvmeQueuePair.<init>(NvmeQueuePair.java:96)"
                + " (caller not rewritten; set packages=)", Stacks.siteOf(NVME, null));
    }

    @Test
    void anUnrewrittenCallerInsideThePackagesIsNotToldToSetThem() {
        AgentOptions options = AgentOptions.parse("packages=io.dmadirect.hil:io.dmadirect.drivers");
        assertEquals("io.dmadirect.drivers.nvme.NvmeQueuePair.<init>(NvmeQueuePair.java:96)"
                + " (caller not rewritten, though it is driver code: a method already running when the agent"
                + " was attached, or a class the agent failed to rewrite: see its stderr)",
                Stacks.siteOf(NVME, options));
    }
}
