package io.dmadirect;

/** The root of dmadirect's exceptions. Messages start with "failed to ..." and say what to do. */
public class DmaException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public DmaException(String message) {
        super(message);
    }

    public DmaException(String message, Throwable cause) {
        super(message, cause);
    }
}
