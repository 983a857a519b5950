package io.dmadirect.pci;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A PCI function address as sysfs writes it, {@code domain:bus:device.function} ({@code 0000:03:00.0}).
 * The short form {@code 03:00.0} means domain 0.
 *
 * @see <a href="https://docs.kernel.org/PCI/sysfs-pci.html">Accessing PCI device resources through sysfs</a>
 */
public record PciAddress(int domain, int bus, int device, int function) {
    private static final Pattern FORM = Pattern.compile(
            "(?:([0-9a-fA-F]{4,8}):)?([0-9a-fA-F]{2}):([0-9a-fA-F]{2})\\.([0-7])");

    public PciAddress {
        if (domain < 0 || domain > 0xffff || bus < 0 || bus > 0xff || device < 0 || device > 0x1f
                || function < 0 || function > 7) {
            throw new IllegalArgumentException("not a PCI address: domain " + domain + " bus " + bus + " device "
                    + device + " function " + function + " (limits 0xffff, 0xff, 0x1f, 7)");
        }
    }

    /**
     * Parses {@code 0000:03:00.0} or {@code 03:00.0}.
     *
     * @throws IllegalArgumentException naming the text and the expected form
     */
    public static PciAddress parse(String text) {
        Matcher m = text == null ? null : FORM.matcher(text.trim());
        if (m == null || !m.matches()) {
            throw new IllegalArgumentException("failed to parse PCI address \"" + text
                    + "\": expected domain:bus:device.function in hex, e.g. 0000:03:00.0");
        }
        int domain = m.group(1) == null ? 0 : (int) Long.parseLong(m.group(1), 16);
        if (m.group(1) != null && Long.parseLong(m.group(1), 16) > 0xffff) {
            throw new IllegalArgumentException("failed to parse PCI address \"" + text + "\": domain above 0xffff");
        }
        return new PciAddress(domain, Integer.parseInt(m.group(2), 16), Integer.parseInt(m.group(3), 16),
                Integer.parseInt(m.group(4)));
    }

    /** The sysfs form, {@code 0000:03:00.0}. */
    @Override
    public String toString() {
        return String.format("%04x:%02x:%02x.%d", domain, bus, device, function);
    }
}
