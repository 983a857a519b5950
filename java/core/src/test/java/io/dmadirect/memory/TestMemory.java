package io.dmadirect.memory;

import io.dmadirect.spi.MemoryRun;
import io.dmadirect.spi.PhysicalMemory;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Physical memory for tests: runs at chosen physical addresses, each backed by a direct buffer so that
 * {@code cpuView} shows real bytes. CPU addresses are distinct fake numbers (they are only compared).
 */
final class TestMemory implements PhysicalMemory {
    private static final long CPU_BASE = 0x7f00_0000_0000L;

    private final long frameSize;
    private final List<MemoryRun> runs = new ArrayList<>();
    private final List<MemoryRun> growable = new ArrayList<>();
    final AtomicInteger growCalls = new AtomicInteger();
    private long nextCpu = CPU_BASE;

    TestMemory(long frameSize) {
        this.frameSize = frameSize;
    }

    /** Adds a run now. */
    TestMemory run(long physBase, long size) {
        runs.add(newRun(physBase, size));
        return this;
    }

    /** Adds a run that the first {@link #grow} call hands out. */
    TestMemory growRun(long physBase, long size) {
        growable.add(newRun(physBase, size));
        return this;
    }

    private MemoryRun newRun(long physBase, long size) {
        ByteBuffer buffer = ByteBuffer.allocateDirect(Math.toIntExact(size));
        long cpu = nextCpu;
        nextCpu += size + (1L << 30); // a gap, so runs are never CPU-contiguous by accident
        return new MemoryRun() {
            @Override
            public long frameBase() {
                return physBase;
            }

            @Override
            public long size() {
                return size;
            }

            @Override
            public long cpuAddress() {
                return cpu;
            }

            @Override
            public ByteBuffer cpuView(long offset, int length) {
                return buffer.slice(Math.toIntExact(offset), length);
            }
        };
    }

    @Override
    public long frameSize() {
        return frameSize;
    }

    @Override
    public synchronized List<MemoryRun> runs() {
        return List.copyOf(runs);
    }

    @Override
    public synchronized List<MemoryRun> grow(long minBytes) {
        growCalls.incrementAndGet();
        List<MemoryRun> out = List.copyOf(growable);
        runs.addAll(growable);
        growable.clear();
        return out;
    }

    @Override
    public long systemMaxPhysAddress() {
        return runs.stream().mapToLong(r -> r.frameBase() + r.size() - 1).max().orElse(0);
    }

    @Override
    public void close() {
    }
}
