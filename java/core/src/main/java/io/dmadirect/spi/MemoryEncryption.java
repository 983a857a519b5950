package io.dmadirect.spi;

/**
 * Memory encryption of a confidential VM guest: {@code set_memory_decrypted()} and
 * {@code set_memory_encrypted()}. Devices of such a guest can only reach shared (decrypted) memory.
 */
public interface MemoryEncryption {

    /** No encryption: nothing to share, DMA addresses carry no encryption bit. */
    MemoryEncryption NONE = new MemoryEncryption() {
        @Override
        public long encryptionMask() {
            return 0;
        }

        @Override
        public boolean setDecrypted(long physAddress, long size) {
            return true;
        }

        @Override
        public boolean setEncrypted(long physAddress, long size) {
            return true;
        }
    };

    /**
     * Whether this platform can make memory shared at all. False means {@link #setDecrypted} could change
     * nothing (a process in a confidential guest cannot convert pages), so the policy refuses such
     * allocations up front and never has to leak pages of unknown state.
     */
    default boolean canShare() {
        return true;
    }

    /**
     * The bits set in the DMA address of encrypted memory ({@code sme_me_mask}, AMD SME's C-bit);
     * 0 when DMA addresses carry none.
     */
    long encryptionMask();

    /** Makes the range shared with the host and devices; false when it failed and the state is unknown. */
    boolean setDecrypted(long physAddress, long size);

    /** Makes the range private again; false when it failed and the state is unknown. */
    boolean setEncrypted(long physAddress, long size);
}
