package io.dmadirect.junit;

import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaDirection;
import io.dmadirect.DmaMapping;
import io.dmadirect.DmaPool;
import io.dmadirect.NoncoherentBuffer;
import io.dmadirect.ScatterList;
import java.lang.reflect.InvocationHandler;
import java.nio.ByteBuffer;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * The device a test's driver receives: the platform's own {@link DmaDevice} behind a proxy that notes the
 * call site of every allocation and mapping (the frame that called the device), and fails chosen ones when
 * the test asked for {@link InjectFaults}. After the test, {@link #leaks()} asks each noted object whether it
 * is still live (the API's own {@code isFreed()}, {@code isUnmapped()}, a pool's active blocks; a primitive
 * mapping is live until its {@code unmap*} call came through here) and names the call site of each one left.
 */
final class RecordingDevice implements InvocationHandler {
    private final DmaDevice target;
    private final FaultPlan faults;
    private final List<Noted> noted = new ArrayList<>();
    /** Primitive mappings ({@code mapSingle}, {@code mapSg} into an array, {@code mapResource}) by DMA address. */
    private final Map<Long, Noted> primitive = new LinkedHashMap<>();

    private RecordingDevice(DmaDevice target, FaultPlan faults) {
        this.target = target;
        this.faults = faults;
    }

    /** {@return a proxy of {@code target} that records into {@code recorder}} */
    static DmaDevice wrap(DmaDevice target, FaultPlan faults, RecordingDevice[] recorder) {
        RecordingDevice handler = new RecordingDevice(target, faults);
        recorder[0] = handler;
        return (DmaDevice) Proxy.newProxyInstance(DmaDevice.class.getClassLoader(), new Class<?>[] {DmaDevice.class},
                handler);
    }

    /** A thing the test allocated or mapped: what, where, and how to ask whether it is still live. */
    record Noted(String what, String site, BooleanSupplier live, Runnable release) {
    }

    @Override
    public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
        String name = method.getName();
        if (method.getDeclaringClass() == Object.class) {
            return objectMethod(proxy, name, args);
        }
        InjectFaults.Op op = operation(name);
        String site = op == null && !name.startsWith("unmap") ? null : CallSite.here();
        if (op != null) {
            faults.maybeFail(op, name, site);
        }
        Object result;
        try {
            result = method.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
        if (site != null) {
            note(name, args, result, site);
        }
        return result;
    }

    private Object objectMethod(Object proxy, String name, Object[] args) {
        switch (name) {
            case "equals":
                return proxy == args[0];
            case "hashCode":
                return System.identityHashCode(proxy);
            default:
                return "Recording" + target;
        }
    }

    private static InjectFaults.Op operation(String name) {
        if (name.startsWith("alloc") || name.equals("createPool")) {
            return InjectFaults.Op.ALLOC;
        }
        if (name.equals("map") || name.equals("mapSg") || name.equals("mapSingle") || name.equals("mapResource")) {
            return InjectFaults.Op.MAP;
        }
        return null;
    }

    private synchronized void note(String name, Object[] args, Object result, String site) {
        if (result instanceof DmaBuffer) {
            DmaBuffer b = (DmaBuffer) result;
            noted.add(new Noted(name + "(" + b.size() + " bytes) at DMA 0x" + Long.toHexString(b.dmaAddress()), site,
                    () -> !b.isFreed(), b::close));
        } else if (result instanceof NoncoherentBuffer) {
            NoncoherentBuffer b = (NoncoherentBuffer) result;
            noted.add(new Noted(name + " at DMA 0x" + Long.toHexString(b.dmaAddress()), site, () -> !b.isFreed(), b::close));
        } else if (result instanceof DmaMapping) {
            DmaMapping m = (DmaMapping) result;
            noted.add(new Noted(name + "(" + m.size() + " bytes, " + m.direction() + (m.isBounced() ? ", bounced" : "")
                    + ") at DMA 0x" + Long.toHexString(m.dmaAddress()), site, () -> !m.isUnmapped(), m::close));
        } else if (result instanceof ScatterList) {
            ScatterList sg = (ScatterList) result;
            noted.add(new Noted(name + "(" + sg.count() + " segments, " + sg.totalSize() + " bytes)", site,
                    () -> !sg.isUnmapped(), sg::close));
        } else if (result instanceof DmaPool) {
            DmaPool pool = (DmaPool) result;
            noted.add(new Noted("blocks of dma pool " + pool.name() + " created", site, () -> activeBlocks(pool) > 0,
                    pool::close));
        } else if (name.equals("mapSingle") || name.equals("mapResource")) {
            long dma = (Long) result;
            long size = args[0] instanceof Long ? (Long) args[1] : (Integer) args[2];
            DmaDirection direction = (DmaDirection) args[name.equals("mapResource") ? 2 : args[0] instanceof Long ? 2 : 3];
            Runnable release = name.equals("mapResource") ? () -> target.unmapResource(dma, size, direction)
                    : () -> target.unmapSingle(dma, size, direction, 0);
            primitive.put(dma, new Noted(name + "(" + size + " bytes, " + direction + ") at DMA 0x" + Long.toHexString(dma),
                    site, () -> true, release));
        } else if (name.equals("mapSg") && result instanceof Integer) {
            long[] out = (long[]) args[4];
            ByteBuffer[] buffers = (ByteBuffer[]) args[0];
            DmaDirection direction = (DmaDirection) args[2];
            for (int i = 0; i < (Integer) result; i++) {
                long dma = out[i];
                int length = buffers[i].remaining();
                primitive.put(dma, new Noted("mapSg segment " + i + " (" + length + " bytes, " + direction + ") at DMA 0x"
                        + Long.toHexString(dma), site, () -> true, () -> target.unmapSingle(dma, length, direction, 0)));
            }
        } else if (name.equals("unmapSingle") || name.equals("unmapResource")) {
            primitive.remove((Long) args[0]);
        } else if (name.equals("unmapSg") && args[0] instanceof long[]) {
            long[] addresses = (long[]) args[0];
            for (int i = 0; i < (Integer) args[2]; i++) {
                primitive.remove(addresses[i]);
            }
        }
    }

    private static int activeBlocks(DmaPool pool) {
        try {
            return pool.activeBlocks();
        } catch (RuntimeException closed) {
            return 0;
        }
    }

    /** {@return what the test left live, each with the call site that allocated or mapped it} */
    synchronized List<Noted> leaks() {
        List<Noted> live = new ArrayList<>();
        for (Noted n : noted) {
            if (n.live().getAsBoolean()) {
                live.add(n);
            }
        }
        live.addAll(primitive.values());
        return live;
    }

    /** The failures {@link InjectFaults} made. */
    List<String> injected() {
        return faults.injected();
    }

    DmaDevice target() {
        return target;
    }
}
