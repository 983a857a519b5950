package io.dmadirect;

/** The root of dmadirect's exceptions. Messages start with "failed to ..." and say what to do. */
public class DmaException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /**
     * An exception with the given message.
     *
     * @param message what failed, and what to do about it
     */
    public DmaException(String message) {
        super(message);
    }

    /**
     * An exception with the given message and cause.
     *
     * @param message what failed, and what to do about it
     * @param cause   the underlying failure, such as the OS error
     */
    public DmaException(String message, Throwable cause) {
        super(message, cause);
    }
}
