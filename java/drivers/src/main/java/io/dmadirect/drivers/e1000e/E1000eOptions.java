package io.dmadirect.drivers.e1000e;

/**
 * How {@link E1000eNic#attach} sets the NIC up.
 *
 * @param rxDescriptors receive ring size: a multiple of 8 from 8 to 4096
 * @param txDescriptors transmit ring size: a multiple of 8 from 8 to 4096
 * @param poolBuffers   packet buffers of 2048 bytes in the NIC's pool; more than {@code rxDescriptors}, since
 *                      the receive ring keeps one in every descriptor
 */
public record E1000eOptions(int rxDescriptors, int txDescriptors, int poolBuffers) {
    /** 256 descriptors each way and 1024 buffers (2 MiB): room for batches of 32 in flight many times over. */
    public static final E1000eOptions DEFAULTS = new E1000eOptions(256, 256, 1024);

    public E1000eOptions {
        DescriptorRing.checkSize(rxDescriptors);
        DescriptorRing.checkSize(txDescriptors);
        if (poolBuffers <= rxDescriptors || poolBuffers > 65536) {
            throw new IllegalArgumentException("poolBuffers must exceed rxDescriptors (" + rxDescriptors
                    + ": each receive descriptor holds a buffer) and be at most 65536, not " + poolBuffers);
        }
    }

    public E1000eOptions withRings(int rx, int tx) {
        return new E1000eOptions(rx, tx, poolBuffers);
    }

    public E1000eOptions withPoolBuffers(int n) {
        return new E1000eOptions(rxDescriptors, txDescriptors, n);
    }
}
