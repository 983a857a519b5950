package io.dmadirect.iova;

import java.nio.ByteBuffer;

/** Makes a buffer over CPU memory {@code [address, address + length)} (on Linux: {@code Syscalls.directView}). */
@FunctionalInterface
public interface CpuViews {
    ByteBuffer view(long cpuAddress, int length);
}
