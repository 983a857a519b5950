package io.dmadirect.agent;

import io.dmadirect.agent.bootstrap.DmaHooks;
import java.util.List;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.implementation.bytecode.assign.Assigner;

/**
 * Advice inlined into the simulated platform's DMA engine ({@code io.dmadirect.sim}), for
 * {@link DeviceAccessChecks}: which device a bus master belongs to, and a veto before each of its reads and
 * writes. A vetoed access is skipped (a read returns null, a write false: the bus master's own "faulted") and
 * recorded in the bus master's fault list, as an IOMMU fault is.
 */
final class BusMasterAdvice {
    private BusMasterAdvice() {
    }

    /** {@code SimulatedPlatform.busMaster(DmaDevice, int)}. */
    static final class Created {
        @Advice.OnMethodExit(suppress = Throwable.class)
        static void exit(@Advice.Argument(0) Object device,
                @Advice.Return(typing = Assigner.Typing.DYNAMIC) Object busMaster) {
            DmaHooks.dispatcher.afterBusMaster(busMaster, device);
        }
    }

    /** {@code SimulatedBusMaster.write(long, byte[])}. */
    static final class Write {
        @Advice.OnMethodEnter(suppress = Throwable.class, skipOn = Advice.OnNonDefaultValue.class)
        static boolean enter(@Advice.This Object busMaster, @Advice.Argument(0) long dmaAddress,
                @Advice.Argument(1) byte[] data, @Advice.FieldValue("faults") List<String> faults) {
            String fault = DmaHooks.dispatcher.beforeDeviceAccess(busMaster, dmaAddress, data.length, true);
            if (fault != null) {
                faults.add(fault);
                return true;
            }
            return false;
        }
    }

    /** {@code SimulatedBusMaster.read(long, int)}. */
    static final class Read {
        @Advice.OnMethodEnter(suppress = Throwable.class, skipOn = Advice.OnNonDefaultValue.class)
        static boolean enter(@Advice.This Object busMaster, @Advice.Argument(0) long dmaAddress,
                @Advice.Argument(1) int length, @Advice.FieldValue("faults") List<String> faults) {
            String fault = DmaHooks.dispatcher.beforeDeviceAccess(busMaster, dmaAddress, length, false);
            if (fault != null) {
                faults.add(fault);
                return true;
            }
            return false;
        }
    }
}
