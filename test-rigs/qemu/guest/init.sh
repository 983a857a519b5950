#!/bin/sh
# shellcheck disable=SC2013,SC2012  # word splitting of cmdline/module list and ls of sysfs are intended
# /init of the rig's initramfs. Runs as PID 1 under busybox ash.
#
# Contract with run-guest.sh (host side):
#  - 9p tag "hostroot": the host's / (read-only). It becomes our root, with a
#    tmpfs overlay on top so that anything may be written (writes vanish at
#    poweroff).
#  - 9p tag "rigresults": the per-run results directory (read-write). Its
#    host path is in .rig/guest-path inside it; we mount it at that same path
#    so paths printed or written by the command mean the same on both sides.
#  - .rig/cmd.sh in the results share is the command, generated on the host
#    (cwd, environment, argv all quoted by bash's printf %q). We run it with
#    the host's bash inside the chroot.
#  - We write its exit status to exit-code in the share, then power off.
#    No exit-code file means the guest never got that far: the host treats
#    that as failure (QEMU exits 0 on poweroff whatever happened).
#  - Kernel command line: dmadirect.hugepages=N sets vm.nr_hugepages.
#  - msize: virtio caps 9p at 512000 bytes; asking for more only logs a warning.

export PATH=/bin:/sbin
umask 022

say() { echo "[rig-init] $*"; }
halt_now() { sync; say "poweroff"; poweroff -f; sleep 5; }
die() { say "FATAL: $*"; halt_now; }
uptime_s() { cut -d' ' -f1 /proc/uptime; }

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
say "initramfs up at $(uptime_s)s, kernel $(uname -r)"

# Value of a key=value word on the kernel command line ('' if absent).
param() {
    for w in $(cat /proc/cmdline); do
        case "$w" in "$1="*) echo "${w#*=}"; return 0 ;; esac
    done
}

# Hugepages first, while physical memory is least fragmented.
HP=$(param dmadirect.hugepages)
if [ -n "$HP" ]; then
    echo "$HP" > /proc/sys/vm/nr_hugepages || say "could not set nr_hugepages"
    say "nr_hugepages requested $HP, got $(cat /proc/sys/vm/nr_hugepages)"
fi

# busybox modprobe resolves dependencies from modules.dep (depmod -b at build
# time) and applies module.param=value options from /proc/cmdline.
for m in $(cat /etc/rig-modules); do
    modprobe "$m" || say "modprobe $m failed"
done

# --- issue 21 (rig-breadth): behind virtio-iommu (ACPI VIOT) the virtio devices' probe is deferred until
# virtio_iommu has loaded, and then runs asynchronously: wait (at most 10 s) until both 9p mount tags are
# there. Without virtio-iommu they are there already and this costs nothing. ---
i=0
while [ $i -lt 100 ] && ! { grep -qs hostroot /sys/bus/virtio/drivers/9pnet_virtio/*/mount_tag \
        && grep -qs rigresults /sys/bus/virtio/drivers/9pnet_virtio/*/mount_tag; }; do
    sleep 0.1; i=$((i + 1))
done
[ $i = 0 ] || say "9p mount tags appeared after $i x 0.1 s (deferred probe behind the IOMMU)"
# --- end issue 21 ---

# --- root: host / over 9p, read-only, with a tmpfs overlay for writes ------
mkdir -p /mnt/lower /mnt/rw /newroot /results
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=loose,ro hostroot /mnt/lower \
    || die "cannot mount the host root over 9p"
mount -t tmpfs -o mode=0755 rigrw /mnt/rw
mkdir -p /mnt/rw/upper /mnt/rw/work
OVERLAY=1
if ! mount -t overlay -o lowerdir=/mnt/lower,upperdir=/mnt/rw/upper,workdir=/mnt/rw/work,index=off,metacopy=off \
        rigroot /newroot; then
    # Fallback: plain read-only root; only /tmp (below) is writable.
    say "overlay failed, using a read-only root with a tmpfs /tmp"
    OVERLAY=0
    mount --bind /mnt/lower /newroot
fi

mount -t proc proc /newroot/proc
mount -t sysfs sysfs /newroot/sys
mount -t devtmpfs devtmpfs /newroot/dev
mkdir -p /newroot/dev/pts /newroot/dev/shm /newroot/dev/hugepages
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /newroot/dev/pts
mount -t tmpfs -o mode=1777 shm /newroot/dev/shm
mount -t hugetlbfs hugetlbfs /newroot/dev/hugepages
# /tmp: with the overlay, writes already go to tmpfs, and the host's /tmp stays
# visible (CI may clone the repository under /tmp). Without the overlay, a
# fresh tmpfs is the only writable place.
[ "$OVERLAY" = 1 ] || mount -t tmpfs -o mode=1777 tmp /newroot/tmp

# --- results share, mounted at its host path ---------------------------------
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=none rigresults /results \
    || die "cannot mount the results share"
RPATH=
read -r RPATH < /results/.rig/guest-path || true
case "$RPATH" in /*) ;; *) die "bad results path '$RPATH'" ;; esac
mkdir -p "/newroot$RPATH" 2>/dev/null || true
mount --move /results "/newroot$RPATH" || die "cannot mount the results share at $RPATH"
R="/newroot$RPATH"

say "groups: $(for g in /sys/kernel/iommu_groups/*; do [ -d "$g" ] && printf '%s=%s ' "${g##*/}" "$(ls "$g/devices" | tr '\n' ',')"; done)"
say "vfio nodes: $(ls /dev/vfio 2>/dev/null | tr '\n' ' ')"
say "running command at $(uptime_s)s"
# A clean environment; cmd.sh exports what the host asked for.
chroot /newroot /usr/bin/env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    TERM=dumb LANG=C.UTF-8 /bin/bash "$RPATH/.rig/cmd.sh" \
    </dev/null >>"$R/stdout.log" 2>>"$R/stderr.log"
RC=$?
say "command exited $RC at $(uptime_s)s"
# Written last: its presence means the command really ran to the end.
echo "$RC" > "$R/exit-code.tmp" && mv "$R/exit-code.tmp" "$R/exit-code"
sync
umount "$R" 2>/dev/null || true
halt_now
