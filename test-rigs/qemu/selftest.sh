#!/usr/bin/env bash
# The rig's self-test, independent of the Java library:
#   1. prepare.sh --noiommu --iommufd (idempotent; quick when already prepared);
#   2. compiles selftest/edu_vfio.c and nvme_vfio.c with the host gcc (into the
#      cache), against the 6.12 uapi headers for iommufd when prepared;
#   3. boots the IOMMU guest once: binds edu and nvme to vfio-pci, runs a real
#      edu DMA round trip through VFIO type1 plus the 28-bit truncation case,
#      an NVMe admin + I/O queue write/read compare at IOVA 0x7f00000000,
#      and times `java -version` of the host JDK 17 inside the guest; then
#      checks the console log for the expected DMAR fault;
#   4. boots the iommufd guest (6.12 kernel): binds edu and nvme, checks
#      /dev/iommu and their cdevs /dev/vfio/devices/vfioN, runs the NVMe test
#      through type1 and the edu round trip plus the truncation case through
#      iommufd (IOAS, cdev bind + attach, fixed-IOVA maps), times java -version;
#      checks its console for the DMAR fault too (skip with --no-iommufd);
#   5. boots the no-IOMMU guest: the same DMA through /dev/vfio/noiommu-N and
#      through uio_pci_generic with pagemap physical addresses.
#   --iommu-only: only prepare.sh without options and boot 3.
# Prints PASS or FAIL last; exit 0 only on PASS.
set -euo pipefail
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

IOMMU_ONLY=0 IOMMUFD=1
for a in "$@"; do
    case "$a" in
        --iommu-only) IOMMU_ONLY=1 IOMMUFD=0 ;;
        --no-iommufd) IOMMUFD=0 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) rig_die "unknown argument: $a" ;;
    esac
done

T0=$SECONDS
PREP_ARGS=()
[ "$IOMMU_ONLY" = 1 ] || PREP_ARGS+=(--noiommu)
[ "$IOMMUFD" = 0 ] || PREP_ARGS+=(--iommufd)
"$RIG_DIR/prepare.sh" "${PREP_ARGS[@]}"
T_PREP=$((SECONDS - T0))
# shellcheck source=/dev/null
source "$RIG_CACHE/rig.env"

# The C programs are built on the host; the guest runs them from the cache.
BINDIR="$RIG_CACHE/selftest"
mkdir -p "$BINDIR"
# With the iommufd kernel prepared, the 6.12 uapi <linux/vfio.h> and
# <linux/iommufd.h> (sanitized by prepare.sh) come first; see edu_vfio.c.
CFLAGS=(-std=gnu11 -O2 -Wall -Wextra -Werror)
[ -n "${RIG_UAPI_IOMMUFD:-}" ] && CFLAGS+=(-I "$RIG_UAPI_IOMMUFD")
for prog in edu_vfio nvme_vfio; do
    if [ ! -x "$BINDIR/$prog" ] || [ "$RIG_DIR/selftest/$prog.c" -nt "$BINDIR/$prog" ] \
            || [ "$(cat "$BINDIR/$prog.cflags" 2>/dev/null)" != "${CFLAGS[*]}" ]; then
        gcc "${CFLAGS[@]}" -o "$BINDIR/$prog" "$RIG_DIR/selftest/$prog.c"
        echo "${CFLAGS[*]}" > "$BINDIR/$prog.cflags"
    fi
done

OUT="$RIG_CACHE/selftest/runs"
rm -rf "$OUT"; mkdir -p "$OUT"
verdict=0
summary=()

boot() {   # boot NAME run-guest-options... : one guest running guest-selftest.sh
    local name=$1 rc=0 t0=$SECONDS; shift
    rig_log "selftest: booting the $name guest"
    "$RIG_DIR/run-guest.sh" --results "$OUT/$name" --timeout 300 "$@" \
        -- "$RIG_DIR/selftest/guest-selftest.sh" "$name" "$BINDIR" || rc=$?
    summary+=("boot $name: exit $rc, $((SECONDS - t0))s wall")
    [ "$rc" = 0 ] || verdict=1
}

# The truncation case must have left an IOMMU fault in the guest kernel log,
# i.e. the wrong address was stopped, not silently written.
dmar_fault() {   # dmar_fault NAME
    if grep -q 'DMAR: \[DMA Write.*fault addr 0x300000' "$OUT/$1/console.log"; then
        summary+=("[$1] DMAR fault for the truncated address logged: yes")
    else
        summary+=("[$1] DMAR fault for the truncated address logged: NO"); verdict=1
    fi
}
boot iommu --iommu
dmar_fault iommu
if [ "$IOMMUFD" = 1 ]; then
    boot iommufd --iommufd
    dmar_fault iommufd
fi
if [ "$IOMMU_ONLY" = 0 ]; then
    boot noiommu --no-iommu
fi

echo
echo "==== rig self-test summary ===="
echo "prepare: ${T_PREP}s"
for f in "$OUT"/*/stdout.log; do
    name=$(basename "$(dirname "$f")")
    grep -E '^(guest:|SELFTEST|TIMING|IOMMUFD|iommu: IOVA range|device .*: cdev|ok   DMA compare|ok   truncation|ok   Identify Controller|ok   NVMe compare|FAIL)' "$f" | sed "s/^/[$name] /" || true
done
printf '%s\n' "${summary[@]}"
echo "results: $OUT"
if [ "$verdict" = 0 ] && ! grep -q 'FAIL' "$OUT"/*/stdout.log; then
    echo "PASS"
else
    echo "FAIL"; exit 1
fi
