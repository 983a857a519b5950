package io.dmadirect.linux.vfio;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.dmadirect.linux.HostRequirement;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Our VFIO numbers against the kernel's uapi header, independently: a C program compiled here with
 * gcc prints sizeof, offsetof and the ioctl numbers from {@code /usr/include/linux/vfio.h}. Skips
 * (with the reason) when gcc or the header is missing; the hard-coded values are also checked against
 * the header's documented sizes in {@link #sizesFromTheHeaderText()}.
 */
class VfioLayoutTest {
    private static final String PROGRAM = String.join("\n",
            "#include <stdio.h>", "#include <stddef.h>", "#include <linux/vfio.h>",
            "#define P(n, v) printf(\"%s %lu\\n\", n, (unsigned long)(v))",
            "int main(void) {",
            "P(\"group_status\", sizeof(struct vfio_group_status));",
            "P(\"device_info\", sizeof(struct vfio_device_info));",
            "P(\"region_info\", sizeof(struct vfio_region_info));",
            "P(\"region_info.size\", offsetof(struct vfio_region_info, size));",
            "P(\"region_info.offset\", offsetof(struct vfio_region_info, offset));",
            "P(\"irq_info\", sizeof(struct vfio_irq_info));",
            "P(\"irq_set\", sizeof(struct vfio_irq_set));",
            "P(\"iommu_type1_info\", sizeof(struct vfio_iommu_type1_info));",
            "P(\"iommu_type1_info.cap_offset\", offsetof(struct vfio_iommu_type1_info, cap_offset));",
            "P(\"dma_map\", sizeof(struct vfio_iommu_type1_dma_map));",
            "P(\"dma_map.vaddr\", offsetof(struct vfio_iommu_type1_dma_map, vaddr));",
            "P(\"dma_map.iova\", offsetof(struct vfio_iommu_type1_dma_map, iova));",
            "P(\"dma_unmap\", sizeof(struct vfio_iommu_type1_dma_unmap));",
            "P(\"cap_iova_range.iova_ranges\", offsetof(struct vfio_iommu_type1_info_cap_iova_range, iova_ranges));",
            "P(\"iova_range\", sizeof(struct vfio_iova_range));",
            "P(\"cap_dma_avail.avail\", offsetof(struct vfio_iommu_type1_info_dma_avail, avail));",
            "P(\"VFIO_GROUP_GET_STATUS\", VFIO_GROUP_GET_STATUS);",
            "P(\"VFIO_DEVICE_SET_IRQS\", VFIO_DEVICE_SET_IRQS);",
            "P(\"VFIO_IOMMU_MAP_DMA\", VFIO_IOMMU_MAP_DMA);",
            "P(\"VFIO_IOMMU_UNMAP_DMA\", VFIO_IOMMU_UNMAP_DMA);",
            "P(\"VFIO_DEVICE_RESET\", VFIO_DEVICE_RESET);",
            "P(\"VFIO_NOIOMMU_IOMMU\", VFIO_NOIOMMU_IOMMU);",
            "P(\"VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL\", VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL);",
            "return 0; }", "");

    @Test
    void matchesTheInstalledHeader(@TempDir Path dir) throws Exception {
        // The only check of our ioctl structs against the kernel's header: scripts/install-deps installs it.
        HostRequirement.require(Files.isRegularFile(Path.of("/usr/include/linux/vfio.h")),
                "no /usr/include/linux/vfio.h (scripts/install-deps installs linux-libc-dev)");
        Path src = dir.resolve("layout.c");
        Files.writeString(src, PROGRAM);
        Path exe = dir.resolve("layout");
        Process cc;
        try {
            cc = new ProcessBuilder("gcc", "-o", exe.toString(), src.toString()).redirectErrorStream(true).start();
        } catch (java.io.IOException e) {
            HostRequirement.require(false, "no gcc (scripts/install-deps installs it): " + e.getMessage());
            return;
        }
        String ccOut = new String(cc.getInputStream().readAllBytes());
        assertEquals(0, cc.waitFor(), "gcc: " + ccOut);
        Process run = new ProcessBuilder(exe.toString()).start();
        Map<String, Long> c = new HashMap<>();
        for (String line : new String(run.getInputStream().readAllBytes()).split("\n")) {
            String[] f = line.split(" ");
            c.put(f[0], Long.parseLong(f[1]));
        }
        assertEquals(0, run.waitFor());
        assertEquals(VfioUapi.SIZEOF_GROUP_STATUS, c.get("group_status"));
        // 6.1's struct ends at cap_offset (20 bytes); upstream added a pad (24). We pass 24: argsz may exceed it.
        org.junit.jupiter.api.Assertions.assertTrue(c.get("device_info") <= VfioUapi.SIZEOF_DEVICE_INFO,
                "device_info " + c.get("device_info"));
        assertEquals(VfioUapi.SIZEOF_REGION_INFO, c.get("region_info"));
        assertEquals(16, c.get("region_info.size"));
        assertEquals(24, c.get("region_info.offset"));
        assertEquals(VfioUapi.SIZEOF_IRQ_INFO, c.get("irq_info"));
        assertEquals(VfioUapi.SIZEOF_IRQ_SET, c.get("irq_set"));
        assertEquals(VfioUapi.SIZEOF_IOMMU_TYPE1_INFO, c.get("iommu_type1_info"));
        assertEquals(16, c.get("iommu_type1_info.cap_offset"));
        assertEquals(VfioUapi.SIZEOF_DMA_MAP, c.get("dma_map"));
        assertEquals(8, c.get("dma_map.vaddr"));
        assertEquals(16, c.get("dma_map.iova"));
        assertEquals(VfioUapi.SIZEOF_DMA_UNMAP, c.get("dma_unmap"));
        assertEquals(16, c.get("cap_iova_range.iova_ranges"), "Type1Info reads ranges at cap + 16");
        assertEquals(16, c.get("iova_range"));
        assertEquals(8, c.get("cap_dma_avail.avail"), "Type1Info reads avail at cap + 8");
        assertEquals(VfioUapi.VFIO_GROUP_GET_STATUS, c.get("VFIO_GROUP_GET_STATUS"));
        assertEquals(VfioUapi.VFIO_DEVICE_SET_IRQS, c.get("VFIO_DEVICE_SET_IRQS"));
        assertEquals(VfioUapi.VFIO_IOMMU_MAP_DMA, c.get("VFIO_IOMMU_MAP_DMA"));
        assertEquals(VfioUapi.VFIO_IOMMU_UNMAP_DMA, c.get("VFIO_IOMMU_UNMAP_DMA"));
        assertEquals(VfioUapi.VFIO_DEVICE_RESET, c.get("VFIO_DEVICE_RESET"));
        assertEquals(VfioUapi.VFIO_NOIOMMU_IOMMU, c.get("VFIO_NOIOMMU_IOMMU"));
        assertEquals(VfioUapi.VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL, c.get("VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL"));
    }

    /** Without gcc: the sizes the issue names, from vfio.h (6.1). */
    @Test
    void sizesFromTheHeaderText() {
        assertEquals(32, VfioUapi.SIZEOF_DMA_MAP);
        assertEquals(8, VfioUapi.SIZEOF_GROUP_STATUS);
        assertEquals(24, VfioUapi.SIZEOF_DEVICE_INFO);
        assertEquals(32, VfioUapi.SIZEOF_REGION_INFO);
        assertEquals(20, VfioUapi.SIZEOF_IRQ_SET);
        assertEquals(24, VfioUapi.SIZEOF_IOMMU_TYPE1_INFO);
        assertEquals(0x3b71, VfioUapi.VFIO_IOMMU_MAP_DMA);
        // VFIO cdev (6.6+, not in this Debian's header): VFIO_BASE + 18 and + 19.
        assertEquals(0x3b76, VfioUapi.VFIO_DEVICE_BIND_IOMMUFD);
        assertEquals(0x3b77, VfioUapi.VFIO_DEVICE_ATTACH_IOMMUFD_PT);
        assertEquals(List.of(16, 12), List.of(VfioUapi.SIZEOF_BIND_IOMMUFD, VfioUapi.SIZEOF_ATTACH_IOMMUFD_PT));
    }
}
