package io.dmadirect.host;

import io.dmadirect.spi.MemoryEncryption;
import java.lang.System.Logger.Level;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Memory encryption as a process sees it. On a host without a confidential guest there is nothing to do.
 * In a confidential guest (TDX, SEV) a device can reach only shared memory, and only the kernel can
 * convert pages ({@code set_memory_decrypted()}); no system call lets a process make its hugepages
 * shared. So {@link #setDecrypted} says no, with the reason logged once, and allocations for
 * forced-unencrypted devices fail with a clear error until a shared bounce pool exists.
 *
 * <p>The SME C-bit of a host with memory encryption on ({@code sme_me_mask}) is not known to userspace;
 * {@link #encryptionMask()} is 0, which is right on every host without SME active.
 *
 * @see <a href="https://docs.kernel.org/arch/x86/amd-memory-encryption.html">AMD Memory Encryption</a>
 */
final class LinuxEncryption implements MemoryEncryption {
    private static final System.Logger LOG = System.getLogger(LinuxEncryption.class.getName());
    private static final String PREFIX = "linux/cc: ";

    private final boolean confidentialGuest;
    private final String technology;
    private final AtomicBoolean told = new AtomicBoolean();

    LinuxEncryption(boolean confidentialGuest, String technology) {
        this.confidentialGuest = confidentialGuest;
        this.technology = technology;
    }

    @Override
    public long encryptionMask() {
        return 0;
    }

    /** Nothing to do outside a confidential guest; inside one, userspace cannot share pages, so no. */
    @Override
    public boolean setDecrypted(long physAddress, long size) {
        if (!confidentialGuest) {
            return true;
        }
        if (told.compareAndSet(false, true)) {
            LOG.log(Level.WARNING, PREFIX + reason());
        }
        return false;
    }

    /** Outside a confidential guest nothing needs sharing; inside one, a process cannot share pages. */
    @Override
    public boolean canShare() {
        return !confidentialGuest;
    }

    /** Nothing was ever made shared, so there is nothing to make private again. */
    @Override
    public boolean setEncrypted(long physAddress, long size) {
        return true;
    }

    /** Why shared memory cannot be had, for logs and error messages. */
    String reason() {
        return "this is a confidential VM guest (" + technology + "): devices reach only shared memory, and a "
                + "process cannot convert its hugepages to shared (only the kernel's set_memory_decrypted() can); "
                + "coherent DMA memory for such devices needs a shared bounce pool, which this platform does "
                + "not have yet";
    }
}
