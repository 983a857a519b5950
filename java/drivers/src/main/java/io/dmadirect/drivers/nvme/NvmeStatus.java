package io.dmadirect.drivers.nvme;

/** Names for completion status values (NVMe base specification 2.0, figures 100-104). */
final class NvmeStatus {
    private NvmeStatus() {
    }

    static String describe(int status) {
        int sct = status >> 8 & 7;
        int sc = status & 0xff;
        StringBuilder b = new StringBuilder(String.format("status 0x%04x = SCT %d SC 0x%02x (%s)", status, sct, sc,
                name(sct, sc)));
        if ((status & 1 << 13) != 0) {
            b.append(", More");
        }
        if ((status & 1 << 14) != 0) {
            b.append(", DNR");
        }
        return b.toString();
    }

    static String name(int sct, int sc) {
        if (sct == 0) {
            return switch (sc) {
                case 0x00 -> "Successful Completion";
                case 0x01 -> "Invalid Command Opcode";
                case 0x02 -> "Invalid Field in Command";
                case 0x03 -> "Command ID Conflict";
                case 0x04 -> "Data Transfer Error";
                case 0x05 -> "Commands Aborted due to Power Loss Notification";
                case 0x06 -> "Internal Error";
                case 0x07 -> "Command Abort Requested";
                case 0x08 -> "Command Aborted due to SQ Deletion";
                case 0x0b -> "Invalid Namespace or Format";
                case 0x0d -> "Invalid PRP Offset";
                case 0x13 -> "PRP Offset Invalid";
                case 0x80 -> "LBA Out of Range";
                case 0x81 -> "Capacity Exceeded";
                case 0x82 -> "Namespace Not Ready";
                default -> "generic status";
            };
        }
        if (sct == 1) {
            return switch (sc) {
                case 0x00 -> "Completion Queue Invalid";
                case 0x01 -> "Invalid Queue Identifier";
                case 0x02 -> "Invalid Queue Size";
                case 0x03 -> "Abort Command Limit Exceeded";
                case 0x08 -> "Invalid Interrupt Vector";
                case 0x0b -> "Invalid Namespace or Format";
                case 0x80 -> "Conflicting Attributes";
                case 0x82 -> "Attempted Write to Read Only Range";
                default -> "command specific status";
            };
        }
        if (sct == 2) {
            return switch (sc) {
                case 0x80 -> "Write Fault";
                case 0x81 -> "Unrecovered Read Error";
                case 0x85 -> "Compare Failure";
                case 0x86 -> "Access Denied";
                default -> "media and data integrity error";
            };
        }
        if (sct == 3) {
            return sc == 0x71 ? "Host Aborted Command: the driver reset the controller while it was in flight"
                    : "path related status";
        }
        return sct == 7 ? "vendor specific" : "reserved status code type";
    }
}
