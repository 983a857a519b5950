package io.dmadirect.drivers.e1000e;

/**
 * Counters since attach: the NIC's statistics registers (accumulated, since the hardware clears them on read)
 * and the driver's own drops.
 *
 * @param goodPacketsReceived    GPRC
 * @param goodOctetsReceived     GORC
 * @param goodPacketsSent        GPTC
 * @param goodOctetsSent         GOTC
 * @param totalPacketsReceived   TPR
 * @param totalPacketsSent       TPT
 * @param missedPackets          MPC: frames the NIC dropped for want of a receive descriptor
 * @param crcErrors              CRCERRS
 * @param driverReceived         frames the driver handed to the application
 * @param driverSent             descriptors the device completed and the driver reclaimed
 * @param droppedNoBuffer        frames received but dropped: the pool had no buffer to refill the ring with
 * @param receiveErrors          frames the device wrote back with errors, or spread over more than one buffer
 * @param mappingFailures        {@link E1000eNic#transmitMapped} frames dropped because their mapping failed
 */
public record E1000eStats(long goodPacketsReceived, long goodOctetsReceived, long goodPacketsSent,
        long goodOctetsSent, long totalPacketsReceived, long totalPacketsSent, long missedPackets, long crcErrors,
        long driverReceived, long driverSent, long droppedNoBuffer, long receiveErrors, long mappingFailures) {

    @Override
    public String toString() {
        return "rx " + goodPacketsReceived + " packets / " + goodOctetsReceived + " bytes (total " + totalPacketsReceived
                + ", missed " + missedPackets + ", CRC errors " + crcErrors + "), tx " + goodPacketsSent + " packets / "
                + goodOctetsSent + " bytes (total " + totalPacketsSent + "); driver: received " + driverReceived
                + ", sent " + driverSent + ", dropped for want of a buffer " + droppedNoBuffer + ", receive errors "
                + receiveErrors + ", mapping failures " + mappingFailures;
    }
}
