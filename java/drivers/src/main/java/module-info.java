/** dmadirect drivers: userspace drivers built only on the public API of {@code io.dmadirect.core}. */
module io.dmadirect.drivers {
    requires transitive io.dmadirect.core;

    exports io.dmadirect.drivers.edu;
    exports io.dmadirect.drivers.e1000e;
    exports io.dmadirect.drivers.nvme;
}
