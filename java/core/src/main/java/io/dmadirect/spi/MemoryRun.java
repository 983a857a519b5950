package io.dmadirect.spi;

import java.nio.ByteBuffer;

/** Memory that is contiguous both physically and in the CPU's view. */
public interface MemoryRun {

    /** The physical address of the first byte. */
    long physBase();

    /** Bytes in the run: a whole number of frames. */
    long size();

    /** The CPU virtual address of the first byte, for raw copies and fills. */
    long cpuAddress();

    /** A buffer over {@code [offset, offset + length)} of the run, independent of any other view. */
    ByteBuffer cpuView(long offset, int length);
}
