package io.dmadirect.sim;

import io.dmadirect.spi.MemoryEncryption;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Memory encryption of a simulated machine: the encryption bit in DMA addresses, which ranges are
 * shared, and injected failures of {@code set_memory_decrypted()} and {@code set_memory_encrypted()}.
 */
public final class SimulatedEncryption implements MemoryEncryption {
    private final long encryptionMask;
    private final boolean confidentialGuest;
    /** Shared ranges: start to end (exclusive). */
    private final ConcurrentSkipListMap<Long, Long> shared = new ConcurrentSkipListMap<>(Long::compareUnsigned);
    private final AtomicInteger decryptFailures = new AtomicInteger();
    private final AtomicInteger encryptFailures = new AtomicInteger();

    /**
     * @param encryptionMask    the C-bit(s) that DMA addresses of encrypted memory carry (AMD SME), 0 for none
     * @param confidentialGuest memory is private to a confidential VM guest: devices reach only shared memory
     */
    public SimulatedEncryption(long encryptionMask, boolean confidentialGuest) {
        this.encryptionMask = encryptionMask;
        this.confidentialGuest = confidentialGuest;
    }

    public boolean confidentialGuest() {
        return confidentialGuest;
    }

    /**
     * Whether a device access sees scrambled bytes: in a confidential guest any access to private
     * memory, under SME an access whose encryption bit disagrees with the memory's state.
     */
    boolean scrambles(long physAddress, boolean encryptedAccess) {
        if (confidentialGuest) {
            return !isShared(physAddress);
        }
        return encryptionMask != 0 && encryptedAccess == isShared(physAddress);
    }

    @Override
    public long encryptionMask() {
        return encryptionMask;
    }

    @Override
    public boolean setDecrypted(long physAddress, long size) {
        if (takeFailure(decryptFailures)) {
            return false;
        }
        shared.put(physAddress, physAddress + size);
        return true;
    }

    @Override
    public boolean setEncrypted(long physAddress, long size) {
        if (takeFailure(encryptFailures)) {
            return false;
        }
        shared.remove(physAddress);
        return true;
    }

    /** Whether {@code physAddress} lies in memory currently shared with devices. */
    public boolean isShared(long physAddress) {
        var entry = shared.floorEntry(physAddress);
        return entry != null && Long.compareUnsigned(physAddress, entry.getValue()) < 0;
    }

    /** Bytes currently shared. */
    public long sharedBytes() {
        return shared.entrySet().stream().mapToLong(e -> e.getValue() - e.getKey()).sum();
    }

    /** Makes the next {@code count} calls of {@code setDecrypted} fail. */
    public void failNextDecrypts(int count) {
        decryptFailures.set(count);
    }

    /** Makes the next {@code count} calls of {@code setEncrypted} fail. */
    public void failNextEncrypts(int count) {
        encryptFailures.set(count);
    }

    private static boolean takeFailure(AtomicInteger failures) {
        return failures.getAndUpdate(n -> n > 0 ? n - 1 : 0) > 0;
    }
}
