package io.dmadirect;

/**
 * The API was used wrongly: a double free, a buffer freed through a device that does not own it,
 * a CPU view of a buffer without one, or use after close. Nothing was changed.
 */
public class DmaUsageException extends DmaException {
    private static final long serialVersionUID = 1L;

    /**
     * An exception with the given message.
     *
     * @param message what failed, and what to do about it
     */
    public DmaUsageException(String message) {
        super(message);
    }
}
