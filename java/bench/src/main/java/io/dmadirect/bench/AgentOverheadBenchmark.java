package io.dmadirect.bench;

import static io.dmadirect.Sizes.GiB;
import static io.dmadirect.Sizes.MiB;

import com.sun.tools.attach.VirtualMachine;
import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaAttr;
import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaMask;
import io.dmadirect.sim.SimulatedPlatform;
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
 * What the javaagent costs: one coherent allocate/free pair with no agent (the anchor), with
 * {@code mode=trace}, and with {@code mode=debug}, in the same run. Each fork loads the agent into
 * itself (a dynamic attach) before measuring, so they differ only in the agent. {@code debug-nopoison} is
 * debug without the poisoning and quarantine of freed memory ({@code poison=false}). The agent jar is
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

    @Param({"none", "trace", "debug", "debug-nopoison"})
    String agent;

    @Param({"64", "4096"})
    int size;

    SimulatedPlatform platform;
    DmaDevice device;

    @Setup(Level.Trial)
    public void open() throws Exception {
        if (!agent.equals("none")) {
            VirtualMachine self = VirtualMachine.attach(String.valueOf(ProcessHandle.current().pid()));
            try {
                String options = agent.equals("debug-nopoison") ? "mode=debug,poison=false" : "mode=" + agent;
                self.loadAgent(agentJar(), options + ",packages=io.dmadirect.bench");
            } finally {
                self.detach();
            }
        }
        platform = SimulatedPlatform.builder().region(0, 16 * MiB).region(GiB, 256 * MiB).region(4 * GiB, 256 * MiB)
                .build();
        device = platform.attach(DeviceProperties.simple("bench"));
        device.setMaskAndCoherent(DmaMask.BITS_64);
    }

    @TearDown(Level.Trial)
    public void close() {
        platform.close();
    }

    @Benchmark
    public long allocFree() {
        DmaBuffer buffer = device.allocCoherent(size, DmaAttr.SKIP_ZEROING);
        long address = buffer.dmaAddress();
        buffer.close();
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
