package io.dmadirect.junit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Declares the device a driver's test needs. The test's parameters then receive it: a
 * {@link io.dmadirect.DmaDevice}, a {@link io.dmadirect.pci.PciDevice} (real devices only), the
 * {@link io.dmadirect.DmaPlatform} and the {@link DeviceUnderTest} that holds them all.
 *
 * <pre>{@code
 * @DmaTest(device = "1234:11e8", maskBits = 28)
 * class EduRingTest {
 *     @Test
 *     void ringFits(DmaDevice dma) { ... }                 // simulated, or the real edu when bound
 *     @Test
 *     void roundTrip(DmaDevice dma, PciDevice pci) { ... }  // the real edu: on the host or in the rig
 * }
 * }</pre>
 *
 * <p>Where the device comes from ({@link #where()}): {@link Where#AUTO} takes the rig's device inside the QEMU
 * rig guest ({@code DMADIRECT_RIG=1}, devices in {@code DMADIRECT_RIG_*_BDF}), else a matching device bound to
 * vfio-pci or uio_pci_generic on this host, else the simulated platform; a test that asks for a
 * {@code PciDevice} has no simulated fallback. A device that cannot be had skips the test with the reason,
 * or fails it when {@code DMADIRECT_REQUIRE_RIG=1} (device and rig tests) or {@code DMADIRECT_REQUIRE_HOST=1}
 * ({@link Where#HOST}) says skipping is not allowed.
 *
 * <p>After each test, DMA memory, mappings and bounce slots the test left behind fail it, naming the call
 * site that allocated each; with the dmadirect agent loaded in debug mode, its new findings fail it too.
 * {@link InjectFaults} on the test makes chosen allocations or mappings fail.
 */
@Documented
@Inherited
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.TYPE, ElementType.METHOD})
@ExtendWith(DmaTestExtension.class)
public @interface DmaTest {
    /**
     * The device: {@code "VVVV:DDDD"} (vendor:device, hex), {@code "class:0xCCSSPP"}, or the rig's names
     * {@code "edu"} and {@code "nvme"}; empty for any device (policy tests on the simulated platform).
     */
    String device() default "";

    /** The DMA mask the driver sets (streaming and coherent), in bits; 0 leaves the kernel's default, 32. */
    int maskBits() default 0;

    /** Interrupt vectors the test needs (MSI-X, MSI or INTx, any kind); real devices only. */
    int interrupts() default 0;

    /** Where the device comes from. */
    Where where() default Where.AUTO;

    /** The address mode a real device must run in; {@link Mode#ANY} accepts either. */
    Mode mode() default Mode.ANY;

    /** Hugepage memory a real device's session takes, in MiB (PA mode takes what it can below the mask). */
    int memoryMiB() default 96;

    /** Where a test's device comes from. */
    enum Where {
        /** The rig guest's device, else the host's, else the simulated platform (if the test needs no PCI). */
        AUTO,
        /** The simulated platform ({@code io.dmadirect.sim.SimulatedPlatform}) always. */
        SIMULATED,
        /** The QEMU rig guest's device: skipped elsewhere, failed under {@code DMADIRECT_REQUIRE_RIG=1}. */
        RIG,
        /** A device bound on this host: skipped when none is, failed under {@code DMADIRECT_REQUIRE_HOST=1}. */
        HOST
    }

    /** The address mode of a real device's session. */
    enum Mode {
        ANY,
        /** Physical addresses: UIO or VFIO no-IOMMU. */
        PA,
        /** IOVAs through an IOMMU: VFIO type1 or iommufd. */
        IOVA
    }
}
