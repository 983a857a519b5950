package io.dmadirect.host;

import io.dmadirect.linux.LinuxException;
import io.dmadirect.linux.ProcessCapabilities;
import io.dmadirect.linux.hugepages.PagemapAccess;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.host.LinuxPlatformOptions.Unencrypted;
import io.dmadirect.linux.headers.Capability;
import org.junit.jupiter.api.Test;

/** What a process can and cannot do about memory encryption, and the platform's refusal without root. */
class LinuxEncryptionTest {

    @Test
    void outsideAConfidentialGuestThereIsNothingToDo() {
        LinuxEncryption none = new LinuxEncryption(false, "none");
        assertTrue(none.setDecrypted(0x1000, 4096));
        assertTrue(none.setEncrypted(0x1000, 4096));
        assertEquals(0, none.encryptionMask());
    }

    @Test
    void inAConfidentialGuestSharingIsRefusedWithTheReason() {
        LinuxEncryption tdx = new LinuxEncryption(true, "Intel TDX");
        assertFalse(tdx.setDecrypted(0x1000, 4096));
        assertFalse(tdx.setDecrypted(0x2000, 4096), "every time, not only the first");
        assertTrue(tdx.reason().contains("Intel TDX") && tdx.reason().contains("shared bounce pool"), tdx.reason());
    }

    @Test
    void theOptionsChooseDetectionOrOverrideIt() {
        assertTrue(ConfidentialComputing.resolve(Unencrypted.FORCE).forceUnencrypted());
        assertFalse(ConfidentialComputing.resolve(Unencrypted.NEVER).forceUnencrypted());
        assertEquals(ConfidentialComputing.detect(), ConfidentialComputing.resolve(Unencrypted.DETECT));
    }

    @Test
    void withoutCapSysAdminPaModeIsRefusedBeforeAnyHugepageIsTaken() {
        LinuxException e = assertThrows(LinuxException.class,
                () -> PagemapAccess.require(new ProcessCapabilities(0), "open the Linux platform in PA mode"));
        assertEquals("failed to open the Linux platform in PA mode: this process lacks CAP_SYS_ADMIN, so "
                + "/proc/self/pagemap shows PFN 0 instead of physical addresses; run as root (pagemap shows physical "
                + "frame numbers only to CAP_SYS_ADMIN since Linux 4.2), or open the device through VFIO with an "
                + "IOMMU (IOVA mode), which needs no physical addresses", e.getMessage());
        PagemapAccess.require(new ProcessCapabilities(1L << Capability.CAP_SYS_ADMIN), "pass with the capability");
    }
}
