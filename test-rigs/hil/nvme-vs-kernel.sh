#!/usr/bin/env bash
# The NVMe comparison of docs/benchmarks.md: dmadirect's userspace driver against the Linux kernel's
# nvme driver (fio, io_uring, O_DIRECT), 4 KiB random reads at QD1 and QD32, on the same emulated
# controller in the same boot of the QEMU rig.
#
#   test-rigs/hil/nvme-vs-kernel.sh [SECONDS]      (default 10 s per point; prints a table)
#
# Order in the guest: bind the NVMe to vfio-pci, run io.dmadirect.drivers.nvme.NvmeBench (polled, then
# MSI-X), unbind, load the guest kernel's nvme modules from the rig's unpacked kernel in the cache (the
# host's /lib/modules does not match the guest kernel), run fio with interrupts, then reload nvme with
# poll_queues=1 and run fio with --hipri (the kernel's polled I/O). fio must be on the host (lib.sh).
set -euo pipefail
HERE=$(cd "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
ROOT=$(cd "$HERE/../.." && pwd -P)
RIG="$ROOT/test-rigs/qemu"
SECS=${1:-10}
# shellcheck source=../qemu/lib.sh
. "$RIG/lib.sh"
command -v fio >/dev/null || rig_die "fio is not installed on the host: run test-rigs/qemu/prepare.sh (as root)"
(cd "$ROOT" && mvn -B -q install -DskipTests -pl java/cli -am >/dev/null)
JAR="$ROOT/java/cli/target/dmadirect.jar"
KDIR=$(ls -d "$RIG_CACHE"/kernel/*/ | head -n1); KDIR=${KDIR%/}
OUT="$HERE/target/nvme-vs-kernel"; rm -rf "$OUT"; mkdir -p "$OUT"
JAVA_BIN="${JAVA_HOME:+$JAVA_HOME/bin/}java"

cat > "$OUT/guest.sh" <<GUEST
set -e
ulimit -l unlimited
BDF=\$DMADIRECT_RIG_NVME_BDF
$RIG/bind.sh nvme vfio-pci
# One JVM per mode. TCG rarely crashes a JVM in C1 code (RIG-NOTES): such a run is retried once, and said.
for mode in polled irq; do
    for attempt in 1 2; do
        rc=0
        "$JAVA_BIN" -XX:+UnlockDiagnosticVMOptions -XX:ArchiveRelocationMode=0 \
            -XX:ErrorFile=\$DMADIRECT_RIG_RESULTS/hs_err_%p.log -cp "$JAR" io.dmadirect.drivers.nvme.NvmeBench \$BDF $SECS \$mode \
            2>/dev/null || rc=\$?
        [ \$rc -ge 128 ] && [ \$attempt = 1 ] && { echo "RETRY: the \$mode JVM crashed (exit \$rc; hs_err in the results)"; continue; }
        break
    done
done
$RIG/bind.sh nvme none
echo > /sys/bus/pci/devices/\$BDF/driver_override
kernel_fio() {   # kernel_fio LABEL [fio options]
    local label=\$1; shift
    for qd in 1 32; do
        fio --name=k --filename=/dev/nvme0n1 --ioengine=io_uring --direct=1 --rw=randread --bs=4k \
            --iodepth=\$qd --runtime=$SECS --ramp_time=2 --time_based --randseed=42 --output-format=json "\$@" \
            > "\$DMADIRECT_RIG_RESULTS/fio-\$label-qd\$qd.json"
        python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print("kernel randread bs=4096 QD%s %s: %.0f IOPS" % (sys.argv[2], sys.argv[3], j["jobs"][0]["read"]["iops"]))' \
            "\$DMADIRECT_RIG_RESULTS/fio-\$label-qd\$qd.json" \$qd \$label
    done
}
modprobe -d "$KDIR" nvme
for i in \$(seq 50); do [ -b /dev/nvme0n1 ] && break; sleep 0.2; done
echo "kernel driver: \$(basename \$(readlink /sys/bus/pci/devices/\$BDF/driver)), \$(cat /sys/block/nvme0n1/queue/scheduler)"
echo none > /sys/block/nvme0n1/queue/scheduler 2>/dev/null || true
kernel_fio irq
modprobe -r -d "$KDIR" nvme
modprobe -d "$KDIR" nvme poll_queues=1
for i in \$(seq 50); do [ -b /dev/nvme0n1 ] && break; sleep 0.2; done
echo none > /sys/block/nvme0n1/queue/scheduler 2>/dev/null || true
kernel_fio polled --hipri
GUEST
"$RIG/run-guest.sh" --iommu --mem 1536M --hugepages 64 --timeout 900 --results "$OUT/run" -- bash "$OUT/guest.sh" \
    | tee "$OUT/results.txt"
