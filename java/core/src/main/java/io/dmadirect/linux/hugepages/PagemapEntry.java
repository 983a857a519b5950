package io.dmadirect.linux.hugepages;

/**
 * One 64-bit entry of /proc/PID/pagemap: bits 0-54 the page frame number when present, bit 55
 * soft-dirty, 56 exclusively mapped, 61 file or shared page, 62 swapped, 63 present.
 *
 * @see <a href="https://docs.kernel.org/admin-guide/mm/pagemap.html">Examining Process Page Tables</a>
 */
public record PagemapEntry(long raw) {
    static final long PFN_MASK = (1L << 55) - 1;
    static final int SWAPPED_BIT = 62;
    static final int PRESENT_BIT = 63;

    public boolean present() {
        return (raw >>> PRESENT_BIT & 1) != 0;
    }

    public boolean swapped() {
        return (raw >>> SWAPPED_BIT & 1) != 0;
    }

    /** The page frame number; meaningful only when {@link #present()}, and 0 when the reader lacks CAP_SYS_ADMIN. */
    public long pfn() {
        return raw & PFN_MASK;
    }

    /** Present with PFN 0: the kernel hid the frame because the reader is not privileged (Linux 4.2+). */
    public boolean pfnHidden() {
        return present() && pfn() == 0;
    }
}
