#!/usr/bin/env bash
# Runs inside the rig guest (started by selftest.sh through run-guest.sh).
#   guest-selftest.sh iommu|iommufd|noiommu BINDIR   (BINDIR holds edu_vfio and nvme_vfio)
# Prints 'SELFTEST <name> PASS|FAIL' lines and 'TIMING <name> <seconds>' lines
# that selftest.sh collects. Exit 0 only if every step passed.
set -uo pipefail
MODE=$1 BINDIR=$2 BIN=$2/edu_vfio
HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)
fail=0
step() {   # step NAME command... : runs it, prints its verdict
    local name=$1; shift
    echo "=== $name: $*"
    if "$@"; then echo "SELFTEST $name PASS"; else echo "SELFTEST $name FAIL (exit $?)"; fail=1; fi
}
timed() {  # timed NAME command... : like step, and reports the wall time
    local name=$1 t0 t1; shift
    t0=$(date +%s%N)
    step "$name" "$@"
    t1=$(date +%s%N)
    echo "TIMING $name $(( (t1 - t0) / 1000000 ))ms"
}

# iommufd guest: /dev/iommu, and one VFIO cdev per device bound to vfio-pci.
# shellcheck disable=SC2317  # called through step
iommufd_nodes() {
    local d c n=0
    [ -c /dev/iommu ] || { echo "no /dev/iommu"; return 1; }
    for d in "$DMADIRECT_RIG_EDU_BDF" "$DMADIRECT_RIG_NVME_BDF"; do
        for c in /sys/bus/pci/devices/"$d"/vfio-dev/vfio*; do
            [ -e "$c" ] && echo "IOMMUFD $d: cdev /dev/vfio/devices/${c##*/}"
        done
    done
    for c in /dev/vfio/devices/vfio*; do [ -c "$c" ] && n=$((n + 1)); done
    echo "IOMMUFD kernel $(uname -r): /dev/iommu $(stat -c '%F %Hr:%Lr' /dev/iommu), $n cdevs in /dev/vfio/devices"
    [ "$n" = 2 ]
}

echo "guest: $(uname -r), $(nproc) cpus, $(awk '/MemTotal/{print $2/1024 " MiB"}' /proc/meminfo)," \
     "hugepages $(cat /proc/sys/vm/nr_hugepages), cwd $PWD"
if [ "$MODE" = iommu ]; then
    step bind-edu "$HERE/bind.sh" edu vfio-pci
    step bind-nvme "$HERE/bind.sh" nvme vfio-pci
    timed edu-vfio-type1 "$BIN" --truncation
    timed nvme-vfio-type1 "$BINDIR/nvme_vfio"
elif [ "$MODE" = iommufd ]; then
    step bind-edu "$HERE/bind.sh" edu vfio-pci
    step bind-nvme "$HERE/bind.sh" nvme vfio-pci
    # /dev/iommu and /dev/vfio/devices/vfio0, vfio1.
    step iommufd-nodes iommufd_nodes
    # The rebuilt type1 path still works on this kernel (legacy container and group).
    timed nvme-vfio-type1 "$BINDIR/nvme_vfio"
    # edu DMA through iommufd, with the NVMe attached to the same IOAS.
    timed edu-iommufd "$BIN" --iommufd --truncation "$DMADIRECT_RIG_NVME_BDF"
else
    step bind-edu-vfio "$HERE/bind.sh" edu vfio-pci
    if ls /dev/vfio/noiommu-* >/dev/null 2>&1; then
        timed edu-vfio-noiommu "$BIN"
    else
        echo "SELFTEST edu-vfio-noiommu FAIL (no /dev/vfio/noiommu-N: run prepare.sh --noiommu)"; fail=1
    fi
    step bind-edu-uio "$HERE/bind.sh" edu uio_pci_generic
    timed edu-uio "$BIN" --uio
fi

# Java start-up in the guest: the host's JDKs over the 9p root.
J17=/usr/lib/jvm/java-17-openjdk-amd64/bin/java
J25=/usr/lib/jvm/temurin-25-jdk-amd64/bin/java
if [ -x "$J17" ]; then
    timed java17-version "$J17" -version
    timed java17-version-2nd "$J17" -version    # second start: 9p page cache warm
else
    echo "SELFTEST java17-version FAIL (no $J17)"; fail=1
fi
if [ -x "$J25" ]; then   # informational; the flag avoids slow CDS relocation under TCG
    timed java25-version "$J25" -XX:+UnlockDiagnosticVMOptions -XX:ArchiveRelocationMode=0 -version
fi
exit "$fail"
