/**
 * dmadirect core: DMA memory for userspace PCIe drivers, following the Linux kernel's dma-direct policy.
 *
 * <p>Exported to everyone: the API ({@code io.dmadirect}), what users and platform implementers build on
 * ({@code spi}, the API half of {@code pci}, the simulated platform {@code sim}), and what a user names to
 * open a real host: the composition root {@code host} and the hugepage options it takes
 * ({@code linux.hugepages}: {@code HugepageOptions}, {@code HugepageSize}, {@code LowMemoryQuota}, named
 * in the guide's examples), and the syscall seam {@code linux} ({@code LinuxException}, which callers catch, and
 * {@code Syscalls}, which {@code PciSession.open} takes for tests). The policy, the allocators and the rest of the Linux mechanism are exported
 * only to the command line tool, which reports on them ({@code doctor}, {@code info}, {@code hugepages}).
 *
 * <p>The agent ({@code dmadirect-agent}) is no module here: the JVM loads every agent jar in the unnamed
 * module, so a qualified export to it could never apply. It uses the public API and, for fault injection,
 * exports {@code io.dmadirect.swiotlb} ({@code BounceOverrides}) to itself with its instrumentation right.
 *
 * <p>Native access (JDK 22+): the foreign-memory {@code RawMemory} and JNA need
 * {@code --enable-native-access=io.dmadirect.core,com.sun.jna} on the module path
 * ({@code ALL-UNNAMED} on the class path).
 */
module io.dmadirect.core {
    requires com.sun.jna;
    requires org.apache.commons.io;
    requires jdk.unsupported;

    exports io.dmadirect;
    exports io.dmadirect.spi;
    exports io.dmadirect.pci;
    exports io.dmadirect.sim;
    exports io.dmadirect.host;
    exports io.dmadirect.linux.hugepages;
    exports io.dmadirect.linux;


    exports io.dmadirect.linux.bridge to io.dmadirect.cli;
    exports io.dmadirect.linux.headers to io.dmadirect.cli;
    exports io.dmadirect.linux.jna to io.dmadirect.cli;
    exports io.dmadirect.linux.sysfs to io.dmadirect.cli;
}
