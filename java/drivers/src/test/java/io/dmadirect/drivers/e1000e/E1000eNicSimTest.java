package io.dmadirect.drivers.e1000e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaAllocationException;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaMask;
import io.dmadirect.Sizes;
import io.dmadirect.sim.SimulatedPlatform;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The whole driver against two modelled 82574Ls on one wire ({@link SimulatedE1000e}), on a simulated platform. */
class E1000eNicSimTest {
    private static final E1000eOptions SMALL = new E1000eOptions(32, 32, 64);
    private SimulatedNicPair pair;

    @BeforeEach
    void setUp() {
        pair = SimulatedNicPair.open(SMALL);
    }

    @AfterEach
    void tearDown() {
        pair.close();
    }

    @Test
    void bringUpReadsTheMacAndTheLinkComesUp() {
        assertTrue(pair.a().awaitLink(Duration.ofSeconds(1)));
        assertTrue(pair.b().linkUp());
        assertEquals("52:54:00:12:34:01", E1000eNic.mac(pair.a().macAddress()));
        assertEquals(64 - 32, pair.b().pool().available(), "every receive descriptor holds a buffer");
    }

    @ParameterizedTest(name = "batch {0}")
    @ValueSource(ints = {1, 32})
    void framesOf64To1514BytesArriveByteIdenticalAndTheCountersAgree(int batch) {
        int[] lengths = FrameExchange.lengths(64, 1514, 50);
        FrameExchange.Result r = FrameExchange.exchange(pair.a(), pair.b(), lengths, batch, 42, Duration.ofSeconds(10));
        assertTrue(r.allVerified(), r.toString());
        assertEquals(lengths.length, r.verified());
        long bytes = java.util.Arrays.stream(lengths).asLongStream().sum();
        E1000eStats tx = pair.a().stats();
        E1000eStats rx = pair.b().stats();
        assertEquals(lengths.length, tx.goodPacketsSent());
        assertEquals(bytes, tx.goodOctetsSent(), "sent octets: QEMU 7.2 leaves the CRC out");
        assertEquals(lengths.length, rx.goodPacketsReceived());
        assertEquals(bytes + 4L * lengths.length, rx.goodOctetsReceived(), "received octets count the CRC");
        assertEquals(lengths.length, rx.driverReceived());
        assertEquals(0, rx.missedPackets());
        assertEquals(64 - 32, pair.a().pool().available(), "every sent buffer came back to the sender's pool");
        assertEquals(64 - 32, pair.b().pool().available(), "every received buffer was freed, the ring refilled");
    }

    @Test
    void moreFramesThanTheRingsHoldWrapBothRings() {
        int[] lengths = new int[5 * 32 + 3];
        java.util.Arrays.fill(lengths, 60);
        FrameExchange.Result r = FrameExchange.exchange(pair.a(), pair.b(), lengths, 16, 7, Duration.ofSeconds(10));
        assertTrue(r.allVerified(), r.toString());
    }

    @Test
    void aFullTransmitRingAcceptsWhatFitsAndTheRestStaysTheCallers() {
        PacketPool pool = pair.a().pool();
        int[] h = new int[32];
        assertEquals(32, pool.allocBatch(h, 0, 32)); // the other 32 are in the NIC's own receive ring
        for (int x : h) {
            pool.setLength(x, 60);
        }
        int queued = pair.a().transmit(h, 0, 32);
        assertEquals(31, queued, "32 descriptors, one gap");
        pool.free(h[31]);
        assertEquals(0, pair.a().reclaim());
        assertEquals(32, pool.available());
        assertEquals(31, pair.b().stats().goodPacketsReceived());
    }

    @Test
    void whenTheReceiverPoolRunsDryFramesAreDroppedAndNoBufferIsLost() {
        PacketPool rxPool = pair.b().pool();
        int[] hoard = new int[64];
        int hoarded = rxPool.allocBatch(hoard, 0, 64); // the application holds every free buffer
        assertEquals(32, hoarded);
        int[] lengths = new int[8];
        java.util.Arrays.fill(lengths, 100);
        sendOnly(lengths);
        int[] got = new int[8];
        assertEquals(0, pair.b().receive(got, 0, 8), "no buffer to refill the ring with: every frame is dropped");
        E1000eStats s = pair.b().stats();
        assertEquals(8, s.droppedNoBuffer());
        assertEquals(8, s.goodPacketsReceived());
        rxPool.freeBatch(hoard, 0, hoarded);
        assertEquals(32, rxPool.available(), "the dropped frames' buffers went back into the ring");
        FrameExchange.Result r = FrameExchange.exchange(pair.a(), pair.b(), lengths, 8, 3, Duration.ofSeconds(5));
        assertTrue(r.allVerified(), "the ring still works after the drops: " + r);
    }

    private void sendOnly(int[] lengths) {
        PacketPool pool = pair.a().pool();
        int[] h = new int[lengths.length];
        assertEquals(lengths.length, pool.allocBatch(h, 0, lengths.length));
        for (int i = 0; i < h.length; i++) {
            byte[] f = FrameExchange.frame(pair.b().macAddress(), pair.a().macAddress(), lengths[i], i, 1);
            pool.write(h[i], f, 0, f.length);
        }
        assertEquals(lengths.length, pair.a().transmit(h, 0, h.length));
    }

    @Test
    void aMappedFrameIsSentWithoutCopyAndUnmappedOnceSent() {
        byte[] f = FrameExchange.frame(pair.b().macAddress(), pair.a().macAddress(), 300, 0, 9);
        ByteBuffer heap = ByteBuffer.wrap(f);
        assertTrue(pair.a().transmitMapped(heap, 0, f.length));
        assertEquals(0, pair.a().reclaim(), "sent and unmapped");
        int[] got = new int[1];
        assertEquals(1, pair.b().receive(got, 0, 1));
        byte[] back = new byte[2048];
        assertEquals(300, pair.b().pool().read(got[0], back, 0));
        assertTrue(java.util.Arrays.equals(f, 0, 300, back, 0, 300));
        pair.b().pool().free(got[0]);
    }

    @Test
    void badFramesAreRefusedBeforeAnythingIsQueued() {
        PacketPool pool = pair.a().pool();
        int good = pool.alloc();
        pool.setLength(good, 60);
        int empty = pool.alloc(); // length 0
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> pair.a().transmit(new int[] {good, empty}, 0, 2));
        assertTrue(e.getMessage().contains("packet buffer " + empty), e.getMessage());
        int notInUse = 63 - 2 == good ? 0 : 61;
        assertThrows(IllegalArgumentException.class, () -> pair.a().transmit(new int[] {notInUse}, 0, 1));
        assertEquals(0, pair.a().stats().goodPacketsSent(), "nothing went out");
        assertThrows(IllegalArgumentException.class, () -> pair.a().transmitMapped(ByteBuffer.allocate(2000), 0, 2000));
        pool.free(good);
        pool.free(empty);
    }

    @Test
    void closeFreesEveryRingAndThePoolAndLaterCallsAreRefused() {
        SimulatedPlatform platform = SimulatedPlatform.builder().region(0, 16 * Sizes.MiB).build();
        DmaDevice dma = platform.attach(DeviceProperties.simple("nic"));
        dma.setMaskAndCoherent(DmaMask.bits(64));
        platform.drainThreadCaches();
        long before = platform.memoryStats().available();
        SimulatedE1000e model = new SimulatedE1000e(dma, platform.busMaster(dma, 64), SimulatedNicPair.MAC_A);
        E1000eNic nic = E1000eNic.attach(model, dma, SMALL, "alone");
        assertFalse(nic.linkUp(), "no peer on the wire");
        nic.close();
        nic.close();
        platform.drainThreadCaches();
        assertEquals(before, platform.memoryStats().available());
        assertThrows(IllegalStateException.class, () -> nic.receive(new int[1], 0, 1));
        assertThrows(IllegalStateException.class, nic::stats);
        platform.close();
    }

    @Test
    void anAttachThatCannotGetItsMemoryLeavesNothingBehind() {
        SimulatedPlatform platform = SimulatedPlatform.builder().region(0, 4 * Sizes.MiB).build();
        DmaDevice dma = platform.attach(DeviceProperties.simple("nic"));
        dma.setMaskAndCoherent(DmaMask.bits(64));
        platform.drainThreadCaches();
        long before = platform.memoryStats().available();
        SimulatedE1000e model = new SimulatedE1000e(dma, null, SimulatedNicPair.MAC_A);
        // 4096 buffers are 8 MiB: more than the region
        assertThrows(DmaAllocationException.class, () -> E1000eNic.attach(model, dma, new E1000eOptions(256, 256, 4096), "big"));
        platform.drainThreadCaches();
        assertEquals(before, platform.memoryStats().available());
        // the pool fits, the rings do not: what was allocated first is freed
        E1000eOptions almost = new E1000eOptions(8, 8, (int) (before / PacketPool.BUFFER_BYTES) - 1);
        assertThrows(RuntimeException.class, () -> E1000eNic.attach(model, dma, almost, "almost"));
        platform.drainThreadCaches();
        assertEquals(before, platform.memoryStats().available());
        platform.close();
    }

    @Test
    void closeRacingAPollingThreadEndsItWithAClearErrorAndFreesEverything() throws Exception {
        E1000eNic nic = pair.b();
        CountDownLatch polling = new CountDownLatch(1);
        AtomicReference<Throwable> end = new AtomicReference<>();
        Thread poller = new Thread(() -> {
            int[] got = new int[32];
            try {
                for (;;) {
                    int k = nic.receive(got, 0, 32);
                    nic.pool().freeBatch(got, 0, k);
                    polling.countDown();
                }
            } catch (Throwable t) {
                end.set(t);
            }
        });
        poller.start();
        assertTrue(polling.await(5, java.util.concurrent.TimeUnit.SECONDS));
        nic.close();
        poller.join(5000);
        assertFalse(poller.isAlive());
        assertTrue(end.get() instanceof IllegalStateException, String.valueOf(end.get()));
        assertTrue(end.get().getMessage().contains("closed"), end.get().getMessage());
    }

    @Test
    void optionsOutOfRangeAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new E1000eOptions(12, 32, 64));
        assertThrows(IllegalArgumentException.class, () -> new E1000eOptions(32, 32, 32));
        assertThrows(IllegalArgumentException.class, () -> E1000eBench.run(pair.a(), pair.b(), 0, Duration.ofMillis(1)));
    }

    @Test
    void theBenchmarkLoopMovesFramesAndLeavesThePoolsFull() {
        E1000eBench.Result r = E1000eBench.run(pair.a(), pair.b(), 8, Duration.ofMillis(200));
        assertTrue(r.received() > 0, r.toString());
        assertEquals(r.sent(), r.received(), "nothing lost on a simulated wire: " + r);
        assertEquals(32, pair.a().pool().available());
        assertEquals(32, pair.b().pool().available());
    }
}
