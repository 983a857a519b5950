package io.dmadirect;

/** No memory the device can reach was free: the message names the mask, the size, and each zone's free memory. */
public class DmaAllocationException extends DmaException {
    private static final long serialVersionUID = 1L;

    /**
     * An exception with the given message.
     *
     * @param message what failed, and what to do about it
     */
    public DmaAllocationException(String message) {
        super(message);
    }
}
