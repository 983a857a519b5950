package com.example.echo;

/**
 * What the echo driver needs from its hardware: a DMA engine that copies {@code length} bytes from memory into
 * the device and back. The QEMU edu device is one ({@link EduEngine}); a test can play another.
 */
public interface DmaEngine {
    /** Memory to device: the device reads {@code length} bytes at {@code dmaAddress}. */
    void toDevice(long dmaAddress, int length);

    /** Device to memory: the device writes back the {@code length} bytes it holds at {@code dmaAddress}. */
    void fromDevice(long dmaAddress, int length);
}
