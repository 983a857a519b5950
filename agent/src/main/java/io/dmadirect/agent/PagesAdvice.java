package io.dmadirect.agent;

import io.dmadirect.agent.bootstrap.DmaHooks;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.implementation.bytecode.assign.Assigner;

/** Advice inlined into every {@code DmaDevice}: {@code dma_alloc_pages()} and {@code dma_free_pages()} (and noncontiguous). */
final class PagesAdvice {
    private PagesAdvice() {
    }

    /**
     * {@code allocPages}, {@code allocNoncontiguous}: the buffer the driver now holds. A failed allocation is
     * tried once more after the agent's quarantines let their memory go, as {@link DeviceAdvice.Alloc} does.
     */
    static final class Alloc {
        @Advice.OnMethodEnter(suppress = Throwable.class)
        static int enter() {
            return DmaHooks.takeSite();
        }

        @Advice.OnMethodExit(suppress = Throwable.class, onThrowable = Throwable.class)
        static void exit(@Advice.This Object device, @Advice.Origin("#m") String method, @Advice.Argument(0) long size,
                @Advice.Argument(1) Object direction, @Advice.Argument(2) Object attrs, @Advice.Enter int site,
                @Advice.Return(readOnly = false, typing = Assigner.Typing.DYNAMIC) Object buffer,
                @Advice.Thrown(readOnly = false) Throwable thrown) {
            if (thrown != null) {
                // The retry passes through this advice again, which records the buffer it returns.
                DmaHooks.PerThread thread = DmaHooks.thread();
                thread.site = site;
                Object retried = DmaHooks.dispatcher.retryAllocPages(device, method, size, direction, attrs, thrown,
                        thread);
                thread.site = 0;
                if (retried != null) {
                    buffer = retried;
                    thrown = null;
                }
                return;
            }
            if (buffer != null) {
                DmaHooks.dispatcher.afterAllocPages(device, buffer, site);
            }
        }
    }

    /**
     * {@code freePages}, {@code freeNoncontiguous} (a buffer's {@code close()} passes here too). Under
     * {@code poison=true} the free may go to quarantine (skipped, {@link DmaHooks#SKIP}), or a double free of a
     * quarantined buffer be refused as the library would (the exception returned, and thrown at exit).
     */
    static final class Free {
        @Advice.OnMethodEnter(suppress = Throwable.class, skipOn = Advice.OnNonDefaultValue.class)
        static Throwable enter(@Advice.This Object device, @Advice.Argument(0) Object buffer) {
            return DmaHooks.dispatcher.beforeFreePages(device, buffer, DmaHooks.takeSite());
        }

        @Advice.OnMethodExit(suppress = Throwable.class, onThrowable = Throwable.class)
        static void exit(@Advice.Enter Throwable skipped, @Advice.Thrown(readOnly = false) Throwable thrown) {
            if (skipped != null && skipped != DmaHooks.SKIP) {
                thrown = skipped;
            }
        }
    }
}
