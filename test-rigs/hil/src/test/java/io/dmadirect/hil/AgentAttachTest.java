package io.dmadirect.hil;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaDirection;
import io.dmadirect.DmaMapping;
import io.dmadirect.DmaMask;
import io.dmadirect.Sizes;
import io.dmadirect.direct.DirectPlatform;
import io.dmadirect.drivers.edu.EduDriver;
import io.dmadirect.drivers.nvme.NvmeController;
import io.dmadirect.drivers.nvme.NvmeNamespace;
import io.dmadirect.drivers.nvme.NvmeOptions;
import io.dmadirect.drivers.nvme.NvmeQueuePair;
import io.dmadirect.host.PciSession;
import io.dmadirect.swiotlb.Swiotlb;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Lab notebook (issue 7): the javaagent attached at run time to a running driver JVM, and a mask it
 * narrows on the real devices.
 * Device: edu (every variant); NVMe (the IOMMU variants iommu-vfio and iommufd, tag nvme).
 * Setup: this JUnit JVM is the driver JVM. It holds the shared edu session of the earlier tests, a 12 KiB
 * buffer allocated before the attach, and an edu traffic thread ({@link EduTraffic}: allocate, DMA both
 * ways, compare, free, every 50 ms) that runs throughout. This class runs after every other class that
 * uses a device in this JVM ({@code @Order}, junit-platform.properties), since the agent stays loaded.
 * Action: 1. {@code dmadirect agent attach <this pid> mode=trace+debug+inject,maskBits=28,forceBounce=true,
 * bounceBytes=256k,...} ({@code java -jar dmadirect.jar}, as a user runs it) while the traffic runs.
 * 2. Two edu "drivers" with a wrong mask claim (64 bits as in EduWrongMaskTest, and 32 bits) allocate 2 MiB
 * buffers and DMA a pattern from them through the edu; a DMA buffer's own view is mapped both ways.
 * 3. (NVMe) a new session (its bounce pool built after the attach) and the NVMe driver, whose 64-bit mask
 * the agent narrows, write and read back from coherent buffers, direct ByteBuffers and byte[].
 * 4. {@code dmadirect agent attach <this pid>} again, with the buffers held: the live DMA map.
 * 5. Everything released.
 * Seen: 1. the attach exits 0 with an empty map, the agent's MBean is registered in this JVM and the
 * traffic went on, every round byte-identical. 2. both masks read 28 bits; every buffer lies below 2^28 and
 * its pattern arrives (without the agent the 64-bit claim loses it: EduWrongMaskTest, same run); the view
 * maps bounced (direct without the agent), within 28 bits, and the bytes survive. 3. the NVMe mask reads
 * 28 bits; the bounce pool is 256 KiB and lies below 2^28; every mapping the NVMe driver made bounced (the MBean's
 * counts at the driver's call sites, streamingCountsAt); all
 * data MATCH; every buffer below 2^28. 4. the dump lists every buffer and mapping made since the attach with
 * this device name, address and size, all below 2^28, and not the buffer from before the attach (the
 * agent says it does not track those). 5. the agent found no DMA-API error.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Order(Integer.MAX_VALUE - 1)
class AgentAttachTest {
    private static final int T = 3072; // the edu's buffer below EduTraffic.OFFSET
    /** The call sites of the NVMe driver's streaming mappings, as the agent names them. */
    private static final String NVME_DRIVER = "io.dmadirect.drivers.nvme.";
    private EduTraffic traffic;
    private DmaBuffer beforeAttach;
    private final List<DmaDevice> devices = new ArrayList<>();
    private final List<DmaBuffer> held = new ArrayList<>();
    private final List<DmaMapping> heldMappings = new ArrayList<>();
    private PciSession nvmeSession;
    private NvmeController nvme;
    private final long started = System.nanoTime();

    @Test
    @Order(1)
    void attachInstallsTheAgentWhileTheDriverRuns() throws Exception {
        EduDriver edu = Rig.edu();
        beforeAttach = edu.dma().allocCoherent(12 * Sizes.KiB);
        traffic = EduTraffic.start(edu);
        String pid = Long.toString(ProcessHandle.current().pid());
        String options = "mode=trace+debug+inject,packages=io.dmadirect.hil:io.dmadirect.drivers,maskBits=28,"
                + "forceBounce=true,bounceBytes=256k,report=" + AgentRig.results().resolve("agent-attached");
        long rounds = traffic.rounds();
        long t0 = System.nanoTime();
        RigProcess.Result attach = AgentRig.cli("agent-attach-1", "agent", "attach", pid, options);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        attach.assertExit(0);
        // The dump at the end of the attach lists what was allocated since the agent was installed. The edu
        // traffic runs on meanwhile, so a buffer of its round in flight may be live then; the buffer allocated
        // before the attach never is (the agent cannot know it), nor anything else.
        String header = attach.line("dmadirect-agent: live DMA map");
        assertTrue(header.matches("dmadirect-agent: live DMA map, \\d+ entries \\(mode=trace\\+debug\\+inject\\)"), header);
        String before = "dma_addr=0x" + Long.toHexString(beforeAttach.dmaAddress()) + " ";
        attach.output().lines().filter(l -> l.contains(" dma_addr=")).forEach(entry -> {
            assertTrue(isTrafficInFlight(entry), () -> "only the traffic's "
                    + "buffer in flight may be live in the attach's dump, not: " + entry);
            assertFalse(entry.contains(before), () -> "the buffer allocated before the attach is in the dump: " + entry);
        });
        assertEquals("trace+debug+inject", AgentRig.mbean("Mode"), "the agent runs in this JVM now");
        long during = traffic.rounds() - rounds;
        assertTrue(during > 0, "the edu traffic went on during the attach");
        Rig.note("agent attach: `dmadirect agent attach " + pid + " " + options + "` exit 0 in " + ms + " ms: '"
                + attach.line("dmadirect-agent: live DMA map") + "'; MBean " + AgentRig.MBEAN + " mode "
                + AgentRig.mbean("Mode") + " in this JVM; edu traffic: " + during
                + " round trips during the attach, all MATCH");
    }

    /**
     * Whether a live entry of the attach's dump is the edu traffic's round in flight: named by its call site, or,
     * for a round the thread entered before the agent rewrote {@link EduTraffic} (a running method keeps the code
     * it entered with, so its call is not named), by its shape: {@link EduTraffic#SIZE} bytes, the coherent
     * source buffer or the bounced FROM_DEVICE mapping of the array it reads back into.
     */
    private static boolean isTrafficInFlight(String entry) {
        if (entry.contains("site=" + EduTraffic.class.getName() + ".round(")) {
            return true;
        }
        boolean unnamed = entry.contains("site=unknown call site");
        boolean trafficShape = entry.contains(" size=" + EduTraffic.SIZE + " ")
                && (entry.contains(" FROM_DEVICE bounced ") || entry.contains(" coherent "));
        return unnamed && trafficShape;
    }

    @Test
    @Order(2)
    void wrongMaskEduDriversNarrowedTo28BitsDeliverTheirData() {
        EduDriver edu = Rig.edu();
        for (int claim : new int[] {64, 32}) {
            DmaDevice wrong = Rig.eduSession().platform().attach(DeviceProperties.simple("edu-wrong-" + claim));
            devices.add(wrong);
            wrong.setMaskAndCoherent(DmaMask.bits(claim));
            assertEquals(28, wrong.dmaMask().bits(), "the agent narrows the driver's " + claim + "-bit claim");
            assertEquals(28, wrong.coherentMask().bits());
            StringBuilder where = new StringBuilder();
            for (int i = 0; i < 2; i++) {
                DmaBuffer b = wrong.allocCoherent(2 * Sizes.MiB);
                held.add(b);
                assertWithin28Bits(b.dmaAddress(), b.size(), "edu-wrong-" + claim + " buffer " + i);
                byte[] pattern = NvmeRig.pattern(T, claim * 10L + i);
                b.cpuView().put(pattern);
                byte[] seen = new byte[T];
                try (DmaBuffer good = edu.dma().allocCoherent(T)) {
                    edu.toDevice(b.dmaAddress(), 0, T);
                    edu.fromDevice(0, good.dmaAddress(), T);
                    good.cpuView().get(seen);
                }
                NvmeRig.assertSameBytes(pattern, seen, "the pattern from edu-wrong-" + claim + " buffer " + i);
                where.append(i == 0 ? "" : ", ").append(Sizes.hex(b.dmaAddress())).append(" (").append(b.zone())
                        .append(", ").append(b.path()).append(')');
            }
            Rig.note("agent maskBits=28: driver claimed " + claim + " bits, mask now " + wrong.dmaMask().bits()
                    + "; 2 MiB buffers at " + where + ": pattern delivered through the edu, MATCH"
                    + (claim == 64 ? " (EduWrongMaskTest: NOT delivered without the agent)" : ""));
        }

        byte[] pattern = NvmeRig.pattern(T, 77);
        ByteBuffer back = ByteBuffer.allocateDirect(T);
        long out;
        long in;
        try (DmaBuffer src = edu.dma().allocCoherent(T)) {
            src.cpuView().put(pattern);
            try (DmaMapping m = edu.dma().map(src.cpuView(), DmaDirection.TO_DEVICE)) {
                assertTrue(m.isBounced(), "forceBounce=true: a DMA buffer's own view bounces (direct without the agent)");
                assertWithin28Bits(m.dmaAddress(), m.size(), "TO_DEVICE bounce");
                out = m.dmaAddress();
                edu.toDevice(m.dmaAddress(), 0, T);
            }
            try (DmaMapping m = edu.dma().map(back, DmaDirection.FROM_DEVICE)) {
                assertTrue(m.isBounced());
                assertWithin28Bits(m.dmaAddress(), m.size(), "FROM_DEVICE bounce");
                in = m.dmaAddress();
                edu.fromDevice(0, m.dmaAddress(), T);
            }
        }
        byte[] seen = new byte[T];
        back.get(0, seen);
        NvmeRig.assertSameBytes(pattern, seen, "through the edu, forced to bounce both ways");
        DmaBuffer mapped = edu.dma().allocCoherent(8 * Sizes.KiB);
        held.add(mapped);
        heldMappings.add(edu.dma().map(mapped.cpuView(), DmaDirection.BIDIRECTIONAL));
        Rig.note("agent forceBounce=true: edu DMA buffer view mapped TO_DEVICE bounced at " + Sizes.hex(out)
                + ", direct ByteBuffer FROM_DEVICE bounced at " + Sizes.hex(in) + ": MATCH");
    }

    @Test
    @Order(3)
    @Tag("nvme")
    void nvmeNarrowedTo28BitsMovesCorrectData() {
        nvmeSession = NvmeRig.open("hil-agent-nvme", false);
        Swiotlb pool = ((DirectPlatform) nvmeSession.platform()).swiotlb();
        assertEquals(256 * Sizes.KiB, pool.config().bytes(), "bounceBytes=256k sizes the pool of a platform built"
                + " after the attach");
        nvme = NvmeController.attach(nvmeSession.pci(), nvmeSession.dma(), NvmeOptions.DEFAULTS);
        DmaDevice dma = nvmeSession.dma();
        assertEquals(28, dma.dmaMask().bits(), "the driver set 64 bits; the agent narrowed them");
        NvmeQueuePair q = nvme.queuePair(0);
        NvmeNamespace ns = nvme.namespace(1);
        long lba = 32768; // 16 MiB in, away from the other tests' blocks
        StringBuilder addresses = new StringBuilder();
        for (int size : new int[] {4096, 128 * 1024, (int) nvme.maxTransferBytes()}) {
            byte[] data = NvmeRig.pattern(size, 500 + size);
            try (DmaBuffer o = dma.allocCoherent(size); DmaBuffer i = dma.allocCoherent(size)) {
                assertWithin28Bits(o.dmaAddress(), size, "NVMe write buffer");
                assertWithin28Bits(i.dmaAddress(), size, "NVMe read buffer");
                o.cpuView().put(data);
                q.write(ns, lba, o, 0, size);
                q.read(ns, lba, i, 0, size);
                byte[] got = new byte[size];
                i.cpuView().get(got);
                NvmeRig.assertSameBytes(data, got, size + " bytes at LBA " + lba);
                addresses.append(' ').append(Sizes.format(size)).append(" out ").append(Sizes.hex(o.dmaAddress()))
                        .append(" in ").append(Sizes.hex(i.dmaAddress()));
            }
            lba += size / ns.blockSize();
        }
        // The NVMe driver's own call sites: the edu traffic thread maps meanwhile and is counted in the
        // agent's global Mappings and BouncedMappings (issue 14's flaky "expected: <9> but was: <8>").
        long[] before = AgentRig.streamingCountsAt(NVME_DRIVER);
        int size = 128 * 1024;
        byte[] data = NvmeRig.pattern(size, 601);
        q.write(ns, lba, ByteBuffer.allocateDirect(size).put(data).flip());
        byte[] back = new byte[size + 8];
        q.read(ns, lba, back, 4, size);
        NvmeRig.assertSameBytes(data, Arrays.copyOfRange(back, 4, 4 + size), "direct ByteBuffer -> byte[]");
        byte[] data2 = NvmeRig.pattern(3 * size, 602);
        q.write(ns, lba + 256, data2, 0, data2.length);
        ByteBuffer heap = ByteBuffer.allocate(data2.length);
        q.read(ns, lba + 256, heap);
        NvmeRig.assertSameBytes(data2, heap.array(), "byte[] -> heap ByteBuffer");
        long[] after = AgentRig.streamingCountsAt(NVME_DRIVER);
        long maps = after[0] - before[0];
        long bounced = after[1] - before[1];
        assertTrue(maps >= 8, "the driver mapped each chunk: " + maps + " mappings");
        assertEquals(maps, bounced, "forceBounce=true: every mapping bounced");
        assertWithin28Bits(pool.firstPhysAddress(), pool.lastPhysAddress() - pool.firstPhysAddress() + 1,
                "the bounce pool, hence every streaming DMA address");
        for (DmaBuffer b : q.buffers()) {
            assertWithin28Bits(b.dmaAddress(), b.size(), "queue memory");
        }
        held.add(dma.allocCoherent(64 * Sizes.KiB));
        Rig.note("agent maskBits=28 on NVMe (driver set 64 bits, mask now " + dma.dmaMask().bits() + "): coherent"
                + addresses + ": MATCH; streaming 128 KiB direct ByteBuffer -> byte[], 384 KiB byte[] -> heap"
                + " ByteBuffer: MATCH, " + maps + " mappings all bounced (forceBounce), pool "
                + Sizes.hex(pool.firstPhysAddress()) + "-" + Sizes.hex(pool.lastPhysAddress()) + " (bounceBytes=256k: "
                + pool.stats() + "); queues " + q);
    }

    @Test
    @Order(4)
    void aSecondAttachDumpsTheLiveBuffers() throws Exception {
        long rounds = traffic.rounds();
        String pid = Long.toString(ProcessHandle.current().pid());
        RigProcess.Result dump = AgentRig.cli("agent-attach-2", "agent", "attach", pid);
        dump.assertExit(0).assertContains("dmadirect-agent: live DMA map, ");
        List<AgentReport.Entry> entries = AgentReport.entries(dump.output());
        for (DmaBuffer b : held) {
            find(entries, b.device().name(), b.dmaAddress(), b.size(), true, dump);
        }
        for (DmaMapping m : heldMappings) {
            AgentReport.Entry e = find(entries, m.device().name(), m.dmaAddress(), m.size(), false, dump);
            assertTrue(e.rest().contains("BIDIRECTIONAL bounced"), e.line());
        }
        if (nvme != null) {
            for (DmaBuffer b : nvme.queuePair(0).buffers()) {
                find(entries, b.device().name(), b.dmaAddress(), b.size(), true, dump);
            }
        }
        assertFalse(entries.stream().anyMatch(e -> e.dmaAddress() == beforeAttach.dmaAddress()
                && e.device().equals(beforeAttach.device().name())), "a buffer from before the attach is not tracked");
        for (AgentReport.Entry e : entries) {
            assertWithin28Bits(e.dmaAddress(), e.size(), "dump entry " + e.line());
        }
        assertTrue(traffic.rounds() > rounds, "the edu traffic went on during the second attach");
        Rig.note("agent dump (`dmadirect agent attach " + pid + "` again): '" + dump.line("dmadirect-agent: live DMA map")
                + "', all below 2^28, every buffer and mapping held since the attach listed with its address and"
                + " size, the 12 KiB buffer from before the attach not (untracked); excerpt:");
        entries.stream().limit(20).forEach(e -> Rig.note("  | " + e.line()));
    }

    @Test
    @Order(5)
    void releasedCleanlyTheAgentFoundNoError() throws Exception {
        release();
        long rounds = traffic.stop();
        assertEquals(0, AgentRig.mbeanLong("Errors"), "DMA-API errors since the attach:\n" + AgentRig.mbean("ReportText"));
        String report = (String) AgentRig.mbean("ReportText");
        Rig.note("agent (attached) after release: " + report.lines().filter(l -> l.startsWith("debug:")
                || l.startsWith("trace:")).toList() + "; edu traffic " + rounds + " round trips, all MATCH");
    }

    @AfterAll
    void releaseAll() throws Exception {
        release();
        if (traffic != null) {
            traffic.close();
        }
        Rig.note("AgentAttachTest finished, agent tests " + (System.nanoTime() - started) / 1_000_000_000 + " s");
    }

    private void release() {
        heldMappings.forEach(DmaMapping::close);
        heldMappings.clear();
        held.forEach(DmaBuffer::close);
        held.clear();
        devices.forEach(DmaDevice::close);
        devices.clear();
        if (nvme != null) {
            nvme.close();
            nvmeSession.close();
            nvme = null;
        } else if (nvmeSession != null) {
            nvmeSession.close();
        }
        nvmeSession = null;
        if (beforeAttach != null) {
            beforeAttach.close();
            beforeAttach = null;
        }
    }

    private static AgentReport.Entry find(List<AgentReport.Entry> entries, String device, long address, long size,
            boolean coherent, RigProcess.Result dump) {
        for (AgentReport.Entry e : entries) {
            if (e.device().equals(device) && e.dmaAddress() == address && e.size() == size && e.coherent() == coherent) {
                return e;
            }
        }
        fail("the dump lacks " + device + (coherent ? " coherent" : " mapping") + " dma_addr=" + Sizes.hex(address)
                + " size=" + size + ":\n" + dump.describe());
        return null;
    }

    private static void assertWithin28Bits(long address, long size, String what) {
        assertTrue(address + size - 1 <= Rig.MASK_28, what + " within 28 bits: " + Sizes.hex(address) + " + " + size);
    }
}
