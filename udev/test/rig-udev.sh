#!/usr/bin/env bash
# Lab notebook for the rig guest (test-rigs/qemu), with a real systemd-udevd from the host root.
#
# Device:  the QEMU edu device (1234:11e8), behind intel-iommu.
# Setup:   udev/install --group dmatest --ids 1234:11e8; systemd-udevd running.
# Action:  unbind edu, then replay its add event (udevadm trigger --action=add), and settle.
# Seen:    edu is bound to vfio-pci, and /dev/vfio/<its group> is root:dmatest mode 0660.
#
#   udev/test/rig-udev.sh [ADDRESS]      (default: the first 1234:11e8 device)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
fail() { echo "rig-udev: FAIL: $*" >&2; exit 1; }
# The rig guest runs commands chrooted into its overlay root, and systemd's udevadm then ignores every
# request ("Running in chroot, ignoring request") unless told otherwise.
[ "${DMADIRECT_RIG:-}" = 1 ] && export SYSTEMD_IGNORE_CHROOT=1
[ "$(id -u)" = 0 ] || fail "run as root in the rig guest"
command -v udevadm >/dev/null || fail "no udevadm"
pgrep -x systemd-udevd >/dev/null || fail "systemd-udevd is not running"

address=${1:-}
if [ -z "$address" ]; then
    for d in /sys/bus/pci/devices/*; do
        if [ "$(cat "$d/vendor")" = 0x1234 ] && [ "$(cat "$d/device")" = 0x11e8 ]; then address=$(basename "$d"); break; fi
    done
fi
[ -n "$address" ] || fail "no edu device (1234:11e8)"
dev=/sys/bus/pci/devices/$address

getent group dmatest >/dev/null || groupadd --system dmatest
"$here/install" --group dmatest --ids 1234:11e8
trap '"$here/install" --uninstall >/dev/null' EXIT

# Start from a device that no rule has touched yet.
if [ -e "$dev/driver" ]; then echo "$address" > "$dev/driver/unbind"; fi
echo > "$dev/driver_override"
udevadm trigger --action=add --sysname-match="$address" --subsystem-match=pci
udevadm settle --timeout=30

driver=$(basename "$(readlink "$dev/driver" 2>/dev/null || echo none)")
[ "$driver" = vfio-pci ] || fail "$address is bound to $driver, not vfio-pci"
group=$(basename "$(readlink "$dev/iommu_group")")
node=/dev/vfio/$group
[ -c "$node" ] || fail "$node is missing"
owner=$(stat -c '%G %a' "$node")
[ "$owner" = "dmatest 660" ] || fail "$node is '$owner', not 'dmatest 660'"
owner=$(stat -c '%G %a' /dev/vfio/vfio)
[ "$owner" = "dmatest 660" ] || fail "/dev/vfio/vfio is '$owner', not 'dmatest 660'"
echo "rig-udev: $address bound to vfio-pci by udev; $node is dmatest 660"
