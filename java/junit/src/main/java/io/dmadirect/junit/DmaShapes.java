package io.dmadirect.junit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.TestTemplate;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Runs a test once per machine shape on the simulated platform: the hostile machines a driver meets in the
 * field, where a driver that ignores its mask, its mapping errors or the bounce pool breaks. Each invocation's
 * parameters receive that shape's {@link io.dmadirect.DmaDevice}, {@link io.dmadirect.DmaPlatform} and
 * {@link DeviceUnderTest}; the leak checks of {@link DmaTest} apply to each.
 *
 * <pre>{@code
 * @DmaShapes
 * void ringSurvivesEveryMachine(DmaDevice dma) { ... }
 *
 * @DmaShapes(value = {Shape.FORCED_BOUNCE, Shape.CONFIDENTIAL_GUEST}, maskBits = 28)
 * void bouncesAreSynced(DmaDevice dma) { ... }
 * }</pre>
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
@TestTemplate
@ExtendWith(DmaTestExtension.class)
public @interface DmaShapes {
    /** The shapes to run in; all of them by default. */
    Shape[] value() default {Shape.STANDARD, Shape.NO_LOW_MEMORY, Shape.LIMIT_24_BIT, Shape.TINY_BOUNCE_POOL,
            Shape.FORCED_BOUNCE, Shape.CONFIDENTIAL_GUEST, Shape.IOVA};

    /** The DMA mask the driver sets, in bits; 0 leaves the kernel's default, 32. */
    int maskBits() default 0;
}
