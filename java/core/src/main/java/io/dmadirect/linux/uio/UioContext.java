package io.dmadirect.linux.uio;

import io.dmadirect.linux.Syscalls;
import io.dmadirect.linux.sysfs.PciBus;
import io.dmadirect.pci.AddressMode;
import io.dmadirect.pci.IommuContext;
import io.dmadirect.pci.PciAddress;
import io.dmadirect.spi.IommuDomain;
import java.util.Optional;

/**
 * The context of devices bound to uio_pci_generic: no IOMMU and nothing to open besides the device, so PA mode
 * and no domain. Closing it closes nothing; each device closes its own files.
 */
public final class UioContext implements IommuContext {
    private final Syscalls sys;
    private final PciBus bus;

    public UioContext(Syscalls sys, PciBus bus) {
        this.sys = sys;
        this.bus = bus;
    }

    @Override
    public String name() {
        return "uio";
    }

    @Override
    public AddressMode mode() {
        return AddressMode.PA;
    }

    @Override
    public UioPciDevice openDevice(PciAddress address) {
        return UioPciDevice.open(sys, bus, address);
    }

    @Override
    public Optional<IommuDomain> domain() {
        return Optional.empty();
    }

    @Override
    public void close() {
        // nothing is held besides the devices
    }
}
