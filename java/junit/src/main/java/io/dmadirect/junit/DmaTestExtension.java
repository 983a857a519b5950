package io.dmadirect.junit;

import io.dmadirect.DmaDevice;
import io.dmadirect.DmaMask;
import io.dmadirect.DmaPlatform;
import io.dmadirect.Sizes;
import io.dmadirect.host.PciSession;
import io.dmadirect.linux.hugepages.HugepageOptions;
import io.dmadirect.pci.AddressMode;
import io.dmadirect.pci.InterruptKind;
import io.dmadirect.pci.PciAddress;
import io.dmadirect.pci.PciDevice;
import io.dmadirect.sim.SimulatedPlatform;
import java.lang.reflect.Method;
import java.lang.reflect.Parameter;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.Extension;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.jupiter.api.extension.TestTemplateInvocationContext;
import org.junit.jupiter.api.extension.TestTemplateInvocationContextProvider;
import org.junit.platform.commons.support.AnnotationSupport;

/**
 * The extension behind {@link DmaTest} and {@link DmaShapes}: resolves a test's device parameters, and after
 * the test fails it on what it leaked (with the allocating call site) and on the agent's new findings.
 *
 * <p>One instance serves {@link DmaTest}; for {@link DmaShapes} each invocation gets its own instance that
 * knows its {@link Shape}, and the shapeless instance then stands aside so that the parameters have one
 * resolver.
 */
public final class DmaTestExtension implements ParameterResolver, BeforeEachCallback, AfterEachCallback,
        TestTemplateInvocationContextProvider {
    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(DmaTestExtension.class);
    private static final List<Class<?>> PARAMETERS = List.of(DmaDevice.class, PciDevice.class, DmaPlatform.class,
            DeviceUnderTest.class);

    private final Shape shape;

    /** The extension as {@code @ExtendWith} registers it. */
    public DmaTestExtension() {
        this(null);
    }

    private DmaTestExtension(Shape shape) {
        this.shape = shape;
    }

    // --- which instance serves a test -------------------------------------------------------------------

    private boolean serves(ExtensionContext context) {
        Optional<Method> method = context.getTestMethod();
        if (method.isEmpty()) {
            return false;
        }
        boolean template = AnnotationSupport.isAnnotated(method.get(), DmaShapes.class);
        return template == (shape != null);
    }

    @Override
    public boolean supportsTestTemplate(ExtensionContext context) {
        return shape == null && context.getTestMethod().map(m -> AnnotationSupport.isAnnotated(m, DmaShapes.class))
                .orElse(false);
    }

    @Override
    public Stream<TestTemplateInvocationContext> provideTestTemplateInvocationContexts(ExtensionContext context) {
        DmaShapes shapes = AnnotationSupport.findAnnotation(context.getRequiredTestMethod(), DmaShapes.class)
                .orElseThrow();
        if (shapes.value().length == 0) {
            throw new IllegalArgumentException("@DmaShapes({}) names no shape: leave it empty for all, or name some");
        }
        return Arrays.stream(shapes.value()).distinct().map(s -> new TestTemplateInvocationContext() {
            @Override
            public String getDisplayName(int invocationIndex) {
                return s.name().toLowerCase().replace('_', ' ');
            }

            @Override
            public List<Extension> getAdditionalExtensions() {
                return List.of(new DmaTestExtension(s));
            }
        });
    }

    // --- parameters -------------------------------------------------------------------------------------

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return serves(context) && parameter.getDeclaringExecutable() instanceof Method
                && PARAMETERS.contains(parameter.getParameter().getType());
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        DeviceUnderTest device = session(context).device;
        Class<?> type = parameter.getParameter().getType();
        if (type == DmaDevice.class) {
            return device.dma();
        }
        if (type == DmaPlatform.class) {
            return device.platform();
        }
        if (type == PciDevice.class) {
            return device.pci().orElseThrow(() -> new IllegalStateException("no PciDevice on " + device));
        }
        return device;
    }

    // --- before and after each test ----------------------------------------------------------------------

    @Override
    public void beforeEach(ExtensionContext context) {
        if (!serves(context)) {
            return;
        }
        context.getStore(NS).put("agentErrors", AgentFindings.errors());
        // The device is found here, not when the first parameter is resolved: a device that cannot be had must
        // skip (or fail) the test with its reason, which Jupiter would wrap as a parameter error.
        boolean takesDevice = Arrays.stream(context.getRequiredTestMethod().getParameterTypes()).anyMatch(PARAMETERS::contains);
        if (takesDevice) {
            session(context);
        }
    }

    @Override
    public void afterEach(ExtensionContext context) {
        if (!serves(context)) {
            return;
        }
        TestSession session = context.getStore(NS).get(TestSession.class, TestSession.class);
        StringBuilder problems = new StringBuilder();
        if (session != null) {
            problems.append(LeakReport.of(session.recorder, session.device));
        }
        Long before = context.getStore(NS).get("agentErrors", Long.class);
        long after = AgentFindings.errors();
        if (before != null && before >= 0 && after > before) {
            problems.append("the dmadirect agent found ").append(after - before)
                    .append(" DMA-API error(s) during this test:\n").append(AgentFindings.report()).append('\n');
        }
        if (problems.length() > 0) {
            throw new AssertionError(problems.toString().trim());
        }
    }

    // --- the device -----------------------------------------------------------------------------------------

    /** One test's device and recorder; closed (a simulated platform with it) by the store after the test. */
    static final class TestSession implements ExtensionContext.Store.CloseableResource, AutoCloseable {
        final DeviceUnderTest device;
        final RecordingDevice recorder;
        private final AutoCloseable owned;

        TestSession(DeviceUnderTest device, RecordingDevice recorder, AutoCloseable owned) {
            this.device = device;
            this.recorder = recorder;
            this.owned = owned;
        }

        @Override
        public void close() throws Exception {
            if (owned != null) {
                owned.close();
            }
        }
    }

    private TestSession session(ExtensionContext context) {
        return context.getStore(NS).getOrComputeIfAbsent(TestSession.class, k -> open(context), TestSession.class);
    }

    private TestSession open(ExtensionContext context) {
        Method method = context.getRequiredTestMethod();
        FaultPlan faults = FaultPlan.of(AnnotationSupport.findAnnotation(method, InjectFaults.class)
                .or(() -> AnnotationSupport.findAnnotation(context.getRequiredTestClass(), InjectFaults.class)).orElse(null));
        boolean wantsPci = Arrays.stream(method.getParameters()).map(Parameter::getType).anyMatch(PciDevice.class::equals);
        if (shape != null) {
            if (wantsPci) {
                throw new IllegalArgumentException("@DmaShapes runs on the simulated platform, which has no PciDevice: "
                        + "take a DmaDevice, or use @DmaTest for a real device");
            }
            int maskBits = AnnotationSupport.findAnnotation(method, DmaShapes.class).orElseThrow().maskBits();
            return simulated(shape, maskBits, faults, "simulated, " + shape.name().toLowerCase().replace('_', ' '));
        }
        DmaTest spec = AnnotationSupport.findAnnotation(method, DmaTest.class)
                .or(() -> AnnotationSupport.findAnnotation(context.getRequiredTestClass(), DmaTest.class))
                .orElseThrow(() -> new IllegalStateException("no @DmaTest on " + method));
        if (!spec.device().isEmpty()) {
            DeviceLocator.checkSpec(spec.device());
        }
        switch (spec.where()) {
            case SIMULATED:
                if (wantsPci) {
                    throw new IllegalArgumentException("@DmaTest(where = SIMULATED) has no PciDevice: use AUTO, RIG or HOST");
                }
                return simulated(Shape.STANDARD, spec.maskBits(), faults, "simulated");
            case RIG:
                if (!Requirements.inRig()) {
                    throw Requirements.unavailable("not in the QEMU rig guest: run this test with `dmadirect rig`",
                            Requirements.REQUIRE_RIG);
                }
                return real(spec, DmaTest.Where.RIG, faults);
            case HOST:
                return real(spec, DmaTest.Where.HOST, faults);
            default:
                if (wantsPci && spec.device().isEmpty()) {
                    throw new IllegalArgumentException("@DmaTest needs device = \"vendor:device\" (or class:0x..., edu, "
                            + "nvme) for a test that takes a PciDevice: " + method);
                }
                if (Requirements.inRig() && (wantsPci || located(spec, DmaTest.Where.RIG).isPresent())) {
                    return real(spec, DmaTest.Where.RIG, faults);
                }
                if (!Requirements.inRig() && located(spec, DmaTest.Where.HOST).isPresent()) {
                    return real(spec, DmaTest.Where.HOST, faults);
                }
                if (wantsPci) {
                    throw Requirements.unavailable("no " + describe(spec) + " bound to vfio-pci or uio_pci_generic on "
                            + "this host, and this is not the QEMU rig: run it with `dmadirect rig --device ...`",
                            Requirements.REQUIRE_RIG);
                }
                return simulated(Shape.STANDARD, spec.maskBits(), faults, "simulated");
        }
    }

    private static String describe(DmaTest spec) {
        return spec.device().isEmpty() ? "device" : "device " + spec.device();
    }

    private static Optional<String> located(DmaTest spec, DmaTest.Where where) {
        if (spec.device().isEmpty()) {
            return Optional.empty();
        }
        return DeviceLocator.find(spec.device(),
                where == DmaTest.Where.RIG ? DeviceLocator.rigCandidates() : DeviceLocator.hostCandidates());
    }

    private static TestSession simulated(Shape shape, int maskBits, FaultPlan faults, String description) {
        SimulatedPlatform platform = SimulatedShapes.platform(shape);
        try {
            DmaDevice device = platform.attach(SimulatedShapes.device(shape, "dut"));
            if (maskBits > 0) {
                device.setMaskAndCoherent(DmaMask.bits(maskBits));
            }
            RecordingDevice[] recorder = new RecordingDevice[1];
            DmaDevice watched = RecordingDevice.wrap(device, faults, recorder);
            return new TestSession(new DeviceUnderTest(DmaTest.Where.SIMULATED, description, platform, watched,
                    Optional.empty()), recorder[0], platform);
        } catch (RuntimeException e) {
            platform.close();
            throw e;
        }
    }

    private static TestSession real(DmaTest spec, DmaTest.Where where, FaultPlan faults) {
        String require = where == DmaTest.Where.RIG ? Requirements.REQUIRE_RIG : Requirements.REQUIRE_HOST;
        if (spec.device().isEmpty()) {
            throw new IllegalArgumentException("@DmaTest needs device = \"vendor:device\" (or class:0x..., edu, nvme) "
                    + "to find a real device");
        }
        Optional<String> bdf = located(spec, where);
        if (bdf.isEmpty()) {
            String reason = "no device " + spec.device() + " bound to vfio-pci or uio_pci_generic"
                    + (where == DmaTest.Where.RIG ? " among the rig's devices " + DeviceLocator.rigCandidates()
                    : " on this host");
            throw where == DmaTest.Where.RIG ? Requirements.unmetInRig(reason) : Requirements.unavailable(reason, require);
        }
        PciSession session = SharedSessions.get(bdf.get(), spec.memoryMiB() * Sizes.MiB);
        AddressMode mode = session.mode();
        if (spec.mode() != DmaTest.Mode.ANY && !spec.mode().name().equals(mode.name())) {
            String reason = "device " + bdf.get() + " runs in " + mode + " mode, the test needs " + spec.mode();
            throw where == DmaTest.Where.RIG ? Requirements.unmetInRig(reason) : Requirements.unavailable(reason, require);
        }
        PciDevice pci = session.pci();
        if (spec.interrupts() > 0) {
            int most = Arrays.stream(InterruptKind.values()).mapToInt(pci::interruptCount).max().orElse(0);
            if (most < spec.interrupts()) {
                String reason = "device " + bdf.get() + " offers " + most + " interrupt vector(s), the test needs "
                        + spec.interrupts();
                throw where == DmaTest.Where.RIG ? Requirements.unmetInRig(reason) : Requirements.unavailable(reason, require);
            }
        }
        DmaDevice dma = session.dma();
        dma.setMaskAndCoherent(spec.maskBits() > 0 ? DmaMask.bits(spec.maskBits()) : DmaMask.bits(32));
        RecordingDevice[] recorder = new RecordingDevice[1];
        DmaDevice watched = RecordingDevice.wrap(dma, faults, recorder);
        String description = where.name().toLowerCase() + " " + bdf.get() + " on " + pci.driver() + ", " + mode + " mode"
                + session.iommuName().map(n -> " through " + n).orElse("");
        // The session stays open for the JVM's later tests (opening one costs seconds under the rig's TCG).
        return new TestSession(new DeviceUnderTest(where, description, session.platform(), watched, Optional.of(pci)),
                recorder[0], null);
    }

    /** Real devices' sessions, opened once per JVM and closed when it exits. */
    static final class SharedSessions {
        private static final java.util.Map<String, PciSession> OPEN = new java.util.HashMap<>();

        private SharedSessions() {
        }

        static synchronized PciSession get(String bdf, long bytes) {
            PciSession session = OPEN.get(bdf);
            if (session == null) {
                session = PciSession.open(PciAddress.parse(bdf),
                        HugepageOptions.DEFAULTS.withInitialBytes(bytes).withName("dmadirect-junit"));
                if (OPEN.isEmpty()) {
                    Runtime.getRuntime().addShutdownHook(new Thread(SharedSessions::closeAll, "dmadirect-junit-close"));
                }
                OPEN.put(bdf, session);
            }
            return session;
        }

        private static synchronized void closeAll() {
            OPEN.values().forEach(PciSession::close);
            OPEN.clear();
        }
    }
}
