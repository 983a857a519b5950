package io.dmadirect.bench;

import static io.dmadirect.Sizes.GiB;
import static io.dmadirect.Sizes.MiB;

import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaAttr;
import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaDirection;
import io.dmadirect.DmaMapping;
import io.dmadirect.DmaMask;
import io.dmadirect.sim.SimulatedPlatform;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import javax.management.ObjectName;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What the javaagent costs: one coherent allocate/free pair, and one map/unmap pair (direct and
 * bounced), with no agent (the anchor, {@link Bare}), with {@code mode=trace} ({@link Trace}), with
 * {@code mode=debug} ({@link Debug}) and with debug plus the opt-in poisoning and quarantine of freed memory
 * ({@link DebugPoison}). The four are subclasses of this one, so one JMH run measures them all, and their
 * forks differ only in the {@code -javaagent} argument: the agent is loaded at JVM start, as a driver loads
 * it, not attached later. The agent's {@code packages=} names this package, so the benchmark's calls are
 * call sites the agent rewrites, as a driver's are.
 *
 * <p>The agent jar is {@code agent/target/dmadirect-agent.jar} relative to the working directory (a JMH
 * fork inherits it): run from the repository root, as {@code java/bench/run-benchmarks.sh} does after
 * building the jar. A fork that cannot open the jar does not start, and a fork whose agent did not install
 * fails its setup, so a ratio never silently compares two bare runs.
 *
 * <p>Targets (issue 19): trace at most 1.5x the bare call, debug at most 3x.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@State(Scope.Benchmark)
public abstract class AgentOverheadBenchmark {
    /** Where the forks find the agent: the repository's build output, relative to the working directory. */
    static final String AGENT = "-javaagent:agent/target/dmadirect-agent.jar=packages=io.dmadirect.bench,";

    /** The anchor: no agent. */
    @Fork(value = 1, jvmArgsAppend = "-Xmx1g")
    public static class Bare extends AgentOverheadBenchmark {
        /** The agent's mode, a parameter of one value so that the report can name the column. */
        @Param("none")
        String agent;
    }

    /** {@code mode=trace}: counters and latency histograms. */
    @Fork(value = 1, jvmArgsAppend = {"-Xmx1g", AGENT + "mode=trace"})
    public static class Trace extends AgentOverheadBenchmark {
        /** The agent's mode, a parameter of one value so that the report can name the column. */
        @Param("trace")
        String agent;
    }

    /** {@code mode=debug}: the dma-debug checks. */
    @Fork(value = 1, jvmArgsAppend = {"-Xmx1g", AGENT + "mode=debug"})
    public static class Debug extends AgentOverheadBenchmark {
        /** The agent's mode, a parameter of one value so that the report can name the column. */
        @Param("debug")
        String agent;
    }

    /** {@code mode=debug,poison=true}: freed coherent memory poisoned and held in quarantine. */
    @Fork(value = 1, jvmArgsAppend = {"-Xmx1g", AGENT + "mode=debug,poison=true"})
    public static class DebugPoison extends AgentOverheadBenchmark {
        /** The agent's mode, a parameter of one value so that the report can name the column. */
        @Param("debug-poison")
        String agent;
    }

    @Param({"64", "4096"})
    int size;

    SimulatedPlatform platform;
    DmaDevice device;
    /** Coherent memory: pinned, so its mapping is direct. */
    DmaBuffer pinned;
    ByteBuffer directBuffer;
    /** A plain direct ByteBuffer: not pinned on the simulated platform, so its mapping bounces (and copies). */
    ByteBuffer bounceBuffer;
    /** {@code allocCoherent(long, int)}'s attributes, as drivers pass them: a bit set, no varargs array. */
    static final int SKIP_ZEROING = DmaAttr.flags(DmaAttr.SKIP_ZEROING);

    @Setup(Level.Trial)
    public void open() throws Exception {
        boolean agentLoaded = ManagementFactory.getPlatformMBeanServer()
                .isRegistered(new ObjectName("io.dmadirect:type=Agent"));
        if (agentLoaded == (this instanceof Bare)) {
            throw new IllegalStateException("failed to set up " + getClass().getSimpleName() + ": the agent is "
                    + (agentLoaded ? "loaded in the bare fork" : "not loaded; run from the repository root after"
                    + " building agent/target/dmadirect-agent.jar (java/bench/run-benchmarks.sh does both)"));
        }
        platform = SimulatedPlatform.builder().region(0, 16 * MiB).region(GiB, 256 * MiB).region(4 * GiB, 256 * MiB)
                .build();
        device = platform.attach(DeviceProperties.simple("bench"));
        device.setMaskAndCoherent(DmaMask.BITS_64);
        pinned = device.allocCoherent(Math.max(size, 4096), 0);
        directBuffer = pinned.cpuView().slice(0, size);
        bounceBuffer = ByteBuffer.allocateDirect(size);
    }

    @TearDown(Level.Trial)
    public void close() {
        pinned.close();
        platform.close();
    }

    @Benchmark
    public long allocFree() {
        DmaBuffer buffer = device.allocCoherent(size, SKIP_ZEROING);
        long address = buffer.dmaAddress();
        buffer.close();
        return address;
    }

    /** {@code dma_map_single} + {@code dma_unmap_single} of pinned memory: a table lookup, no copy. */
    @Benchmark
    public long mapUnmapDirect() {
        return mapUnmap(directBuffer);
    }

    /** The same through the bounce pool: slots taken and released, {@code size} bytes copied in. */
    @Benchmark
    public long mapUnmapBounced() {
        return mapUnmap(bounceBuffer);
    }

    private long mapUnmap(ByteBuffer buffer) {
        DmaMapping m = device.map(buffer, DmaDirection.TO_DEVICE);
        long address = m.dmaAddress();
        m.close();
        return address;
    }
}
