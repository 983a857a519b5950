package io.dmadirect.bench;

import io.dmadirect.Zone;
import io.dmadirect.direct.Lifecycle;
import io.dmadirect.memory.BuddyPageAllocator;
import io.dmadirect.memory.PageAllocator;
import io.dmadirect.sim.SimulatedMemory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.openjdk.jmh.annotations.*;

@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Benchmark)
public class ScratchPartsBenchmark {
    Lifecycle gate = new Lifecycle(() -> "x");
    PageAllocator pages;
    AtomicLong counter = new AtomicLong();
    ThreadLocal<Object> tl = ThreadLocal.withInitial(Object::new);

    @Setup
    public void setup() {
        pages = new BuddyPageAllocator(new SimulatedMemory(2L << 20, java.util.List.of(new long[] {4L << 30, 256L << 20}), 8L << 30));
    }

    @Benchmark
    public int gatePair() {
        int t = gate.enter("x");
        gate.exit(t);
        return t;
    }

    @Benchmark
    public long atomicIncDec() {
        counter.getAndIncrement();
        return counter.getAndDecrement();
    }

    @Benchmark
    public Object threadLocal() {
        return tl.get();
    }

    @Benchmark
    public long pagesPair() {
        long h = pages.allocPages(Zone.NORMAL, 4096, PageAllocator.NO_LIMIT, false);
        pages.free(h);
        return h;
    }

    @Benchmark
    public long pagesPairOwner() {
        long h = pages.allocPages(Zone.NORMAL, 4096, PageAllocator.NO_LIMIT, false);
        pages.setOwner(h, this);
        pages.free(h);
        return h;
    }
}
