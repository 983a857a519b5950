package io.dmadirect.direct;

import io.dmadirect.memory.PageAllocator;
import io.dmadirect.spi.ZoneLayout;
import io.dmadirect.spi.CacheMaintenance;
import io.dmadirect.spi.MemoryEncryption;
import io.dmadirect.spi.PhysicalMemory;
import io.dmadirect.spi.SwiotlbConfig;
import java.util.Objects;

/**
 * What a {@link DirectPlatform} is built from: the mechanism (memory, encryption, caches) and the
 * allocators over it. The simulated platform and the Linux platform each fill one in.
 *
 * @param swiotlb            a coherent allocator for restricted devices in place of the bounce pool; null
 *                           to use the bounce pool the platform builds from {@code bounce}
 * @param guestMemEncrypt    a confidential VM guest: every device's DMA is forced unencrypted
 * @param atomicPoolBytes    the first size of each zone's atomic pool; 0 for no pools,
 *                           {@code AtomicPools.SCALED} for the kernel's default for the memory held
 * @param atomicPoolMaxBytes how far a pool may grow in the background
 * @param bounce             the bounce pool (swiotlb) to take from {@code pages} when the platform is built
 */
public record PlatformParts(String name, PhysicalMemory memory, PageAllocator pages, ZoneLayout zones,
        MemoryEncryption encryption, boolean guestMemEncrypt, CacheMaintenance caches, SwiotlbAllocator swiotlb,
        long atomicPoolBytes, long atomicPoolMaxBytes, SwiotlbConfig bounce) {

    /** Parts with the kernel's default bounce pool ({@link SwiotlbConfig#defaults()}). */
    public PlatformParts(String name, PhysicalMemory memory, PageAllocator pages, ZoneLayout zones,
            MemoryEncryption encryption, boolean guestMemEncrypt, CacheMaintenance caches, SwiotlbAllocator swiotlb,
            long atomicPoolBytes, long atomicPoolMaxBytes) {
        this(name, memory, pages, zones, encryption, guestMemEncrypt, caches, swiotlb, atomicPoolBytes,
                atomicPoolMaxBytes, SwiotlbConfig.defaults());
    }

    public PlatformParts {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(memory, "memory");
        Objects.requireNonNull(pages, "pages");
        Objects.requireNonNull(zones, "zones");
        Objects.requireNonNull(encryption, "encryption");
        Objects.requireNonNull(caches, "caches");
        Objects.requireNonNull(bounce, "bounce");
    }
}
