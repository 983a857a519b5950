/**
 * dmadirect-junit: a JUnit 5 extension that gives a driver's test a DMA device (real, rig or simulated, or
 * the simulated platform in hostile shapes), fails the test on leaked DMA memory, mappings and bounce slots
 * and on the agent's DMA-API findings, and injects faults by annotation.
 */
module io.dmadirect.junit {
    requires transitive io.dmadirect.core;
    requires transitive org.junit.jupiter.api;
    requires java.management;

    exports io.dmadirect.junit;
    // Jupiter instantiates the extension and the template provider reflectively.
    opens io.dmadirect.junit to org.junit.platform.commons;
}
