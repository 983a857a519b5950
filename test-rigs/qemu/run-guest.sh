#!/usr/bin/env bash
# Boots one QEMU guest (TCG), runs one command in it, and exits with that
# command's exit code as written by the guest into the results share.
#
#   run-guest.sh [options] -- command [args...]
#
# Options:
#   --iommu            q35 + intel-iommu, VFIO type1 (default)
#   --iommufd          the same machine, booting the second kernel (6.12) that
#                      prepare.sh --iommufd built: iommufd (/dev/iommu) and
#                      VFIO's device cdev (/dev/vfio/devices/vfioN) besides type1
#   --no-iommu         plain q35, no IOMMU; uses the no-IOMMU vfio initramfs if
#                      prepare.sh --noiommu built it (/dev/vfio/noiommu-N), UIO always
#   --mem SIZE         guest RAM (default 1536M; keep <= 2G, the machine is shared,
#                      except the HIL highmem variants: 6G, mostly above 4 GiB)
#   --hugepages N      vm.nr_hugepages in the guest (default 64, 2 MiB each)
#   --edu-dma-mask M   edu's DMA mask (default: QEMU's, 28 bits = 0xfffffff)
#   --nvme-cmb         add a second NVMe controller at 00:06.0, without namespaces, whose only
#                      use is its 1 MiB controller memory buffer (BAR2): the peer-to-peer DMA
#                      target of PeerBarDmaTest. Off by default, so that the kernel nvme driver of
#                      nvme-vs-kernel.sh sees only the rig's first NVMe (nvme0n1 stays its disk)
#   --nic-pair         [nic, issue 22] add two e1000e (Intel 82574L) NICs at 00:07.0 and 00:08.0 on one
#                      QEMU hub (-netdev hubport): what one sends, the other receives. Exported as
#                      DMADIRECT_RIG_NIC_A_BDF / DMADIRECT_RIG_NIC_B_BDF. Off by default
#   --timeout SECS     host-side limit for the whole boot (default 600); QEMU is
#                      killed and we exit 124 when it is reached
#   --results DIR      results directory (default: a fresh one under the cache);
#                      the guest mounts it read-write at the same path
#   --cwd DIR          working directory of the command (default: $PWD)
#   --env NAME[=VAL]   pass a variable to the command (repeatable); without =VAL
#                      the caller's value is passed. Always passed if set:
#                      PATH JAVA_HOME CI and every DMADIRECT_* variable.
#   --quiet            do not stream the command's output (it is still in
#                      DIR/stdout.log and DIR/stderr.log)
# --- issue 20 (hil-kit): the user's devices, for `dmadirect rig` ---------------
#   --qemu-device STR  one more QEMU -device (repeatable), e.g. 'e1000e,addr=0x7'
#   --qemu-drive STR   one more QEMU -drive (repeatable), e.g. an NVMe namespace's image
# --- end issue 20 ----------------------------------------------------------------
# --- issue 21 (rig-breadth) options ---
#   --iommu-model M    intel (default), amd (amd-iommu, AMD-Vi) or virtio (virtio-iommu-pci)
#                      for --iommu/--iommufd; exported as DMADIRECT_RIG_IOMMU_MODEL
#   --aw-bits N        intel-iommu's address width (39 or 48; QEMU's default 39);
#                      exported as DMADIRECT_RIG_IOMMU_AW_BITS
#   --kernel-args S    more guest kernel command line, e.g. "memmap=..."
#   --gigantic-pages N N 1 GiB hugepages reserved at boot (hugepagesz=1G hugepages=N)
#   --numa             two NUMA nodes (half the RAM and one CPU each); with it the edu and
#                      the NVMe sit behind a pxb-pcie expander bridge on node 1 (bus 0x80,
#                      DMADIRECT_RIG_EDU_BDF=0000:81:00.0, DMADIRECT_RIG_NVME_BDF=0000:82:00.0)
# --- end issue 21 ---
#
# Exit status: the command's own, read from DIR/exit-code; 124 on timeout;
# 125 when the rig itself failed (no exit-code: the guest never finished).
# When QEMU itself was killed by a signal (QEMU 7.2 TCG has segfaulted now and
# then under load), DIR/qemu-crashed holds QEMU's exit status: the guest's
# result is unknown, and a caller may retry the run.
#
# Inside the guest: the host's / read-only with a tmpfs overlay (so writes
# work but vanish), fresh /proc /sys /dev, hugetlbfs on /dev/hugepages, and
#   DMADIRECT_RIG=1  DMADIRECT_RIG_IOMMU=1|0  DMADIRECT_RIG_IOMMUFD=1|0
#   DMADIRECT_RIG_RESULTS=DIR
#   DMADIRECT_RIG_EDU_BDF=0000:00:04.0  DMADIRECT_RIG_NVME_BDF=0000:00:05.0
#   DMADIRECT_RIG_NVME_CMB_BDF=0000:00:06.0 (with --nvme-cmb only)
#   DMADIRECT_RIG_EDU_DMA_MASK=M (with --edu-dma-mask only)
#   DMADIRECT_RIG_NIC_A_BDF=0000:00:07.0 DMADIRECT_RIG_NIC_B_BDF=0000:00:08.0 (with --nic-pair only)
# shellcheck disable=SC2054,SC2317  # commas are QEMU syntax; cleanup runs from a trap
set -euo pipefail
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

# issue 21 (rig-breadth): IOMMU model, address width, extra kernel arguments, NUMA
IOMMU_MODEL=intel AW_BITS='' KERNEL_ARGS='' NUMA=0
IOMMU=1 IOMMUFD=0 MEM=1536M HUGEPAGES=64 EDU_MASK='' NVME_CMB=0 TIMEOUT=600 RESULTS='' CWD=$PWD QUIET=0
NIC_PAIR=0   # [nic] issue 22: --nic-pair
declare -a ENV_NAMES=() ENV_VALUES=()
declare -a EXTRA_QEMU=()   # issue 20 (hil-kit): --qemu-device / --qemu-drive, in the order given
add_env() {   # add_env NAME VALUE (later entries override earlier ones)
    [[ $1 =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || rig_die "bad variable name: $1"
    ENV_NAMES+=("$1"); ENV_VALUES+=("$2")
}
for v in PATH JAVA_HOME CI $(compgen -e | grep '^DMADIRECT_' || true); do
    [ -n "${!v+x}" ] && add_env "$v" "${!v}"
done

while [ $# -gt 0 ]; do
    case "$1" in
        --iommu) IOMMU=1 IOMMUFD=0 ;;
        --iommufd) IOMMU=1 IOMMUFD=1 ;;
        --no-iommu) IOMMU=0 IOMMUFD=0 ;;
        --mem) MEM=$2; shift ;;
        --hugepages) HUGEPAGES=$2; shift ;;
        --edu-dma-mask) EDU_MASK=$2; shift ;;
        --nvme-cmb) NVME_CMB=1 ;;
        --nic-pair) NIC_PAIR=1 ;;   # [nic] issue 22
        --timeout) TIMEOUT=$2; shift ;;
        --results) RESULTS=$2; shift ;;
        --cwd) CWD=$2; shift ;;
        --env) if [[ $2 == *=* ]]; then add_env "${2%%=*}" "${2#*=}"
               else [ -n "${!2+x}" ] || rig_die "--env $2: not set"; add_env "$2" "${!2}"; fi
               shift ;;
        --quiet) QUIET=1 ;;
        # --- issue 20 (hil-kit) ---
        --qemu-device) EXTRA_QEMU+=(-device "$2"); shift ;;
        --qemu-drive) EXTRA_QEMU+=(-drive "$2"); shift ;;
        # --- end issue 20 ---
        # --- issue 21 (rig-breadth) ---
        --iommu-model) IOMMU_MODEL=$2; shift ;;
        --aw-bits) AW_BITS=$2; shift ;;
        --kernel-args) KERNEL_ARGS=$2; shift ;;
        --gigantic-pages) [[ $2 =~ ^[0-9]+$ ]] || rig_die "--gigantic-pages wants a number"
                          KERNEL_ARGS+="${KERNEL_ARGS:+ }hugepagesz=1G hugepages=$2"; shift ;;
        --numa) NUMA=1 ;;
        # --- end issue 21 ---
        --) shift; break ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) rig_die "unknown option: $1 (the command goes after --)" ;;
    esac
    shift
done
[ $# -gt 0 ] || rig_die "no command given (usage: run-guest.sh [options] -- command...)"
[[ $HUGEPAGES =~ ^[0-9]+$ ]] || rig_die "--hugepages wants a number"
[[ $TIMEOUT =~ ^[0-9]+$ ]] || rig_die "--timeout wants seconds"
# --- issue 21 (rig-breadth) ---
case "$IOMMU_MODEL" in intel|amd|virtio) ;; *) rig_die "--iommu-model wants intel, amd or virtio, not $IOMMU_MODEL" ;; esac
[ -z "$AW_BITS" ] || [ "$AW_BITS" = 39 ] || [ "$AW_BITS" = 48 ] || rig_die "--aw-bits wants 39 or 48 (QEMU 7.2's intel-iommu)"
[ -z "$AW_BITS" ] || [ "$IOMMU_MODEL" = intel ] || rig_die "--aw-bits is intel-iommu's option"
[[ $KERNEL_ARGS != *$'\n'* ]] || rig_die "--kernel-args: no newlines"
# --- end issue 21 ---

[ -f "$RIG_CACHE/rig.env" ] || rig_die "rig not prepared: run test-rigs/qemu/prepare.sh (as root)"
# shellcheck source=/dev/null
source "$RIG_CACHE/rig.env"
VMLINUZ=$RIG_VMLINUZ INITRD=$RIG_INITRD
APPEND="console=ttyS0 panic=-1 dmadirect.hugepages=$HUGEPAGES"
if [ "$IOMMUFD" = 1 ]; then
    if [ -z "${RIG_INITRD_IOMMUFD:-}" ] || [ ! -f "$RIG_INITRD_IOMMUFD" ] || [ ! -f "${RIG_VMLINUZ_IOMMUFD:-}" ]; then
        rig_die "--iommufd: the iommufd kernel is not prepared: run test-rigs/qemu/prepare.sh --iommufd (as root)"
    fi
    VMLINUZ=$RIG_VMLINUZ_IOMMUFD INITRD=$RIG_INITRD_IOMMUFD
fi
if [ "$IOMMU" = 1 ]; then
    MACHINE=q35,kernel-irqchip=split
    # issue 21: AMD-Vi is on by default once the kernel finds an IVRS table; virtio-iommu needs no switch, but it
    # has no interrupt remapping, so VFIO type1 and iommufd refuse to attach (EPERM, "no isolated MSI") unless told
    # that unisolated MSIs are acceptable, as on any host whose IOMMU cannot remap interrupts
    [ "$IOMMU_MODEL" = intel ] && APPEND+=" intel_iommu=on"
    [ "$IOMMU_MODEL" = virtio ] && APPEND+=" vfio_iommu_type1.allow_unsafe_interrupts=1 iommufd.allow_unsafe_interrupts=1"
else
    MACHINE=q35
    if [ -n "${RIG_INITRD_NOIOMMU:-}" ] && [ -f "$RIG_INITRD_NOIOMMU" ]; then
        INITRD=$RIG_INITRD_NOIOMMU
        APPEND+=" vfio.enable_unsafe_noiommu_mode=1"
    else
        rig_log "note: no no-IOMMU vfio built (prepare.sh --noiommu); only UIO will work"
    fi
fi

# --- results directory -------------------------------------------------------
if [ -z "$RESULTS" ]; then
    mkdir -p "$RIG_CACHE/runs"
    # Keep the 20 newest default run directories.
    { ls -1dt "$RIG_CACHE"/runs/run-* 2>/dev/null || true; } | tail -n +20 | xargs -r rm -rf
    RESULTS=$(mktemp -d "$RIG_CACHE/runs/run-$(date +%Y%m%d-%H%M%S)-XXXX")
fi
mkdir -p "$RESULTS"
RESULTS=$(cd "$RESULTS" && pwd -P)
CWD=$(cd "$CWD" && pwd -P)
case "$RESULTS" in /) rig_die "--results must not be /" ;; *$'\n'*) rig_die "no newlines in paths, please" ;; esac
rm -rf "$RESULTS/.rig" "$RESULTS/exit-code" "$RESULTS/qemu-crashed" "$RESULTS/stdout.log" "$RESULTS/stderr.log" "$RESULTS/console.log"
mkdir -p "$RESULTS/.rig"
printf '%s\n' "$RESULTS" > "$RESULTS/.rig/guest-path"
: > "$RESULTS/stdout.log"; : > "$RESULTS/stderr.log"

EDU_BDF=0000:00:04.0 NVME_BDF=0000:00:05.0 NVME_CMB_BDF=0000:00:06.0
# --- issue 21 (rig-breadth) ---
[ -n "$KERNEL_ARGS" ] && APPEND+=" $KERNEL_ARGS"
if [ "$NUMA" = 1 ]; then EDU_BDF=0000:81:00.0 NVME_BDF=0000:82:00.0; fi
if [ "$IOMMU" = 1 ]; then add_env DMADIRECT_RIG_IOMMU_MODEL "$IOMMU_MODEL"; fi
[ -n "$AW_BITS" ] && add_env DMADIRECT_RIG_IOMMU_AW_BITS "$AW_BITS"
[ "$NUMA" = 1 ] && add_env DMADIRECT_RIG_NUMA 1
# --- end issue 21 ---
add_env DMADIRECT_RIG 1
add_env DMADIRECT_RIG_IOMMU "$IOMMU"
add_env DMADIRECT_RIG_IOMMUFD "$IOMMUFD"
add_env DMADIRECT_RIG_RESULTS "$RESULTS"
add_env DMADIRECT_RIG_EDU_BDF "$EDU_BDF"
add_env DMADIRECT_RIG_NVME_BDF "$NVME_BDF"
[ "$NVME_CMB" = 1 ] && add_env DMADIRECT_RIG_NVME_CMB_BDF "$NVME_CMB_BDF"
[ -n "$EDU_MASK" ] && add_env DMADIRECT_RIG_EDU_DMA_MASK "$EDU_MASK"
# [nic] issue 22: the two e1000e of --nic-pair (added to QEMU below)
[ "$NIC_PAIR" = 1 ] && add_env DMADIRECT_RIG_NIC_A_BDF 0000:00:07.0 && add_env DMADIRECT_RIG_NIC_B_BDF 0000:00:08.0

# The command as a bash script: every value quoted with printf %q, so any
# argument or value (spaces, quotes, newlines) arrives unchanged.
{
    echo '# generated by run-guest.sh; run by the guest with the host bash'
    for i in "${!ENV_NAMES[@]}"; do printf 'export %s=%q\n' "${ENV_NAMES[$i]}" "${ENV_VALUES[$i]}"; done
    printf 'cd -- %q || exit 125\n' "$CWD"
    printf 'exec'; printf ' %q' "$@"; printf '\n'
} > "$RESULTS/.rig/cmd.sh"

# --- QEMU ----------------------------------------------------------------------
qarg() { printf '%s' "${1//,/,,}"; }   # QEMU option values escape ',' as ',,'
EDU=edu,addr=0x4
[ -n "$EDU_MASK" ] && EDU+=",dma_mask=$EDU_MASK"
QEMU=(qemu-system-x86_64 -nodefaults -no-user-config -nographic -no-reboot
      -machine "$MACHINE" -accel tcg,thread=multi -cpu max -smp 2 -m "$MEM")
# intel-iommu has to come before the PCI devices it translates for.
# --- issue 21 (rig-breadth): the IOMMU model and width, NUMA nodes ---
if [ "$IOMMU" = 1 ]; then
    case "$IOMMU_MODEL" in
        intel) QEMU+=(-device "intel-iommu,intremap=on,caching-mode=on${AW_BITS:+,aw-bits=$AW_BITS}") ;;
        # QEMU 7.2's AMD-Vi has no caching mode: VFIO cannot use it unless the guest kernel accepts that
        amd)   QEMU+=(-device amd-iommu,intremap=on) ;;
        virtio) QEMU+=(-device virtio-iommu-pci,addr=0x7) ;;
    esac
fi
if [ "$NUMA" = 1 ]; then
    QEMU+=(-object "memory-backend-ram,id=m0,size=$(( $(numfmt --from=iec "$MEM") / 2 ))"
           -object "memory-backend-ram,id=m1,size=$(( $(numfmt --from=iec "$MEM") / 2 ))"
           -numa node,nodeid=0,cpus=0,memdev=m0 -numa node,nodeid=1,cpus=1,memdev=m1)
fi
# --- end issue 21 ---
QEMU+=(-kernel "$(qarg "$VMLINUZ")" -initrd "$(qarg "$INITRD")" -append "$APPEND"
       -fsdev local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap
       -device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot,addr=0x2
       -fsdev "local,id=rigresults,path=$(qarg "$RESULTS"),security_model=none,multidevs=remap"
       -device virtio-9p-pci,fsdev=rigresults,mount_tag=rigresults,addr=0x3
       -drive "file=$(qarg "$RIG_NVME_IMG"),if=none,id=nvme0,format=raw,snapshot=on"
       -serial "file:$(qarg "$RESULTS/console.log")" -monitor none
       -pidfile "$(qarg "$RESULTS/.rig/qemu.pid")")
# --- issue 21 (rig-breadth): with --numa the edu and NVMe sit behind a pxb-pcie on node 1, each on a root port ---
if [ "$NUMA" = 1 ]; then
    QEMU+=(-device pxb-pcie,id=pxb1,bus_nr=0x80,numa_node=1,bus=pcie.0,addr=0x8
           -device pcie-root-port,id=rp1,bus=pxb1,chassis=1,slot=1,addr=0x1
           -device pcie-root-port,id=rp2,bus=pxb1,chassis=2,slot=2,addr=0x2
           -device "edu,bus=rp1,addr=0x0${EDU_MASK:+,dma_mask=$EDU_MASK}" -device nvme,serial=dmadirect-rig,drive=nvme0,id=nvme0dev,bus=rp2,addr=0x0)
else
    QEMU+=(-device "$EDU" -device nvme,serial=dmadirect-rig,drive=nvme0,id=nvme0dev,addr=0x5)
fi
# --- end issue 21 ---
# QEMU 7.2 hw/nvme: the CMB is BAR2 (64-bit, prefetchable); without legacy-cmb its CMBLOC/CMBSZ read 0
# until CMBMSC.CRE is set, but the BAR decodes from the start (nvme_cmb_ops read and write the buffer).
[ "$NVME_CMB" = 1 ] && QEMU+=(-device nvme,serial=dmadirect-cmb,addr=0x6,cmb_size_mb=1)
# --- issue 20 (hil-kit): the user's devices (dmadirect rig --device), after the rig's own ---
[ ${#EXTRA_QEMU[@]} -gt 0 ] && QEMU+=("${EXTRA_QEMU[@]}")
# --- end issue 20 ---
# --- [nic] issue 22: two e1000e on one hub ------------------------------------------------------
# QEMU 7.2's hub forwards a frame from one port to every other port, so the NICs form a wire: what
# 00:07.0 sends, 00:08.0 receives and back. No host network is involved (no tap, no user netdev).
if [ "$NIC_PAIR" = 1 ]; then
    QEMU+=(-netdev hubport,id=nica,hubid=22 -device e1000e,netdev=nica,addr=0x7,mac=52:54:00:12:34:01
           -netdev hubport,id=nicb,hubid=22 -device e1000e,netdev=nicb,addr=0x8,mac=52:54:00:12:34:02)
fi
# --- end [nic] -----------------------------------------------------------------------------------

# One guest at a time on this shared machine.
exec 9>"$RIG_CACHE/qemu.lock"
if ! flock -n 9; then
    rig_log "another rig guest is running; waiting for it"
    flock 9
fi

QPID='' TAILS=()
cleanup() {
    local p
    if [ -n "$QPID" ] && kill -0 "$QPID" 2>/dev/null; then
        # TERM to timeout(1) is passed on to QEMU; timeout exits once QEMU has.
        rig_log "stopping QEMU"
        kill -TERM "$QPID" 2>/dev/null || true
        for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$QPID" 2>/dev/null || break; sleep 0.5; done
        if kill -0 "$QPID" 2>/dev/null; then
            p=$(cat "$RESULTS/.rig/qemu.pid" 2>/dev/null || true)
            if [ -n "$p" ]; then kill -KILL "$p" 2>/dev/null || true; fi
            kill -KILL "$QPID" 2>/dev/null || true
        fi
    fi
    for p in "${TAILS[@]}"; do kill "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

KIND=no-iommu; [ "$IOMMU" = 1 ] && KIND=iommu; [ "$IOMMUFD" = 1 ] && KIND="iommufd, kernel $RIG_KVER_IOMMUFD"
rig_log "booting ($KIND, $MEM, $HUGEPAGES hugepages), results in $RESULTS"
printf '%q ' "${QEMU[@]}" > "$RESULTS/.rig/qemu-cmdline"
T0=$(date +%s.%N)
# timeout(1) kills QEMU (TERM, then KILL 5 s later) at the limit and exits 124.
timeout -k 5 "$TIMEOUT" "${QEMU[@]}" </dev/null >"$RESULTS/qemu.log" 2>&1 &
QPID=$!
if [ "$QUIET" = 0 ]; then
    tail -s 0.2 -n +1 -f --pid="$QPID" "$RESULTS/stdout.log" & TAILS+=($!)
    tail -s 0.2 -n +1 -f --pid="$QPID" "$RESULTS/stderr.log" >&2 & TAILS+=($!)
fi
QRC=0
wait "$QPID" || QRC=$?
QPID=
for p in "${TAILS[@]}"; do wait "$p" 2>/dev/null || true; done
TAILS=()
ELAPSED=$(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')

show_console() {
    rig_log "---- last lines of $RESULTS/console.log ----"
    tail -n 40 "$RESULTS/console.log" >&2 || true
    if [ -s "$RESULTS/qemu.log" ]; then rig_log "---- qemu.log ----"; cat "$RESULTS/qemu.log" >&2; fi
}
if [ "$QRC" = 124 ] || [ "$QRC" = 137 ]; then
    show_console
    rig_log "TIMEOUT after ${TIMEOUT}s: QEMU killed (results in $RESULTS)"
    exit 124
fi
if [ ! -f "$RESULTS/exit-code" ]; then
    show_console
    if [ "$QRC" -gt 128 ] && [ "$QRC" -lt 160 ]; then
        rig_log "FAILED: QEMU was killed by signal $((QRC - 128)) after ${ELAPSED}s, before the guest wrote an exit code; see $RESULTS"
        echo "$QRC" > "$RESULTS/qemu-crashed"
        exit 125
    fi
    rig_log "FAILED: the guest wrote no exit code (QEMU exit $QRC after ${ELAPSED}s); see $RESULTS"
    exit 125
fi
RC=$(cat "$RESULTS/exit-code")
[[ $RC =~ ^[0-9]+$ ]] || { show_console; rig_log "FAILED: garbage exit code '$RC'"; exit 125; }
[ "$RC" = 0 ] || show_console
rig_log "guest finished in ${ELAPSED}s, command exit code $RC (results in $RESULTS)"
exit "$RC"
