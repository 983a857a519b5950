package io.dmadirect.pci;

import java.time.Duration;

/**
 * One interrupt vector of a device, delivered to userspace through a file descriptor: an eventfd for
 * VFIO, the {@code /dev/uioN} file for UIO.
 */
public interface Interrupt extends AutoCloseable {

    InterruptKind kind();

    /** The vector within its kind (0 for INTx and UIO). */
    int vector();

    /**
     * Blocks until the interrupt fires or {@code timeout} passes.
     *
     * @return the number of interrupts counted since the last wait, 0 on timeout
     */
    long await(Duration timeout);

    /**
     * Re-enables a level-triggered line after it fired: the kernel masks INTx when it delivers it, so
     * acknowledge the device first, then call this. A no-op for MSI and MSI-X.
     */
    void rearm();

    /** Stops this vector signalling and releases its descriptor; the device's other vectors keep theirs. */
    @Override
    void close();
}
