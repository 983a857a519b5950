package io.dmadirect.direct;

import io.dmadirect.memory.PageAllocator;
import io.dmadirect.memory.ZoneLayout;
import io.dmadirect.spi.CacheMaintenance;
import io.dmadirect.spi.MemoryEncryption;
import io.dmadirect.spi.PhysicalMemory;
import java.util.Objects;

/**
 * What a {@link DirectPlatform} is built from: the mechanism (memory, encryption, caches) and the
 * allocators over it. The simulated platform and the Linux platform each fill one in.
 *
 * @param swiotlb            the bounce pool as a coherent allocator, or null when there is none
 * @param guestMemEncrypt    a confidential VM guest: every device's DMA is forced unencrypted
 * @param atomicPoolBytes    the first size of each zone's atomic pool; 0 for no pools
 * @param atomicPoolMaxBytes how far a pool may grow in the background
 */
public record PlatformParts(String name, PhysicalMemory memory, PageAllocator pages, ZoneLayout zones,
        MemoryEncryption encryption, boolean guestMemEncrypt, CacheMaintenance caches, SwiotlbAllocator swiotlb,
        long atomicPoolBytes, long atomicPoolMaxBytes) {

    public PlatformParts {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(memory, "memory");
        Objects.requireNonNull(pages, "pages");
        Objects.requireNonNull(zones, "zones");
        Objects.requireNonNull(encryption, "encryption");
        Objects.requireNonNull(caches, "caches");
    }
}
