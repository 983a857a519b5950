package io.dmadirect.agent;

import io.dmadirect.agent.bootstrap.DmaHooks;
import net.bytebuddy.asm.Advice;

/** Advice inlined into every {@code DmaPool} implementation: its blocks' allocation, free and the pool's destroy. */
final class PoolAdvice {
    private PoolAdvice() {
    }

    /** {@code alloc(int)}, {@code zalloc(int)}: the block's DMA address. */
    static final class Alloc {
        @Advice.OnMethodEnter(suppress = Throwable.class)
        static int enter(@Advice.This Object pool) {
            return DmaHooks.enterPool(pool);
        }

        @Advice.OnMethodExit(suppress = Throwable.class, onThrowable = Throwable.class)
        static void exit(@Advice.This Object pool, @Advice.Enter int site, @Advice.Return long dma,
                @Advice.Thrown Throwable thrown) {
            DmaHooks.thread().pool = null;
            if (thrown == null) {
                DmaHooks.dispatcher.afterPoolAlloc(pool, dma, site);
            }
        }
    }

    /** {@code allocBlock(DmaAttr...)}, {@code zallocBlock(DmaAttr...)}: the block object. */
    static final class AllocBlock {
        @Advice.OnMethodEnter(suppress = Throwable.class)
        static int enter(@Advice.This Object pool) {
            return DmaHooks.enterPool(pool);
        }

        @Advice.OnMethodExit(suppress = Throwable.class, onThrowable = Throwable.class)
        static void exit(@Advice.This Object pool, @Advice.Enter int site, @Advice.Return Object block,
                @Advice.Thrown Throwable thrown) {
            DmaHooks.thread().pool = null;
            if (thrown == null && block != null) {
                DmaHooks.dispatcher.afterPoolAllocBlock(pool, block, site);
            }
        }
    }

    /** {@code free(long)}: a block given back (a {@code Block}'s {@code close()} passes here too). */
    static final class Free {
        @Advice.OnMethodEnter(suppress = Throwable.class)
        static void enter(@Advice.This Object pool, @Advice.Argument(0) long dma) {
            DmaHooks.dispatcher.beforePoolFree(pool, dma, DmaHooks.takeSite());
        }
    }

    /** {@code close()}: {@code dma_pool_destroy()}. */
    static final class Destroy {
        @Advice.OnMethodEnter(suppress = Throwable.class)
        static void enter(@Advice.This Object pool) {
            DmaHooks.dispatcher.beforePoolDestroy(pool, DmaHooks.takeSite());
        }
    }
}
