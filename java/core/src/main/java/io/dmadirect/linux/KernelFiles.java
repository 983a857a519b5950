package io.dmadirect.linux;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.commons.io.IOUtils;

/**
 * Reads a procfs or sysfs file whole. Such files report a size of 0 or 4096 whatever they hold, and a
 * sysctl answers a read that does not start at offset 0 with end-of-file: {@code Files.readString}
 * reads {@code /proc/sys/vm/nr_hugepages} as "6" when it holds "64". One sequential stream read from
 * the start, as {@code cat} does, is what the kernel expects.
 */
public final class KernelFiles {

    private KernelFiles() {
    }

    /** The whole content of {@code file}, as the kernel produces it. */
    public static String read(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return IOUtils.toString(in, StandardCharsets.UTF_8);
        }
    }
}
