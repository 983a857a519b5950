package io.dmadirect.drivers.nvme;

import java.time.Duration;

/**
 * A command did not complete in time. The driver has asked the controller to abort it (Abort admin
 * command) and keeps its command identifier out of use until a completion for it arrives, so a late
 * completion can never be taken for a new command; the data buffer must not be reused before
 * {@link NvmeQueuePair#outstanding()} shows the command gone or the controller is closed.
 */
public final class NvmeTimeoutException extends NvmeException {
    private static final long serialVersionUID = 1L;

    NvmeTimeoutException(String command, int queueId, int cid, Duration timeout, String abortOutcome) {
        super(command, "NVMe " + command + " on queue " + queueId + " (cid " + cid + ") did not complete in "
                + timeout.toMillis() + " ms; " + abortOutcome);
    }
}
