package com.example.driver;

import static io.dmadirect.Sizes.GiB;
import static io.dmadirect.Sizes.MiB;

import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaMask;
import io.dmadirect.sim.SimulatedPlatform;
import java.util.function.BiConsumer;

/**
 * Runs several of the agent tests' programs in one JVM, each on its own simulated platform, to keep the
 * child JVMs few: {@code Corpus <program>...}. Each program's findings name its own method as the call
 * site, so one run still gives each check its own verdict.
 */
public final class Corpus {
    private Corpus() {
    }

    public static void main(String[] args) {
        for (String program : args) {
            System.out.println("== " + program);
            try (SimulatedPlatform platform = SimulatedPlatform.builder().region(0, 16 * MiB).region(GiB, 32 * MiB)
                    .region(4 * GiB, 32 * MiB).build()) {
                DmaDevice nic = platform.attach(DeviceProperties.simple("nic0"));
                nic.setMaskAndCoherent(DmaMask.BITS_64);
                program(program).accept(platform, nic);
            }
        }
    }

    private static BiConsumer<SimulatedPlatform, DmaDevice> program(String name) {
        return switch (name) {
            case "overlap-rx" -> (p, d) -> DebugPlanted.overlappingReceiveSlots(d);
            case "overlap-primitive" -> (p, d) -> DebugPlanted.overlappingPrimitive(d);
            case "lambda-swallowed" -> (p, d) -> DebugPlanted.swallowedInALambda(d);
            case "lambda-double-unmap" -> (p, d) -> DebugPlanted.doubleUnmapInALambda(d);
            case "unmap-size" -> (p, d) -> DebugPlanted.unmapWrongSize(d);
            case "unmap-direction" -> (p, d) -> DebugPlanted.unmapWrongDirection(d);
            case "unmap-never-mapped" -> (p, d) -> DebugPlanted.unmapNeverMapped(d);
            case "double-unmap-primitive" -> (p, d) -> DebugPlanted.doubleUnmapPrimitive(d);
            case "sync-outside-primitive" -> (p, d) -> DebugPlanted.syncOutsidePrimitive(d);
            case "sync-direction-primitive" -> (p, d) -> DebugPlanted.syncDirectionPrimitive(d);
            case "unmap-sg-wrong-function" -> (p, d) -> DebugPlanted.sgUnmappedAsSingle(d);
            case "primitive-leak-at-close" -> (p, d) -> DebugPlanted.primitiveLeakAtClose(p);
            case "pool-double-free" -> (p, d) -> DebugPlanted.poolDoubleFree(d);
            case "pool-free-not-allocated" -> (p, d) -> DebugPlanted.poolFreeNotAllocated(d);
            case "pool-leak" -> (p, d) -> DebugPlanted.poolBlocksLeakAtClose(p);
            case "pool-not-destroyed" -> (p, d) -> DebugPlanted.poolNotDestroyed(p);
            case "clean-pool" -> (p, d) -> CleanIdioms.poolOfManyPages(p);
            case "pages-double-free" -> (p, d) -> DebugPlanted.pagesDoubleFree(d);
            case "pages-leak" -> (p, d) -> DebugPlanted.pagesLeakAtClose(p);
            case "clean-pages" -> (p, d) -> CleanIdioms.pages(d);
            case "device-write-after-free" -> DebugPlanted::deviceWritesFreedBuffer;
            case "device-read-after-unmap" -> DebugPlanted::deviceReadsUnmappedMapping;
            case "clean-device-access" -> CleanIdioms::deviceAccessWhileLive;
            case "stale-read" -> (p, d) -> DebugPlanted.staleRead(d);
            case "clean-refill" -> (p, d) -> CleanIdioms.refillLoops(d);
            case "clean-retry" -> (p, d) -> CleanIdioms.retries(d);
            case "clean-lambdas" -> (p, d) -> CleanIdioms.lambdasAndStreams(d);
            case "clean-classes" -> (p, d) -> CleanIdioms.classesAndInitialisers(d);
            case "clean-primitive" -> (p, d) -> CleanIdioms.primitive(d);
            case "clean-bidirectional" -> (p, d) -> CleanIdioms.bidirectionalSyncs(d);
            case "clean-reload" -> (p, d) -> CleanIdioms.reloadForA24BitDevice(p);
            default -> throw new IllegalArgumentException(name);
        };
    }
}
