#!/usr/bin/env bash
# Prepares everything the QEMU rig needs, in the cache directory
# (${DMADIRECT_RIG_CACHE:-$HOME/.cache/dmadirect-rig}):
#   - host packages (qemu, busybox-static, ...), installed only if missing;
#   - the Debian generic 6.1 kernel, downloaded and unpacked (not installed):
#     the one linux-image-amd64 depends on, or $DMADIRECT_RIG_KERNEL_PACKAGE;
#   - a busybox initramfs with only the modules the rig needs;
#   - a small raw NVMe disk image;
#   - with --noiommu: a vfio.ko rebuilt with CONFIG_VFIO_NOIOMMU=y and a
#     second initramfs carrying it;
#   - with --iommufd: a second kernel, bookworm-backports' 6.12, with iommufd
#     and the VFIO device cdev built for it, and its own initramfs
#     (build-iommufd-kernel.sh).
# Idempotent: each step is skipped when its stamp says the inputs are unchanged,
# so a rerun on a prepared machine takes about a second.
set -euo pipefail
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

WANT_NOIOMMU=0 WANT_IOMMUFD=0
for a in "$@"; do
    case "$a" in
        --noiommu) WANT_NOIOMMU=1 ;;
        --iommufd) WANT_IOMMUFD=1 ;;
        -h|--help) echo "usage: $0 [--noiommu] [--iommufd]"; exit 0 ;;
        *) rig_die "unknown argument: $a" ;;
    esac
done

mkdir -p "$RIG_CACHE"
T0=$SECONDS
# Several worktrees/users may share the cache: one prepare at a time.
exec 8>"$RIG_CACHE/prepare.lock"
flock 8

# ---------------------------------------------------------------------------
# apt helpers: 'apt-get update' only when the local lists cannot serve us
# (a package unknown, or a download failing because the lists are stale).
APT_UPDATED=0
# Root is needed only when apt has to change something; a prepared machine
# can rerun this as any user.
need_root() { [ "$(id -u)" = 0 ] || rig_die "prepare.sh must run as root to $*"; }
apt_update_once() {
    if [ "$APT_UPDATED" = 0 ]; then
        need_root "run apt-get update"
        rig_log "apt-get update"
        apt-get update -qq
        APT_UPDATED=1
    fi
}
missing_packages() {
    local p
    for p in "$@"; do
        dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || echo "$p"
    done
}
apt_install() {
    local -a miss
    mapfile -t miss < <(missing_packages "$@")
    [ "${#miss[@]}" = 0 ] && return 0
    need_root "install ${miss[*]}"
    rig_log "installing: ${miss[*]}"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -qq --no-install-recommends "${miss[@]}" >/dev/null; then
        apt_update_once
        apt-get install -y -qq --no-install-recommends "${miss[@]}" >/dev/null
    fi
}
# apt-get download PKG into the current directory, refreshing lists on failure.
apt_download() {
    apt-get download -qq "$@" >/dev/null 2>&1 || { apt_update_once; apt-get download -qq "$@"; }
}

apt_install "${RIG_HOST_PACKAGES[@]}"

# ---------------------------------------------------------------------------
# The kernel: whatever linux-image-amd64 currently depends on.
kernel_package() {
    apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}'
}
# DMADIRECT_RIG_KERNEL_PACKAGE=linux-image-6.1.0-NN-amd64 pins a kernel.
KPKG=${DMADIRECT_RIG_KERNEL_PACKAGE:-$(kernel_package)}
if [ -z "$KPKG" ]; then apt_update_once; KPKG=$(kernel_package); fi
[ -n "$KPKG" ] || rig_die "cannot resolve linux-image-amd64 to a kernel package"
KPKG_VER=$(apt-cache show --no-all-versions "$KPKG" | awk '/^Version:/{print $2; exit}')
KDIR="$RIG_CACHE/kernel/${KPKG}_${KPKG_VER}"

if [ ! -f "$KDIR/.unpacked" ]; then
    rig_log "downloading $KPKG $KPKG_VER"
    tmp=$(mktemp -d "$RIG_CACHE/dl.XXXXXX")
    (cd "$tmp" && apt_download "$KPKG")
    rm -rf "$KDIR"; mkdir -p "$KDIR"
    dpkg -x "$tmp"/"${KPKG}"_*.deb "$KDIR"
    rm -rf "$tmp"
    # Debian generates modules.dep in postinst; we do it in the unpacked tree so
    # that modprobe --show-depends -d works against it.
    kv=$(ls "$KDIR/lib/modules")
    depmod -b "$KDIR" "$kv"
    touch "$KDIR/.unpacked"
    # Older kernels unpacked by previous runs are no longer needed.
    find "$RIG_CACHE/kernel" -mindepth 1 -maxdepth 1 ! -path "$KDIR" -exec rm -rf {} +
fi
KVER=$(ls "$KDIR/lib/modules")
VMLINUZ="$KDIR/boot/vmlinuz-$KVER"
[ -f "$VMLINUZ" ] || rig_die "no $VMLINUZ in $KPKG"

# ---------------------------------------------------------------------------
# Initramfs: build_initramfs OUT KDIR KVER OVERRIDE MODULE...
#   KDIR      the unpacked kernel package (KDIR/lib/modules/KVER, depmod'ed)
#   OVERRIDE  '' or a directory of rebuilt .ko files: each replaces the stock
#             module of that name in the image; one the stock kernel does not
#             have at all (iommufd.ko: CONFIG_IOMMUFD is off) goes to extra/
#   MODULE... what the guest loads, in this order (/etc/rig-modules); their
#             dependencies come from modprobe --show-depends against KDIR.
build_initramfs() {
    local out=$1 kdir=$2 kver=$3 override=$4 root mod path rel; shift 4
    root=$(mktemp -d "$RIG_CACHE/initramfs.XXXXXX")
    mkdir -p "$root"/{bin,sbin,etc,proc,sys,dev,mnt,newroot,results,lib/modules/"$kver"}
    cp /bin/busybox "$root/bin/busybox"
    # One symlink per applet (mount, modprobe, chroot, poweroff, ...).
    for applet in $(/bin/busybox --list); do
        [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
    done
    install -m 0755 "$RIG_DIR/guest/init.sh" "$root/init"

    # The modules and everything they depend on, as modprobe resolves it
    # (a module only the override provides is skipped here).
    for mod in "$@"; do
        if [ -n "$override" ] && [ -f "$override/$mod.ko" ] \
                && ! modprobe -n -d "$kdir" -S "$kver" "$mod" 2>/dev/null; then
            continue
        fi
        modprobe --show-depends -d "$kdir" -S "$kver" "$mod" \
            | awk '$1 == "insmod" {print $2}'
    done | sort -u | while read -r path; do
        rel=${path#"$kdir"/}
        mkdir -p "$root/$(dirname "$rel")"
        cp "$path" "$root/$rel"
    done
    if [ -n "$override" ]; then
        (cd "$override" && find . -name '*.ko' -print) | while read -r rel; do
            local dst name
            name=$(basename "$rel")
            dst=$(find "$root/lib/modules/$kver" -name "$name*" | head -n1)
            if [ -z "$dst" ]; then
                [ -z "$(find "$kdir/lib/modules/$kver" -name "$name*" | head -n1)" ] \
                    || rig_die "override $rel: the stock $name is not in the image (no module needs it)"
                dst="$root/lib/modules/$kver/extra/$name"
                mkdir -p "$(dirname "$dst")"
            fi
            rm -f "$dst"; cp "$override/$rel" "${dst%.xz}"
        done
    fi
    # busybox insmod cannot be relied on to decompress; store plain .ko files.
    find "$root/lib/modules" -name '*.ko.xz' -exec xz -d {} +
    for f in modules.order modules.builtin modules.builtin.modinfo; do
        [ -f "$kdir/lib/modules/$kver/$f" ] && cp "$kdir/lib/modules/$kver/$f" "$root/lib/modules/$kver/"
    done
    # With the kernel's Module.symvers at hand (the iommufd kernel's build
    # keeps it; Debian's System.map is a placeholder), depmod -e reports any
    # symbol or symbol version that neither the kernel nor a module in the
    # image provides.
    if [ -f "$kdir/Module.symvers" ]; then
        local warn
        warn=$(depmod -b "$root" -e -E "$kdir/Module.symvers" "$kver" 2>&1)
        [ -z "$warn" ] || rig_die "depmod in $(basename "$out"): $warn"
    else
        depmod -b "$root" "$kver"
    fi
    printf '%s\n' "$@" > "$root/etc/rig-modules"

    (cd "$root" && find . -print0 | sort -z | cpio --null -o -H newc --quiet | gzip -9n) > "$out.tmp"
    mv "$out.tmp" "$out"
    rm -rf "$root"
    rig_log "built $(basename "$out") ($(du -h "$out" | cut -f1))"
}

# Stamp = hash of everything that goes into the image:
#   initramfs_stamp KERNEL-ID KVER OVERRIDE MODULE...
initramfs_stamp() {
    local id=$1 kver=$2 override=$3; shift 3
    { echo "$id $kver"; printf '%s\n' "$@"
      cat "$RIG_DIR/guest/init.sh" /bin/busybox | sha256sum   # content only: any checkout path
      sed -n '/^build_initramfs()/,/^}/p' "$0"
      if [ -n "$override" ]; then find "$override" -name '*.ko' -exec sha256sum {} + | sort; fi
    } | sha256sum | cut -d' ' -f1
}
# initramfs_update OUT KERNEL-ID KDIR KVER OVERRIDE MODULE...: rebuilds OUT when its stamp changed.
initramfs_update() {
    local out=$1 id=$2 kdir=$3 kver=$4 override=$5 stamp; shift 5
    stamp=$(initramfs_stamp "$id" "$kver" "$override" "$@")
    if [ ! -f "$out" ] || [ "$(cat "$out.stamp" 2>/dev/null)" != "$stamp" ]; then
        build_initramfs "$out" "$kdir" "$kver" "$override" "$@"
        echo "$stamp" > "$out.stamp"
    fi
}

INITRD="$RIG_CACHE/initramfs.cpio.gz"
initramfs_update "$INITRD" "$KPKG $KPKG_VER" "$KDIR" "$KVER" "" "${RIG_MODULES[@]}"

# ---------------------------------------------------------------------------
# No-IOMMU variant: Debian's vfio.ko lacks CONFIG_VFIO_NOIOMMU. Rebuild only
# drivers/vfio from the matching linux-source with that option, against the
# matching headers, and put the result into a second initramfs.
INITRD_NOIOMMU="$RIG_CACHE/initramfs-noiommu.cpio.gz"
if [ "$WANT_NOIOMMU" = 1 ]; then
    "$RIG_DIR/build-noiommu-vfio.sh" "$KVER" "$KPKG_VER"
    initramfs_update "$INITRD_NOIOMMU" "$KPKG $KPKG_VER" "$KDIR" "$KVER" \
        "$RIG_CACHE/noiommu/$KVER/modules" "${RIG_MODULES[@]}"
fi

# ---------------------------------------------------------------------------
# iommufd variant: a second kernel, bookworm-backports' 6.12, with iommufd.ko
# and the vfio modules rebuilt for it (build-iommufd-kernel.sh says why), in
# its own initramfs. All of it lives in $RIG_CACHE/iommufd, which the
# clean-ups above do not touch; build-iommufd-kernel.sh removes older builds.
INITRD_IOMMUFD="$RIG_CACHE/initramfs-iommufd.cpio.gz"
IFD_DIR=''
if [ "$WANT_IOMMUFD" = 1 ]; then
    IFD_DIR=$("$RIG_DIR/build-iommufd-kernel.sh")
    # shellcheck source=/dev/null
    source "$IFD_DIR/info.env"
    initramfs_update "$INITRD_IOMMUFD" "iommufd $IFD_KVER $IFD_PKGVER" "$IFD_DIR/kernel" "$IFD_KVER" \
        "$IFD_DIR/modules" "${RIG_MODULES_IOMMUFD[@]}"
elif [ -f "$RIG_CACHE/rig.env" ]; then
    # Not asked for this time: keep what an earlier --iommufd prepared.
    IFD_DIR=$(sed -n 's/^RIG_IOMMUFD_DIR=//p' "$RIG_CACHE/rig.env")
    if [ -n "$IFD_DIR" ] && [ -f "$IFD_DIR/stamp" ] && [ -f "$INITRD_IOMMUFD" ]; then
        # shellcheck source=/dev/null
        source "$IFD_DIR/info.env"
        initramfs_update "$INITRD_IOMMUFD" "iommufd $IFD_KVER $IFD_PKGVER" "$IFD_DIR/kernel" "$IFD_KVER" \
            "$IFD_DIR/modules" "${RIG_MODULES_IOMMUFD[@]}"
    else
        IFD_DIR=''
    fi
fi

# ---------------------------------------------------------------------------
# NVMe backing image: sparse raw file. run-guest.sh opens it with
# snapshot=on, so guests never change it.
NVME_IMG="$RIG_CACHE/nvme.img"
[ -f "$NVME_IMG" ] || qemu-img create -q -f raw "$NVME_IMG" 64M

# What run-guest.sh needs, so that it does not have to ask apt.
cat > "$RIG_CACHE/rig.env.tmp" <<ENV
RIG_KVER=$KVER
RIG_KERNEL_PACKAGE=${KPKG}_${KPKG_VER}
RIG_VMLINUZ=$VMLINUZ
RIG_INITRD=$INITRD
RIG_INITRD_NOIOMMU=$([ -f "$INITRD_NOIOMMU" ] && echo "$INITRD_NOIOMMU")
RIG_IOMMUFD_DIR=$IFD_DIR
RIG_KVER_IOMMUFD=${IFD_DIR:+$IFD_KVER}
RIG_KERNEL_PACKAGE_IOMMUFD=${IFD_DIR:+linux-image-$IFD_KVER-unsigned_$IFD_PKGVER}
RIG_VMLINUZ_IOMMUFD=${IFD_DIR:+$IFD_DIR/kernel/boot/vmlinuz-$IFD_KVER}
RIG_INITRD_IOMMUFD=${IFD_DIR:+$INITRD_IOMMUFD}
RIG_UAPI_IOMMUFD=${IFD_DIR:+$IFD_DIR/uapi}
RIG_NVME_IMG=$NVME_IMG
ENV
mv "$RIG_CACHE/rig.env.tmp" "$RIG_CACHE/rig.env"
rig_log "prepared in $((SECONDS - T0))s: kernel $KVER ($KPKG $KPKG_VER)${IFD_DIR:+, iommufd kernel $IFD_KVER}, cache $RIG_CACHE"
