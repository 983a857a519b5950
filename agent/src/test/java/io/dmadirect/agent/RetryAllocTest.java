package io.dmadirect.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.dmadirect.DmaAttr;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaDirection;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** The retry after a quarantine drain calls the overload the driver called, with the driver's attributes. */
class RetryAllocTest {
    @Test
    void theRetryKeepsTheDriversAttributesInEitherForm() {
        int flags = DmaAttr.flags(DmaAttr.WRITE_COMBINE, DmaAttr.NO_WARN);
        DmaAttr[] array = {DmaAttr.WRITE_COMBINE};
        Object[][] table = {
            {Integer.valueOf(flags), "allocCoherent(long,int) 4096 " + flags},
            {Integer.valueOf(0), "allocCoherent(long,int) 4096 0"},
            {array, "allocCoherent(long,DmaAttr[]) 4096 [WRITE_COMBINE]"},
            {null, "allocCoherent(long,DmaAttr[]) 4096 []"},
        };
        for (Object[] row : table) {
            List<String> calls = new ArrayList<>();
            DmaDevice device = recording("allocCoherent", args -> calls.add(args[1] instanceof DmaAttr[] a
                    ? "allocCoherent(long,DmaAttr[]) " + args[0] + " " + Arrays.toString(a)
                    : "allocCoherent(long,int) " + args[0] + " " + args[1]));
            AgentDispatcher.allocAgain(device, 4096, row[0]);
            assertEquals(List.of(row[1]), calls, "attributes " + row[0]);
        }
    }

    /** The retry of a failed allocPages or allocNoncontiguous calls the method the driver called, with its arguments. */
    @Test
    void thePagesRetryCallsTheDriversMethodWithItsArguments() {
        DmaAttr[] array = {DmaAttr.SKIP_CPU_SYNC};
        Object[][] table = {
            {"allocPages", array, "allocPages 8192 FROM_DEVICE [SKIP_CPU_SYNC]"},
            {"allocPages", null, "allocPages 8192 FROM_DEVICE []"},
            {"allocNoncontiguous", array, "allocNoncontiguous 8192 FROM_DEVICE [SKIP_CPU_SYNC]"},
            {"allocNoncontiguous", null, "allocNoncontiguous 8192 FROM_DEVICE []"},
        };
        for (Object[] row : table) {
            List<String> calls = new ArrayList<>();
            DmaDevice device = recording((String) row[0], args -> calls.add(row[0] + " " + args[0] + " " + args[1]
                    + " " + Arrays.toString((DmaAttr[]) args[2])));
            AgentDispatcher.allocPagesAgain(device, (String) row[0], 8192, DmaDirection.FROM_DEVICE, row[1]);
            assertEquals(List.of(row[2]), calls, row[0] + " with " + Arrays.toString((DmaAttr[]) row[1]));
        }
    }

    /** A device whose {@code method} hands its arguments to {@code call} and returns null; any other method fails. */
    private static DmaDevice recording(String method, Consumer<Object[]> call) {
        return (DmaDevice) Proxy.newProxyInstance(RetryAllocTest.class.getClassLoader(),
                new Class<?>[] {DmaDevice.class}, (proxy, m, args) -> {
                    if (!m.getName().equals(method)) {
                        throw new UnsupportedOperationException(m.getName());
                    }
                    call.accept(args);
                    return null;
                });
    }
}
