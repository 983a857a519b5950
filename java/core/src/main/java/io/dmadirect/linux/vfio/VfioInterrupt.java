package io.dmadirect.linux.vfio;

import io.dmadirect.linux.pci.FdInterrupt;

import io.dmadirect.linux.Syscalls;
import io.dmadirect.pci.Interrupt;
import io.dmadirect.pci.InterruptKind;
import java.time.Duration;

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
    private final VfioIrqIndex index;
    private boolean closed;

    /** Made by {@link VfioIrqIndex#enable}, which has routed {@code vector} to {@code eventFd}. */
    VfioInterrupt(Syscalls sys, int deviceFd, InterruptKind kind, int vector, int eventFd, VfioIrqIndex index) {
        this.sys = sys;
        this.deviceFd = deviceFd;
        this.kind = kind;
        this.vector = vector;
        this.eventFd = eventFd;
        this.index = index;
    }

    int eventFd() {
        return eventFd;
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

    /** Detaches this vector's eventfd; the index stays enabled for the other open vectors, if any. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            index.release(this);
        } finally {
            sys.close(eventFd);
        }
    }
}
