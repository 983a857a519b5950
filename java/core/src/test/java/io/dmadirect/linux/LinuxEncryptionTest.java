package io.dmadirect.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.linux.LinuxPlatformOptions.Unencrypted;
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
        assertTrue(LinuxPlatform.confidential(Unencrypted.FORCE).forceUnencrypted());
        assertFalse(LinuxPlatform.confidential(Unencrypted.NEVER).forceUnencrypted());
        assertEquals(ConfidentialComputing.detect(), LinuxPlatform.confidential(Unencrypted.DETECT));
    }

    @Test
    void withoutCapSysAdminPaModeIsRefusedBeforeAnyHugepageIsTaken() {
        LinuxException e = assertThrows(LinuxException.class,
                () -> LinuxPlatform.requirePhysicalAddresses(new ProcessCapabilities(0)));
        assertTrue(e.getMessage().contains("IOVA mode"), e.getMessage());
    }
}
