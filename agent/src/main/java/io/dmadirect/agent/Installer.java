package io.dmadirect.agent;

import static net.bytebuddy.matcher.ElementMatchers.hasSuperType;
import static net.bytebuddy.matcher.ElementMatchers.isAbstract;
import static net.bytebuddy.matcher.ElementMatchers.isInterface;
import static net.bytebuddy.matcher.ElementMatchers.isSynthetic;
import static net.bytebuddy.matcher.ElementMatchers.nameStartsWith;
import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.not;
import static net.bytebuddy.matcher.ElementMatchers.takesArgument;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import io.dmadirect.agent.bootstrap.DmaHooks;
import java.io.IOException;
import java.lang.instrument.Instrumentation;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import net.bytebuddy.ByteBuddy;
import net.bytebuddy.agent.builder.AgentBuilder;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.asm.AsmVisitorWrapper;
import net.bytebuddy.description.method.MethodDescription;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.matcher.ElementMatcher;
import net.bytebuddy.matcher.ElementMatchers;

/**
 * Installs the agent: the dispatcher for the modes asked for, the advice on every {@code DmaDevice},
 * {@code DmaMapping} and {@code ScatterList} implementation (matched by type, not by name), for injection
 * the library's bounce overrides ({@code BounceOverrides}, the process-wide {@code swiotlb=force} and pool
 * size: public configuration, no rewritten internals), the call-site rewriting of driver classes, the MBean
 * and the report at exit. Classes already loaded are retransformed, so a dynamic attach works too.
 */
final class Installer {
    private static final String DMA_DEVICE = "io.dmadirect.DmaDevice";
    private static final String DMA_MASK = "io.dmadirect.DmaMask";
    private static final String DMA_ATTR_ARRAY = "io.dmadirect.DmaAttr[]";
    /** {@code close()} and the unmap with attributes {@code closeWith(DmaAttr...)}: neither calls the other. */
    private static final ElementMatcher.Junction<MethodDescription> CLOSE_WITH_OR_WITHOUT_ATTRS =
            named("close").and(takesArguments(0))
                    .or(named("closeWith").and(takesArguments(1)).and(takesArgument(0, named(DMA_ATTR_ARRAY))));
    private static final String DMA_MAPPING = "io.dmadirect.DmaMapping";
    private static final String SCATTER_LIST = "io.dmadirect.ScatterList";
    private static final String DMA_POOL = "io.dmadirect.DmaPool";
    private static final String SIM_PLATFORM = "io.dmadirect.sim.SimulatedPlatform";
    private static final String SIM_BUS_MASTER = "io.dmadirect.sim.SimulatedBusMaster";
    private static final String BYTE_BUFFER = "java.nio.ByteBuffer";
    private static final ElementMatcher.Junction<MethodDescription> SYNC = ElementMatchers.namedOneOf("syncForCpu",
            "syncForDevice");
    /** The package of the library's public test and debug knobs that forceBounce= and bounceBytes= set. */
    private static final String KNOBS_PACKAGE = "io.dmadirect.swiotlb";

    private Installer() {
    }

    static void start(String args, Instrumentation inst, boolean atStartup) throws IOException {
        AgentOptions options = AgentOptions.parse(args);
        AgentDispatcher running = AgentDispatcher.current();
        if (running == null) {
            running = install(options, inst, atStartup);
        } else if (options.dump == null) {
            System.err.println("dmadirect-agent: already running with mode=" + running.options.modeName()
                    + "; options of a second load are ignored except dump=");
        }
        if (options.dump != null) {
            Files.writeString(Path.of(options.dump), Reports.dump(running), StandardCharsets.UTF_8);
        }
    }

    private static AgentDispatcher install(AgentOptions options, Instrumentation inst, boolean atStartup) {
        Findings findings = new Findings(options, System.err);
        AgentDispatcher dispatcher = new AgentDispatcher(options, findings, atStartup);
        if (options.inject) {
            DmaHooks.maskBits = options.maskBits;
            if (options.forceBounce || options.bounceBytes > 0) {
                Bounce.configure(inst, options.forceBounce, options.bounceBytes);
            }
        }
        DmaHooks.dispatcher = dispatcher;
        AgentMBean.register(dispatcher);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> atExit(dispatcher), "dmadirect-agent-report"));

        ElementMatcher.Junction<TypeDescription> devices = not(isInterface()).and(not(isAbstract()))
                .and(hasSuperType(named(DMA_DEVICE)));
        ElementMatcher<TypeDescription> driverCode = type -> options.isDriverClass(type.getName());
        boolean flagNonDma = options.debug && options.nonDmaMemory && !options.packages.isEmpty();
        // Byte Buddy by default leaves synthetic methods out of every transformation; a lambda's body is one
        // (lambda$main$0), so its DMA calls would get no call-site number and its handlers no catch hook.
        // Nothing is added to any method but what the visitors below emit, so instrumenting them is safe.
        new AgentBuilder.Default(new ByteBuddy().ignore(ElementMatchers.none()))
                .disableClassFormatChanges()
                .with(AgentBuilder.RedefinitionStrategy.RETRANSFORMATION)
                // Should anything still load a class during the retransformation (below), look again until the
                // set of loaded classes stops growing, and retransform what joined it.
                .with(AgentBuilder.RedefinitionStrategy.DiscoveryStrategy.Reiterating.INSTANCE)
                // Describe classes from their class files, also those already loaded. The default (HYBRID)
                // describes a loaded class by reflection, and reflecting on it while it is retransformed loads
                // and links what its signatures name (NvmeController's methods name NvmeQueuePair) inside
                // Byte Buddy's transformer, whose circularity guard then leaves those classes untransformed;
                // loaded after the retransformation listed the loaded classes, they were never retransformed
                // either (the rig's dynamic attach: NvmeQueuePair's call sites not rewritten).
                .with(AgentBuilder.DescriptionStrategy.Default.POOL_FIRST)
                .with(new TransformErrors(System.err))
                .ignore(nameStartsWith("java.").or(nameStartsWith("jdk.")).or(nameStartsWith("sun."))
                        .or(nameStartsWith("com.sun.")).or(nameStartsWith("io.dmadirect.agent."))
                        .or(nameStartsWith("net.bytebuddy.")).or(isSynthetic()))
                .type(devices)
                .transform((builder, type, loader, module, domain) -> {
                    builder = builder
                            .visit(AdviceFaults.guarded(DeviceAdvice.Alloc.class).on(named("allocCoherent")
                                    .and(takesArguments(2)).and(takesArgument(1, named(DMA_ATTR_ARRAY))
                                            .or(takesArgument(1, int.class)))))
                            .visit(AdviceFaults.guarded(DeviceAdvice.Free.class).on(named("freeCoherent").and(takesArguments(1))))
                            .visit(AdviceFaults.guarded(DeviceAdvice.Close.class).on(named("close").and(takesArguments(0))))
                            .visit(AdviceFaults.guarded(DeviceAdvice.CreatePool.class).on(named("createPool")))
                            .visit(AdviceFaults.guarded(PagesAdvice.Alloc.class).on(ElementMatchers.namedOneOf(
                                    "allocPages", "allocNoncontiguous").and(takesArguments(3))))
                            .visit(AdviceFaults.guarded(PagesAdvice.Free.class).on(ElementMatchers.namedOneOf(
                                    "freePages", "freeNoncontiguous").and(takesArguments(1))))
                            .visit(AdviceFaults.guarded(StreamingAdvice.MapBuffer.class).on(named("map")
                                    .and(takesArgument(0, named(BYTE_BUFFER)))))
                            .visit(AdviceFaults.guarded(StreamingAdvice.MapArray.class).on(named("map").and(takesArguments(5))
                                    .and(takesArgument(0, byte[].class))))
                            .visit(AdviceFaults.guarded(StreamingAdvice.MapSg.class).on(named("mapSg").and(takesArguments(3))))
                            .visit(AdviceFaults.guarded(StreamingAdvice.Unmap.class).on(named("unmap")
                                    .and(takesArguments(1).or(takesArguments(2).and(takesArgument(1, named(DMA_ATTR_ARRAY)))))
                                    .and(takesArgument(0, named(DMA_MAPPING)))))
                            .visit(AdviceFaults.guarded(StreamingAdvice.Sync.class).on(SYNC.and(takesArguments(2))))
                            .visit(AdviceFaults.guarded(StreamingAdvice.SyncRange.class).on(SYNC.and(takesArguments(4))))
                            .visit(AdviceFaults.guarded(PrimitiveAdvice.MapSingleBuffer.class).on(named("mapSingle")
                                    .and(takesArguments(5)).and(takesArgument(0, named(BYTE_BUFFER)))))
                            .visit(AdviceFaults.guarded(PrimitiveAdvice.MapSingleAddress.class).on(named("mapSingle")
                                    .and(takesArguments(4)).and(takesArgument(0, long.class))))
                            .visit(AdviceFaults.guarded(PrimitiveAdvice.UnmapAddress.class).on(ElementMatchers.namedOneOf(
                                    "unmapSingle", "unmapResource").and(takesArguments(4))))
                            .visit(AdviceFaults.guarded(PrimitiveAdvice.SyncSingle.class).on(ElementMatchers.namedOneOf(
                                    "syncSingleForCpu", "syncSingleForDevice").and(takesArguments(3))))
                            .visit(AdviceFaults.guarded(PrimitiveAdvice.MapSgArray.class).on(named("mapSg").and(takesArguments(5))
                                    .and(takesArgument(0, named(BYTE_BUFFER + "[]")))))
                            .visit(AdviceFaults.guarded(PrimitiveAdvice.UnmapSgArray.class).on(named("unmapSg")
                                    .and(takesArguments(5))))
                            .visit(AdviceFaults.guarded(PrimitiveAdvice.SyncSgArray.class).on(ElementMatchers.namedOneOf(
                                    "syncSgForCpu", "syncSgForDevice").and(takesArguments(4))))
                            .visit(AdviceFaults.guarded(PrimitiveAdvice.MapResource.class).on(named("mapResource")
                                    .and(takesArguments(4))));
                    if (options.inject && options.maskBits > 0) {
                        builder = builder.visit(AdviceFaults.guarded(DeviceAdvice.Mask.class).on(
                                ElementMatchers.namedOneOf("setDmaMask", "setCoherentMask")
                                        .and(takesArguments(1)).and(takesArgument(0, named(DMA_MASK)))));
                    }
                    return builder;
                })
                .type(not(isInterface()).and(not(isAbstract())).and(hasSuperType(named(DMA_POOL))))
                .transform((builder, type, loader, module, domain) -> builder
                        .visit(AdviceFaults.guarded(PoolAdvice.Alloc.class).on(ElementMatchers.namedOneOf("alloc", "zalloc")
                                .and(takesArguments(1)).and(takesArgument(0, int.class))))
                        .visit(AdviceFaults.guarded(PoolAdvice.AllocBlock.class).on(ElementMatchers.namedOneOf("allocBlock",
                                "zallocBlock").and(takesArguments(1))))
                        .visit(AdviceFaults.guarded(PoolAdvice.Free.class).on(named("free").and(takesArguments(1))
                                .and(takesArgument(0, long.class))))
                        .visit(AdviceFaults.guarded(PoolAdvice.Destroy.class).on(named("close").and(takesArguments(0)))))
                .type(not(isInterface()).and(not(isAbstract())).and(hasSuperType(named(DMA_MAPPING))))
                .transform((builder, type, loader, module, domain) -> builder.visit(
                        AdviceFaults.guarded(StreamingAdvice.MappingClose.class).on(CLOSE_WITH_OR_WITHOUT_ATTRS)))
                .type(not(isInterface()).and(not(isAbstract())).and(hasSuperType(named(SCATTER_LIST))))
                .transform((builder, type, loader, module, domain) -> builder.visit(
                        AdviceFaults.guarded(StreamingAdvice.SgClose.class).on(CLOSE_WITH_OR_WITHOUT_ATTRS)))
                // mode=debug: the simulated DMA engine faults an access to memory the driver released (DeviceAccessChecks).
                .type(options.debug ? named(SIM_PLATFORM) : ElementMatchers.none())
                .transform((builder, type, loader, module, domain) -> builder.visit(
                        AdviceFaults.guarded(BusMasterAdvice.Created.class).on(named("busMaster").and(takesArguments(2)))))
                .type(options.debug ? named(SIM_BUS_MASTER) : ElementMatchers.none())
                .transform((builder, type, loader, module, domain) -> builder
                        .visit(AdviceFaults.guarded(BusMasterAdvice.Write.class).on(named("write")
                                .and(takesArguments(2)).and(takesArgument(0, long.class))))
                        .visit(AdviceFaults.guarded(BusMasterAdvice.Read.class).on(named("read")
                                .and(takesArguments(2)).and(takesArgument(0, long.class)))))
                .type(driverCode)
                // invokable, not method: constructors call the DMA API too (the NVMe driver's queue pairs allocate in theirs)
                .transform((builder, type, loader, module, domain) -> builder.visit(
                        new AsmVisitorWrapper.ForDeclaredMethods().invokable(ElementMatchers.any(),
                                new CallSiteVisitor(flagNonDma, options.debug))))
                .installOn(inst);
        System.err.println("dmadirect-agent: mode=" + options.modeName()
                + (options.packages.isEmpty() ? "" : ", packages=" + String.join(":", options.packages))
                + (atStartup ? "" : ", attached at run time (buffers allocated before are not tracked)"));
        return dispatcher;
    }

    private static void atExit(AgentDispatcher d) {
        try {
            if (d.debug != null) {
                d.debug.atExit();
                d.streaming.atExit();
                d.primitive.atExit();
                d.pages.atExit();
            }
            String text = Reports.text(d);
            System.err.print(text);
            if (d.options.report != null) {
                Files.writeString(Path.of(d.options.report + ".txt"), text, StandardCharsets.UTF_8);
                Files.writeString(Path.of(d.options.report + ".json"), Reports.json(d), StandardCharsets.UTF_8);
            }
            String failure = d.findings.failure();
            if (d.options.failOnError && failure != null) {
                System.err.println("dmadirect-agent: " + failure + " and failOnError=true: exiting with status 1");
                System.err.flush();
                Runtime.getRuntime().halt(1);
            }
        } catch (Throwable e) {
            System.err.println("dmadirect-agent: failed to write the report at exit: " + e);
        }
    }

    /**
     * Sets the library's bounce overrides. When the library is a named module (module path), the agent, which
     * the JVM always loads in the unnamed module, is not among the readers of {@value #KNOBS_PACKAGE}; it uses
     * its instrumentation right to export that one package to itself first, before this nested class links
     * against it. On the class path the package is open to every class already.
     */
    private static final class Bounce {
        static void configure(Instrumentation inst, boolean force, long bytes) {
            Module library = io.dmadirect.DmaDevice.class.getModule();
            Module agent = Installer.class.getModule();
            if (library.isNamed() && !library.isExported(KNOBS_PACKAGE, agent)) {
                inst.redefineModule(library, Set.of(), Map.of(KNOBS_PACKAGE, Set.of(agent)), Map.of(), Set.of(), Map.of());
            }
            Knobs.set(force, bytes);
        }
    }

    /** The only class of the agent that names {@code BounceOverrides}: linked after {@link Bounce} exported its package. */
    private static final class Knobs {
        static void set(boolean force, long bytes) {
            if (force) {
                io.dmadirect.swiotlb.BounceOverrides.setForced(true);
            }
            if (bytes > 0) {
                io.dmadirect.swiotlb.BounceOverrides.setPoolBytes(bytes);
            }
        }
    }
}
