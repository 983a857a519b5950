package com.example.echo;

import io.dmadirect.DmaAllocationException;
import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaDirection;
import io.dmadirect.DmaMapping;
import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * A small userspace driver: sends bytes through a device's DMA engine and reads them back. It shows the two
 * ways a driver gets DMA memory and what it owes each: a coherent buffer it frees, or, when coherent memory
 * runs out, streaming mappings of its own arrays that bounce and that it unmaps.
 */
public final class EchoDriver {
    private final DmaDevice dma;
    private final DmaEngine engine;
    private long fallbacks;

    public EchoDriver(DmaDevice dma, DmaEngine engine) {
        this.dma = Objects.requireNonNull(dma);
        this.engine = Objects.requireNonNull(engine);
    }

    /**
     * Sends {@code data} to the device and returns what the device sent back. Uses a coherent buffer; when
     * none can be allocated (memory below the mask exhausted), falls back to streaming mappings of heap arrays
     * (the bounce pool), as a kernel driver falls back when {@code dma_alloc_coherent()} returns NULL.
     */
    public byte[] roundTrip(byte[] data) {
        DmaBuffer buffer;
        try {
            buffer = dma.allocCoherent(data.length);
        } catch (DmaAllocationException e) {
            fallbacks++;
            return roundTripStreaming(data);
        }
        try {
            ByteBuffer view = buffer.cpuView();
            view.put(0, data);
            engine.toDevice(buffer.dmaAddress(), data.length);
            view.put(0, new byte[data.length]);   // so that only the device's copy can fill it again
            engine.fromDevice(buffer.dmaAddress(), data.length);
            byte[] back = new byte[data.length];
            view.get(0, back);
            return back;
        } finally {
            dma.freeCoherent(buffer);
        }
    }

    private byte[] roundTripStreaming(byte[] data) {
        try (DmaMapping out = dma.map(data, 0, data.length, DmaDirection.TO_DEVICE)) {
            engine.toDevice(out.dmaAddress(), data.length);
        }
        byte[] back = new byte[data.length];
        // FROM_DEVICE: the bounce is copied into `back` when the mapping is unmapped.
        try (DmaMapping in = dma.map(back, 0, back.length, DmaDirection.FROM_DEVICE)) {
            engine.fromDevice(in.dmaAddress(), back.length);
        }
        return back;
    }

    /**
     * Stages {@code data} in a coherent buffer for a later transfer; the caller owns the buffer and must free
     * it with {@link #release(DmaBuffer)}.
     */
    public DmaBuffer stage(byte[] data) {
        DmaBuffer buffer = dma.allocCoherent(data.length);
        buffer.cpuView().put(0, data);
        return buffer;
    }

    public void release(DmaBuffer staged) {
        dma.freeCoherent(staged);
    }

    /** How often coherent memory ran out and the streaming path carried the transfer. */
    public long fallbacks() {
        return fallbacks;
    }
}
