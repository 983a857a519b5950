package io.dmadirect.linux.vfio;

import io.dmadirect.linux.Syscalls;
import io.dmadirect.linux.headers.Eventfd;
import io.dmadirect.pci.Interrupt;
import io.dmadirect.pci.InterruptKind;
import java.time.Duration;
import java.util.Arrays;

/**
 * An interrupt vector routed to an eventfd with {@code VFIO_DEVICE_SET_IRQS} (DATA_EVENTFD |
 * ACTION_TRIGGER). INTx is level-triggered: VFIO masks it when it fires, and {@link #rearm} unmasks it
 * (ACTION_UNMASK) once the driver has acknowledged the device.
 */
final class VfioInterrupt implements Interrupt {
    private final Syscalls sys;
    private final int deviceFd;
    private final InterruptKind kind;
    private final int vector;
    private final int eventFd;
    private boolean closed;

    private VfioInterrupt(Syscalls sys, int deviceFd, InterruptKind kind, int vector, int eventFd) {
        this.sys = sys;
        this.deviceFd = deviceFd;
        this.kind = kind;
        this.vector = vector;
        this.eventFd = eventFd;
    }

    /** Enables vectors 0..{@code vector} of {@code kind}, with only {@code vector} signalling an eventfd. */
    static VfioInterrupt enable(Syscalls sys, int deviceFd, InterruptKind kind, int vector) {
        int efd = sys.eventfd(0, Eventfd.EFD_NONBLOCK | Eventfd.EFD_CLOEXEC);
        try {
            int[] fds = new int[vector + 1];
            Arrays.fill(fds, -1); // -1: this vector is enabled but signals nothing
            fds[vector] = efd;
            sys.ioctl(deviceFd, VfioUapi.VFIO_DEVICE_SET_IRQS, VfioStructs.irqSet(
                    VfioUapi.VFIO_IRQ_SET_DATA_EVENTFD | VfioUapi.VFIO_IRQ_SET_ACTION_TRIGGER, kind.vfioIndex(), 0,
                    fds.length, fds));
            return new VfioInterrupt(sys, deviceFd, kind, vector, efd);
        } catch (RuntimeException e) {
            sys.close(efd);
            throw e;
        }
    }

    @Override
    public InterruptKind kind() {
        return kind;
    }

    @Override
    public int vector() {
        return vector;
    }

    @Override
    public long await(Duration timeout) {
        return FdInterrupt.await(() -> sys.eventfdRead(eventFd), timeout);
    }

    /** INTx: {@code VFIO_IRQ_SET_ACTION_UNMASK}, as VFIO masks the line when it signals the eventfd. */
    @Override
    public void rearm() {
        if (kind == InterruptKind.INTX) {
            sys.ioctl(deviceFd, VfioUapi.VFIO_DEVICE_SET_IRQS, VfioStructs.irqSet(
                    VfioUapi.VFIO_IRQ_SET_DATA_NONE | VfioUapi.VFIO_IRQ_SET_ACTION_UNMASK, kind.vfioIndex(), 0, 1,
                    new int[0]));
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            // count 0 with DATA_NONE | ACTION_TRIGGER disables every vector of the index.
            sys.ioctl(deviceFd, VfioUapi.VFIO_DEVICE_SET_IRQS, VfioStructs.irqSet(
                    VfioUapi.VFIO_IRQ_SET_DATA_NONE | VfioUapi.VFIO_IRQ_SET_ACTION_TRIGGER, kind.vfioIndex(), 0, 0,
                    new int[0]));
        } finally {
            sys.close(eventFd);
        }
    }
}
