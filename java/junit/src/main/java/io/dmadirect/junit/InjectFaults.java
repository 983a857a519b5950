package io.dmadirect.junit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Makes chosen DMA operations of the test's device fail, to drive a driver's error paths without changing its
 * code: allocations throw {@link io.dmadirect.DmaAllocationException}, mappings
 * {@link io.dmadirect.DmaMappingException}, as the platform does when memory or bounce slots run out. The
 * choice is deterministic: every {@link #every()}th operation, or each with probability {@link #rate()}
 * drawn from a generator seeded with {@link #seed()}, so a failing run repeats exactly. Only operations
 * called from a stack frame whose class and method text contains {@link #sites()} count, when set.
 *
 * <pre>{@code
 * @Test
 * @InjectFaults(ops = Op.ALLOC, every = 1, times = 1)   // the first allocation fails, later ones succeed
 * void recoversFromOneFailedAllocation(DmaDevice dma) { ... }
 * }</pre>
 */
@Documented
@Inherited
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.TYPE, ElementType.METHOD})
public @interface InjectFaults {
    /** Which operations may fail. */
    Op[] ops() default {Op.ALLOC, Op.MAP};

    /** Fail every Nth operation (1: each); 0 to use {@link #rate()} instead. */
    int every() default 0;

    /** The share of operations that fail, 0..1, when {@link #every()} is 0. */
    double rate() default 0;

    /** The seed of the generator behind {@link #rate()}. */
    long seed() default 1;

    /** At most this many failures in the test; later operations succeed (a transient fault). */
    int times() default Integer.MAX_VALUE;

    /** A substring of the calling frame ({@code com.acme.Nic.refill}); empty for any caller. */
    String sites() default "";

    /** The operations fault injection can fail. */
    enum Op {
        /** Coherent, page, non-contiguous and non-coherent allocations, and pool creation. */
        ALLOC,
        /** Streaming mappings: {@code map}, {@code mapSg}, {@code mapSingle}, {@code mapResource}. */
        MAP
    }
}
