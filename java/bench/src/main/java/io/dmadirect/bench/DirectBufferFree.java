package io.dmadirect.bench;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;

/**
 * Frees a direct buffer at once, as a user who does not wait for the collector would: the second half of
 * the {@code allocateDirect} anchor. {@code Unsafe.invokeCleaner} is the only way the JDK offers; the library
 * itself never needs it, so it lives here.
 */
final class DirectBufferFree {
    private static final MethodHandle INVOKE_CLEANER = invokeCleaner();

    private DirectBufferFree() {
    }

    static void free(ByteBuffer direct) {
        try {
            INVOKE_CLEANER.invokeExact(direct);
        } catch (Throwable t) {
            throw new IllegalStateException("failed to free a direct buffer: " + t, t);
        }
    }

    private static MethodHandle invokeCleaner() {
        try {
            Class<?> unsafeClass = Class.forName("sun.misc.Unsafe");
            Field theUnsafe = unsafeClass.getDeclaredField("theUnsafe");
            theUnsafe.setAccessible(true);
            return MethodHandles.lookup().findVirtual(unsafeClass, "invokeCleaner",
                    MethodType.methodType(void.class, ByteBuffer.class)).bindTo(theUnsafe.get(null));
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError("failed to find Unsafe.invokeCleaner: " + e);
        }
    }
}
