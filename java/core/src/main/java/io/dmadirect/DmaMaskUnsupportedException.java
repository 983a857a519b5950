package io.dmadirect;

/** {@code dma_set_mask()} returned -EIO: no memory of the platform lies within the mask. */
public class DmaMaskUnsupportedException extends DmaException {
    private static final long serialVersionUID = 1L;

    /**
     * An exception with the given message.
     *
     * @param message what failed, and what to do about it
     */
    public DmaMaskUnsupportedException(String message) {
        super(message);
    }
}
