package io.dmadirect.bench;

import static io.dmadirect.Sizes.GiB;
import static io.dmadirect.Sizes.MiB;

import com.sun.tools.attach.VirtualMachine;
import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaAttr;
import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaDirection;
import io.dmadirect.DmaMapping;
import io.dmadirect.DmaMask;
import io.dmadirect.sim.SimulatedPlatform;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
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
 * bounced), with no agent (the anchor), with {@code mode=trace}, and with {@code mode=debug}, in the same
 * run. Each fork loads the agent into itself (a dynamic attach) before measuring, so they differ only in
 * the agent. {@code debug-poison} is debug with the opt-in poisoning and quarantine of freed memory
 * ({@code poison=true}). The agent jar is
 * {@code -Ddmadirect.agent.jar=...}, or {@code agent/target/dmadirect-agent.jar} under the working
 * directory or its parents.
 *
 * <p>Targets (docs/benchmarks.md): trace at most 1.5x the bare call, debug at most 5x.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xmx1g", "-Djdk.attach.allowAttachSelf=true", "-XX:+IgnoreUnrecognizedVMOptions",
        "-XX:+EnableDynamicAgentLoading"})
@State(Scope.Benchmark)
public class AgentOverheadBenchmark {

    @Param({"none", "trace", "debug", "debug-poison"})
    String agent;

    @Param({"64", "4096"})
    int size;

    SimulatedPlatform platform;
    DmaDevice device;
    /** Coherent memory: pinned, so its mapping is direct. */
    DmaBuffer pinned;
    ByteBuffer directBuffer;
    /** A plain direct ByteBuffer: not pinned on the simulated platform, so its mapping bounces (and copies). */
    ByteBuffer bounceBuffer;

    @Setup(Level.Trial)
    public void open() throws Exception {
        if (!agent.equals("none")) {
            VirtualMachine self = VirtualMachine.attach(String.valueOf(ProcessHandle.current().pid()));
            try {
                String options = agent.equals("debug-poison") ? "mode=debug,poison=true" : "mode=" + agent;
                self.loadAgent(agentJar(), options + ",packages=io.dmadirect.bench");
            } finally {
                self.detach();
            }
        }
        platform = SimulatedPlatform.builder().region(0, 16 * MiB).region(GiB, 256 * MiB).region(4 * GiB, 256 * MiB)
                .build();
        device = platform.attach(DeviceProperties.simple("bench"));
        device.setMaskAndCoherent(DmaMask.BITS_64);
        pinned = device.allocCoherent(Math.max(size, 4096));
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
        DmaBuffer buffer = device.allocCoherent(size, DmaAttr.SKIP_ZEROING);
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

    static String agentJar() {
        String given = System.getProperty("dmadirect.agent.jar");
        if (given != null) {
            return given;
        }
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path jar = dir.resolve("agent/target/dmadirect-agent.jar");
            if (Files.isRegularFile(jar)) {
                return jar.toString();
            }
        }
        throw new IllegalStateException("failed to find the agent jar: build it (mvn -pl agent package) and pass"
                + " -Ddmadirect.agent.jar=<path>, or run from the repository");
    }
}
