package io.dmadirect.sim;

import io.dmadirect.Addresses;
import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaMask;
import io.dmadirect.DmaRange;
import io.dmadirect.memory.RawMemory;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A simulated device's DMA engine: it reads and writes memory by DMA address the way hardware does.
 *
 * <ul>
 *   <li>It drives only {@code addressBits} address lines, so higher bits are silently dropped, as
 *       QEMU's edu device ANDs every address with its 28-bit mask. A driver that hands it memory beyond
 *       that mask gets its data written somewhere else, which is what a wrong policy does.</li>
 *   <li>The bus translates the address back through the device's dma-ranges.</li>
 *   <li>Under memory encryption, an access whose encryption bit does not match the memory's state
 *       (private or shared) moves scrambled bytes, as a device sees ciphertext.</li>
 *   <li>An address that lands in a hole of the memory map is dropped and recorded as a fault.</li>
 * </ul>
 */
public final class SimulatedBusMaster {
    private static final byte SCRAMBLE = (byte) 0xA5;

    private final SimulatedMemory memory;
    private final SimulatedEncryption encryption;
    private final SimulatedIommu iommu;
    private final DeviceProperties properties;
    private final DmaMask hardwareMask;
    private final List<String> faults = new CopyOnWriteArrayList<>();

    SimulatedBusMaster(SimulatedMemory memory, SimulatedEncryption encryption, SimulatedIommu iommu,
            DeviceProperties properties, int addressBits) {
        this.memory = memory;
        this.encryption = encryption;
        this.iommu = iommu;
        this.properties = properties;
        this.hardwareMask = DmaMask.bits(addressBits);
    }

    /** The address lines the hardware really has, whatever mask its driver declared. */
    public DmaMask hardwareMask() {
        return hardwareMask;
    }

    /** Device-to-memory DMA of {@code data} at {@code dmaAddress}; false when it faulted. */
    public boolean write(long dmaAddress, byte[] data) {
        Target target = resolve(dmaAddress, data.length, "write");
        if (target == null) {
            return false;
        }
        byte[] bytes = target.scrambled ? scramble(data) : data;
        RawMemory.copyFromArray(bytes, 0, target.cpuAddress, bytes.length);
        return true;
    }

    /** Memory-to-device DMA of {@code length} bytes from {@code dmaAddress}; null when it faulted. */
    public byte[] read(long dmaAddress, int length) {
        Target target = resolve(dmaAddress, length, "read");
        if (target == null) {
            return null;
        }
        byte[] bytes = new byte[length];
        RawMemory.copyToArray(target.cpuAddress, bytes, 0, length);
        return target.scrambled ? scramble(bytes) : bytes;
    }

    /** Faults so far: accesses that hit no memory. */
    public List<String> faults() {
        return List.copyOf(faults);
    }

    private Target resolve(long dmaAddress, int length, String what) {
        long onWire = dmaAddress & hardwareMask.value();
        if (iommu != null) {
            // Behind an IOMMU the address on the wire is an IOVA: translated, or a fault (0).
            long cpu = iommu.translate(onWire, length);
            if (cpu == 0) {
                faults.add(String.format("%s of %d bytes at IOVA 0x%x (0x%x on the wire): IOMMU fault", what, length,
                        dmaAddress, onWire));
                return null;
            }
            return new Target(cpu, false);
        }
        long encryptionBit = encryption.encryptionMask();
        boolean encryptedAccess = (onWire & encryptionBit) != 0;
        long busAddress = onWire & ~encryptionBit;
        long phys = busToPhys(busAddress);
        long cpu = phys == Addresses.NONE ? Addresses.NO_CPU_ADDRESS : memory.cpuAddressOf(phys, length);
        if (cpu == Addresses.NO_CPU_ADDRESS) {
            faults.add(String.format("%s of %d bytes at DMA 0x%x (0x%x on the wire) hit no memory", what, length,
                    dmaAddress, onWire));
            return null;
        }
        return new Target(cpu, encryption.scrambles(phys, encryptedAccess));
    }

    private long busToPhys(long busAddress) {
        List<DmaRange> ranges = properties.dmaRanges();
        if (ranges.isEmpty()) {
            return busAddress;
        }
        for (DmaRange range : ranges) {
            if (Long.compareUnsigned(busAddress, range.dmaStart()) >= 0
                    && Long.compareUnsigned(busAddress - range.dmaStart(), range.size()) < 0) {
                return busAddress - range.offset();
            }
        }
        return Addresses.NONE;
    }

    private static byte[] scramble(byte[] data) {
        byte[] out = data.clone();
        for (int i = 0; i < out.length; i++) {
            out[i] ^= SCRAMBLE;
        }
        return out;
    }

    private static final class Target {
        final long cpuAddress;
        final boolean scrambled;

        Target(long cpuAddress, boolean scrambled) {
            this.cpuAddress = cpuAddress;
            this.scrambled = scrambled;
        }
    }
}
