package io.dmadirect.agent.jfr;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/** A streaming mapping that went through the bounce pool (swiotlb), with the copies that implies. */
@Name("io.dmadirect.Bounce")
@Label("DMA Bounce")
@Category({"dmadirect", "DMA"})
@Description("A mapping served by a bounce buffer: the device cannot reach the memory itself")
@StackTrace(false)
public final class BounceEvent extends Event {
    @Label("Device")
    public String device;
    @Label("Size")
    @DataAmount
    public long size;
    @Label("Direction")
    public String direction;
    @Label("Call Site")
    public String callSite;
}
