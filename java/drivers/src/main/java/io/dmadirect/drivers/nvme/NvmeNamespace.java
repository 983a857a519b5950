package io.dmadirect.drivers.nvme;

/**
 * An active namespace, from Identify Namespace: its id, its size in logical blocks and the size of a
 * block in the format in use.
 */
public record NvmeNamespace(int id, long blocks, int blockSize) {
    public long bytes() {
        return blocks * blockSize;
    }

    @Override
    public String toString() {
        return "namespace " + id + ": " + blocks + " blocks of " + blockSize + " bytes";
    }
}
