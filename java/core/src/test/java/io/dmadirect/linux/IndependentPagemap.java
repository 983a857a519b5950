package io.dmadirect.linux;

import io.dmadirect.linux.hugepages.Pagemap;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** A second, minimal pagemap reader written apart from {@link Pagemap}, so host tests do not check it against itself. */
public final class IndependentPagemap {
    private IndependentPagemap() {
    }

    /** The physical address of {@code virtualAddress}, assuming 4 KiB base pages, or -1 when not present. */
    public static long physicalAddress(long virtualAddress) {
        try (FileChannel channel = FileChannel.open(Path.of("/proc/self/pagemap"), StandardOpenOption.READ)) {
            ByteBuffer entry = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            channel.read(entry, virtualAddress / 4096 * 8);
            long raw = entry.getLong(0);
            if (raw >= 0) {
                return -1;
            }
            return (raw & 0x7F_FFFF_FFFF_FFFFL) * 4096 + virtualAddress % 4096;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
