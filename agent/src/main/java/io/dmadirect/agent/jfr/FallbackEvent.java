package io.dmadirect.agent.jfr;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/** An allocation that did not come from the optimal zone, or took fallback steps ({@code __dma_direct_alloc_pages} retries). */
@Name("io.dmadirect.Fallback")
@Label("DMA Fallback")
@Category({"dmadirect", "DMA"})
@Description("An allocation served by a fallback: another zone than the optimal one, or after failed attempts")
@StackTrace(false)
public final class FallbackEvent extends Event {
    @Label("Device")
    public String device;
    @Label("Optimal Zone")
    public String optimalZone;
    @Label("Zone")
    public String zone;
    @Label("Path")
    public String path;
    @Label("Steps")
    public String steps;
    @Label("Call Site")
    public String callSite;
}
