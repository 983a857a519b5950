package io.dmadirect.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.dmadirect.DmaAttr;
import io.dmadirect.DmaDevice;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
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
            DmaDevice device = (DmaDevice) Proxy.newProxyInstance(getClass().getClassLoader(),
                    new Class<?>[] {DmaDevice.class}, (proxy, method, args) -> {
                        if (!method.getName().equals("allocCoherent")) {
                            throw new UnsupportedOperationException(method.getName());
                        }
                        Object attrs = args[1];
                        calls.add(attrs instanceof DmaAttr[] a
                                ? "allocCoherent(long,DmaAttr[]) " + args[0] + " " + Arrays.toString(a)
                                : "allocCoherent(long,int) " + args[0] + " " + attrs);
                        return null;
                    });
            AgentDispatcher.allocAgain(device, 4096, row[0]);
            assertEquals(List.of(row[1]), calls, "attributes " + row[0]);
        }
    }
}
