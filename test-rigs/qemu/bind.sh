#!/usr/bin/env bash
# Runs inside the rig guest: binds PCI devices to a userspace driver.
#
#   bind.sh DEVICE DRIVER
#     DEVICE  edu | nvme | e1000e | VVVV:DDDD (vendor:device) | class:0xCCSSPP | a BDF
#     DRIVER  vfio-pci | uio_pci_generic | none (unbind only)
#
# For each matching device it prints one line, for scripts to parse:
#   BDF=0000:00:04.0 ID=1234:11e8 DRIVER=vfio-pci GROUP=3 NODE=/dev/vfio/3
# (NODE is /dev/vfio/noiommu-N in a no-IOMMU guest, /dev/uioN for UIO.)
# Exits non-zero if nothing matched or a bind did not take.
set -euo pipefail

usage() { sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
[ $# = 2 ] || usage
SEL=$1 DRV=$2
case "$SEL" in
    edu)  SEL=1234:11e8 ;;
    nvme) SEL=class:0x010802 ;;
    e1000e) SEL=8086:10d3 ;;   # [nic] issue 22: the Intel 82574L pair of run-guest.sh --nic-pair
esac
case "$DRV" in vfio-pci|uio_pci_generic|none) ;; *) usage ;; esac

SYS=/sys/bus/pci/devices
matches() {   # matches BDF -> is this device selected?
    local d=$SYS/$1 v dv
    case "$SEL" in
        class:*) [ "$(cat "$d/class")" = "${SEL#class:}" ] ;;
        ????:??:??.?) [ "$1" = "$SEL" ] ;;
        ????:????) v=$(cat "$d/vendor") dv=$(cat "$d/device")
                   [ "${v#0x}:${dv#0x}" = "$SEL" ] ;;
        *) echo "bind.sh: bad device selector '$SEL'" >&2; exit 2 ;;
    esac
}

# The driver module must already be loaded (the rig's initramfs loads vfio-pci
# and uio_pci_generic: the host's /lib/modules does not match the guest kernel).
if [ "$DRV" != none ] && [ ! -d "/sys/bus/pci/drivers/$DRV" ]; then
    echo "bind.sh: driver $DRV is not loaded in this kernel" >&2; exit 1
fi

found=0 bad=0
for path in "$SYS"/*; do
    bdf=${path##*/}
    matches "$bdf" || continue
    found=1
    # Unbind from whatever has it, then let the override pick the driver.
    if [ -e "$path/driver" ]; then
        echo "$bdf" > "$path/driver/unbind"
    fi
    if [ "$DRV" = none ]; then
        echo "" > "$path/driver_override"
    else
        echo "$DRV" > "$path/driver_override"
        echo "$bdf" > /sys/bus/pci/drivers_probe || true
    fi
    cur=$( [ -e "$path/driver" ] && basename "$(readlink "$path/driver")" || echo none )
    group=$( [ -e "$path/iommu_group" ] && basename "$(readlink "$path/iommu_group")" || echo none )
    node=none
    case "$cur" in
        vfio-pci)
            # In no-IOMMU mode vfio makes a fake group whose node is noiommu-N.
            if [ -e "/dev/vfio/$group" ]; then node=/dev/vfio/$group
            else node=/dev/vfio/noiommu-$group; fi ;;
        uio_pci_generic)
            u=$(for x in "$path"/uio/uio*; do [ -e "$x" ] && echo "${x##*/}"; done | head -n1)
            [ -n "$u" ] && node=/dev/$u ;;
    esac
    v=$(cat "$path/vendor") dv=$(cat "$path/device")
    echo "BDF=$bdf ID=${v#0x}:${dv#0x} DRIVER=$cur GROUP=$group NODE=$node"
    if [ "$cur" != "$DRV" ] && ! [ "$DRV" = none ] ; then
        echo "bind.sh: $bdf did not bind to $DRV (now: $cur)" >&2; bad=1
    fi
done
[ "$found" = 1 ] || { echo "bind.sh: no PCI device matches $SEL" >&2; exit 1; }
exit "$bad"
