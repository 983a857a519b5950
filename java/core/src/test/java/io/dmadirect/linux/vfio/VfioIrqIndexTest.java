package io.dmadirect.linux.vfio;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.DmaUsageException;
import io.dmadirect.linux.FakeSyscalls;
import io.dmadirect.linux.LinuxException;
import io.dmadirect.pci.InterruptKind;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Vectors of one index enabled and closed in any order, against a model of what Linux 6.1's
 * {@code vfio_pci_set_msi_trigger()} accepts: the range is sized when the index is enabled and cannot grow
 * while it is, a range write must fit inside it, and count 0 disables an enabled index and is EINVAL on a
 * disabled one (the close that made an NVMe session's close fail in the rig).
 */
class VfioIrqIndexTest {
    private static final int DEVICE_FD = 42;

    /** The kernel's per-index state for MSI-X: the vectors' eventfds, null while disabled. */
    static final class VfioModel extends FakeSyscalls {
        int[] triggers;
        final Set<Integer> openFds = new HashSet<>();
        int enables;

        @Override
        public int eventfd(int initialValue, int flags) {
            int fd = super.eventfd(initialValue, flags);
            openFds.add(fd);
            return fd;
        }

        @Override
        public void close(int fd) {
            super.close(fd);
            assertTrue(openFds.remove(fd), "fd " + fd + " closed twice or never opened");
        }

        @Override
        public int ioctl(int fd, long request, ByteBuffer arg) {
            super.ioctl(fd, request, arg);
            assertEquals(VfioUapi.VFIO_DEVICE_SET_IRQS, request);
            ByteBuffer b = arg.duplicate().order(ByteOrder.nativeOrder());
            int flags = b.getInt(4);
            int start = b.getInt(12);
            int count = b.getInt(16);
            if ((flags & VfioUapi.VFIO_IRQ_SET_DATA_NONE) != 0 && count == 0) {
                if (triggers == null) {
                    throw einval("disable of a disabled index");
                }
                triggers = null;
                return 0;
            }
            int[] fds = new int[count];
            for (int i = 0; i < count; i++) {
                fds[i] = b.getInt(VfioUapi.SIZEOF_IRQ_SET + 4 * i);
                assertTrue(fds[i] == -1 || openFds.contains(fds[i]), "vector " + (start + i) + " given a closed fd");
            }
            if (triggers == null) {
                triggers = new int[start + count];
                Arrays.fill(triggers, -1);
                enables++;
            } else if (start + count > triggers.length) {
                throw einval("range " + start + "+" + count + " beyond the " + triggers.length + " enabled");
            }
            System.arraycopy(fds, 0, triggers, start, count);
            return 0;
        }

        private static LinuxException einval(String why) {
            return LinuxException.ofErrno("ioctl", "VFIO_DEVICE_SET_IRQS: " + why, 22);
        }
    }

    @Test
    void vectorsEnabledLowestFirstAllKeepSignallingAndClosingOneLeavesTheOthers() {
        VfioModel vfio = new VfioModel();
        VfioIrqIndex index = new VfioIrqIndex(vfio, DEVICE_FD, InterruptKind.MSIX);
        VfioInterrupt v0 = index.enable(0);
        VfioInterrupt v1 = index.enable(1);
        VfioInterrupt v2 = index.enable(2);
        assertArrayEquals(new int[] {v0.eventFd(), v1.eventFd(), v2.eventFd()}, vfio.triggers,
                "growing re-enables the range with every open vector's eventfd");
        v1.close();
        assertArrayEquals(new int[] {v0.eventFd(), -1, v2.eventFd()}, vfio.triggers);
        VfioInterrupt again = index.enable(1);
        assertArrayEquals(new int[] {v0.eventFd(), again.eventFd(), v2.eventFd()}, vfio.triggers);
        v0.close();
        again.close();
        v2.close();
        assertEquals(null, vfio.triggers, "the last close disables the index");
        assertEquals(Set.of(), vfio.openFds, "every eventfd closed");
    }

    @Test
    void highestFirstSizesTheRangeOnce() {
        VfioModel vfio = new VfioModel();
        VfioIrqIndex index = new VfioIrqIndex(vfio, DEVICE_FD, InterruptKind.MSIX);
        VfioInterrupt[] v = new VfioInterrupt[4];
        for (int i = 3; i >= 0; i--) {
            v[i] = index.enable(i);
        }
        assertEquals(1, vfio.enables);
        assertArrayEquals(new int[] {v[0].eventFd(), v[1].eventFd(), v[2].eventFd(), v[3].eventFd()}, vfio.triggers);
        for (VfioInterrupt irq : v) {
            irq.close();
            irq.close(); // a second close does nothing: no EINVAL from a disabled index
        }
        assertEquals(null, vfio.triggers);
        assertEquals(Set.of(), vfio.openFds);
    }

    @Test
    void aVectorEnabledTwiceIsRefusedAndAFailedEnableClosesItsEventfd() {
        VfioModel vfio = new VfioModel();
        VfioIrqIndex index = new VfioIrqIndex(vfio, DEVICE_FD, InterruptKind.MSIX);
        VfioInterrupt v0 = index.enable(0);
        DmaUsageException twice = assertThrows(DmaUsageException.class, () -> index.enable(0));
        assertTrue(twice.getMessage().contains("MSIX vector 0: it is enabled already"), twice.getMessage());
        assertEquals(Set.of(v0.eventFd()), vfio.openFds, "the refused enable opened no eventfd");
        v0.close();
        assertEquals(Set.of(), vfio.openFds);
    }
}
