package io.dmadirect.examples;

import io.dmadirect.DmaAttr;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaPool;
import java.nio.ByteBuffer;

/** The guide's {@code dma_pool} example: small descriptors, the primitive path and the object path. */
public final class DmaPoolExamples {
    private DmaPoolExamples() {
    }

    /** Fills one 64-byte descriptor each way and returns how many blocks are live at the end (0). */
    public static int descriptors(DmaDevice device) {
        // region:dma-pool
        try (DmaPool pool = device.createPool("descriptors", 64, 64, 4096)) {   // name, size, align, boundary
            // The hot path: no Java object per block.
            long dma = pool.alloc(DmaAttr.flags(DmaAttr.ATOMIC));   // ATOMIC: never blocks to grow
            ByteBuffer page = pool.pageView(dma);                   // shared: absolute accessors only
            page.putLong(pool.pageOffset(dma), 0x1234);             // little-endian, as the device reads it
            pool.free(dma);                                         // a bad or double free throws, changes nothing

            // The convenient path.
            try (DmaPool.Block block = pool.zallocBlock()) {        // dma_pool_zalloc: zeroed
                block.cpuView().putInt(0, 7);
                // hand block.dmaAddress() to the device
            }
            return pool.activeBlocks();                             // 0: the pool may close
        }
        // endregion:dma-pool
    }
}
