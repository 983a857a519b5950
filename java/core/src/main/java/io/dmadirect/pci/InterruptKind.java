package io.dmadirect.pci;

/**
 * The interrupt types of a PCI function, in VFIO's irq index order.
 *
 * @see <a href="https://elixir.bootlin.com/linux/v6.1/source/include/uapi/linux/vfio.h">VFIO_PCI_INTX_IRQ_INDEX...</a>
 */
public enum InterruptKind {
    INTX, MSI, MSIX;

    /** {@code VFIO_PCI_*_IRQ_INDEX}. */
    public int vfioIndex() {
        return ordinal();
    }
}
