package io.dmadirect.drivers.nvme;

/**
 * What {@link NvmeController#reset()} did: a function-level reset or only a controller reset, how many
 * commands it found in flight (each completed with {@link NvmeQueuePair#STATUS_HOST_ABORTED}), and how long
 * the reset itself and the whole recovery took.
 */
public record NvmeResetReport(boolean functionLevelReset, int commandsAborted, long resetNanos, long recoveryNanos) {
    @Override
    public String toString() {
        return (functionLevelReset ? "function-level reset (VFIO_DEVICE_RESET)" : "controller reset (CC.EN 0)")
                + " in " + resetNanos / 1_000_000 + " ms, queues back after " + recoveryNanos / 1_000_000 + " ms, "
                + commandsAborted + " command(s) in flight aborted";
    }
}
