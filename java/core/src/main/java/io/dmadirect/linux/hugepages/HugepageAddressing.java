package io.dmadirect.linux.hugepages;

/**
 * What the DMA addresses of hugepage memory will be. It decides how the pages are pinned and whether
 * pagemap is read, and so whether the process must be root.
 */
enum HugepageAddressing {
    /**
     * PA mode: devices are given physical addresses. Each page is locked and translated once through
     * pagemap, which shows frame numbers only to CAP_SYS_ADMIN.
     */
    PHYSICAL,
    /**
     * IOVA mode: an IOMMU maps the pages by their virtual address, and mapping them pins them. No pagemap
     * read, no mlock, no root. The IOMMU driver counts the pinned pages against RLIMIT_MEMLOCK.
     */
    IOMMU
}
