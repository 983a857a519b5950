package io.dmadirect;

/** Byte counts for messages, as a person reads them: 4 KiB, 2 MiB, 1.5 GiB. */
public final class Sizes {
    /** 1024 bytes. */
    public static final long KiB = 1L << 10;
    /** 1024 KiB. */
    public static final long MiB = 1L << 20;
    /** 1024 MiB. */
    public static final long GiB = 1L << 30;

    private Sizes() {
    }

    /**
     * {@return {@code bytes} in the largest binary unit that keeps at least 1, with one decimal when not whole}
     *
     * @param bytes a byte count; a negative one is printed as it is
     */
    public static String format(long bytes) {
        if (bytes < 0) {
            return bytes + " B";
        }
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
        int unit = 0;
        double value = bytes;
        while (value >= 1024 && unit < units.length - 1) {
            value /= 1024;
            unit++;
        }
        if (value == Math.rint(value)) {
            return (long) value + " " + units[unit];
        }
        return String.format("%.1f %s", value, units[unit]);
    }

    /**
     * {@return {@code addr} as the kernel prints it, {@code 0x...}}
     *
     * @param addr an address
     */
    public static String hex(long addr) {
        return "0x" + Long.toHexString(addr);
    }
}
