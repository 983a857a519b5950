package io.dmadirect.fuzz;

import io.dmadirect.DmaAttr;
import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaDirection;
import io.dmadirect.DmaException;
import io.dmadirect.DmaMapping;
import io.dmadirect.DmaMask;
import io.dmadirect.DmaRange;
import io.dmadirect.DmaUsageException;
import io.dmadirect.ScatterList;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Random operations on devices of one platform, each checked against a model of what must happen:
 * <ul>
 *   <li>every DMA range lies within {@code min(mask, bus limit)} of the mask the model set;</li>
 *   <li>no two live coherent or bounce buffers overlap in physical memory, and a direct mapping lies inside
 *       the buffer it maps;</li>
 *   <li>the device reads what the CPU wrote after the proper sync, and the CPU reads what the device wrote;</li>
 *   <li>a bounce keeps the original's bits under {@code min_align_mask};</li>
 *   <li>only documented exceptions: a {@link DmaException} where an operation may fail, and
 *       {@link IllegalArgumentException} only for the bad arguments the API documents;</li>
 *   <li>misuse the API documents (double free, double unmap, a sync in another direction) is refused.</li>
 * </ul>
 * The model owns the objects it creates; {@link #teardown} frees them all. Under a racing close, whatever
 * ran after {@code closing} turned true proves nothing about data and may fail with any documented exception.
 */
final class OperationSequence {
    private static final int[] COMMON_MASKS = {1, 12, 20, 24, 28, 30, 31, 32, 33, 36, 39, 40, 44, 48, 52, 63, 64};
    private static final long[] MIN_ALIGN = {0, 0, 0x7ff, 0xfff, 0x1fff};
    /** The frame memory is held in, on the simulated machines and with 2 MiB hugepages alike. */
    private static final long FRAME = 2L << 20;

    /** One device as the model sees it. */
    static final class Dev {
        final DmaDevice device;
        final DeviceSide side;
        final List<DmaRange> ranges;
        final long encryptionMask;
        final long busLimit;
        DmaMask dmaMask;
        DmaMask coherentMask;
        long minAlign;

        Dev(DmaDevice device, DeviceSide side, long encryptionMask) {
            this.device = device;
            this.side = side;
            this.ranges = device.properties().dmaRanges();
            this.encryptionMask = encryptionMask;
            this.busLimit = device.properties().busDmaLimit();
            this.dmaMask = device.dmaMask();
            this.coherentMask = device.coherentMask();
        }
    }

    private static final class Buf {
        final Dev dev;
        final DmaBuffer buffer;
        final long phys;
        final long size;
        int mappings;

        Buf(Dev dev, DmaBuffer buffer, long phys) {
            this.dev = dev;
            this.buffer = buffer;
            this.phys = phys;
            this.size = buffer.size();
        }
    }

    /** Memory a mapping was made of, and how the CPU reads and writes it. */
    private static final class Source {
        final Buf parent;
        final long parentOffset;
        final ByteBuffer view;
        final byte[] array;
        final int arrayOffset;
        final int length;

        Source(Buf parent, long parentOffset, ByteBuffer view, byte[] array, int arrayOffset, int length) {
            this.parent = parent;
            this.parentOffset = parentOffset;
            this.view = view;
            this.array = array;
            this.arrayOffset = arrayOffset;
            this.length = length;
        }

        void write(byte[] data) {
            if (array != null) {
                System.arraycopy(data, 0, array, arrayOffset, data.length);
            } else {
                view.duplicate().clear().put(data);
            }
        }

        byte[] read() {
            if (array != null) {
                return Arrays.copyOfRange(array, arrayOffset, arrayOffset + length);
            }
            byte[] out = new byte[length];
            view.duplicate().clear().get(out);
            return out;
        }

        /** The address swiotlb keeps the low bits of: the physical one for pinned memory, the array offset for heap. */
        long origAddr() {
            return parent != null ? parent.phys + parentOffset : arrayOffset;
        }

        boolean origKnown() {
            return parent != null || array != null;
        }
    }

    private static final class Map {
        final Dev dev;
        final DmaMapping mapping;
        final Source source;
        final long bouncePhys;

        Map(Dev dev, DmaMapping mapping, Source source, long bouncePhys) {
            this.dev = dev;
            this.mapping = mapping;
            this.source = source;
            this.bouncePhys = bouncePhys;
        }
    }

    private final SplittableRandom random;
    private final List<Dev> devices;
    private final BooleanSupplier closing;
    private final List<Buf> buffers = new ArrayList<>();
    private final List<Map> mappings = new ArrayList<>();
    private final List<List<Map>> scatterLists = new ArrayList<>();
    private final List<ScatterList> scatterHandles = new ArrayList<>();
    private final LiveRanges live;
    /** Threads share the devices: a mask change by one would falsify the limits another's model checks. */
    private final boolean sharedDevices;
    private final ArrayDeque<String> log = new ArrayDeque<>();
    private long operations;

    OperationSequence(SplittableRandom random, List<Dev> devices, BooleanSupplier closing) {
        this(random, devices, closing, new LiveRanges(closing), false);
    }

    /** One of several threads on the same devices, sharing {@code live} so overlaps across threads are found. */
    OperationSequence(SplittableRandom random, List<Dev> devices, BooleanSupplier closing, LiveRanges live,
            boolean sharedDevices) {
        this.random = random;
        this.devices = devices;
        this.closing = closing;
        this.live = live;
        this.sharedDevices = sharedDevices;
    }

    long operations() {
        return operations;
    }

    /** The last operations, for a failure's message. */
    String recentLog() {
        return String.join("\n  ", log);
    }

    private void note(String what) {
        if (log.size() == 40) {
            log.removeFirst();
        }
        log.addLast(what);
    }

    /** One random operation. */
    void step() {
        operations++;
        int choice = random.nextInt(100);
        Dev dev = devices.get(random.nextInt(devices.size()));
        if (choice < 6) {
            if (!sharedDevices) {
                setMask(dev);
            }
        } else if (choice < 28) {
            alloc(dev);
        } else if (choice < 40) {
            free();
        } else if (choice < 60) {
            map(dev);
        } else if (choice < 70) {
            deviceWritesThenSyncForCpu();
        } else if (choice < 80) {
            cpuWritesThenSyncForDevice();
        } else if (choice < 90) {
            unmap();
        } else if (choice < 94) {
            mapSg(dev);
        } else if (choice < 96) {
            if (!sharedDevices) {
                setMinAlign(dev);
            }
        } else if (choice < 98) {
            coherentDataRoundTrip();
        } else {
            badInput(dev);
        }
    }

    // ---- masks ----

    private void setMask(Dev dev) {
        DmaMask mask = DmaMask.bits(random.nextBoolean() ? COMMON_MASKS[random.nextInt(COMMON_MASKS.length)]
                : 1 + random.nextInt(64));
        int which = random.nextInt(3);
        note("setMask " + mask + " kind " + which + " on " + dev.device.name());
        Boolean done = attempt("set mask " + mask, () -> {
            switch (which) {
                case 0 -> dev.device.setDmaMask(mask);
                case 1 -> dev.device.setCoherentMask(mask);
                default -> dev.device.setMaskAndCoherent(mask);
            }
            return Boolean.TRUE;
        });
        if (done == null) {
            checkRefusalConsistent(dev, mask);
        } else {
            if (which != 1) {
                dev.dmaMask = mask;
            }
            if (which != 0) {
                dev.coherentMask = mask;
            }
        }
        if (!closing.getAsBoolean()) {
            check(dev.dmaMask.equals(dev.device.dmaMask()) && dev.coherentMask.equals(dev.device.coherentMask()),
                    "masks are what was set: model " + dev.dmaMask + "/" + dev.coherentMask + ", device "
                            + dev.device.dmaMask() + "/" + dev.device.coherentMask());
        }
    }

    /**
     * A mask is refused only when no memory the device reaches lies within it (issue 15, finding 4): a live
     * buffer of this device whose whole frame, as the device addresses it, lies within the mask disproves a
     * refusal. Frames are the unit the floor of {@code dma_direct_supported()} is taken in.
     */
    private void checkRefusalConsistent(Dev dev, DmaMask mask) {
        for (Buf buf : buffers) {
            if (buf.dev != dev || closing.getAsBoolean()) {
                continue;
            }
            long dma = buf.buffer.dmaAddress() & ~dev.encryptionMask;
            long frameEnd = (buf.phys & -FRAME) + FRAME - 1 + (dma - buf.phys);
            check(Long.compareUnsigned(frameEnd, mask.value()) > 0, String.format("mask %s refused, yet %s lies in a frame "
                    + "ending at DMA 0x%x within it", mask, buf.buffer, frameEnd));
        }
    }

    private void setMinAlign(Dev dev) {
        long mask = MIN_ALIGN[random.nextInt(MIN_ALIGN.length)];
        note("setMinAlignMask 0x" + Long.toHexString(mask) + " on " + dev.device.name());
        if (attempt("set min_align_mask", () -> {
            dev.device.setMinAlignMask(mask);
            return Boolean.TRUE;
        }) != null) {
            dev.minAlign = mask;
        }
    }

    // ---- coherent buffers ----

    private long randomSize() {
        int kind = random.nextInt(100);
        if (kind < 40) {
            return 1 + random.nextInt(4096);
        }
        if (kind < 80) {
            return 4096 + random.nextInt(60 * 1024);
        }
        if (kind < 95) {
            return 64 * 1024 + random.nextInt(960 * 1024);
        }
        return 1024 * 1024 + random.nextInt(3 * 1024 * 1024);
    }

    private void alloc(Dev dev) {
        long size = randomSize();
        List<DmaAttr> attrs = new ArrayList<>();
        if (random.nextInt(4) == 0) {
            attrs.add(DmaAttr.ATOMIC);
        }
        if (random.nextInt(8) == 0) {
            attrs.add(DmaAttr.NO_KERNEL_MAPPING);
        }
        if (random.nextInt(6) == 0) {
            attrs.add(DmaAttr.SKIP_ZEROING);
        }
        note("alloc " + size + " " + attrs + " on " + dev.device.name());
        DmaBuffer buffer = attempt("allocCoherent", () -> dev.device.allocCoherent(size, attrs.toArray(new DmaAttr[0])));
        if (buffer == null) {
            return;
        }
        long dma = buffer.dmaAddress();
        note("  -> dma 0x" + Long.toHexString(dma) + " " + buffer.path());
        long limit = minNotZero(dev.coherentMask.value(), dev.busLimit);
        check(within(dma, size, limit), String.format("coherent buffer at DMA 0x%x+%d beyond coherent limit 0x%x (mask %s)",
                dma, size, limit, dev.coherentMask));
        check(buffer.size() == size && Long.compareUnsigned(buffer.allocatedSize(), size) >= 0, "sizes of " + buffer);
        long phys = phys(dev, dma);
        Buf buf = new Buf(dev, buffer, phys);
        addLive(phys, size, "buffer " + buffer);
        buffers.add(buf);
        if (buffer.hasCpuView() && !attrs.contains(DmaAttr.SKIP_ZEROING) && !closing.getAsBoolean()) {
            checkZeroed(buffer);
        }
        coherentDataRoundTrip(buf);
    }

    private void checkZeroed(DmaBuffer buffer) {
        ByteBuffer view = attempt("cpuView", buffer::cpuView);
        if (view == null) {
            return;
        }
        int length = view.remaining();
        int step = length > 128 * 1024 ? 61 : 1;
        for (int i = 0; i < length; i += step) {
            if (view.get(i) != 0) {
                check(closing.getAsBoolean(), "byte " + i + " of a new buffer is not zero: " + buffer);
                return;
            }
        }
    }

    private void coherentDataRoundTrip() {
        if (!buffers.isEmpty()) {
            coherentDataRoundTrip(buffers.get(random.nextInt(buffers.size())));
        }
    }

    /** CPU writes, device reads; device writes, CPU reads: coherent memory needs no sync. */
    private void coherentDataRoundTrip(Buf buf) {
        if (buf.dev.side == null || buf.mappings > 0) {
            return;
        }
        int offset = (int) random.nextLong(buf.size);
        int length = (int) Math.min(buf.size - offset, 1 + random.nextInt(512));
        long dma = buf.buffer.dmaAddress() + offset;
        byte[] data = bytes(length);
        note("coherent round trip " + length + " B at +" + offset + " of " + buf.buffer);
        if (buf.buffer.hasCpuView()) {
            ByteBuffer view = attempt("cpuView", () -> buf.buffer.cpuView());
            if (view == null) {
                return;
            }
            view.duplicate().position(offset).put(data);
            byte[] seen = buf.dev.side.read(dma, length);
            checkData(data, seen, "device reads what the CPU wrote in " + buf.buffer);
            byte[] back = bytes(length);
            check(buf.dev.side.write(dma, back) || closing.getAsBoolean(), "device write faulted at 0x" + Long.toHexString(dma));
            byte[] cpu = new byte[length];
            view.duplicate().position(offset).get(cpu);
            checkData(back, cpu, "CPU reads what the device wrote in " + buf.buffer);
        } else {
            check(buf.dev.side.write(dma, data) || closing.getAsBoolean(), "device write faulted at 0x" + Long.toHexString(dma));
            checkData(data, buf.dev.side.read(dma, length), "device reads back its own write in " + buf.buffer);
        }
    }

    private void free() {
        Buf buf = pickFreeable();
        if (buf == null) {
            return;
        }
        buffers.remove(buf);
        live.remove(buf.phys);
        boolean viaDevice = random.nextBoolean();
        note("free " + buf.buffer + (viaDevice ? " via device" : " via close"));
        attempt("free", () -> {
            if (viaDevice) {
                buf.dev.device.freeCoherent(buf.buffer);
            } else {
                buf.buffer.close();
            }
            return Boolean.TRUE;
        });
        if (random.nextInt(4) == 0) {
            note("double free " + buf.buffer);
            expectUsage("double free", () -> buf.dev.device.freeCoherent(buf.buffer));
        }
    }

    private Buf pickFreeable() {
        for (int tries = 0; tries < 4 && !buffers.isEmpty(); tries++) {
            Buf buf = buffers.get(random.nextInt(buffers.size()));
            if (buf.mappings == 0) {
                return buf;
            }
        }
        return null;
    }

    // ---- streaming ----

    private Source randomSource(int maxLength) {
        int kind = random.nextInt(4);
        if (kind == 0 && !buffers.isEmpty()) {
            Buf buf = buffers.get(random.nextInt(buffers.size()));
            if (buf.buffer.hasCpuView() && buf.mappings == 0 && !buf.buffer.isFreed()) {
                long offset = random.nextInt(4) == 0 ? 0 : random.nextLong(buf.size);
                int length = (int) Math.min(buf.size - offset, 1 + random.nextInt(maxLength));
                ByteBuffer view = attempt("cpuView", () -> buf.buffer.cpuView());
                if (view == null) {
                    return null;
                }
                return new Source(buf, offset, view.slice((int) offset, length), null, 0, length);
            }
        }
        int length = 1 + random.nextInt(maxLength);
        if (kind == 1) {
            byte[] array = new byte[length + 64];
            return new Source(null, 0, null, array, random.nextInt(64), length);
        }
        if (kind == 2) {
            byte[] array = new byte[length + 64];
            int offset = random.nextInt(64);
            return new Source(null, 0, ByteBuffer.wrap(array, offset, length).slice(), null, offset, length);
        }
        int skew = random.nextInt(64);
        return new Source(null, 0, ByteBuffer.allocateDirect(length + skew).position(skew).slice(), null, 0, length);
    }

    private DmaDirection randomDirection() {
        return new DmaDirection[] {DmaDirection.TO_DEVICE, DmaDirection.FROM_DEVICE, DmaDirection.BIDIRECTIONAL}[random.nextInt(3)];
    }

    private DmaMapping mapSource(Dev dev, Source source, DmaDirection dir, DmaAttr[] attrs) {
        if (source.array != null) {
            return dev.device.map(source.array, source.arrayOffset, source.length, dir, attrs);
        }
        return dev.device.map(source.view.duplicate().clear(), dir, attrs);
    }

    private void map(Dev dev) {
        Source source = randomSource(random.nextInt(8) == 0 ? 300 * 1024 : 16 * 1024);
        if (source == null) {
            return;
        }
        DmaDirection dir = randomDirection();
        DmaAttr[] attrs = random.nextInt(5) == 0 ? new DmaAttr[] {DmaAttr.ATOMIC} : new DmaAttr[0];
        byte[] data = bytes(source.length);
        source.write(data);
        note("map " + source.length + " B " + dir + (source.parent != null ? " of " + source.parent.buffer
                : source.array != null ? " of an array" : source.view.isDirect() ? " of a direct buffer" : " of a heap buffer")
                + " on " + dev.device.name());
        DmaMapping mapping = attempt("map", () -> mapSource(dev, source, dir, attrs));
        if (mapping == null) {
            return;
        }
        Map map = registered(dev, mapping, source);
        if (map != null && dir != DmaDirection.FROM_DEVICE) {
            deviceReads(map, data, "after map");
        }
    }

    /** Checks a new mapping's placement and records it; null when the check found nothing to record. */
    private Map registered(Dev dev, DmaMapping mapping, Source source) {
        long dma = mapping.dmaAddress();
        note("  -> dma 0x" + Long.toHexString(dma) + (mapping.isBounced() ? " bounced" : " direct"));
        long limit = minNotZero(dev.dmaMask.value(), dev.busLimit);
        check(mapping.size() == source.length, "mapping size " + mapping.size() + " for " + source.length + " bytes");
        check(within(dma, source.length, limit), String.format("mapping at DMA 0x%x+%d beyond streaming limit 0x%x (mask %s)",
                dma, source.length, limit, dev.dmaMask));
        long phys = phys(dev, dma);
        long bouncePhys = -1;
        if (mapping.isBounced()) {
            addLive(phys, source.length, "bounce " + mapping);
            bouncePhys = phys;
            if (dev.minAlign != 0 && source.origKnown()) {
                check((dma & dev.minAlign) == (source.origAddr() & dev.minAlign), String.format(
                        "bounce DMA 0x%x does not keep 0x%x's bits under min_align_mask 0x%x", dma, source.origAddr(), dev.minAlign));
            }
        } else {
            check(source.parent != null, "only pinned DMA memory maps directly, yet " + mapping + " did not bounce");
            long first = source.parent.phys + source.parentOffset;
            check(phys == first, String.format("direct mapping at phys 0x%x, its memory is at 0x%x", phys, first));
        }
        if (source.parent != null) {
            source.parent.mappings++;
        }
        Map map = new Map(dev, mapping, source, bouncePhys);
        mappings.add(map);
        return map;
    }

    private void deviceReads(Map map, byte[] expected, String when) {
        if (map.dev.side == null) {
            return;
        }
        checkData(expected, map.dev.side.read(map.mapping.dmaAddress(), expected.length),
                "device reads what the CPU wrote " + when + " (" + map.mapping + ")");
    }

    private Map pickMapping() {
        return mappings.isEmpty() ? null : mappings.get(random.nextInt(mappings.size()));
    }

    private void deviceWritesThenSyncForCpu() {
        Map map = pickMapping();
        if (map == null || map.mapping.direction() == DmaDirection.TO_DEVICE || map.dev.side == null) {
            return;
        }
        byte[] data = bytes(map.source.length);
        note("device writes, syncForCpu " + map.mapping);
        check(map.dev.side.write(map.mapping.dmaAddress(), data) || closing.getAsBoolean(), "device write faulted: " + map.mapping);
        if (attempt("syncForCpu", () -> {
            map.mapping.syncForCpu();
            return Boolean.TRUE;
        }) != null) {
            checkData(data, map.source.read(), "CPU reads what the device wrote after syncForCpu (" + map.mapping + ")");
        }
    }

    private void cpuWritesThenSyncForDevice() {
        Map map = pickMapping();
        if (map == null || map.mapping.direction() == DmaDirection.FROM_DEVICE) {
            return;
        }
        byte[] data = bytes(map.source.length);
        note("CPU writes, syncForDevice " + map.mapping);
        map.source.write(data);
        if (attempt("syncForDevice", () -> {
            map.mapping.syncForDevice();
            return Boolean.TRUE;
        }) != null) {
            deviceReads(map, data, "after syncForDevice");
        }
    }

    private void unmap() {
        Map map = pickMapping();
        if (map == null) {
            return;
        }
        unmap(map, random.nextBoolean());
        if (random.nextInt(4) == 0) {
            note("double unmap " + map.mapping);
            expectUsage("double unmap", () -> map.dev.device.unmap(map.mapping));
        }
    }

    private void unmap(Map map, boolean viaDevice) {
        mappings.remove(map);
        forget(map);
        byte[] data = null;
        if (map.mapping.direction() != DmaDirection.TO_DEVICE && map.dev.side != null) {
            data = bytes(map.source.length);
            check(map.dev.side.write(map.mapping.dmaAddress(), data) || closing.getAsBoolean(), "device write faulted: " + map.mapping);
        }
        note("unmap " + map.mapping + (viaDevice ? " via device" : " via close"));
        boolean done = attempt("unmap", () -> {
            if (viaDevice) {
                map.dev.device.unmap(map.mapping);
            } else {
                map.mapping.close();
            }
            return Boolean.TRUE;
        }) != null;
        if (done && data != null) {
            checkData(data, map.source.read(), "CPU reads what the device wrote after unmap (" + map.mapping + ")");
        }
        check(map.mapping.isUnmapped() || closing.getAsBoolean(), "unmapped mapping says it is mapped: " + map.mapping);
    }

    private void mapSg(Dev dev) {
        int count = 1 + random.nextInt(4);
        List<Source> sources = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            Source source = randomSource(8 * 1024);
            if (source == null || source.array != null || sources.stream().anyMatch(s -> s.parent != null && s.parent == source.parent)) {
                continue;
            }
            source.write(bytes(source.length));
            sources.add(source);
        }
        if (sources.isEmpty()) {
            return;
        }
        DmaDirection dir = randomDirection();
        note("mapSg " + sources.size() + " segments " + dir + " on " + dev.device.name());
        List<ByteBuffer> views = new ArrayList<>();
        for (Source source : sources) {
            views.add(source.view.duplicate().clear());
        }
        ScatterList list = attempt("mapSg", () -> dev.device.mapSg(views, dir));
        if (list == null) {
            return;
        }
        check(list.count() == sources.size(), "scatter list of " + list.count() + " segments for " + sources.size());
        List<Map> segments = new ArrayList<>();
        for (int i = 0; i < sources.size(); i++) {
            Map map = registered(dev, list.segment(i), sources.get(i));
            mappings.remove(map);
            segments.add(map);
            if (dir != DmaDirection.FROM_DEVICE) {
                deviceReads(map, sources.get(i).read(), "after mapSg");
            }
        }
        List<Map> all = new ArrayList<>(segments);
        if (random.nextInt(3) == 0) {
            // One segment unmapped on its own first, as a driver that finished with it early does. Its slots
            // are free once it returns, so the model lets go of them first (another thread may take them).
            Map first = segments.remove(0);
            forget(first);
            note("unmap segment 0 on its own");
            attempt("unmap segment", () -> {
                first.mapping.close();
                return Boolean.TRUE;
            });
        }
        for (Map map : segments) {
            forget(map);
        }
        note("close scatter list");
        attempt("close scatter list", () -> {
            list.close();
            return Boolean.TRUE;
        });
        for (Map map : all) {
            check(map.mapping.isUnmapped() || closing.getAsBoolean(), "segment still mapped after the list closed: " + map.mapping);
        }
        check(list.isUnmapped() || closing.getAsBoolean(), "scatter list says it is mapped after close");
    }

    /** The model lets go of a mapping just before the library does, so no other thread's range is judged against it. */
    private void forget(Map map) {
        if (map.bouncePhys != -1) {
            live.remove(map.bouncePhys);
        }
        if (map.source.parent != null) {
            map.source.parent.mappings--;
        }
    }

    // ---- bad input: documented exceptions only ----

    private void badInput(Dev dev) {
        int kind = random.nextInt(5);
        note("bad input " + kind + " on " + dev.device.name());
        switch (kind) {
            case 0 -> expectArgument("allocCoherent(" + -random.nextInt(3) + ")", () -> dev.device.allocCoherent(-random.nextInt(3)));
            case 1 -> expectArgument("map an empty buffer", () -> dev.device.map(ByteBuffer.allocateDirect(0), DmaDirection.TO_DEVICE));
            case 2 -> expectArgument("map with DmaDirection.NONE", () -> dev.device.map(ByteBuffer.allocateDirect(16), DmaDirection.NONE));
            case 3 -> expectArgument("min_align_mask 0x1234", () -> dev.device.setMinAlignMask(0x1234));
            default -> {
                Map map = pickMapping();
                if (map != null) {
                    // check_sync(): another direction is misuse only for a one-way mapping; BIDIRECTIONAL takes any.
                    if (map.mapping.direction() != DmaDirection.BIDIRECTIONAL) {
                        DmaDirection other = map.mapping.direction() == DmaDirection.TO_DEVICE ? DmaDirection.FROM_DEVICE
                                : DmaDirection.TO_DEVICE;
                        expectUsage("sync in another direction", () -> map.dev.device.syncForCpu(map.mapping, other));
                    }
                    expectUsage("sync past the end", () -> map.mapping.syncForDevice(map.source.length, 1));
                }
            }
        }
    }

    // ---- teardown ----

    /** Unmaps and frees everything the model holds; afterwards no range is live. */
    void teardown() {
        while (!mappings.isEmpty()) {
            unmap(mappings.get(mappings.size() - 1), random.nextBoolean());
        }
        while (!buffers.isEmpty()) {
            Buf buf = buffers.remove(buffers.size() - 1);
            live.remove(buf.phys);
            note("teardown free " + buf.buffer);
            attempt("free", () -> {
                buf.buffer.close();
                return Boolean.TRUE;
            });
        }
    }

    private void addLive(long phys, long size, String holder) {
        try {
            live.add(phys, size, holder + " of " + Thread.currentThread().getName());
        } catch (AssertionError overlap) {
            throw new AssertionError(overlap.getMessage() + "; recent operations of " + Thread.currentThread().getName()
                    + ":\n  " + recentLog(), overlap);
        }
    }

    /** After every thread's teardown: no range is live. */
    void assertNothingLive() {
        check(live.isEmpty(), "live ranges left after teardown");
    }

    // ---- helpers ----

    private <T> T attempt(String what, Supplier<T> action) {
        try {
            return action.get();
        } catch (DmaException documented) {
            note("  " + what + " refused: " + documented.getClass().getSimpleName());
            return null;
        } catch (RuntimeException | Error undocumented) {
            throw new AssertionError("undocumented " + undocumented + " from " + what + "; recent operations:\n  " + recentLog(),
                    undocumented);
        }
    }

    private void expectUsage(String what, Runnable action) {
        try {
            action.run();
        } catch (DmaUsageException expected) {
            return;
        } catch (RuntimeException | Error other) {
            throw new AssertionError(what + " must throw DmaUsageException, threw " + other + "; recent operations:\n  "
                    + recentLog(), other);
        }
        throw new AssertionError(what + " must throw DmaUsageException and succeeded; recent operations:\n  " + recentLog());
    }

    private void expectArgument(String what, Runnable action) {
        try {
            action.run();
        } catch (IllegalArgumentException expected) {
            return;
        } catch (DmaUsageException closed) {
            // A closed device refuses before looking at the arguments; only under a racing close.
            check(closing.getAsBoolean(), what + " threw " + closed + " on an open device");
            return;
        } catch (RuntimeException | Error other) {
            throw new AssertionError(what + " must throw IllegalArgumentException, threw " + other + "; recent operations:\n  "
                    + recentLog(), other);
        }
        throw new AssertionError(what + " must throw IllegalArgumentException and succeeded");
    }

    private void check(boolean condition, String message) {
        if (!condition) {
            throw new AssertionError(message + "; recent operations:\n  " + recentLog());
        }
    }

    private void checkData(byte[] expected, byte[] seen, String what) {
        boolean closingNow = closing.getAsBoolean();
        if (closingNow) {
            return;
        }
        check(seen != null, what + ": the access faulted");
        if (!Arrays.equals(expected, seen)) {
            int at = Arrays.mismatch(expected, seen);
            check(closing.getAsBoolean(), what + ": differs at byte " + at + " of " + expected.length);
        }
    }

    private byte[] bytes(int length) {
        byte[] data = new byte[length];
        random.nextBytes(data);
        return data;
    }

    /** The physical address behind a DMA address, by the device's wiring (the model's own translation). */
    private long phys(Dev dev, long dma) {
        long clear = dma & ~dev.encryptionMask;
        if (dev.ranges.isEmpty()) {
            return clear;
        }
        for (DmaRange range : dev.ranges) {
            if (Long.compareUnsigned(clear, range.dmaStart()) >= 0 && Long.compareUnsigned(clear - range.dmaStart(), range.size()) < 0) {
                return clear - range.offset();
            }
        }
        throw new AssertionError(String.format("DMA address 0x%x is outside every dma-range of %s; recent operations:\n  %s",
                dma, dev.device.name(), recentLog()));
    }

    static long minNotZero(long a, long b) {
        if (a == 0) {
            return b;
        }
        if (b == 0) {
            return a;
        }
        return Long.compareUnsigned(a, b) <= 0 ? a : b;
    }

    private static boolean within(long dma, long size, long limit) {
        long last = dma + size - 1;
        return Long.compareUnsigned(last, dma) >= 0 && Long.compareUnsigned(last, limit) <= 0;
    }
}
