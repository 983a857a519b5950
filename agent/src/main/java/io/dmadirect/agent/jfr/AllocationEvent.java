package io.dmadirect.agent.jfr;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Timespan;

/** One coherent allocation ({@code dma_alloc_coherent}), for JDK Mission Control. */
@Name("io.dmadirect.Allocation")
@Label("DMA Allocation")
@Category({"dmadirect", "DMA"})
@Description("A coherent DMA allocation: size, zone, allocator path and call site")
@StackTrace(false)
public final class AllocationEvent extends Event {
    @Label("Device")
    public String device;
    @Label("Size")
    @DataAmount
    public long size;
    @Label("Allocated Size")
    @DataAmount
    public long allocatedSize;
    @Label("DMA Address")
    public long dmaAddress;
    @Label("Path")
    public String path;
    @Label("Zone")
    public String zone;
    @Label("Call Site")
    public String callSite;
    @Label("Latency")
    @Timespan
    public long latency;
    @Label("Failed")
    public boolean failed;
}
