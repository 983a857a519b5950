package io.dmadirect.host;

import io.dmadirect.direct.PlatformParts;
import io.dmadirect.iova.IovaMemory;
import io.dmadirect.linux.bridge.CacheMaintenanceBridge;
import io.dmadirect.memory.PageAllocators;
import io.dmadirect.spi.PhysicalMemory;
import java.lang.System.Logger.Level;

/**
 * The parts of every platform on a real Linux host, whatever its address mode: the standard allocators
 * over the memory, the cache bridge, the pools of the options, and the memory-encryption policy of the
 * confidential-computing status. {@link LinuxPlatform} (PA mode) and PCI sessions (PA and IOVA mode) are
 * built here, so a confidential guest refuses device allocations with its reason on each of them alike.
 *
 * <p>In a confidential guest a device reaches only shared memory and a process cannot make pages
 * shared ({@link LinuxEncryption}), so there are no atomic pools (they would be private) and allocations
 * for devices fail before anything is taken.
 */
final class LinuxPlatformParts {
    private static final System.Logger LOG = System.getLogger(LinuxPlatformParts.class.getName());
    private static final String PREFIX = "linux/platform: ";

    private LinuxPlatformParts() {
    }

    /**
     * The parts of a platform named {@code name} over {@code memory}, whose "physical" addresses are what
     * the device is given (pagemap physical addresses, or IOVAs), set up as {@code options} say; the
     * hugepage options there give the zone layout. {@code cc} comes from
     * {@link ConfidentialComputing#resolve} of {@code options.unencrypted()}.
     */
    public static PlatformParts of(String name, PhysicalMemory memory, LinuxPlatformOptions options,
            ConfidentialComputing.Status cc) {
        boolean forced = cc.forceUnencrypted();
        LinuxEncryption encryption = new LinuxEncryption(forced, cc.technology());
        if (forced) {
            LOG.log(Level.WARNING, PREFIX + name + ": " + encryption.reason());
        }
        var zones = options.hugepages().zoneLayout();
        var pages = PageAllocators.standard(memory, zones);
        if (memory instanceof IovaMemory iova) {
            pages = iova.pagesOver(pages); // issue 19: maps at allocation and unmaps at free with iommuUnmapOnFree
        }
        return new PlatformParts(name, memory, pages, zones, encryption, forced,
                CacheMaintenanceBridge.load(), null, forced ? 0 : options.atomicPoolBytes(),
                options.atomicPoolMaxBytes(), options.bounce());
    }
}
