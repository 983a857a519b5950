package io.dmadirect.linux.bridge;

import io.dmadirect.spi.CacheMaintenance;

/**
 * The {@link CacheMaintenance} for this host: the CPU's instructions through libdmadirect.so when it
 * loads, else the pure-Java fallback of fences. The Linux platform takes its {@code CacheMaintenance}
 * from {@link #load()}; the simulated platform keeps its recording one.
 */
public final class CacheMaintenanceBridge {
    private CacheMaintenanceBridge() {
    }

    /** The best cache maintenance of this host; loads the library on first use. */
    public static CacheMaintenance load() {
        return select(NativeLibrary.status(), System.getProperty("os.arch"));
    }

    static CacheMaintenance select(NativeLibrary.Status status, String osArch) {
        if (status.loaded()) {
            return new NativeCacheMaintenance(status);
        }
        return new FenceCacheMaintenance(status.detail(), "x86_64".equals(NativeLibrary.archOf(osArch)));
    }
}
