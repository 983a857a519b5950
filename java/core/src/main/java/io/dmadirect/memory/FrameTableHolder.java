package io.dmadirect.memory;

/**
 * The current {@link FrameTable}. Growth publishes a new table here before any of its new frames enters a
 * pool, so whoever reads the holder after taking a pool or arena lock sees every frame that lock guards.
 */
final class FrameTableHolder {
    private volatile FrameTable table;

    FrameTableHolder(FrameTable table) {
        this.table = table;
    }

    FrameTable get() {
        return table;
    }

    void set(FrameTable table) {
        this.table = table;
    }
}
