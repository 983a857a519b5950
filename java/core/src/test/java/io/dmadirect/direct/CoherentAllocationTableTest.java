package io.dmadirect.direct;

import static io.dmadirect.Sizes.MiB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.dmadirect.AllocationPath;
import io.dmadirect.AllocationReport;
import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaAllocationException;
import io.dmadirect.DmaAttr;
import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaDirection;
import io.dmadirect.DmaMask;
import io.dmadirect.DmaMaskUnsupportedException;
import io.dmadirect.DmaRange;
import io.dmadirect.DmaUsageException;
import io.dmadirect.MemoryStats;
import io.dmadirect.NoncoherentBuffer;
import io.dmadirect.NoncontiguousBuffer;
import io.dmadirect.Sizes;
import io.dmadirect.Zone;
import io.dmadirect.spi.ZoneLayout;
import io.dmadirect.sim.SimulatedBusMaster;
import io.dmadirect.sim.SimulatedPlatform;
import io.dmadirect.spi.MemoryRun;
import io.dmadirect.testing.MemoryMaps;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The coherent-allocation policy crossed over masks, memory maps, sizes and attributes. The expected
 * outcome of each case comes from an oracle written here from the kernel's rules alone
 * ({@code dma_direct_supported()}, {@code dma_direct_optimal_gfp_mask()}, {@code dma_coherent_ok()},
 * {@code __dma_direct_alloc_pages()} with {@code dma_alloc_contiguous()}), not from the code under test.
 * Where dmadirect departs from those rules on purpose, the departure is a separate {@link Departure}, with
 * its reason, that the oracle applies on top; {@link #everyDepartureDecidesSomeCase()} keeps that list
 * honest (no departure listed that changes nothing).
 *
 * <p>Each case asserts the zone and path, that the DMA address is within the limit, that bytes a
 * device writes at the DMA address appear in the CPU view, and, where nothing fits, that the message
 * names the mask, the size and each zone's free memory.
 *
 * <p>The rows are the allocation calls ({@code dma_alloc_attrs()}, {@code dma_alloc_wc()}, {@code dma_alloc_pages()},
 * {@code dma_alloc_noncontiguous()}) with the attributes, and each row checks what its attribute means for an
 * allocation in the kernel: {@code ATOMIC} (no contiguous allocator), {@code NO_KERNEL_MAPPING} (no CPU view),
 * {@code SKIP_ZEROING} (dmadirect's own: not zeroed), {@code NO_WARN} (a failing allocation logs nothing, where the
 * plain call logs the page allocator's warning: {@code dma_direct_alloc()} sets {@code __GFP_NOWARN}); the
 * attributes dma-direct never reads for an allocation ({@link #IGNORED_BY_DMA_DIRECT}, {@code SKIP_CPU_SYNC}
 * among them) must give what the same call without them gives.
 */
class CoherentAllocationTableTest {
    private static final int[] MASKS = {24, 28, 30, 32, 36, 40, 64};
    private static final long FRAME = 2 * MiB;
    private static final long[] SIZES = {1, 100, 4096, 4097, 64 * 1024, MiB, FRAME, FRAME + 1, 8 * MiB, 64 * MiB};
    private static final Row PLAIN = new Row(Call.ALLOC_ATTRS);
    private static final Row[] ROWS = {
        PLAIN,
        new Row(Call.ALLOC_ATTRS, DmaAttr.ATOMIC),
        new Row(Call.ALLOC_ATTRS, DmaAttr.NO_KERNEL_MAPPING),
        new Row(Call.ALLOC_ATTRS, DmaAttr.NO_WARN),
        new Row(Call.ALLOC_ATTRS, DmaAttr.SKIP_CPU_SYNC),
        new Row(Call.ALLOC_ATTRS, DmaAttr.SKIP_ZEROING),
        new Row(Call.ALLOC_ATTRS, DmaAttr.WEAK_ORDERING),
        new Row(Call.ALLOC_WC),
        new Row(Call.ALLOC_ATTRS, DmaAttr.FORCE_CONTIGUOUS),
        new Row(Call.ALLOC_ATTRS, DmaAttr.ALLOC_SINGLE_PAGES),
        new Row(Call.ALLOC_ATTRS, DmaAttr.PRIVILEGED),
        new Row(Call.ALLOC_PAGES),
        new Row(Call.ALLOC_PAGES, DmaAttr.ATOMIC),
        new Row(Call.ALLOC_PAGES, DmaAttr.NO_WARN),
        new Row(Call.ALLOC_NONCONTIGUOUS, DmaAttr.ALLOC_SINGLE_PAGES),
    };
    /**
     * The attributes {@code dma_direct_alloc()} never reads for these devices (coherent, not restricted, not forced
     * unencrypted): it reads {@code DMA_ATTR_NO_KERNEL_MAPPING}, {@code DMA_ATTR_NO_WARN} (as {@code __GFP_NOWARN}),
     * and {@code DMA_ATTR_WRITE_COMBINE} only in {@code dma_pgprot()} for the remap of a non-coherent device.
     * {@code SKIP_CPU_SYNC} is a mapping attribute; {@code FORCE_CONTIGUOUS}, {@code ALLOC_SINGLE_PAGES},
     * {@code WEAK_ORDERING} and {@code PRIVILEGED} are read only by IOMMU and architecture code. A row with one of
     * them must give exactly what the same call without it gives.
     */
    private static final java.util.Set<DmaAttr> IGNORED_BY_DMA_DIRECT = java.util.EnumSet.of(DmaAttr.SKIP_CPU_SYNC,
            DmaAttr.WEAK_ORDERING, DmaAttr.WRITE_COMBINE, DmaAttr.FORCE_CONTIGUOUS, DmaAttr.ALLOC_SINGLE_PAGES,
            DmaAttr.PRIVILEGED);
    private static final Map<MemoryMaps, SimulatedPlatform> PLATFORMS = new EnumMap<>(MemoryMaps.class);

    @AfterAll
    static void closePlatforms() {
        PLATFORMS.values().forEach(SimulatedPlatform::close);
    }

    @TestFactory
    Stream<DynamicNode> allocationTable() {
        return Stream.of(MemoryMaps.values()).map(map -> DynamicContainer.dynamicContainer(map.name(),
                Stream.of(map).flatMap(CoherentAllocationTableTest::maskCases)));
    }

    /** Built lazily, when JUnit reaches the map, so only one map's platform is being filled at a time. */
    private static Stream<DynamicNode> maskCases(MemoryMaps map) {
        SimulatedPlatform platform = PLATFORMS.computeIfAbsent(map, m -> m.builder().atomicPools(0, 0).build());
        DmaDevice device = platform.attach(map.device("table-" + map.name().toLowerCase()));
        MemoryStats before = platform.memoryStats();
        List<DynamicNode> nodes = new ArrayList<>();
        for (int bits : MASKS) {
            List<DynamicNode> cases = new ArrayList<>();
            for (long size : SIZES) {
                for (Row row : ROWS) {
                    String name = Sizes.format(size) + " " + row;
                    cases.add(DynamicTest.dynamicTest(name, () -> runCase(platform, map, device, bits, size, row)));
                }
            }
            nodes.add(DynamicContainer.dynamicContainer(bits + "-bit", cases));
        }
        nodes.add(DynamicTest.dynamicTest("memory returns to where it started", () -> {
            platform.drainThreadCaches();
            assertEquals(before, platform.memoryStats());
        }));
        return nodes.stream();
    }

    private static void runCase(SimulatedPlatform platform, MemoryMaps map, DmaDevice device, int bits, long size,
            Row row) {
        DmaMask mask = DmaMask.bits(bits);
        DeviceProperties props = device.properties();
        Oracle oracle = new Oracle(platform, props, mask, Departure.ALL);
        boolean mayBlock = !row.has(DmaAttr.ATOMIC);
        if (!oracle.maskSupported()) {
            DmaMaskUnsupportedException e = assertThrows(DmaMaskUnsupportedException.class,
                    () -> device.setMaskAndCoherent(mask));
            assertTrue(e.getMessage().contains(mask.toString()), e.getMessage());
            return;
        }
        device.setMaskAndCoherent(mask);
        if (oracle.path(size, mayBlock) == null) {
            String verdict = "the oracle says " + oracle.verdict(size, mayBlock) + " within " + oracle.limitText()
                    + " for " + size + " bytes; the kernel alone: "
                    + new Oracle(platform, props, mask, Departure.NONE).verdict(size, mayBlock);
            String message = row == PLAIN || row.has(DmaAttr.NO_WARN)
                    ? failureWarnsUnlessNoWarn(platform, map, mask, size, row, verdict)
                    : assertThrows(DmaAllocationException.class, () -> row.allocate(device, size), verdict).getMessage();
            assertTrue(message.contains(mask.toString()), "names the mask: " + message);
            assertTrue(message.contains(Sizes.format(size)), "names the size: " + message);
            assertTrue(message.contains(row.call.memory + " DMA memory"), "names what was asked: " + message);
            for (Zone zone : Zone.values()) {
                assertTrue(message.contains(zone + " ") && message.contains("free of"), "names " + zone + ": " + message);
            }
            return;
        }
        Allocated buffer = row.allocate(device, size);
        try {
            checkPlacement(platform, props, oracle, size, mayBlock, buffer);
            checkData(platform, device, bits, size, row, buffer);
        } finally {
            buffer.free.run();
        }
        if (row.ignoredByDmaDirect()) {
            // Accepted and ignored: the same call without the attribute gives the same memory, placed the same way.
            Allocated plain = row.withoutAttrs().allocate(device, size);
            try {
                assertEquals(plain.path, buffer.path, row + " changes the path");
                assertEquals(plain.zone, buffer.zone, row + " changes the zone");
                assertEquals(plain.allocatedSize, buffer.allocatedSize, row + " changes the size reserved");
                assertEquals(plain.report.optimalZone(), buffer.report.optimalZone());
                assertEquals(plain.hasCpuView, buffer.hasCpuView);
            } finally {
                plain.free.run();
            }
        }
    }

    /**
     * A failing allocation of the plain call and of {@code NO_WARN}, on a device of its own so that the rate
     * limit of earlier cases cannot hide the warning: {@code dma_direct_alloc()} turns {@code DMA_ATTR_NO_WARN}
     * into {@code __GFP_NOWARN}, without which the page allocator's {@code warn_alloc()} reports the failure. Both
     * throw the same exception.
     *
     * @return the exception's message
     */
    private static String failureWarnsUnlessNoWarn(SimulatedPlatform platform, MemoryMaps map, DmaMask mask, long size,
            Row row, String verdict) {
        DmaDevice probe = platform.attach(map.device("warn-probe"));
        try {
            probe.setMaskAndCoherent(mask);
            String[] message = new String[1];
            List<java.util.logging.LogRecord> records = io.dmadirect.testing.CapturedLogs.capture("io.dmadirect.direct",
                    java.util.logging.Level.WARNING, () -> message[0] = assertThrows(DmaAllocationException.class,
                            () -> row.allocate(probe, size), verdict).getMessage());
            long failureWarnings = records.stream().filter(r -> r.getMessage().startsWith("direct: failed to allocate"))
                    .count();
            assertEquals(row.has(DmaAttr.NO_WARN) ? 0 : 1, failureWarnings,
                    row + ": warn_alloc() unless __GFP_NOWARN; logged " + records.size() + " records");
            return message[0];
        } finally {
            probe.close();
        }
    }

    private static void checkPlacement(SimulatedPlatform platform, DeviceProperties props, Oracle oracle,
            long size, boolean mayBlock, Allocated buffer) {
        long dma = buffer.dmaAddress;
        long last = dma + size - 1;
        assertTrue(Long.compareUnsigned(last, oracle.limit) <= 0,
                String.format("DMA 0x%x + %d bytes exceeds the limit %s", dma, size, oracle.limitText()));
        long phys = Oracle.dmaToPhys(props, dma);
        ZoneLayout layout = new ZoneLayout(platform.zoneDmaBits());
        assertEquals(layout.zoneOf(phys), buffer.zone, "the zone must match the address " + Sizes.hex(phys));
        assertTrue(buffer.zone.ordinal() <= oracle.optimalZone().ordinal(),
                "never above the optimal zone " + oracle.optimalZone() + ": " + buffer.report);
        assertEquals(oracle.optimalZone(), buffer.report.optimalZone());
        assertEquals(oracle.path(size, mayBlock), buffer.path, buffer.report.toString());
        assertTrue(buffer.allocatedSize >= size && buffer.allocatedSize % 4096 == 0);
    }

    private static void checkData(SimulatedPlatform platform, DmaDevice device, int bits, long size, Row row,
            Allocated buffer) {
        SimulatedBusMaster engine = platform.busMaster(device, bits);
        if (row.has(DmaAttr.NO_KERNEL_MAPPING)) {
            assertFalse(buffer.hasCpuView);
            assertThrows(DmaUsageException.class, buffer.view::get);
            assertTrue(engine.write(buffer.dmaAddress, new byte[(int) Math.min(size, 4096)]), "device reaches it");
            return;
        }
        ByteBuffer view = buffer.view.get();
        assertEquals(size, view.capacity());
        boolean zeroed = !row.has(DmaAttr.SKIP_ZEROING);
        Random random = new Random(size * 31 + bits);
        long[] offsets = probeOffsets(size);
        if (zeroed) {
            for (long offset : offsets) {
                int length = (int) Math.min(4096, size - offset);
                for (int i = 0; i < length; i++) {
                    assertEquals(0, view.get((int) offset + i), "new memory starts zeroed, byte " + (offset + i));
                }
            }
        }
        for (long offset : offsets) {
            int length = (int) Math.min(4096, size - offset);
            byte[] pattern = new byte[length];
            random.nextBytes(pattern);
            assertTrue(engine.write(buffer.dmaAddress + offset, pattern), "device write faulted: " + engine.faults());
            buffer.syncForCpu.accept(offset, (long) length);
            byte[] seen = new byte[length];
            view.get((int) offset, seen);
            if (!java.util.Arrays.equals(pattern, seen)) {
                fail("bytes the device wrote at DMA " + Sizes.hex(buffer.dmaAddress + offset)
                        + " are not what the CPU reads: " + buffer.report);
            }
        }
    }

    /** The calls a row makes: {@code dma_alloc_attrs()}, {@code dma_alloc_wc()}, {@code dma_alloc_pages()}, {@code dma_alloc_noncontiguous()}. */
    enum Call {
        ALLOC_ATTRS("coherent"), ALLOC_WC("coherent"), ALLOC_PAGES("non-coherent"), ALLOC_NONCONTIGUOUS("non-coherent");

        /** How the failure message names the memory asked for. */
        final String memory;

        Call(String memory) {
            this.memory = memory;
        }
    }

    /**
     * One row of the table: a call and its attributes. For these devices {@code dma_direct_alloc_pages()} takes the
     * same path as {@code dma_direct_alloc()} ({@code __dma_direct_alloc_pages()}: no pool, since nothing is forced
     * unencrypted, and no swiotlb), so one oracle serves every call.
     */
    record Row(Call call, DmaAttr... attrs) {
        boolean has(DmaAttr attr) {
            return java.util.Arrays.asList(attrs).contains(attr) || (attr == DmaAttr.WRITE_COMBINE && call == Call.ALLOC_WC);
        }

        boolean ignoredByDmaDirect() {
            return IGNORED_BY_DMA_DIRECT.stream().anyMatch(this::has);
        }

        Row withoutAttrs() {
            return new Row(call == Call.ALLOC_WC ? Call.ALLOC_ATTRS : call);
        }

        Allocated allocate(DmaDevice device, long size) {
            switch (call) {
                case ALLOC_WC:
                    return Allocated.of(device.allocWc(size, attrs));
                case ALLOC_PAGES:
                    return Allocated.of(device.allocPages(size, DmaDirection.BIDIRECTIONAL, attrs));
                case ALLOC_NONCONTIGUOUS:
                    NoncontiguousBuffer sgt = device.allocNoncontiguous(size, DmaDirection.BIDIRECTIONAL, attrs);
                    assertEquals(1, sgt.segments().size(), "alloc_single_sgt(): one segment");
                    assertEquals(sgt.dmaAddress(), sgt.segments().get(0).dmaAddress());
                    return Allocated.of(sgt);
                default:
                    return Allocated.of(device.allocCoherent(size, attrs));
            }
        }

        @Override
        public String toString() {
            String name = call == Call.ALLOC_ATTRS ? "" : call.name().toLowerCase(java.util.Locale.ROOT) + " ";
            return (name + String.join(" ", java.util.Arrays.stream(attrs).map(Enum::name).toArray(String[]::new))).trim();
        }
    }

    /**
     * What any call returned, seen one way; {@code syncForCpu} is the sync a non-coherent buffer needs before the
     * CPU reads what the device wrote (nothing for coherent memory).
     */
    record Allocated(long dmaAddress, long allocatedSize, Zone zone, AllocationPath path, AllocationReport report,
            boolean hasCpuView, java.util.function.Supplier<ByteBuffer> view,
            java.util.function.BiConsumer<Long, Long> syncForCpu, Runnable free) {
        static Allocated of(DmaBuffer b) {
            return new Allocated(b.dmaAddress(), b.allocatedSize(), b.zone(), b.path(), b.report(), b.hasCpuView(),
                    b::cpuView, (offset, length) -> { }, b::close);
        }

        static Allocated of(NoncoherentBuffer b) {
            return new Allocated(b.dmaAddress(), b.allocatedSize(), b.zone(), b.path(), b.report(), true, b::cpuView,
                    b::syncForCpu, b::close);
        }
    }

    private static long[] probeOffsets(long size) {
        if (size <= 4096) {
            return new long[] {0};
        }
        return java.util.stream.LongStream.of(0, (size / 2) & -4096L, size - 4096).distinct().toArray();
    }

    /**
     * Where dmadirect departs on purpose from the kernel's rules as they bear on this table; each is listed
     * with its reason in docs/kernel-map.md too. Low memory on demand, the other departure of allocation,
     * does not arise: no map here has memory to obtain.
     */
    enum Departure {
        /**
         * {@code dma_direct_supported()} accepts every mask of 32 bits or more, and a smaller one that covers
         * the end of ZONE_DMA, because the kernel owns those zones. A process holds a sample of memory, so
         * the mask is compared with the lowest memory held, as the device addresses it.
         */
        SUPPORTED_AGAINST_MEMORY_HELD,
        /**
         * {@code dma_alloc_contiguous()} skips one page for the global CMA area, because a page is always
         * contiguous. Here the unit that is always contiguous is the frame (a hugepage), and the contiguous
         * allocator hands out whole frames, so it serves only what needs more than one frame.
         */
        CONTIGUOUS_ONLY_ABOVE_ONE_FRAME,
        /**
         * {@code alloc_pages()} serves up to {@code MAX_PAGE_ORDER}, 4 MiB on x86-64. The page allocator here
         * splits frames, whose physical neighbours are not known when they are taken, so its largest block
         * is one frame.
         */
        PAGE_BLOCKS_OF_ONE_FRAME,
        /**
         * Where the kernel's outcome depends on which free memory its allocator happens to hand out (some of
         * the zone lies within the device's reach, some beyond), dmadirect searches below the device's limit
         * (pages before a lower zone, and in the one contiguous try), so it succeeds whenever memory within
         * reach is free. The kernel owns whole zones; a process holds a sample, and a 28-bit device would
         * otherwise give up on the DMA32 memory it reaches.
         */
        SEARCH_BELOW_THE_LIMIT;

        static final java.util.Set<Departure> ALL = java.util.EnumSet.allOf(Departure.class);
        static final java.util.Set<Departure> NONE = java.util.EnumSet.noneOf(Departure.class);
    }

    /**
     * What may happen: the paths an allocation may take, in the order the kernel tries them, and whether it
     * may fail. A determined outcome has one path and cannot fail, or has none.
     */
    record Outcome(java.util.List<AllocationPath> paths, boolean mayFail) {
        static final Outcome FAILS = new Outcome(List.of(), true);

        static Outcome succeeds(AllocationPath path) {
            return new Outcome(List.of(path), false);
        }

        static Outcome mayGive(AllocationPath path) {
            return new Outcome(List.of(path), true);
        }

        /** This step, and when it may fail, the next one. */
        Outcome orElse(java.util.function.Supplier<Outcome> next) {
            if (!mayFail) {
                return this;
            }
            Outcome then = next.get();
            java.util.List<AllocationPath> all = new ArrayList<>(paths);
            then.paths.stream().filter(p -> !all.contains(p)).forEach(all::add);
            return new Outcome(List.copyOf(all), then.mayFail);
        }

        @Override
        public String toString() {
            if (paths.isEmpty()) {
                return "fails";
            }
            String given = paths.stream().map(Enum::name).collect(java.util.stream.Collectors.joining(" or "));
            return mayFail ? given + " or fails, as the allocator hands out memory" : given;
        }
    }

    /**
     * The kernel's rules for the table's devices (coherent, neither restricted nor forced unencrypted, so
     * no atomic pool and no swiotlb: {@code dma_direct_alloc()} goes to {@code __dma_direct_alloc_pages()}
     * for every attribute here, {@code NO_KERNEL_MAPPING} included), computed from the memory map alone,
     * with the {@link Departure}s given applied on top. The kernel's CMA area is every frame held;
     * its zones are the physical ranges of {@link ZoneLayout} with {@code zone_dma_bits} 24. The frames the
     * bounce pool took at start are counted as free: each map leaves enough memory beside the pool that no
     * outcome turns on them (a case would fail if one did).
     */
    static final class Oracle {
        /** x86-64's {@code MAX_PAGE_ORDER} 10: the largest block {@code alloc_pages()} serves. */
        private static final long KERNEL_MAX_PAGE_BYTES = 4 * MiB;
        private static final long PAGE = 4096;
        final long limit;
        private final SimulatedPlatform platform;
        private final DeviceProperties props;
        private final DmaMask mask;
        private final java.util.Set<Departure> departures;

        Oracle(SimulatedPlatform platform, DeviceProperties props, DmaMask mask, java.util.Set<Departure> departures) {
            this.platform = platform;
            this.props = props;
            this.mask = mask;
            this.departures = departures;
            // dma_coherent_ok(): min_not_zero(coherent mask, bus_dma_limit).
            this.limit = props.busDmaLimit() == 0 || Long.compareUnsigned(mask.value(), props.busDmaLimit()) <= 0
                    ? mask.value() : props.busDmaLimit();
        }

        String limitText() {
            return Sizes.hex(limit);
        }

        boolean maskSupported() {
            if (departures.contains(Departure.SUPPORTED_AGAINST_MEMORY_HELD)) {
                long lowestEnd = -1L;
                for (MemoryRun run : platform.memory().runs()) {
                    long end = physToDma(props, run.frameBase() + FRAME - 1);
                    if (Long.compareUnsigned(end, lowestEnd) < 0) {
                        lowestEnd = end;
                    }
                }
                return Long.compareUnsigned(mask.value(), lowestEnd) >= 0;
            }
            // dma_direct_supported(): every 32-bit mask; below that, the mask must cover the end of ZONE_DMA
            // (or of all RAM, if lower) as phys_to_dma_unencrypted() gives it.
            if (Long.compareUnsigned(mask.value(), 0xffff_ffffL) >= 0) {
                return true;
            }
            long maxPhys = platform.memory().systemMaxPhysAddress();
            long minMask = Long.compareUnsigned(maxPhys, (1L << 24) - 1) < 0 ? maxPhys : (1L << 24) - 1;
            return Long.compareUnsigned(mask.value(), physToDma(props, minMask)) >= 0;
        }

        /** The zone the physical limit falls in (dma_direct_optimal_gfp_mask). */
        Zone optimalZone() {
            long physLimit = dmaToPhys(props, limit);
            if (Long.compareUnsigned(physLimit, (1L << 24) - 1) <= 0) {
                return Zone.DMA;
            }
            return Long.compareUnsigned(physLimit, 0xffff_ffffL) <= 0 ? Zone.DMA32 : Zone.NORMAL;
        }

        /** The path an allocation takes, or null when it fails; only for a determined outcome. */
        AllocationPath path(long size, boolean mayBlock) {
            Outcome outcome = outcome(size, mayBlock);
            if (outcome.mayFail() && !outcome.paths().isEmpty()) {
                throw new IllegalStateException("the rules leave the outcome to the allocator: " + outcome);
            }
            return outcome.paths().isEmpty() ? null : outcome.paths().get(0);
        }

        String verdict(long size, boolean mayBlock) {
            return outcome(size, mayBlock).toString();
        }

        /**
         * {@code __dma_direct_alloc_pages()}: {@code dma_alloc_contiguous()} once when the caller may block,
         * kept only when coherent_ok; then {@code alloc_pages()} of the optimal zone, retried in ZONE_DMA32 and
         * then ZONE_DMA when what it gave is not coherent_ok, and given up when it gives nothing.
         */
        Outcome outcome(long size, boolean mayBlock) {
            long aligned = (size + PAGE - 1) & -PAGE;
            long contiguousAbove = departures.contains(Departure.CONTIGUOUS_ONLY_ABOVE_ONE_FRAME) ? FRAME : PAGE;
            Outcome outcome = mayBlock && aligned > contiguousAbove
                    ? contiguous(aligned).orElse(() -> pages(aligned))
                    : pages(aligned);
            if (departures.contains(Departure.SEARCH_BELOW_THE_LIMIT) && outcome.mayFail() && !outcome.paths().isEmpty()) {
                return Outcome.succeeds(outcome.paths().get(0));
            }
            return outcome;
        }

        /** The CMA area (every frame held) gives some run of the size; it is kept when coherent_ok. */
        private Outcome contiguous(long aligned) {
            long frames = (aligned + FRAME - 1) / FRAME;
            int reachable = 0;
            int all = 0;
            for (MemoryRun run : platform.memory().runs()) {
                long inRow = 0;
                long reachableInRow = 0;
                for (long offset = 0; offset < run.size(); offset += FRAME) {
                    boolean ok = reachable(run.frameBase() + offset);
                    inRow++;
                    reachableInRow = ok ? reachableInRow + 1 : 0;
                    if (inRow >= frames) {
                        all++;
                        if (reachableInRow >= frames) {
                            reachable++;
                        }
                    }
                }
            }
            return verdict(reachable, all, AllocationPath.CONTIGUOUS);
        }

        /** alloc_pages() of the optimal zone, with its zonelist (the lower zones), then the retries. */
        private Outcome pages(long aligned) {
            long maxPage = departures.contains(Departure.PAGE_BLOCKS_OF_ONE_FRAME) ? FRAME : KERNEL_MAX_PAGE_BYTES;
            if (aligned > maxPage) {
                return Outcome.FAILS; // an order above MAX_PAGE_ORDER
            }
            long physLimit = dmaToPhys(props, limit);
            Zone zone = optimalZone();
            return zoneStep(zone, physLimit);
        }

        private Outcome zoneStep(Zone zone, long physLimit) {
            long zoneTop = new ZoneLayout(24).limit(zone);
            int reachable = 0;
            int all = 0;
            for (MemoryRun run : platform.memory().runs()) {
                for (long offset = 0; offset < run.size(); offset += FRAME) {
                    long phys = run.frameBase() + offset;
                    if (Long.compareUnsigned(phys + FRAME - 1, zoneTop) <= 0) {
                        all++;
                        reachable += reachable(phys) ? 1 : 0;
                    }
                }
            }
            if (all == 0) {
                return Outcome.FAILS; // alloc_pages() gives nothing: no retry
            }
            Outcome here = verdict(reachable, all, AllocationPath.PAGES);
            Zone next = zone == Zone.NORMAL && physLimit != -1L ? Zone.DMA32 : zone != Zone.DMA ? Zone.DMA : null;
            return next == null ? here : here.orElse(() -> zoneStep(next, physLimit));
        }

        /** Every candidate reachable: the path; none: falls through; some: the allocator decides. */
        private static Outcome verdict(int reachable, int all, AllocationPath path) {
            if (all > 0 && reachable == all) {
                return Outcome.succeeds(path);
            }
            return reachable > 0 ? Outcome.mayGive(path) : Outcome.FAILS;
        }

        /** dma_coherent_ok() for a frame: its DMA address, as the device sees it, lies within the limit. */
        private boolean reachable(long phys) {
            long dmaEnd = physToDma(props, phys + FRAME - 1);
            long dmaStart = physToDma(props, phys);
            return dmaStart != -1L && dmaEnd != -1L && Long.compareUnsigned(dmaEnd, limit) <= 0;
        }

        static long physToDma(DeviceProperties props, long phys) {
            if (props.dmaRanges().isEmpty()) {
                return phys;
            }
            for (DmaRange range : props.dmaRanges()) {
                if (phys >= range.cpuStart() && phys - range.cpuStart() < range.size()) {
                    return phys + range.offset();
                }
            }
            return -1L;
        }

        static long dmaToPhys(DeviceProperties props, long dma) {
            if (props.dmaRanges().isEmpty()) {
                return dma;
            }
            for (DmaRange range : props.dmaRanges()) {
                if (Long.compareUnsigned(dma, range.dmaStart()) >= 0 && Long.compareUnsigned(dma - range.dmaStart(), range.size()) < 0) {
                    return dma - range.offset();
                }
            }
            return -1L;
        }
    }

    /**
     * Each listed departure decides at least one case of the table: leaving it out changes what the
     * oracle expects somewhere. A departure that decided nothing would be a claim without a case.
     */
    @org.junit.jupiter.api.Test
    void everyDepartureDecidesSomeCase() {
        for (Departure departure : Departure.values()) {
            java.util.Set<Departure> without = java.util.EnumSet.copyOf(Departure.ALL);
            without.remove(departure);
            boolean decides = false;
            for (MemoryMaps map : MemoryMaps.values()) {
                SimulatedPlatform platform = PLATFORMS.computeIfAbsent(map, m -> m.builder().atomicPools(0, 0).build());
                DeviceProperties props = map.device("departures");
                for (int bits : MASKS) {
                    Oracle all = new Oracle(platform, props, DmaMask.bits(bits), Departure.ALL);
                    Oracle less = new Oracle(platform, props, DmaMask.bits(bits), without);
                    decides |= all.maskSupported() != less.maskSupported();
                    for (long size : SIZES) {
                        for (boolean mayBlock : new boolean[] {true, false}) {
                            decides |= !all.verdict(size, mayBlock).equals(less.verdict(size, mayBlock));
                        }
                    }
                }
            }
            assertTrue(decides, departure + " changes no case of the table");
        }
    }

    /** The kernel's own rules, without departures: an ATOMIC caller never gets the contiguous allocator. */
    @org.junit.jupiter.api.Test
    void theKernelsRulesAloneNeverGiveAnAtomicCallerContiguousMemory() {
        for (MemoryMaps map : MemoryMaps.values()) {
            SimulatedPlatform platform = PLATFORMS.computeIfAbsent(map, m -> m.builder().atomicPools(0, 0).build());
            for (int bits : MASKS) {
                Oracle kernel = new Oracle(platform, map.device("kernel"), DmaMask.bits(bits), Departure.NONE);
                for (long size : SIZES) {
                    Outcome atomic = kernel.outcome(size, false);
                    assertFalse(atomic.paths().contains(AllocationPath.CONTIGUOUS), map + " " + bits + " " + size);
                    if (size > 4 * MiB) {
                        assertEquals(Outcome.FAILS, atomic, "above MAX_PAGE_ORDER, without CMA: " + map + " " + bits);
                    }
                }
            }
        }
    }

    @org.junit.jupiter.api.Test
    void oracleSeesTheMapsAsDescribed() {
        // Guard the oracle itself: if it always said "fits" or never did, the table would prove nothing.
        SimulatedPlatform platform = PLATFORMS.computeIfAbsent(MemoryMaps.ONLY_16M_LOW,
                m -> m.builder().atomicPools(0, 0).build());
        DeviceProperties props = MemoryMaps.ONLY_16M_LOW.device("oracle");
        Oracle dma24 = new Oracle(platform, props, DmaMask.bits(24), Departure.ALL);
        assertEquals(AllocationPath.CONTIGUOUS, dma24.path(8 * MiB, true));
        assertNull(dma24.path(8 * MiB, false), "ATOMIC: no contiguous allocator, and pages hold one frame");
        assertNull(dma24.path(64 * MiB, true));
        assertEquals(AllocationPath.PAGES, dma24.path(4096, false));
        assertEquals(AllocationPath.CONTIGUOUS, new Oracle(platform, props, DmaMask.bits(64), Departure.ALL).path(64 * MiB, true));
        assertNotNull(new Oracle(platform, props, DmaMask.bits(32), Departure.ALL).optimalZone());
        assertEquals(Zone.DMA32, new Oracle(platform, props, DmaMask.bits(32), Departure.ALL).optimalZone());
        // The kernel alone: CMA for anything above a page, and a 64-bit device's 4 MiB could come from
        // alloc_pages() (order 10) when CMA has nothing.
        Oracle kernel64 = new Oracle(platform, props, DmaMask.bits(64), Departure.NONE);
        assertEquals("CONTIGUOUS", kernel64.verdict(64 * 1024, true));
        assertEquals("PAGES", kernel64.verdict(4 * MiB, false));
    }
}
