package io.dmadirect.fuzz;

import static io.dmadirect.Sizes.GiB;
import static io.dmadirect.Sizes.KiB;
import static io.dmadirect.Sizes.MiB;

import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaRange;
import io.dmadirect.sim.SimulatedPlatform;
import io.dmadirect.spi.SwiotlbConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A random simulated machine and random devices on it, drawn from a seed: memory maps with holes or with
 * no low memory, zone_dma_bits, SME encryption or a confidential guest, tiny or absent atomic and bounce
 * pools, forced bounce; devices coherent or not, with bus limits and dma-range offsets (some not a multiple
 * of a page, which is what min_align_mask must survive). Memory stays small: every simulated byte is real.
 */
final class RandomMachine {
    private static final long FRAME = 2 * MiB;

    final List<long[]> regions = new ArrayList<>();
    final int zoneDmaBits;
    final long encryptionMask;
    final boolean confidentialGuest;
    final long atomicPoolBytes;
    /** The most each zone's atomic pool may grow to; pools never shrink, as the kernel's do not. */
    final long atomicPoolMaxBytes;
    final long bounceBytes;
    final boolean forceBounce;
    final long dynamicBounceBytes;
    private final SplittableRandom random;

    RandomMachine(SplittableRandom random) {
        this.random = random;
        switch (random.nextInt(5)) {
            case 0 -> {
                regions.add(new long[] {0, 16 * MiB});
                regions.add(new long[] {GiB, 8 * MiB});
                regions.add(new long[] {5 * GiB, 8 * MiB});
            }
            case 1 -> {
                // No low memory at all: only hugepages above 4 GiB.
                regions.add(new long[] {4 * GiB, 16 * MiB});
                regions.add(new long[] {9 * GiB, 8 * MiB});
            }
            case 2 -> regions.add(new long[] {256 * MiB, 24 * MiB});
            case 3 -> {
                regions.add(new long[] {2 * MiB, 6 * MiB});
                regions.add(new long[] {3 * GiB + 64 * MiB, 12 * MiB});
            }
            default -> randomRegions();
        }
        this.zoneDmaBits = random.nextInt(4) == 0 ? 20 + random.nextInt(13) : 24;
        int encryption = random.nextInt(10);
        this.encryptionMask = encryption < 2 ? 1L << (40 + random.nextInt(12)) : 0;
        this.confidentialGuest = encryption == 2;
        this.atomicPoolBytes = new long[] {0, 64 * KiB, 256 * KiB}[random.nextInt(3)];
        this.atomicPoolMaxBytes = random.nextInt(3) == 0 ? 4 * atomicPoolBytes : atomicPoolBytes;
        this.bounceBytes = new long[] {0, 256 * KiB, 1 * MiB, 4 * MiB}[random.nextInt(4)];
        this.forceBounce = bounceBytes != 0 && random.nextInt(5) == 0;
        this.dynamicBounceBytes = bounceBytes != 0 && random.nextInt(4) == 0 ? 2 * MiB : 0;
    }

    private void randomRegions() {
        int count = 1 + random.nextInt(3);
        long base = FRAME * random.nextInt(8);
        for (int i = 0; i < count; i++) {
            long size = FRAME * (1 + random.nextInt(6));
            regions.add(new long[] {base, size});
            // A hole of random length, often across a zone boundary.
            long hole = random.nextBoolean() ? FRAME * random.nextInt(4) : (1L << (24 + random.nextInt(12)));
            base = alignUp(base + size + hole, FRAME);
        }
    }

    private static long alignUp(long value, long alignment) {
        return (value + alignment - 1) & -alignment;
    }

    SimulatedPlatform build() {
        SimulatedPlatform.Builder builder = SimulatedPlatform.builder().name("fuzz").zoneDmaBits(zoneDmaBits)
                .encryptionMask(encryptionMask).confidentialGuest(confidentialGuest)
                .atomicPools(atomicPoolBytes, atomicPoolMaxBytes);
        for (long[] region : regions) {
            builder.region(region[0], region[1]);
        }
        SwiotlbConfig bounce = bounceBytes == 0 ? SwiotlbConfig.none()
                : SwiotlbConfig.defaults().withBytes(bounceBytes).withForce(forceBounce).withDynamicMax(dynamicBounceBytes);
        return builder.bouncePool(bounce).build();
    }

    /** A device: coherent or not, maybe a bus limit, maybe a dma-range that moves all memory by an offset. */
    DeviceProperties device(String name) {
        DeviceProperties properties = DeviceProperties.simple(name).withCoherent(random.nextInt(3) != 0);
        if (random.nextInt(4) == 0) {
            properties = properties.withBusDmaLimit((1L << (24 + random.nextInt(17))) - 1);
        }
        if (random.nextInt(4) == 0) {
            properties = properties.withDmaRanges(List.of(randomRange()));
        }
        return properties;
    }

    private DmaRange randomRange() {
        long[] region = regions.get(random.nextInt(regions.size()));
        // Offsets in whole 2 KiB slots: some are not a multiple of a page (issue 15, finding 7).
        long slots = random.nextInt(4) == 0 ? 1 + random.nextInt(8) : (1L << (random.nextInt(20))) * 2;
        long cpuStart = random.nextBoolean() ? region[0] : 0;
        long size = region[0] + region[1] - cpuStart + (random.nextBoolean() ? 0 : 64 * GiB);
        long dmaStart = random.nextBoolean() ? cpuStart + slots * 2 * KiB : Math.max(0, cpuStart - slots * 2 * KiB);
        return new DmaRange(cpuStart, dmaStart, size);
    }

    @Override
    public String toString() {
        StringBuilder text = new StringBuilder("machine[");
        for (long[] region : regions) {
            text.append(String.format("0x%x+%dMiB ", region[0], region[1] / MiB));
        }
        return text.append("zone_dma_bits ").append(zoneDmaBits).append(", C-bit 0x").append(Long.toHexString(encryptionMask))
                .append(confidentialGuest ? ", confidential guest" : "").append(", atomic ").append(atomicPoolBytes / KiB)
                .append(atomicPoolMaxBytes != atomicPoolBytes ? " growing" : "").append(" KiB, bounce ").append(bounceBytes / KiB).append(" KiB").append(forceBounce ? " forced" : "")
                .append(dynamicBounceBytes != 0 ? " +dynamic" : "").append(']').toString();
    }
}
