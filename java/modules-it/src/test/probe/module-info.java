/** A user's program as a module: it may read only what the dmadirect modules export. */
module io.dmadirect.probe {
    requires io.dmadirect.drivers;   // and io.dmadirect.core, transitively
}
