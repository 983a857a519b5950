package io.dmadirect.agent;

import io.dmadirect.agent.bootstrap.DmaHooks;
import net.bytebuddy.asm.Advice;

/** Advice inlined into every {@code DmaDevice}: {@code dma_alloc_pages()} and {@code dma_free_pages()} (and noncontiguous). */
final class PagesAdvice {
    private PagesAdvice() {
    }

    /** {@code allocPages}, {@code allocNoncontiguous}: the buffer the driver now holds. */
    static final class Alloc {
        @Advice.OnMethodEnter(suppress = Throwable.class)
        static int enter() {
            return DmaHooks.takeSite();
        }

        @Advice.OnMethodExit(suppress = Throwable.class, onThrowable = Throwable.class)
        static void exit(@Advice.This Object device, @Advice.Enter int site, @Advice.Return Object buffer,
                @Advice.Thrown Throwable thrown) {
            if (thrown == null && buffer != null) {
                DmaHooks.dispatcher.afterAllocPages(device, buffer, site);
            }
        }
    }

    /** {@code freePages}, {@code freeNoncontiguous} (a buffer's {@code close()} passes here too). */
    static final class Free {
        @Advice.OnMethodEnter(suppress = Throwable.class)
        static void enter(@Advice.This Object device, @Advice.Argument(0) Object buffer) {
            DmaHooks.dispatcher.beforeFreePages(device, buffer, DmaHooks.takeSite());
        }
    }
}
