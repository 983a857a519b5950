package io.dmadirect.agent;

import io.dmadirect.DmaMask;
import io.dmadirect.agent.bootstrap.DmaHooks;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.implementation.bytecode.assign.Assigner;

/**
 * Advice inlined into every {@code DmaDevice} implementation. Each body only hands its arguments to
 * {@link DmaHooks}; {@code suppress = Throwable.class} means a fault in the agent can never reach the
 * driver. An exception the agent means to throw (fault injection, a double free under quarantine) is
 * returned from the enter advice, which skips the method, and the exit advice throws it.
 */
final class DeviceAdvice {
    private DeviceAdvice() {
    }

    /** {@code allocCoherent(long, DmaAttr...)} and {@code allocCoherent(long, int)}: neither calls the other. */
    static final class Alloc {
        @Advice.OnMethodEnter(suppress = Throwable.class, skipOn = Advice.OnNonDefaultValue.class)
        static Throwable enter(@Advice.This Object device, @Advice.Argument(0) long size,
                @Advice.Local("thread") DmaHooks.PerThread thread, @Advice.Local("site") int site,
                @Advice.Local("t0") long t0) {
            thread = DmaHooks.thread();
            site = thread.site;
            thread.site = 0;
            t0 = DmaHooks.startTime(thread);
            return DmaHooks.dispatcher.beforeAlloc(device, size, site);
        }

        @Advice.OnMethodExit(suppress = Throwable.class, onThrowable = Throwable.class)
        static void exit(@Advice.This Object device, @Advice.Argument(0) long size, @Advice.Argument(1) Object attrs,
                @Advice.Enter Throwable injected,
                @Advice.Return(readOnly = false, typing = Assigner.Typing.DYNAMIC) Object buffer,
                @Advice.Thrown(readOnly = false) Throwable thrown, @Advice.Local("thread") DmaHooks.PerThread thread,
                @Advice.Local("site") int site, @Advice.Local("t0") long t0) {
            if (injected != null) {
                thrown = injected;
                return;
            }
            if (thrown != null) {
                // The agent's quarantine may hold the memory this needed: let it go and try once more. The
                // retry passes through this advice again and is counted there.
                thread.site = site;
                Object retried = DmaHooks.dispatcher.retryAlloc(device, size, attrs, thrown, thread);
                thread.site = 0;
                if (retried != null) {
                    buffer = retried;
                    thrown = null;
                    return;
                }
            }
            DmaHooks.dispatcher.afterAlloc(device, size, buffer, thrown, site, t0, thread);
        }
    }

    /** {@code freeCoherent(DmaBuffer)}. */
    static final class Free {
        @Advice.OnMethodEnter(suppress = Throwable.class, skipOn = Advice.OnNonDefaultValue.class)
        static Throwable enter(@Advice.This Object device, @Advice.Argument(0) Object buffer,
                @Advice.Local("thread") DmaHooks.PerThread thread, @Advice.Local("site") int site,
                @Advice.Local("t0") long t0) {
            thread = DmaHooks.thread();
            site = thread.site;
            thread.site = 0;
            t0 = DmaHooks.startTime(thread);
            return DmaHooks.dispatcher.beforeFree(device, buffer, site, thread);
        }

        @Advice.OnMethodExit(suppress = Throwable.class, onThrowable = Throwable.class)
        static void exit(@Advice.This Object device, @Advice.Argument(0) Object buffer,
                @Advice.Enter Throwable skipped, @Advice.Thrown(readOnly = false) Throwable thrown,
                @Advice.Local("thread") DmaHooks.PerThread thread, @Advice.Local("site") int site,
                @Advice.Local("t0") long t0) {
            if (skipped != null && skipped != DmaHooks.SKIP) {
                thrown = skipped;
                return;
            }
            // SKIP: the free went to quarantine; for the driver it happened, so it is counted.
            DmaHooks.dispatcher.afterFree(device, buffer, thrown, site, t0, thread);
        }
    }

    /** {@code createPool(...)}: the pool's creation site, to which its pages are attributed. */
    static final class CreatePool {
        @Advice.OnMethodEnter(suppress = Throwable.class)
        static int enter() {
            return DmaHooks.takeSite();
        }

        @Advice.OnMethodExit(suppress = Throwable.class)
        static void exit(@Advice.Enter int site, @Advice.Return(typing = Assigner.Typing.DYNAMIC) Object pool) {
            if (pool != null) {
                DmaHooks.dispatcher.afterCreatePool(pool, site);
            }
        }
    }

    /** {@code close()} of a device: the leak check at release. */
    static final class Close {
        @Advice.OnMethodEnter(suppress = Throwable.class)
        static void enter(@Advice.This Object device) {
            DmaHooks.PerThread thread = DmaHooks.thread();
            int site = thread.site;
            thread.site = 0;
            DmaHooks.dispatcher.beforeClose(device, site);
        }
    }

    /** {@code setDmaMask} and {@code setCoherentMask}: inject a narrower mask than the driver asked for. */
    static final class Mask {
        @Advice.OnMethodEnter(suppress = Throwable.class)
        static void enter(@Advice.Argument(value = 0, readOnly = false) DmaMask mask) {
            int bits = DmaHooks.maskBits;
            if (bits > 0 && mask != null && mask.bits() > bits) {
                mask = DmaMask.bits(bits);
            }
        }
    }
}
