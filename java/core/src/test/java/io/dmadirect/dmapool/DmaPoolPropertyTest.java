package io.dmadirect.dmapool;

import static io.dmadirect.Sizes.GiB;
import static io.dmadirect.Sizes.MiB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaMask;
import io.dmadirect.DmaPool;
import io.dmadirect.DmaUsageException;
import io.dmadirect.sim.SimulatedPlatform;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Random sequences of allocations and frees, good and bad, against a model that is a set of live addresses: the
 * pool must hand out only addresses not live, keep every block aligned and inside its boundary, refuse exactly
 * the frees the model says are bad, count what the model counts, and refuse destroy exactly while blocks are live.
 */
class DmaPoolPropertyTest {
    /** One machine for all tries (building one per try costs more than the try); each try has its own device. */
    private static final SimulatedPlatform PLATFORM = SimulatedPlatform.builder().region(0, 16 * MiB)
            .region(GiB, 64 * MiB).build();

    enum Kind { ALLOC, ZALLOC, FREE, FREE_AGAIN, FREE_INSIDE }

    record Step(Kind kind, int pick) {
    }

    @Provide
    Arbitrary<List<Step>> steps() {
        Arbitrary<Kind> kinds = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(5, Arbitraries.just(Kind.ALLOC)),
                net.jqwik.api.Tuple.of(2, Arbitraries.just(Kind.ZALLOC)),
                net.jqwik.api.Tuple.of(5, Arbitraries.just(Kind.FREE)),
                net.jqwik.api.Tuple.of(1, Arbitraries.just(Kind.FREE_AGAIN)),
                net.jqwik.api.Tuple.of(1, Arbitraries.just(Kind.FREE_INSIDE)));
        return Combinators.combine(kinds, Arbitraries.integers().between(0, 1 << 20)).as(Step::new)
                .list().ofMinSize(1).ofMaxSize(400);
    }

    @Provide
    Arbitrary<long[]> shapes() {
        return Arbitraries.of(new long[] {16, 0, 0}, new long[] {24, 0, 64}, new long[] {64, 64, 0},
                new long[] {100, 4, 128}, new long[] {512, 0, 0}, new long[] {3000, 0, 0}, new long[] {4096, 4096, 0},
                new long[] {256, 256, 256});
    }

    @Property(tries = 150)
    void thePoolBehavesAsASetOfLiveBlocks(@ForAll("shapes") long[] shape, @ForAll("steps") List<Step> steps) {
        long before = PLATFORM.memoryStats().available();
        try (DmaDevice device = PLATFORM.attach(DeviceProperties.simple("prop"))) {
            device.setMaskAndCoherent(DmaMask.BITS_64);
            DmaPool pool = device.createPool("prop", shape[0], shape[1], shape[2]);
            long size = pool.blockSize();
            List<Long> live = new ArrayList<>();
            Set<Long> everFreed = new HashSet<>();
            for (Step step : steps) {
                switch (step.kind()) {
                    case ALLOC, ZALLOC -> {
                        long dma = step.kind() == Kind.ALLOC ? pool.alloc(0) : pool.zalloc(0);
                        assertFalse(live.contains(dma), "handed out a live block again");
                        assertEquals(0, dma % Math.max(1, shape[1]), "alignment");
                        if (Long.bitCount(pool.boundary()) == 1) {
                            assertEquals(dma / pool.boundary(), (dma + size - 1) / pool.boundary(), "boundary");
                        }
                        live.add(dma);
                        everFreed.remove(dma);
                    }
                    case FREE -> {
                        if (!live.isEmpty()) {
                            long dma = live.remove(step.pick() % live.size());
                            pool.free(dma);
                            everFreed.add(dma);
                        }
                    }
                    case FREE_AGAIN -> {
                        if (!everFreed.isEmpty()) {
                            long dma = everFreed.stream().sorted().toList().get(step.pick() % everFreed.size());
                            assertThrows(DmaUsageException.class, () -> pool.free(dma), "double free refused");
                        }
                    }
                    case FREE_INSIDE -> {
                        if (!live.isEmpty()) {
                            long dma = live.get(step.pick() % live.size()) + 1 + step.pick() % (size - 1);
                            assertThrows(DmaUsageException.class, () -> pool.free(dma), "free inside a block refused");
                        }
                    }
                }
                assertEquals(live.size(), pool.activeBlocks(), "live blocks");
                assertTrue(pool.totalBlocks() >= live.size());
                assertEquals(pool.totalBlocks(), pool.pageCount() * PoolGeometry.of(shape[0], shape[1], shape[2])
                        .blocksPerPage());
            }
            if (!live.isEmpty()) {
                assertThrows(DmaUsageException.class, pool::close, "destroy refused while blocks are live");
                for (long dma : live) {
                    pool.free(dma);
                }
            }
            pool.close();
            assertEquals(0, pool.pageCount());
        }
        PLATFORM.drainThreadCaches();
        assertEquals(before, PLATFORM.memoryStats().available(), "the pool gave back every page");
    }

    @AfterContainer
    static void closePlatform() {
        PLATFORM.close();
    }
}
