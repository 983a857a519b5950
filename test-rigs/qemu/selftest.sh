#!/usr/bin/env bash
# The rig's self-test, independent of the Java library:
#   1. prepare.sh --noiommu (idempotent; quick when already prepared);
#   2. compiles selftest/edu_vfio.c with the host gcc (into the cache);
#   3. boots the IOMMU guest once: binds edu and nvme to vfio-pci, runs a real
#      edu DMA round trip through VFIO type1 plus the 28-bit truncation case,
#      an NVMe admin + I/O queue write/read compare at IOVA 0x7f00000000,
#      and times `java -version` of the host JDK 17 inside the guest; then
#      checks the console log for the expected DMAR fault;
#   4. boots the no-IOMMU guest: the same DMA through /dev/vfio/noiommu-N and
#      through uio_pci_generic with pagemap physical addresses
#      (skip with --iommu-only).
# Prints PASS or FAIL last; exit 0 only on PASS.
set -euo pipefail
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

IOMMU_ONLY=0
for a in "$@"; do
    case "$a" in
        --iommu-only) IOMMU_ONLY=1 ;;
        -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) rig_die "unknown argument: $a" ;;
    esac
done

T0=$SECONDS
PREP_ARGS=(); [ "$IOMMU_ONLY" = 1 ] || PREP_ARGS=(--noiommu)
"$RIG_DIR/prepare.sh" "${PREP_ARGS[@]}"
T_PREP=$((SECONDS - T0))

# The C programs are built on the host; the guest runs them from the cache.
BINDIR="$RIG_CACHE/selftest"
mkdir -p "$BINDIR"
for prog in edu_vfio nvme_vfio; do
    if [ ! -x "$BINDIR/$prog" ] || [ "$RIG_DIR/selftest/$prog.c" -nt "$BINDIR/$prog" ]; then
        gcc -std=gnu11 -O2 -Wall -Wextra -Werror -o "$BINDIR/$prog" "$RIG_DIR/selftest/$prog.c"
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

boot iommu --iommu
# The truncation case must have left an IOMMU fault in the guest kernel log,
# i.e. the wrong address was stopped, not silently written.
if grep -q 'DMAR: \[DMA Write.*fault addr 0x300000' "$OUT/iommu/console.log"; then
    summary+=("DMAR fault for the truncated address logged: yes")
else
    summary+=("DMAR fault for the truncated address logged: NO"); verdict=1
fi
if [ "$IOMMU_ONLY" = 0 ]; then
    boot noiommu --no-iommu
fi

echo
echo "==== rig self-test summary ===="
echo "prepare: ${T_PREP}s"
for f in "$OUT"/*/stdout.log; do
    name=$(basename "$(dirname "$f")")
    grep -E '^(SELFTEST|TIMING|iommu: IOVA range|ok   DMA compare|ok   truncation|ok   Identify Controller|ok   NVMe compare|FAIL)' "$f" | sed "s/^/[$name] /" || true
done
printf '%s\n' "${summary[@]}"
echo "results: $OUT"
if [ "$verdict" = 0 ] && ! grep -q 'FAIL' "$OUT"/*/stdout.log; then
    echo "PASS"
else
    echo "FAIL"; exit 1
fi
