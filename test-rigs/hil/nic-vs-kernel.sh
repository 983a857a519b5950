#!/usr/bin/env bash
# [nic] issue 22: the NIC comparison of docs/benchmarks.md: dmadirect's userspace e1000e driver against the Linux
# kernel's e1000e driver, packets per second from one 82574L to the other (60-byte frames, 64 on the wire), at
# batch 1 and 32, on the same two emulated NICs (run-guest.sh --nic-pair: one QEMU hub) in the same boot.
#
#   test-rigs/hil/nic-vs-kernel.sh [SECONDS]      (default 10 s per point; prints a table)
#
# Order in the guest: bind both NICs to vfio-pci, run io.dmadirect.drivers.e1000e.E1000eBench (one thread polls
# the sender's and the receiver's rings, ixy's way); unbind, load the guest kernel's e1000e and pktgen from the
# rig's unpacked kernel in the cache, bring both interfaces up, and let pktgen send from the first (burst 1, then
# burst 32: pktgen's batching through xmit_more) while the second's kernel driver receives (NAPI, MSI); the rate
# is the receiver's rx_packets over the run. The kernel's packets then go up its stack and are dropped there (no
# address is configured); ours are freed by the application. Under TCG every figure measures QEMU as much as the
# driver: compare the ratios, not the absolute numbers.
set -euo pipefail
HERE=$(cd "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
ROOT=$(cd "$HERE/../.." && pwd -P)
RIG="$ROOT/test-rigs/qemu"
SECS=${1:-10}
[[ $SECS =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [SECONDS]" >&2; exit 2; }
# shellcheck source=../qemu/lib.sh
. "$RIG/lib.sh"
(cd "$ROOT" && mvn -B -q install -DskipTests -pl java/cli -am >/dev/null)
JAR="$ROOT/java/cli/target/dmadirect.jar"
KDIR=$(ls -d "$RIG_CACHE"/kernel/*/ | head -n1); KDIR=${KDIR%/}
OUT="$HERE/target/nic-vs-kernel"; rm -rf "$OUT"; mkdir -p "$OUT"
JAVA_BIN="${JAVA_HOME:+$JAVA_HOME/bin/}java"

cat > "$OUT/guest.sh" <<GUEST
set -e
ulimit -l unlimited
A=\$DMADIRECT_RIG_NIC_A_BDF B=\$DMADIRECT_RIG_NIC_B_BDF
$RIG/bind.sh e1000e vfio-pci
# TCG rarely crashes a JVM in C1 code (RIG-NOTES): such a run is retried once, and said.
for attempt in 1 2; do
    rc=0
    "$JAVA_BIN" -XX:+UnlockDiagnosticVMOptions -XX:ArchiveRelocationMode=0 \
        -XX:ErrorFile=\$DMADIRECT_RIG_RESULTS/hs_err_%p.log -cp "$JAR" io.dmadirect.drivers.e1000e.E1000eBench \$A \$B $SECS 1 32 \
        2>/dev/null || rc=\$?
    [ \$rc -ge 128 ] && [ \$attempt = 1 ] && { echo "RETRY: the JVM crashed (exit \$rc; hs_err in the results)"; continue; }
    [ \$rc = 0 ] || exit \$rc
    break
done
$RIG/bind.sh e1000e none
echo > /sys/bus/pci/devices/\$A/driver_override; echo > /sys/bus/pci/devices/\$B/driver_override
modprobe -d "$KDIR" e1000e
modprobe -d "$KDIR" pktgen
netdev() { for i in \$(seq 50); do ls /sys/bus/pci/devices/\$1/net 2>/dev/null | head -n1 | grep . && return 0; sleep 0.2; done; return 1; }
IA=\$(netdev \$A) IB=\$(netdev \$B)
ip link set \$IA up; ip link set \$IB up
for i in \$(seq 100); do [ "\$(cat /sys/class/net/\$IA/carrier 2>/dev/null)" = 1 ] && [ "\$(cat /sys/class/net/\$IB/carrier 2>/dev/null)" = 1 ] && break; sleep 0.2; done
echo "kernel driver: \$(basename \$(readlink /sys/bus/pci/devices/\$A/driver)), \$IA -> \$IB, carrier \$(cat /sys/class/net/\$IA/carrier)\$(cat /sys/class/net/\$IB/carrier)"
MAC_B=\$(cat /sys/class/net/\$IB/address)
pg() { echo "\$2" > /proc/net/pktgen/\$1; }
pg kpktgend_0 "rem_device_all"
pg kpktgend_0 "add_device \$IA"
for burst in 1 32; do
    pg \$IA "count 0"; pg \$IA "pkt_size 64"; pg \$IA "delay 0"; pg \$IA "burst \$burst"
    pg \$IA "dst 198.18.0.2"; pg \$IA "dst_mac \$MAC_B"
    rx0=\$(cat /sys/class/net/\$IB/statistics/rx_packets); tx0=\$(cat /sys/class/net/\$IA/statistics/tx_packets)
    t0=\$(date +%s.%N)
    echo start > /proc/net/pktgen/pgctrl &
    sleep $SECS
    echo stop > /proc/net/pktgen/pgctrl; wait || true
    t1=\$(date +%s.%N)
    rx1=\$(cat /sys/class/net/\$IB/statistics/rx_packets); tx1=\$(cat /sys/class/net/\$IA/statistics/tx_packets)
    awk -v b=\$burst -v r=\$((rx1 - rx0)) -v s=\$((tx1 - tx0)) -v t0=\$t0 -v t1=\$t1 \
        'BEGIN { printf "kernel tx->rx batch %d: %.0f pps received (%d sent, %d received in %.1f s; pktgen burst %d)\n", b, r / (t1 - t0), s, r, t1 - t0, b }'
done
GUEST
"$RIG/run-guest.sh" --iommu --nic-pair --mem 1536M --hugepages 64 --timeout 900 --results "$OUT/run" -- bash "$OUT/guest.sh" \
    | tee "$OUT/results.txt"
# The table: our rate, the kernel's, and their ratio, per batch size.
awk '/^dmadirect tx->rx batch/ { sub(":", "", $4); ours[$4] = $5 }
     /^kernel tx->rx batch/     { sub(":", "", $4); kern[$4] = $5 }
     END { print ""; print "| batch | dmadirect (pps) | kernel e1000e + pktgen (pps) | dmadirect / kernel |"; print "|---|---|---|---|"
           for (b in ours) if (b in kern && kern[b] > 0) printf "| %s | %d | %d | %.2f |\n", b, ours[b], kern[b], ours[b] / kern[b] }' \
    "$OUT/results.txt" | tee -a "$OUT/results.txt"
