package io.dmadirect.linux.pci;

import io.dmadirect.pci.PciDevice;

/**
 * A PCI device whose config space is a region of a file, read and written by offset: VFIO's config
 * region, or the sysfs {@code config} file under UIO. The accessors are the same for both.
 */
public abstract class ConfigRegionDevice implements PciDevice {

    /** The config space region. */
    protected abstract RegionIo config();

    @Override
    public int vendorId() {
        return readConfig16(0);
    }

    @Override
    public int deviceId() {
        return readConfig16(2);
    }

    @Override
    public int readConfig8(int offset) {
        return config().read8(offset);
    }

    @Override
    public int readConfig16(int offset) {
        return config().read16(offset);
    }

    @Override
    public int readConfig32(int offset) {
        return config().read32(offset);
    }

    @Override
    public void writeConfig8(int offset, int value) {
        config().write8(offset, value);
    }

    @Override
    public void writeConfig16(int offset, int value) {
        config().write16(offset, value);
    }

    @Override
    public void writeConfig32(int offset, int value) {
        config().write32(offset, value);
    }
}
