package io.dmadirect.cli.rig;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One {@code --device} of {@code dmadirect rig}, turned into what the rig needs: the run-guest.sh options or
 * extra QEMU arguments that put it in the guest, the address it gets, and the environment variable that
 * tells the user's tests where it is ({@code DMADIRECT_RIG_..._BDF}).
 *
 * <ul>
 *   <li>{@code edu[,dma_mask=M]}: the rig's edu at 00:04.0, its DMA mask set (QEMU's default is 28 bits);</li>
 *   <li>{@code nvme}: the rig's NVMe at 00:05.0; {@code nvme,mdts=N,namespaces=K[,ns_size=64M]}: one more
 *       controller with that MDTS and K namespaces (sparse raw images, written to a snapshot only);</li>
 *   <li>{@code e1000e}, {@code virtio-net} (QEMU's virtio-net-pci), with any of their QEMU properties;</li>
 *   <li>any other text: a raw QEMU {@code -device} string, given an address unless it names one.</li>
 * </ul>
 *
 * @param kind      edu, nvme, e1000e, virtio-net, or qemu for a raw string
 * @param bdf       the guest address, 0000:00:SS.0
 * @param envName   the variable that holds {@code bdf} in the guest
 * @param guestArgs run-guest.sh options ({@code --edu-dma-mask M}, {@code --qemu-device S}, {@code --qemu-drive S})
 * @param disks     namespace images to create before the boot: path to size in bytes
 */
public record RigDevice(String kind, String bdf, String envName, List<String> guestArgs, Map<String, Long> disks) {
    public static final String EDU_BDF = "0000:00:04.0";
    public static final String NVME_BDF = "0000:00:05.0";
    /** The first slot free for extra devices: 2-3 are the 9p shares, 4 the edu, 5 the NVMe, 6 the CMB NVMe. */
    public static final int FIRST_EXTRA_SLOT = 7;

    /**
     * Parses one {@code --device} spec.
     *
     * @param slot     the PCI slot for a device the rig does not have already
     * @param diskDir  where namespace images are kept
     * @throws IllegalArgumentException naming what was wrong and the accepted forms
     */
    public static RigDevice parse(String spec, int slot, String diskDir) {
        if (spec == null || spec.isBlank()) {
            throw new IllegalArgumentException("--device: empty; e.g. --device edu,dma_mask=0xffffff");
        }
        String[] parts = spec.split(",");
        String name = parts[0].trim().toLowerCase(Locale.ROOT);
        Map<String, String> options = new LinkedHashMap<>();
        for (int i = 1; i < parts.length; i++) {
            int eq = parts[i].indexOf('=');
            options.put(eq < 0 ? parts[i].trim() : parts[i].substring(0, eq).trim(), eq < 0 ? "on" : parts[i].substring(eq + 1).trim());
        }
        String bdf = String.format("0000:00:%02x.0", slot);
        switch (name) {
            case "edu":
                return edu(spec, options);
            case "nvme":
                return options.isEmpty() ? new RigDevice("nvme", NVME_BDF, "DMADIRECT_RIG_NVME_BDF", List.of(), Map.of())
                        : nvme(spec, options, slot, bdf, diskDir);
            case "e1000e":
            case "virtio-net":
                String qemu = (name.equals("virtio-net") ? "virtio-net-pci" : "e1000e") + qemuProperties(options)
                        + ",addr=0x" + Integer.toHexString(slot);
                return new RigDevice(name, bdf, env(name, slot), List.of("--qemu-device", qemu), Map.of());
            default:
                if (!spec.matches("[A-Za-z0-9_.-]+(,.*)?")) {
                    throw new IllegalArgumentException("--device " + spec + ": expected edu[,dma_mask=M], "
                            + "nvme[,mdts=N,namespaces=K], e1000e, virtio-net or a QEMU -device string (driver,prop=value,...)");
                }
                String raw = options.containsKey("addr") ? spec : spec + ",addr=0x" + Integer.toHexString(slot);
                String addr = options.getOrDefault("addr", "0x" + Integer.toHexString(slot));
                int rawSlot = Integer.decode(addr.contains(".") ? addr.substring(0, addr.indexOf('.')) : addr);
                return new RigDevice("qemu", String.format("0000:00:%02x.0", rawSlot), env("dev", rawSlot),
                        List.of("--qemu-device", raw), Map.of());
        }
    }

    /** {@return whether this device takes a slot of its own (the rig's edu and first NVMe do not)} */
    public boolean extra() {
        return !bdf.equals(EDU_BDF) && !bdf.equals(NVME_BDF);
    }

    private static RigDevice edu(String spec, Map<String, String> options) {
        List<String> args = new ArrayList<>();
        for (Map.Entry<String, String> o : options.entrySet()) {
            if (!o.getKey().equals("dma_mask")) {
                throw new IllegalArgumentException("--device " + spec + ": the edu takes dma_mask=M only (e.g. 0xffffff)");
            }
            long mask = parseMask(spec, o.getValue());
            args.add("--edu-dma-mask");
            args.add("0x" + Long.toHexString(mask));
        }
        return new RigDevice("edu", EDU_BDF, "DMADIRECT_RIG_EDU_BDF", args, Map.of());
    }

    private static long parseMask(String spec, String value) {
        try {
            long mask = Long.decode(value);
            if (mask == 0 || (mask & (mask + 1)) != 0) {
                throw new NumberFormatException();
            }
            return mask;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--device " + spec + ": dma_mask=" + value + " is no mask of the form "
                    + "2^n - 1 (e.g. 0xffffff for 24 bits)");
        }
    }

    private static RigDevice nvme(String spec, Map<String, String> options, int slot, String bdf, String diskDir) {
        int namespaces = 1;
        long size = 64L << 20;
        StringBuilder props = new StringBuilder();
        for (Map.Entry<String, String> o : options.entrySet()) {
            switch (o.getKey()) {
                case "namespaces":
                    namespaces = positive(spec, o.getKey(), o.getValue(), 16);
                    break;
                case "ns_size":
                    size = bytes(spec, o.getValue());
                    break;
                case "mdts":
                    props.append(",mdts=").append(positive(spec, "mdts", o.getValue(), 20));
                    break;
                default:
                    props.append(',').append(o.getKey()).append('=').append(o.getValue());
            }
        }
        String id = "nvme" + slot;
        List<String> args = new ArrayList<>(List.of("--qemu-device", "nvme,id=" + id + ",serial=dmadirect-" + slot
                + props + ",addr=0x" + Integer.toHexString(slot)));
        Map<String, Long> disks = new LinkedHashMap<>();
        for (int ns = 1; ns <= namespaces; ns++) {
            String image = diskDir + "/nvme-ns-" + size + ".img";
            disks.put(image, size);
            String drive = id + "-ns" + ns;
            args.add("--qemu-drive");
            args.add("file=" + image + ",if=none,id=" + drive + ",format=raw,snapshot=on");
            args.add("--qemu-device");
            args.add("nvme-ns,drive=" + drive + ",bus=" + id + ",nsid=" + ns);
        }
        return new RigDevice("nvme", bdf, env("nvme", slot), args, disks);
    }

    private static int positive(String spec, String key, String value, int most) {
        try {
            int n = Integer.parseInt(value);
            if (n >= 1 && n <= most) {
                return n;
            }
        } catch (NumberFormatException e) {
            // the message below
        }
        throw new IllegalArgumentException("--device " + spec + ": " + key + "=" + value + " wants a number from 1 to " + most);
    }

    private static long bytes(String spec, String value) {
        String v = value.toUpperCase(Locale.ROOT);
        long unit = v.endsWith("G") ? 1L << 30 : v.endsWith("M") ? 1L << 20 : v.endsWith("K") ? 1L << 10 : 1;
        try {
            return Long.parseLong(unit == 1 ? v : v.substring(0, v.length() - 1)) * unit;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--device " + spec + ": ns_size=" + value + " wants a size, e.g. 64M");
        }
    }

    private static String qemuProperties(Map<String, String> options) {
        StringBuilder out = new StringBuilder();
        options.forEach((k, v) -> {
            if (!k.equals("addr")) {
                out.append(',').append(k).append('=').append(v);
            }
        });
        return out.toString();
    }

    private static String env(String kind, int slot) {
        return String.format("DMADIRECT_RIG_%s_%02X_BDF", kind.toUpperCase(Locale.ROOT).replace('-', '_'), slot);
    }
}
