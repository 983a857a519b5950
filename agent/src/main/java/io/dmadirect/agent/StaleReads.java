package io.dmadirect.agent;

import io.dmadirect.DmaDirection;
import io.dmadirect.DmaMapping;
import java.nio.ByteBuffer;

/**
 * Opt-in ({@code staleReads=true}, debug): makes a CPU read of a receive buffer before {@code syncForCpu} or the
 * unmap visible. When a {@code FROM_DEVICE} mapping bounces, the map has already copied the buffer into the
 * bounce slot, and the device writes the slot; the buffer itself is only brought up to date by the sync or the
 * unmap, which copy the slot back. So the agent fills the buffer with {@link #PATTERN} right after the map: a
 * correct driver never sees it (the copy back overwrites it with the slot, which holds the original bytes plus
 * what the device wrote), and a driver that reads too early reads {@code 0x5a5a...} instead of plausible stale
 * data. It cannot see a read itself (there is no fault to take on the Java heap or a direct buffer): the
 * pattern shows in the driver's own output. Mappings that do not bounce (direct, coherent memory) are not
 * covered: the device writes the buffer itself, and nothing stands between; force bouncing ({@code
 * mode=debug+inject,forceBounce=true}) to cover them.
 */
final class StaleReads {
    /** The byte a premature read sees. */
    static final byte PATTERN = (byte) 0x5a;

    private StaleReads() {
    }

    /** After a map of {@code buffer} that gave {@code m}. */
    static void poisonBeforeSync(Object buffer, DmaMapping m) {
        if (!(buffer instanceof ByteBuffer) || m.direction() != DmaDirection.FROM_DEVICE || !m.isBounced()) {
            return;
        }
        ByteBuffer b = (ByteBuffer) buffer;
        if (b.isReadOnly() || m.size() != b.remaining()) {
            return;
        }
        for (int i = b.position(); i < b.limit(); i++) {
            b.put(i, PATTERN);
        }
    }
}
