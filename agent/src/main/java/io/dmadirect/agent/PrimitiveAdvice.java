package io.dmadirect.agent;

import io.dmadirect.agent.bootstrap.DmaHooks;
import net.bytebuddy.asm.Advice;

/**
 * Advice inlined into the primitive streaming API of every {@code DmaDevice} implementation and into
 * {@code mapResource}/{@code unmapResource}. As in {@link StreamingAdvice}, each body only hands its
 * arguments to the dispatcher; an injected map failure is returned from the enter advice, which skips the
 * method, for the exit advice to throw.
 */
final class PrimitiveAdvice {
    private PrimitiveAdvice() {
    }

    /** {@code mapSingle(ByteBuffer, int offset, int length, DmaDirection, int attrs)}. */
    static final class MapSingleBuffer {
        @Advice.OnMethodEnter(suppress = Throwable.class, skipOn = Advice.OnNonDefaultValue.class)
        static Throwable enter(@Advice.This Object device, @Advice.Argument(2) int length,
                @Advice.Local("thread") DmaHooks.PerThread thread, @Advice.Local("site") int site,
                @Advice.Local("t0") long t0) {
            thread = DmaHooks.thread();
            site = thread.site;
            thread.site = 0;
            t0 = DmaHooks.startTime(thread);
            return DmaHooks.dispatcher.beforeMap(device, null, length, site, thread);
        }

        @Advice.OnMethodExit(suppress = Throwable.class, onThrowable = Throwable.class)
        static void exit(@Advice.This Object device, @Advice.Argument(0) Object buffer, @Advice.Argument(1) int offset,
                @Advice.Argument(2) int length, @Advice.Argument(3) Object direction, @Advice.Argument(4) int attrs,
                @Advice.Enter Throwable injected, @Advice.Return long dma,
                @Advice.Thrown(readOnly = false) Throwable thrown, @Advice.Local("thread") DmaHooks.PerThread thread,
                @Advice.Local("site") int site, @Advice.Local("t0") long t0) {
            if (injected != null) {
                thrown = injected;
                return;
            }
            DmaHooks.dispatcher.afterMapSingle(device, buffer, offset, length, direction, attrs, dma, thrown, site, t0,
                    thread);
        }
    }

    /** {@code mapSingle(long cpuAddress, long size, DmaDirection, int attrs)}. */
    static final class MapSingleAddress {
        @Advice.OnMethodEnter(suppress = Throwable.class, skipOn = Advice.OnNonDefaultValue.class)
        static Throwable enter(@Advice.This Object device, @Advice.Argument(1) long size,
                @Advice.Local("thread") DmaHooks.PerThread thread, @Advice.Local("site") int site,
                @Advice.Local("t0") long t0) {
            thread = DmaHooks.thread();
            site = thread.site;
            thread.site = 0;
            t0 = DmaHooks.startTime(thread);
            return DmaHooks.dispatcher.beforeMap(device, null, size, site, thread);
        }

        @Advice.OnMethodExit(suppress = Throwable.class, onThrowable = Throwable.class)
        static void exit(@Advice.This Object device, @Advice.Argument(0) long cpuAddress, @Advice.Argument(1) long size,
                @Advice.Argument(2) Object direction, @Advice.Argument(3) int attrs, @Advice.Enter Throwable injected,
                @Advice.Return long dma, @Advice.Thrown(readOnly = false) Throwable thrown,
                @Advice.Local("thread") DmaHooks.PerThread thread, @Advice.Local("site") int site,
                @Advice.Local("t0") long t0) {
            if (injected != null) {
                thrown = injected;
                return;
            }
            DmaHooks.dispatcher.afterMapSingle(device, null, cpuAddress, size, direction, attrs, dma, thrown, site, t0,
                    thread);
        }
    }

    /** {@code unmapSingle(long, long, DmaDirection, int)} and {@code unmapResource(long, long, DmaDirection, DmaAttr...)}. */
    static final class UnmapAddress {
        @Advice.OnMethodEnter(suppress = Throwable.class)
        static void enter(@Advice.This Object device, @Advice.Origin("#m") String method, @Advice.Argument(0) long dma,
                @Advice.Argument(1) long size,
                @Advice.Argument(2) Object direction, @Advice.Local("thread") DmaHooks.PerThread thread,
                @Advice.Local("site") int site, @Advice.Local("t0") long t0, @Advice.Local("entry") Object entry) {
            thread = DmaHooks.thread();
            site = thread.site;
            thread.site = 0;
            t0 = DmaHooks.startTime(thread);
            entry = DmaHooks.dispatcher.beforeUnmapAddress(device, dma, size, direction,
                    method.equals("unmapResource") ? 2 : 0, site, thread);
        }

        @Advice.OnMethodExit(suppress = Throwable.class, onThrowable = Throwable.class)
        static void exit(@Advice.Argument(1) long size, @Advice.Thrown Throwable thrown,
                @Advice.Local("thread") DmaHooks.PerThread thread, @Advice.Local("site") int site,
                @Advice.Local("t0") long t0, @Advice.Local("entry") Object entry) {
            DmaHooks.dispatcher.afterUnmapAddress(entry, size, thrown, site, t0, thread);
        }
    }

    /** {@code mapResource(long phys, long size, DmaDirection, DmaAttr...)}: an MMIO range, no CPU memory. */
    static final class MapResource {
        @Advice.OnMethodEnter(suppress = Throwable.class)
        static void enter(@Advice.Local("thread") DmaHooks.PerThread thread, @Advice.Local("site") int site,
                @Advice.Local("t0") long t0) {
            thread = DmaHooks.thread();
            site = thread.site;
            thread.site = 0;
            t0 = DmaHooks.startTime(thread);
        }

        @Advice.OnMethodExit(suppress = Throwable.class, onThrowable = Throwable.class)
        static void exit(@Advice.This Object device, @Advice.Argument(1) long size, @Advice.Argument(2) Object direction,
                @Advice.Return long dma, @Advice.Thrown Throwable thrown,
                @Advice.Local("thread") DmaHooks.PerThread thread, @Advice.Local("site") int site,
                @Advice.Local("t0") long t0) {
            DmaHooks.dispatcher.afterMapResource(device, size, direction, dma, thrown, site, t0, thread);
        }
    }

    /** {@code syncSingleForCpu} and {@code syncSingleForDevice}: {@code (long, long, DmaDirection)}. */
    static final class SyncSingle {
        @Advice.OnMethodEnter(suppress = Throwable.class)
        static void enter(@Advice.This Object device, @Advice.Origin("#m") String method, @Advice.Argument(0) long dma,
                @Advice.Argument(1) long size, @Advice.Argument(2) Object direction,
                @Advice.Local("thread") DmaHooks.PerThread thread, @Advice.Local("site") int site,
                @Advice.Local("t0") long t0) {
            thread = DmaHooks.thread();
            site = thread.site;
            thread.site = 0;
            t0 = DmaHooks.startTime(thread);
            DmaHooks.dispatcher.beforeSyncAddress(device, dma, size, direction, method.endsWith("Cpu"), site, thread);
        }

        @Advice.OnMethodExit(suppress = Throwable.class, onThrowable = Throwable.class)
        static void exit(@Advice.Argument(1) long size, @Advice.Thrown Throwable thrown,
                @Advice.Local("thread") DmaHooks.PerThread thread, @Advice.Local("site") int site,
                @Advice.Local("t0") long t0) {
            DmaHooks.dispatcher.afterSyncAddress(size, thrown, site, t0, thread);
        }
    }

    /** {@code mapSg(ByteBuffer[], int nents, DmaDirection, int attrs, long[] out)}. */
    static final class MapSgArray {
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
        static void exit(@Advice.This Object device, @Advice.Argument(0) Object buffers, @Advice.Argument(1) int nents,
                @Advice.Argument(2) Object direction, @Advice.Argument(3) int attrs, @Advice.Argument(4) long[] out,
                @Advice.Enter Throwable injected, @Advice.Thrown(readOnly = false) Throwable thrown,
                @Advice.Local("thread") DmaHooks.PerThread thread, @Advice.Local("site") int site,
                @Advice.Local("t0") long t0) {
            if (injected != null) {
                thrown = injected;
                return;
            }
            DmaHooks.dispatcher.afterMapSgArray(device, buffers, nents, direction, attrs, out, thrown, site, t0,
                    thread);
        }
    }

    /** {@code unmapSg(long[], int[], int nents, DmaDirection, int)}. */
    static final class UnmapSgArray {
        @Advice.OnMethodEnter(suppress = Throwable.class)
        static void enter(@Advice.This Object device, @Advice.Argument(0) long[] addresses,
                @Advice.Argument(1) int[] lengths, @Advice.Argument(2) int nents, @Advice.Argument(3) Object direction,
                @Advice.Local("thread") DmaHooks.PerThread thread, @Advice.Local("site") int site,
                @Advice.Local("t0") long t0, @Advice.Local("entries") Object entries) {
            thread = DmaHooks.thread();
            site = thread.site;
            thread.site = 0;
            t0 = DmaHooks.startTime(thread);
            entries = DmaHooks.dispatcher.beforeUnmapSgArray(device, addresses, lengths, nents, direction, site,
                    thread);
        }

        @Advice.OnMethodExit(suppress = Throwable.class, onThrowable = Throwable.class)
        static void exit(@Advice.Argument(1) int[] lengths, @Advice.Argument(2) int nents,
                @Advice.Thrown Throwable thrown, @Advice.Local("thread") DmaHooks.PerThread thread,
                @Advice.Local("site") int site, @Advice.Local("t0") long t0, @Advice.Local("entries") Object entries) {
            DmaHooks.dispatcher.afterUnmapSgArray(entries, lengths, nents, thrown, site, t0, thread);
        }
    }

    /** {@code syncSgForCpu} and {@code syncSgForDevice}: {@code (long[], int[], int nents, DmaDirection)}. */
    static final class SyncSgArray {
        @Advice.OnMethodEnter(suppress = Throwable.class)
        static void enter(@Advice.This Object device, @Advice.Origin("#m") String method,
                @Advice.Argument(0) long[] addresses, @Advice.Argument(1) int[] lengths, @Advice.Argument(2) int nents,
                @Advice.Argument(3) Object direction, @Advice.Local("thread") DmaHooks.PerThread thread,
                @Advice.Local("site") int site, @Advice.Local("t0") long t0) {
            thread = DmaHooks.thread();
            site = thread.site;
            thread.site = 0;
            t0 = DmaHooks.startTime(thread);
            DmaHooks.dispatcher.beforeSyncSgArray(device, addresses, lengths, nents, direction, method.endsWith("Cpu"),
                    site, thread);
        }

        @Advice.OnMethodExit(suppress = Throwable.class, onThrowable = Throwable.class)
        static void exit(@Advice.Argument(1) int[] lengths, @Advice.Argument(2) int nents,
                @Advice.Thrown Throwable thrown, @Advice.Local("thread") DmaHooks.PerThread thread,
                @Advice.Local("site") int site, @Advice.Local("t0") long t0) {
            long bytes = 0;
            for (int i = 0; i < nents && i < lengths.length; i++) {
                bytes += lengths[i];
            }
            DmaHooks.dispatcher.afterSyncAddress(bytes, thrown, site, t0, thread);
        }
    }
}
