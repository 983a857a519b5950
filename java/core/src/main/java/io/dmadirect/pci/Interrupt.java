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
     * Blocks until the interrupt fires or {@code timeout} passes. For level-triggered INTx it also
     * re-enables (unmasks) the line, so acknowledge the device first.
     *
     * @return the number of interrupts counted since the last wait, 0 on timeout
     */
    long await(Duration timeout);

    /** Disables the vector and releases its descriptor. */
    @Override
    void close();
}
