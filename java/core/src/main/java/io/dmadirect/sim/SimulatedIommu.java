package io.dmadirect.sim;

import io.dmadirect.Sizes;
import io.dmadirect.spi.IovaRange;
import io.dmadirect.spi.IommuDomain;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * An IOMMU in memory: it records mappings like VFIO type1 does (no overlap, exact unmap, a limit on
 * the number of mappings) and translates a device's IOVA to the CPU address behind it, or faults.
 * With it, IOVA mode runs on the simulated machine and tests can play the device.
 */
public final class SimulatedIommu implements IommuDomain {
    /** VFIO type1's default {@code dma_entry_limit}. */
    public static final int DEFAULT_MAPPING_LIMIT = 65535;

    private final List<IovaRange> valid;
    private final int limit;
    private final TreeMap<Long, long[]> mappings = new TreeMap<>(); // iova -> {cpuAddress, size}
    private long faults;
    private boolean closed;

    public SimulatedIommu(List<IovaRange> validRanges, int mappingLimit) {
        this.valid = List.copyOf(validRanges);
        this.limit = mappingLimit;
    }

    /** What the rig's intel-iommu reports: 39 bits without the interrupt window 0xfee00000-0xfeefffff. */
    public static SimulatedIommu likeIntelIommu() {
        return new SimulatedIommu(List.of(new IovaRange(0, 0xfedf_ffffL), new IovaRange(0xfef0_0000L, (1L << 39) - 1)),
                DEFAULT_MAPPING_LIMIT);
    }

    @Override
    public String name() {
        return "simulated-iommu";
    }

    @Override
    public List<IovaRange> validRanges() {
        return valid;
    }

    @Override
    public synchronized long mappingsAvailable() {
        return limit - mappings.size();
    }

    @Override
    public synchronized void map(long iova, long cpuAddress, long size) {
        if (closed || size <= 0 || (iova & 0xfff) != 0 || (size & 0xfff) != 0 || mappings.size() >= limit) {
            throw new IllegalStateException("failed to map " + Sizes.hex(iova) + " (" + size + " bytes): "
                    + (closed ? "closed" : mappings.size() >= limit ? "mapping limit reached" : "unaligned"));
        }
        long last = iova + size - 1;
        if (valid.stream().noneMatch(r -> r.contains(iova) && r.contains(last))) {
            throw new IllegalStateException("failed to map " + Sizes.hex(iova) + ": outside the valid ranges " + valid);
        }
        Map.Entry<Long, long[]> below = mappings.floorEntry(last);
        if (below != null && below.getKey() + below.getValue()[1] > iova) {
            throw new IllegalStateException("failed to map " + Sizes.hex(iova) + ": overlaps " + Sizes.hex(below.getKey()));
        }
        mappings.put(iova, new long[] {cpuAddress, size});
    }

    @Override
    public synchronized void unmap(long iova, long size) {
        long[] m = mappings.get(iova);
        if (m == null || m[1] != size) {
            throw new IllegalStateException("failed to unmap " + Sizes.hex(iova) + " (" + size + " bytes): not one mapping");
        }
        mappings.remove(iova);
    }

    /** The CPU address the device reaches at {@code iova} for {@code length} bytes, or 0 (a fault, counted). */
    public synchronized long translate(long iova, long length) {
        Map.Entry<Long, long[]> e = mappings.floorEntry(iova);
        if (e != null && iova - e.getKey() + length <= e.getValue()[1]) {
            return e.getValue()[0] + (iova - e.getKey());
        }
        faults++;
        return 0;
    }

    public synchronized int mappingCount() {
        return mappings.size();
    }

    public synchronized long faults() {
        return faults;
    }

    @Override
    public synchronized void close() {
        closed = true;
        mappings.clear();
    }
}
