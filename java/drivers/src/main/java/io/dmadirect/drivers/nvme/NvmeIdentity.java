package io.dmadirect.drivers.nvme;

/**
 * What Identify Controller said: PCI vendor id, serial number, model and firmware revision (trimmed),
 * the largest transfer in bytes (from MDTS and CAP.MPSMIN; 0 means no limit) and the number of
 * namespaces.
 */
public record NvmeIdentity(int vendorId, String serial, String model, String firmware, long maxTransferBytes,
        int namespaceCount) {
}
