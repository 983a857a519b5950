package io.dmadirect.drivers.nvme;

/**
 * A command the controller completed with an error status. The message names the command (opcode and
 * arguments), the queue, and the status decoded as the specification names it, for example
 * {@code NVMe Read (nsid 1, LBA 131072, 8 blocks) on queue 1 failed: status 0x4080 = SCT 0 SC 0x80
 * (LBA Out of Range), DNR}.
 */
public class NvmeException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final String command;
    private final int status;

    public NvmeException(String command, int queueId, int status) {
        super("NVMe " + command + " on queue " + queueId + " failed: " + NvmeStatus.describe(status));
        this.command = command;
        this.status = status;
    }

    protected NvmeException(String command, String message) {
        super(message);
        this.command = command;
        this.status = -1;
    }

    /** The command as named in the message. */
    public String command() {
        return command;
    }

    /** The 15-bit status field of the completion (SC in bits 0-7, SCT in 8-10, More 13, DNR 14), or -1 for a timeout. */
    public int status() {
        return status;
    }

    /** The status code type (SCT). */
    public int statusCodeType() {
        return status < 0 ? -1 : status >> 8 & 7;
    }

    /** The status code (SC). */
    public int statusCode() {
        return status < 0 ? -1 : status & 0xff;
    }
}
