package io.dmadirect;

/** A streaming mapping could not be made ({@code dma_mapping_error()} would be true). */
public class DmaMappingException extends DmaException {
    private static final long serialVersionUID = 1L;

    /**
     * An exception with the given message.
     *
     * @param message what failed, and what to do about it
     */
    public DmaMappingException(String message) {
        super(message);
    }
}
