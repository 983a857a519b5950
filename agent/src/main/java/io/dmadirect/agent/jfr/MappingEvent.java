package io.dmadirect.agent.jfr;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Timespan;

/** One streaming call: map, unmap or sync ({@code dma_map_single} and friends). */
@Name("io.dmadirect.Mapping")
@Label("DMA Mapping")
@Category({"dmadirect", "DMA"})
@Description("A streaming DMA call: map, unmap, sync")
@StackTrace(false)
public final class MappingEvent extends Event {
    @Label("Operation")
    public String operation;
    @Label("Device")
    public String device;
    @Label("Size")
    @DataAmount
    public long size;
    @Label("DMA Address")
    public long dmaAddress;
    @Label("Direction")
    public String direction;
    @Label("Bounced")
    public boolean bounced;
    @Label("Call Site")
    public String callSite;
    @Label("Latency")
    @Timespan
    public long latency;
}
