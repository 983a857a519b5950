package io.dmadirect.linux.pci;

import io.dmadirect.linux.LinuxException;
import io.dmadirect.linux.Syscalls;
import io.dmadirect.pci.MmioRegion;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A device region reached by one {@code pread}/{@code pwrite} of the access width per access, at
 * {@code base + offset} of a file: VFIO regions that may not be mmapped (a BAR holding the MSI-X
 * table offers only a sparse mmap, NVMe's BAR0 in QEMU), VFIO's config region, and sysfs
 * {@code config} for UIO. vfio-pci turns each into one access of the same width on the device.
 *
 * @see <a href="https://elixir.bootlin.com/linux/v6.1/source/drivers/vfio/pci/vfio_pci_rdwr.c">vfio_pci_rdwr.c</a>
 */
public final class RegionIo implements MmioRegion {
    private final Syscalls sys;
    private final int fd;
    private final int index;
    private final long base;
    private final long size;
    private final String what;

    public RegionIo(Syscalls sys, int fd, int index, long base, long size, String what) {
        this.sys = sys;
        this.fd = fd;
        this.index = index;
        this.base = base;
        this.size = size;
        this.what = what;
    }

    @Override
    public int index() {
        return index;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public boolean mapped() {
        return false;
    }

    @Override
    public int read8(long offset) {
        return read(offset, 1).get(0) & 0xff;
    }

    @Override
    public int read16(long offset) {
        return read(offset, 2).getShort(0) & 0xffff;
    }

    @Override
    public int read32(long offset) {
        return read(offset, 4).getInt(0);
    }

    @Override
    public long read64(long offset) {
        return read(offset, 8).getLong(0);
    }

    @Override
    public void write8(long offset, int value) {
        write(offset, buffer(1).put(0, (byte) value));
    }

    @Override
    public void write16(long offset, int value) {
        write(offset, buffer(2).putShort(0, (short) value));
    }

    @Override
    public void write32(long offset, int value) {
        write(offset, buffer(4).putInt(0, value));
    }

    @Override
    public void write64(long offset, long value) {
        write(offset, buffer(8).putLong(0, value));
    }

    private ByteBuffer read(long offset, int width) {
        check(offset, width);
        ByteBuffer b = buffer(width);
        int n = sys.pread(fd, b, base + offset);
        if (n != width) {
            throw LinuxException.setup("read " + width + " bytes at 0x" + Long.toHexString(offset) + " of " + what,
                    "short read of " + n + " bytes", "check that the device is still bound and enabled");
        }
        return b;
    }

    private void write(long offset, ByteBuffer b) {
        int width = b.capacity();
        check(offset, width);
        int n = sys.pwrite(fd, b, base + offset);
        if (n != width) {
            throw LinuxException.setup("write " + width + " bytes at 0x" + Long.toHexString(offset) + " of " + what,
                    "short write of " + n + " bytes", "check that the device is still bound and enabled");
        }
    }

    private void check(long offset, int width) {
        if (offset < 0 || offset > size - width) {
            throw new IndexOutOfBoundsException(what + ": access of " + width + " bytes at 0x"
                    + Long.toHexString(offset) + " outside its " + size + " bytes");
        }
    }

    private static ByteBuffer buffer(int width) {
        return ByteBuffer.allocate(width).order(ByteOrder.LITTLE_ENDIAN);
    }

    @Override
    public String toString() {
        return what + "[pread/pwrite, " + size + " bytes]";
    }
}
