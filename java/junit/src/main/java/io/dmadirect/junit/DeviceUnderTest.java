package io.dmadirect.junit;

import io.dmadirect.DmaDevice;
import io.dmadirect.DmaPlatform;
import io.dmadirect.pci.PciDevice;
import io.dmadirect.sim.SimulatedPlatform;
import java.util.Optional;

/**
 * What a test received: where it came from, the platform, the DMA device the test's driver uses (watched for
 * leaks and, with {@link InjectFaults}, failing on purpose), and the PCI device on real hardware.
 *
 * @param where       {@link DmaTest.Where#SIMULATED}, {@link DmaTest.Where#RIG} or {@link DmaTest.Where#HOST}
 * @param description one line for the test's log: the shape, or the device's address, driver and mode
 * @param platform    the platform the device is attached to
 * @param dma         the device to hand the driver
 * @param pci         the PCI device, empty on the simulated platform
 */
public record DeviceUnderTest(DmaTest.Where where, String description, DmaPlatform platform, DmaDevice dma,
        Optional<PciDevice> pci) {

    /** {@return the simulated platform, to play the device (its bus masters, encryption, caches)} */
    public Optional<SimulatedPlatform> simulated() {
        return platform instanceof SimulatedPlatform ? Optional.of((SimulatedPlatform) platform) : Optional.empty();
    }

    @Override
    public String toString() {
        return description;
    }
}
