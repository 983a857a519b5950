package io.dmadirect.agent;

import io.dmadirect.agent.bootstrap.DmaHooks;
import java.nio.ByteBuffer;
import net.bytebuddy.asm.Advice;

/**
 * Advice inlined into the streaming DMA API: {@code map}, {@code mapSg}, {@code unmap} and the syncs of
 * every {@code DmaDevice} implementation, {@code close()} of every {@code DmaMapping} (which unmaps without
 * passing through the device) and of every {@code ScatterList}. As in {@link DeviceAdvice}, each body only
 * hands its arguments to the dispatcher, and an injected failure is returned from the enter advice, which
 * skips the method, for the exit advice to throw.
 */
final class StreamingAdvice {
    private StreamingAdvice() {
    }

    /** {@code map(ByteBuffer, DmaDirection[, DmaAttr...])}: the bytes between position and limit. */
    static final class MapBuffer {
        @Advice.OnMethodEnter(suppress = Throwable.class, skipOn = Advice.OnNonDefaultValue.class)
        static Throwable enter(@Advice.This Object device, @Advice.Argument(0) ByteBuffer buffer,
                @Advice.Local("thread") DmaHooks.PerThread thread, @Advice.Local("site") int site,
                @Advice.Local("t0") long t0) {
            thread = DmaHooks.thread();
            site = thread.site;
            thread.site = 0;
            t0 = DmaHooks.startTime(thread);
            return DmaHooks.dispatcher.beforeMap(device, buffer, buffer.remaining(), site, thread);
        }

        @Advice.OnMethodExit(suppress = Throwable.class, onThrowable = Throwable.class)
        static void exit(@Advice.This Object device, @Advice.Argument(0) ByteBuffer buffer,
                @Advice.Argument(value = 2, optional = true) Object attrs, @Advice.Enter Throwable injected, @Advice.Return Object result,
                @Advice.Thrown(readOnly = false) Throwable thrown, @Advice.Local("thread") DmaHooks.PerThread thread,
                @Advice.Local("site") int site, @Advice.Local("t0") long t0) {
            if (injected != null) {
                thrown = injected;
                return;
            }
            DmaHooks.dispatcher.afterMap(device, buffer, 0, -1, attrs, result, thrown, site, t0, thread);
        }
    }

    /** {@code map(byte[], int offset, int length, DmaDirection, DmaAttr...)}. */
    static final class MapArray {
        @Advice.OnMethodEnter(suppress = Throwable.class, skipOn = Advice.OnNonDefaultValue.class)
        static Throwable enter(@Advice.This Object device, @Advice.Argument(0) Object array,
                @Advice.Argument(2) int length, @Advice.Local("thread") DmaHooks.PerThread thread,
                @Advice.Local("site") int site, @Advice.Local("t0") long t0) {
            thread = DmaHooks.thread();
            site = thread.site;
            thread.site = 0;
            t0 = DmaHooks.startTime(thread);
            return DmaHooks.dispatcher.beforeMap(device, array, length, site, thread);
        }

        @Advice.OnMethodExit(suppress = Throwable.class, onThrowable = Throwable.class)
        static void exit(@Advice.This Object device, @Advice.Argument(0) Object array, @Advice.Argument(1) int offset,
                @Advice.Argument(2) int length, @Advice.Argument(4) Object attrs, @Advice.Enter Throwable injected, @Advice.Return Object result,
                @Advice.Thrown(readOnly = false) Throwable thrown, @Advice.Local("thread") DmaHooks.PerThread thread,
                @Advice.Local("site") int site, @Advice.Local("t0") long t0) {
            if (injected != null) {
                thrown = injected;
                return;
            }
            DmaHooks.dispatcher.afterMap(device, array, offset, length, attrs, result, thrown, site, t0, thread);
        }
    }

    /** {@code mapSg(List<ByteBuffer>, DmaDirection, DmaAttr...)}. */
    static final class MapSg {
        @Advice.OnMethodEnter(suppress = Throwable.class, skipOn = Advice.OnNonDefaultValue.class)
        static Throwable enter(@Advice.This Object device, @Advice.Argument(0) Object buffers,
                @Advice.Local("thread") DmaHooks.PerThread thread, @Advice.Local("site") int site,
                @Advice.Local("t0") long t0) {
            thread = DmaHooks.thread();
            site = thread.site;
            thread.site = 0;
            t0 = DmaHooks.startTime(thread);
            return DmaHooks.dispatcher.beforeMap(device, buffers, -1, site, thread);
        }

        @Advice.OnMethodExit(suppress = Throwable.class, onThrowable = Throwable.class)
        static void exit(@Advice.This Object device, @Advice.Argument(0) Object buffers,
                @Advice.Argument(2) Object attrs, @Advice.Enter Throwable injected, @Advice.Return Object result,
                @Advice.Thrown(readOnly = false) Throwable thrown, @Advice.Local("thread") DmaHooks.PerThread thread,
                @Advice.Local("site") int site, @Advice.Local("t0") long t0) {
            if (injected != null) {
                thrown = injected;
                return;
            }
            DmaHooks.dispatcher.afterMap(device, buffers, 0, -1, attrs, result, thrown, site, t0, thread);
        }
    }

    /** {@code unmap(DmaMapping)} of a device. */
    static final class Unmap {
        @Advice.OnMethodEnter(suppress = Throwable.class)
        static void enter(@Advice.This Object device, @Advice.Argument(0) Object mapping,
                @Advice.Local("thread") DmaHooks.PerThread thread, @Advice.Local("site") int site,
                @Advice.Local("t0") long t0) {
            thread = DmaHooks.thread();
            site = thread.site;
            thread.site = 0;
            t0 = DmaHooks.startTime(thread);
            DmaHooks.dispatcher.beforeUnmap(device, mapping, site, thread);
        }

        @Advice.OnMethodExit(suppress = Throwable.class, onThrowable = Throwable.class)
        static void exit(@Advice.This Object device, @Advice.Argument(0) Object mapping, @Advice.Thrown Throwable thrown,
                @Advice.Local("thread") DmaHooks.PerThread thread, @Advice.Local("site") int site,
                @Advice.Local("t0") long t0) {
            DmaHooks.dispatcher.afterUnmap(device, mapping, thrown, site, t0, thread);
        }
    }

    /** {@code close()} of a mapping: an unmap that does not pass through the device's {@code unmap}. */
    static final class MappingClose {
        @Advice.OnMethodEnter(suppress = Throwable.class)
        static void enter(@Advice.This Object mapping, @Advice.Local("thread") DmaHooks.PerThread thread,
                @Advice.Local("site") int site, @Advice.Local("t0") long t0) {
            thread = DmaHooks.thread();
            site = thread.site;
            thread.site = 0;
            t0 = DmaHooks.startTime(thread);
            DmaHooks.dispatcher.beforeUnmap(null, mapping, site, thread);
        }

        @Advice.OnMethodExit(suppress = Throwable.class, onThrowable = Throwable.class)
        static void exit(@Advice.This Object mapping, @Advice.Thrown Throwable thrown,
                @Advice.Local("thread") DmaHooks.PerThread thread, @Advice.Local("site") int site,
                @Advice.Local("t0") long t0) {
            DmaHooks.dispatcher.afterUnmap(null, mapping, thrown, site, t0, thread);
        }
    }

    /** {@code close()} of a scatter list ({@code dma_unmap_sg}): its segments' closes are scatter-gather unmaps. */
    static final class SgClose {
        @Advice.OnMethodEnter(suppress = Throwable.class)
        static void enter(@Advice.This Object list, @Advice.Local("thread") DmaHooks.PerThread thread,
                @Advice.Local("t0") long t0) {
            thread = DmaHooks.thread();
            int site = thread.site;
            thread.site = 0;
            t0 = DmaHooks.startTime(thread);
            DmaHooks.dispatcher.beforeUnmapSg(list, site, thread);
            thread.sgUnmap = list;
            thread.sgSite = site;
        }

        @Advice.OnMethodExit(suppress = Throwable.class, onThrowable = Throwable.class)
        static void exit(@Advice.This Object list, @Advice.Thrown Throwable thrown,
                @Advice.Local("thread") DmaHooks.PerThread thread, @Advice.Local("t0") long t0) {
            int site = thread.sgSite;
            thread.sgUnmap = null;
            thread.sgSite = 0;
            DmaHooks.dispatcher.afterUnmapSg(list, thrown, site, t0, thread);
        }
    }

    /** {@code syncForCpu} and {@code syncForDevice} of a whole mapping: {@code (DmaMapping, DmaDirection)}. */
    static final class Sync {
        @Advice.OnMethodEnter(suppress = Throwable.class)
        static void enter(@Advice.This Object device, @Advice.Origin("#m") String method,
                @Advice.Argument(0) Object mapping, @Advice.Argument(1) Object dir,
                @Advice.Local("thread") DmaHooks.PerThread thread, @Advice.Local("site") int site,
                @Advice.Local("t0") long t0) {
            thread = DmaHooks.thread();
            site = thread.site;
            thread.site = 0;
            t0 = DmaHooks.startTime(thread);
            DmaHooks.dispatcher.beforeSync(device, mapping, 0, -1, dir, method.endsWith("Cpu"), site, thread);
        }

        @Advice.OnMethodExit(suppress = Throwable.class, onThrowable = Throwable.class)
        static void exit(@Advice.This Object device, @Advice.Origin("#m") String method,
                @Advice.Argument(0) Object mapping, @Advice.Thrown Throwable thrown,
                @Advice.Local("thread") DmaHooks.PerThread thread, @Advice.Local("site") int site,
                @Advice.Local("t0") long t0) {
            DmaHooks.dispatcher.afterSync(device, mapping, -1, method.endsWith("Cpu"), thrown, site, t0, thread);
        }
    }

    /** {@code syncForCpu} and {@code syncForDevice} of a range: {@code (DmaMapping, long offset, long length, DmaDirection)}. */
    static final class SyncRange {
        @Advice.OnMethodEnter(suppress = Throwable.class)
        static void enter(@Advice.This Object device, @Advice.Origin("#m") String method,
                @Advice.Argument(0) Object mapping, @Advice.Argument(1) long offset, @Advice.Argument(2) long length,
                @Advice.Argument(3) Object dir, @Advice.Local("thread") DmaHooks.PerThread thread,
                @Advice.Local("site") int site, @Advice.Local("t0") long t0) {
            thread = DmaHooks.thread();
            site = thread.site;
            thread.site = 0;
            t0 = DmaHooks.startTime(thread);
            DmaHooks.dispatcher.beforeSync(device, mapping, offset, length, dir, method.endsWith("Cpu"), site, thread);
        }

        @Advice.OnMethodExit(suppress = Throwable.class, onThrowable = Throwable.class)
        static void exit(@Advice.This Object device, @Advice.Origin("#m") String method,
                @Advice.Argument(0) Object mapping, @Advice.Argument(2) long length, @Advice.Thrown Throwable thrown,
                @Advice.Local("thread") DmaHooks.PerThread thread, @Advice.Local("site") int site,
                @Advice.Local("t0") long t0) {
            DmaHooks.dispatcher.afterSync(device, mapping, length, method.endsWith("Cpu"), thrown, site, t0, thread);
        }
    }
}
