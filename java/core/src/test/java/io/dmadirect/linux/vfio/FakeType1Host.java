package io.dmadirect.linux.vfio;

import io.dmadirect.linux.FakeSyscalls;
import java.nio.ByteBuffer;

/**
 * A host whose VFIO type1 container answers as a real one does: {@code VFIO_CHECK_EXTENSION} says yes, every
 * other ioctl succeeds. Tests override one call to make it fail.
 */
class FakeType1Host extends FakeSyscalls {
    @Override
    public int ioctl(int fd, long request, long arg) {
        super.ioctl(fd, request, arg);
        return request == VfioUapi.VFIO_CHECK_EXTENSION ? 1 : 0;
    }

    @Override
    public int ioctl(int fd, long request, ByteBuffer arg) {
        super.ioctl(fd, request, arg);
        return 0;
    }
}
