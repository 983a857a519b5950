package io.dmadirect;

/** {@code dma_set_mask()} returned -EIO: no memory of the platform lies within the mask. */
public class DmaMaskUnsupportedException extends DmaException {
    private static final long serialVersionUID = 1L;

    public DmaMaskUnsupportedException(String message) {
        super(message);
    }
}
