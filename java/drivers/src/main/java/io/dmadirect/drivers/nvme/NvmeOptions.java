package io.dmadirect.drivers.nvme;

import java.time.Duration;

/**
 * How {@link NvmeController#attach} sets the controller up.
 *
 * @param ioQueuePairs   I/O queue pairs to create (the controller may grant fewer; see Set Features
 *                       Number of Queues)
 * @param queueDepth     entries per I/O queue, capped by CAP.MQES
 * @param interrupts     wait for I/O completions on MSI-X vectors (one per pair) instead of polling
 * @param commandTimeout how long a command may take before it is aborted
 */
public record NvmeOptions(int ioQueuePairs, int queueDepth, boolean interrupts, Duration commandTimeout) {
    /** One polled pair of 64 entries, 30 s per command (generous: the rig runs under TCG). */
    public static final NvmeOptions DEFAULTS = new NvmeOptions(1, 64, false, Duration.ofSeconds(30));

    public NvmeOptions {
        if (ioQueuePairs < 1 || ioQueuePairs > 65535) {
            throw new IllegalArgumentException("ioQueuePairs must be 1 to 65535, not " + ioQueuePairs);
        }
        if (queueDepth < 2 || queueDepth > 65536) {
            throw new IllegalArgumentException("queueDepth must be 2 to 65536, not " + queueDepth);
        }
    }

    public NvmeOptions withIoQueuePairs(int n) {
        return new NvmeOptions(n, queueDepth, interrupts, commandTimeout);
    }

    public NvmeOptions withQueueDepth(int n) {
        return new NvmeOptions(ioQueuePairs, n, interrupts, commandTimeout);
    }

    public NvmeOptions withInterrupts(boolean on) {
        return new NvmeOptions(ioQueuePairs, queueDepth, on, commandTimeout);
    }

    public NvmeOptions withCommandTimeout(Duration t) {
        return new NvmeOptions(ioQueuePairs, queueDepth, interrupts, t);
    }
}
