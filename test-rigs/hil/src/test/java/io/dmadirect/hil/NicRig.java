package io.dmadirect.hil;

import io.dmadirect.Sizes;
import io.dmadirect.drivers.e1000e.E1000eNic;
import io.dmadirect.drivers.e1000e.E1000eOptions;
import io.dmadirect.host.PciSession;
import io.dmadirect.linux.hugepages.HugepageOptions;
import io.dmadirect.pci.PciAddress;
import io.dmadirect.spi.SwiotlbConfig;
import java.time.Duration;

/**
 * [nic] issue 22: the rig's two e1000e (run-guest.sh --nic-pair: 00:07.0 and 00:08.0 on one QEMU hub), each in
 * its own session (vfio-pci in iommu-vfio, IOVA; uio_pci_generic in noiommu-uio, PA), with the driver attached.
 */
final class NicRig implements AutoCloseable {
    /** Small sessions: the pool is 2 MiB, the rings 4 KiB each; the PA variant's edu holds most hugepages. */
    private static final HugepageOptions MEMORY = HugepageOptions.DEFAULTS.withInitialBytes(6 * Sizes.MiB);
    /** A bounce pool for {@link E1000eNic#transmitMapped} of heap memory. */
    private static final SwiotlbConfig BOUNCE = SwiotlbConfig.processDefaults().withBytes(2 * Sizes.MiB);

    final PciSession sessionA;
    final PciSession sessionB;
    final E1000eNic a;
    final E1000eNic b;

    private NicRig(PciSession sessionA, PciSession sessionB, E1000eNic a, E1000eNic b) {
        this.sessionA = sessionA;
        this.sessionB = sessionB;
        this.a = a;
        this.b = b;
    }

    static PciAddress bdf(String which) {
        String v = System.getenv("DMADIRECT_RIG_NIC_" + which + "_BDF");
        Rig.require(v != null, "no e1000e pair in this guest (DMADIRECT_RIG_NIC_" + which + "_BDF unset: run-guest.sh"
                + " --nic-pair)");
        return PciAddress.parse(v);
    }

    /** Opens both sessions and attaches the driver to both; on any failure, closes what was opened. */
    static NicRig open(String name, E1000eOptions options) {
        Rig.requireRig();
        PciAddress bdfA = bdf("A");
        PciAddress bdfB = bdf("B");
        PciSession sa = null;
        PciSession sb = null;
        E1000eNic a = null;
        try {
            sa = PciSession.open(bdfA, MEMORY.withName(name + "-a"), BOUNCE);
            sb = PciSession.open(bdfB, MEMORY.withName(name + "-b"), BOUNCE);
            a = E1000eNic.attach(sa.pci(), sa.dma(), options);
            E1000eNic b = E1000eNic.attach(sb.pci(), sb.dma(), options);
            return new NicRig(sa, sb, a, b);
        } catch (RuntimeException e) {
            closeAll(e, a, sb, sa);
            throw e;
        }
    }

    private static void closeAll(RuntimeException cause, AutoCloseable... things) {
        for (AutoCloseable c : things) {
            if (c != null) {
                try {
                    c.close();
                } catch (Exception suppressed) {
                    cause.addSuppressed(suppressed);
                }
            }
        }
    }

    /** Both links up within {@code limit} (QEMU's model finishes auto-negotiation a moment after reset). */
    boolean linksUp(Duration limit) {
        return a.awaitLink(limit) && b.awaitLink(limit);
    }

    @Override
    public void close() {
        RuntimeException first = null;
        for (AutoCloseable c : new AutoCloseable[] {b, a, sessionB, sessionA}) {
            try {
                c.close();
            } catch (Exception e) {
                if (first == null) {
                    first = e instanceof RuntimeException r ? r : new IllegalStateException(e);
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
