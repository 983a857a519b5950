package io.dmadirect.linux.vfio;

import io.dmadirect.DmaUsageException;
import io.dmadirect.linux.Syscalls;
import io.dmadirect.linux.headers.Eventfd;
import io.dmadirect.pci.InterruptKind;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;

/**
 * What VFIO has set up for one interrupt index (INTx, MSI or MSI-X) of one device: how many vectors are
 * enabled, and which open {@link VfioInterrupt} each one signals.
 *
 * <p>{@code VFIO_DEVICE_SET_IRQS} works on ranges of an index, and drivers think in vectors. Enabling
 * sizes the range, which (before Linux 6.5) cannot grow while enabled; a write to a range sets every
 * vector in it, where eventfd -1 detaches one; and count 0 disables the whole index, which VFIO refuses
 * (EINVAL) when it is not enabled. So closing one vector detaches only that one, the last one disables
 * the index, and a vector beyond the range re-enables it larger with every open vector's eventfd.
 *
 * @see <a href="https://elixir.bootlin.com/linux/v6.1/source/drivers/vfio/pci/vfio_pci_intrs.c">
 *      vfio_pci_set_msi_trigger(), vfio_msi_set_block()</a>
 */
final class VfioIrqIndex {
    private final Syscalls sys;
    private final int deviceFd;
    private final InterruptKind kind;
    /** Vectors 0..enabled-1 are enabled in VFIO; 0 when the index is disabled. */
    private int enabled;
    private final Map<Integer, VfioInterrupt> open = new TreeMap<>();

    VfioIrqIndex(Syscalls sys, int deviceFd, InterruptKind kind) {
        this.sys = sys;
        this.deviceFd = deviceFd;
        this.kind = kind;
    }

    synchronized boolean hasOpenVectors() {
        return !open.isEmpty();
    }

    /** Enables {@code vector} with an eventfd of its own; the other open vectors keep theirs. */
    synchronized VfioInterrupt enable(int vector) {
        if (open.containsKey(vector)) {
            throw new DmaUsageException("failed to enable " + kind + " vector " + vector
                    + ": it is enabled already; close the Interrupt that holds it first");
        }
        int efd = sys.eventfd(0, Eventfd.EFD_NONBLOCK | Eventfd.EFD_CLOEXEC);
        try {
            if (vector < enabled) {
                setTriggers(vector, new int[] {efd});
            } else {
                // An interrupt raised while the range is re-enabled is lost: drivers enable their vectors at
                // set-up, the highest first, which sizes the range once.
                int[] fds = eventfds(vector + 1);
                fds[vector] = efd;
                resize(fds);
            }
        } catch (RuntimeException e) {
            sys.close(efd);
            throw e;
        }
        VfioInterrupt irq = new VfioInterrupt(sys, deviceFd, kind, vector, efd, this);
        open.put(vector, irq);
        return irq;
    }

    /** Called by {@link VfioInterrupt#close()}: detaches its vector, or disables the index if it was the last. */
    synchronized void release(VfioInterrupt irq) {
        if (open.get(irq.vector()) != irq) {
            return;
        }
        open.remove(irq.vector());
        if (open.isEmpty()) {
            disable();
        } else {
            setTriggers(irq.vector(), new int[] {-1});
        }
    }

    /** Re-enables the index as {@code 0..fds.length-1}; on failure, tries to put the previous range back. */
    private void resize(int[] fds) {
        int[] previous = enabled > 0 ? eventfds(enabled) : null;
        disable();
        try {
            setTriggers(0, fds);
            enabled = fds.length;
        } catch (RuntimeException e) {
            if (previous != null) {
                try {
                    setTriggers(0, previous);
                    enabled = previous.length;
                } catch (RuntimeException again) {
                    e.addSuppressed(again);
                }
            }
            throw e;
        }
    }

    /** The eventfds of the open vectors for a range of {@code length}, -1 where none is open. */
    private int[] eventfds(int length) {
        int[] fds = new int[length];
        Arrays.fill(fds, -1);
        for (VfioInterrupt irq : open.values()) {
            if (irq.vector() < length) {
                fds[irq.vector()] = irq.eventFd();
            }
        }
        return fds;
    }

    /** DATA_EVENTFD | ACTION_TRIGGER on {@code start..start+fds.length-1}: enables the index when it is disabled. */
    private void setTriggers(int start, int[] fds) {
        sys.ioctl(deviceFd, VfioUapi.VFIO_DEVICE_SET_IRQS, VfioStructs.irqSet(
                VfioUapi.VFIO_IRQ_SET_DATA_EVENTFD | VfioUapi.VFIO_IRQ_SET_ACTION_TRIGGER, kind.vfioIndex(), start,
                fds.length, fds));
    }

    /** DATA_NONE | ACTION_TRIGGER with count 0: disables every vector of the index. */
    private void disable() {
        if (enabled == 0) {
            return;
        }
        enabled = 0; // for an enabled index the disable cannot fail (vfio_msi_disable() returns nothing)
        sys.ioctl(deviceFd, VfioUapi.VFIO_DEVICE_SET_IRQS, VfioStructs.irqSet(
                VfioUapi.VFIO_IRQ_SET_DATA_NONE | VfioUapi.VFIO_IRQ_SET_ACTION_TRIGGER, kind.vfioIndex(), 0, 0,
                new int[0]));
    }
}
