package io.dmadirect.memory;

import io.dmadirect.MemoryStats;
import io.dmadirect.Zone;
import io.dmadirect.spi.LowMemoryAttempt;
import java.nio.ByteBuffer;
import java.util.function.Consumer;

/**
 * A page allocator that passes every call on to another one: the base of decorators that change a few calls
 * (the IOMMU mapping of {@code iova.UnmapOnFreePages}, a test's counting allocator) and should not repeat the rest.
 */
public abstract class ForwardingPageAllocator implements PageAllocator {
    /** The allocator every call not overridden goes to. */
    protected final PageAllocator delegate;

    protected ForwardingPageAllocator(PageAllocator delegate) {
        this.delegate = delegate;
    }

    @Override
    public long allocPages(Zone zone, long bytes, long physLimit, boolean mayGrow) {
        return delegate.allocPages(zone, bytes, physLimit, mayGrow);
    }

    @Override
    public long allocContiguous(Zone zone, long bytes, long physLimit, boolean mayGrow) {
        return delegate.allocContiguous(zone, bytes, physLimit, mayGrow);
    }

    @Override
    public LowMemoryAttempt growBelow(long physLimit, long minBytes) {
        return delegate.growBelow(physLimit, minBytes);
    }

    @Override
    public void free(long handle) {
        delegate.free(handle);
    }

    @Override
    public long maxPagesBytes() {
        return delegate.maxPagesBytes();
    }

    @Override
    public long physAddress(long handle) {
        return delegate.physAddress(handle);
    }

    @Override
    public long cpuAddress(long handle) {
        return delegate.cpuAddress(handle);
    }

    @Override
    public long byteSize(long handle) {
        return delegate.byteSize(handle);
    }

    @Override
    public Zone zone(long handle) {
        return delegate.zone(handle);
    }

    @Override
    public ByteBuffer cpuView(long handle, int length) {
        return delegate.cpuView(handle, length);
    }

    @Override
    public void setOwner(long handle, Object owner) {
        delegate.setOwner(handle, owner);
    }

    @Override
    public Object ownerAt(long physAddress) {
        return delegate.ownerAt(physAddress);
    }

    @Override
    public void forEachOwner(Consumer<Object> action) {
        delegate.forEachOwner(action);
    }

    @Override
    public MemoryStats stats() {
        return delegate.stats();
    }

    @Override
    public void drainThreadCaches() {
        delegate.drainThreadCaches();
    }

    @Override
    public void close() {
        delegate.close();
    }
}
