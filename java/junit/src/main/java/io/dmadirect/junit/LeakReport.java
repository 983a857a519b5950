package io.dmadirect.junit;

import java.util.List;

/**
 * What a test left behind, as the kernel's dma-debug reports it at driver unbind: each live buffer or mapping
 * with the call site that made it. The leaks are then released, so that a device shared by later tests (a
 * real device's session) starts clean.
 */
final class LeakReport {
    private LeakReport() {
    }

    static String of(RecordingDevice recorder, DeviceUnderTest device) {
        StringBuilder out = new StringBuilder();
        List<RecordingDevice.Noted> leaks = recorder.leaks();
        if (!leaks.isEmpty()) {
            out.append("DMA leak: the test left ").append(leaks.size()).append(" allocation(s) or mapping(s) on ")
                    .append(device).append(":\n");
            for (RecordingDevice.Noted leak : leaks) {
                out.append("  ").append(leak.what()).append(", allocated at ").append(leak.site()).append('\n');
            }
            for (RecordingDevice.Noted leak : leaks) {
                try {
                    leak.release().run();
                } catch (RuntimeException e) {
                    out.append("  (releasing ").append(leak.what()).append(" failed: ").append(e.getMessage()).append(")\n");
                }
            }
        }
        // Bounce slots still held with no noted mapping live: taken past the watched device (a mapping made
        // through another handle of the same platform).
        device.simulated().ifPresent(sim -> {
            long slots = sim.bounceSlotsInUse();
            if (slots > 0) {
                out.append("bounce slots leaked: ").append(slots).append(" swiotlb slot(s) of 2 KiB still in use after the test")
                        .append(" (mapped past the device the test received, so no call site is known)\n");
            }
        });
        return out.toString();
    }
}
