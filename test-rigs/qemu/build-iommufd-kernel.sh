#!/usr/bin/env bash
# Fetches the rig's second guest kernel, for iommufd, and builds the modules
# Debian leaves out. Called by prepare.sh --iommufd:
#   build-iommufd-kernel.sh        prints the result directory on stdout
#
# iommufd's VFIO device cdev (/dev/vfio/devices/vfioN, VFIO_DEVICE_BIND_IOMMUFD)
# needs Linux >= 6.6, and every Debian kernel (6.1, 6.12, newer) is built with
# '# CONFIG_IOMMUFD is not set'. So:
#   - the kernel is bookworm-backports' 6.12 (built with the same gcc-12 as
#     bookworm's), the one its linux-image-amd64 depends on, or
#     $DMADIRECT_RIG_IOMMUFD_KERNEL_PACKAGE (linux-image-6.12.NN+deb12-amd64).
#     The host's apt sources list only bookworm; a private apt configuration in
#     the cache lists bookworm-backports, the host's apt setup is not touched;
#   - drivers/iommu/iommufd is built out of tree from the matching linux-source,
#     against the matching linux-headers, as iommufd.ko. Debian's kernel lacks
#     lib/interval_tree.c's CONFIG_INTERVAL_TREE_SPAN_ITER part, which iommufd
#     needs: we generate a file holding that part of the same source at build
#     time and link it into iommufd.ko (not exported, so nothing clashes);
#   - all of drivers/vfio is rebuilt with CONFIG_IOMMUFD=m and
#     CONFIG_VFIO_DEVICE_CDEV=y: those options change struct vfio_device in
#     include/linux/vfio.h, so vfio.ko and every module using it (type1,
#     vfio-pci-core, vfio-pci) must come from the same build. The stock ones
#     are replaced in the guest's initramfs; mdev is built too, but not used.
#     The other headers that see the options were checked: iommufd.h has stubs,
#     sched/user.h's locked_vm is there anyway (CONFIG_NET);
#   - the uapi headers <linux/vfio.h> and <linux/iommufd.h> of this kernel,
#     sanitized by the kernel's own scripts/headers_install.sh, for the
#     self-test's C code (bookworm's /usr/include is 6.1's uapi).
# Nothing is installed on the host but gcc/make if missing; no kernel code is
# kept in the repository. Result, in $RIG_CACHE/iommufd/KVER_PKGVER/:
#   kernel/boot/vmlinuz-KVER, kernel/lib/modules/KVER/  the unpacked image
#   kernel/Module.symvers  from linux-headers-KVER
#   modules/*.ko   iommufd.ko + the rebuilt vfio modules (debug info stripped)
#   uapi/linux/{vfio,iommufd}.h
#   info.env       IFD_KVER, IFD_PKGVER
# Idempotent: a second run with the same package takes well under a second.
set -euo pipefail
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

T0=$SECONDS
BASE="$RIG_CACHE/iommufd"
APTDIR="$RIG_CACHE/iommufd-apt"
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
SUITE=bookworm-backports

# --- private apt configuration -------------------------------------------------
[ -f "$KEYRING" ] || apt-get install -y -qq --no-install-recommends debian-archive-keyring >/dev/null
mkdir -p "$APTDIR/lists/partial" "$APTDIR/cache/archives/partial"
echo "deb [signed-by=$KEYRING] http://deb.debian.org/debian $SUITE main" > "$APTDIR/sources.list"
# The cache is usually in root's home, which apt's sandbox user _apt cannot
# reach: apt would fall back to root anyway, with a warning per download.
APTO=(-o "Dir::Etc::sourcelist=$APTDIR/sources.list" -o Dir::Etc::sourceparts=-
      -o "Dir::State::Lists=$APTDIR/lists" -o "Dir::Cache=$APTDIR/cache" -o APT::Sandbox::User=root)
UPDATED=0
apt_update() {
    [ "$UPDATED" = 0 ] || return 0
    [ "$(id -u)" = 0 ] || rig_die "prepare.sh --iommufd must run as root to fetch the $SUITE package lists"
    rig_log "iommufd kernel: apt-get update ($SUITE, private lists in $APTDIR)"
    apt-get "${APTO[@]}" update -qq
    UPDATED=1
}
# KPKG (linux-image-KVER, what linux-image-amd64 depends on), KVER, and the
# version of the -unsigned image package (= the linux source version).
resolve() {
    KPKG=${DMADIRECT_RIG_IOMMUFD_KERNEL_PACKAGE:-$(apt-cache "${APTO[@]}" depends linux-image-amd64 2>/dev/null \
        | awk '/Depends: linux-image-[0-9]/{print $2; exit}')}
    KVER=${KPKG#linux-image-}
    PKGVER=$(apt-cache "${APTO[@]}" show --no-all-versions "linux-image-$KVER-unsigned" 2>/dev/null \
        | awk '/^Version:/{print $2; exit}')
    [ -n "$KPKG" ] && [ -n "$PKGVER" ]
}
resolve || { apt_update; resolve; } || rig_die "cannot resolve the $SUITE kernel (linux-image-amd64${DMADIRECT_RIG_IOMMUFD_KERNEL_PACKAGE:+, pin $DMADIRECT_RIG_IOMMUFD_KERNEL_PACKAGE})"
case "$KVER" in [0-9]*-amd64) ;; *) rig_die "unexpected kernel package $KPKG" ;; esac

OUT="$BASE/${KVER}_${PKGVER}"
STAMP="$KVER $PKGVER $(sha256sum "$0" | cut -d' ' -f1)"
if [ "$(cat "$OUT/stamp" 2>/dev/null)" = "$STAMP" ]; then
    echo "$OUT"; exit 0
fi

# --- download and unpack ---------------------------------------------------------
COMMON=${KVER%-amd64}            # 6.12.95+deb12: -common headers and kbuild
SRCPKG=linux-source-${KVER%%.*}.$(cut -d. -f2 <<<"$KVER")   # linux-source-6.12
pkgs() { echo "linux-image-$KVER-unsigned=$PKGVER linux-headers-$KVER=$PKGVER" \
              "linux-headers-$COMMON-common=$PKGVER linux-kbuild-$COMMON=$PKGVER $SRCPKG=$PKGVER"; }
work=$(mktemp -d "$RIG_CACHE/iommufd-build.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/dl" "$work/root" "$work/src"
download() {
    # shellcheck disable=SC2046  # pkgs: one word per package
    (cd "$work/dl" && apt-get "${APTO[@]}" download -qq $(pkgs) >&2)
    [ "$(find "$work/dl" -name '*.deb' | wc -l)" = 5 ]
}
rig_log "iommufd kernel: downloading $KPKG $PKGVER (image, headers, kbuild, $SRCPKG)"
if ! download; then
    # Stale lists: the version is gone from the mirror. Refresh and re-resolve.
    rm -f "$work"/dl/*; apt_update
    resolve || rig_die "cannot resolve the $SUITE kernel after apt-get update"
    OUT="$BASE/${KVER}_${PKGVER}"; STAMP="$KVER $PKGVER $(sha256sum "$0" | cut -d' ' -f1)"
    download || rig_die "download of $(pkgs) failed"
fi
for f in "$work"/dl/*.deb; do dpkg -x "$f" "$work/root"; done
rm -rf "$work/dl"

rm -rf "$OUT"; mkdir -p "$OUT/kernel" "$OUT/modules" "$OUT/uapi/linux"
mv "$work/root/boot" "$OUT/kernel/boot"
mkdir -p "$OUT/kernel/lib"
mv "$work/root/lib/modules" "$OUT/kernel/lib/modules"
if [ ! -f "$OUT/kernel/boot/vmlinuz-$KVER" ] || [ ! -d "$OUT/kernel/lib/modules/$KVER" ]; then
    rig_die "linux-image-$KVER-unsigned has no vmlinuz-$KVER or modules"
fi
# Debian runs depmod in postinst; we do it in the unpacked tree so that
# modprobe --show-depends -d works against it.
depmod -b "$OUT/kernel" "$KVER"

# Only what we build, out of the ~145 MB source tarball.
S="$work/src/$SRCPKG"
tar -xJf "$work/root/usr/src/$SRCPKG.tar.xz" -C "$work/src" --wildcards \
    "$SRCPKG/drivers/vfio" "$SRCPKG/drivers/iommu/iommufd" "$SRCPKG/drivers/iommu/*.h" \
    "$SRCPKG/lib/interval_tree.c" "$SRCPKG/include/uapi/linux/vfio.h" "$SRCPKG/include/uapi/linux/iommufd.h"

hdr="$work/root/usr/src/linux-headers-$KVER"
# The headers' Makefile includes the common tree by its absolute /usr/src path;
# point it at our unpacked copy instead.
echo "include $work/root/usr/src/linux-headers-$COMMON-common/Makefile" > "$hdr/Makefile"
# The kernel's symbols and their versions: prepare.sh's depmod -e checks the
# initramfs against them (Debian's System.map is a placeholder).
cp "$hdr/Module.symvers" "$OUT/kernel/Module.symvers"
# The compiler the kernel was built with (CONFIG_GCC_VERSION=120200 -> gcc-12).
gccver=$(sed -n 's/^CONFIG_GCC_VERSION=//p' "$hdr/.config")
[ -n "$gccver" ] || rig_die "$KVER was not built with gcc"
CC=gcc-$((gccver / 10000))
for p in make "$CC"; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'ok installed' \
        || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$p" >/dev/null
done
grep -q '^# CONFIG_IOMMUFD is not set' "$hdr/.config" \
    || rig_die "$KVER's config says something else about CONFIG_IOMMUFD than 'not set': check this script"

# lib/interval_tree.c's span iterator: its includes and its
# '#ifdef CONFIG_INTERVAL_TREE_SPAN_ITER' block, without the EXPORT_SYMBOLs.
ifd="$S/drivers/iommu/iommufd"
{
    echo "// Generated by dmadirect's test-rigs/qemu/build-iommufd-kernel.sh from $SRCPKG $PKGVER lib/interval_tree.c"
    grep '^#include' "$S/lib/interval_tree.c"
    awk '/^#ifdef CONFIG_INTERVAL_TREE_SPAN_ITER/ {on = 1}
         on && /^#if/ {depth++}
         on && !/^EXPORT_SYMBOL/ {print}
         on && /^#endif/ && --depth == 0 {exit}' "$S/lib/interval_tree.c"
} > "$ifd/interval_tree_span_iter.c"
grep -q '^void interval_tree_span_iter_first' "$ifd/interval_tree_span_iter.c" \
    || rig_die "no span iterator found in $SRCPKG's lib/interval_tree.c"
# Kbuild is read instead of the Makefile; it adds the generated file.
# shellcheck disable=SC2016  # $(src) is for make
printf '%s\n' 'include $(src)/Makefile' 'iommufd-y += interval_tree_span_iter.o' \
    'ccflags-y += -DCONFIG_INTERVAL_TREE_SPAN_ITER=1' > "$ifd/Kbuild"

# pahole is not installed: no BTF for the modules (Debian's own have it; the
# kernel loads modules without it).
kmake() {   # kmake DIR [make variables...]
    local dir=$1; shift
    make -s -C "$hdr" M="$dir" CC="$CC" CONFIG_DEBUG_INFO_BTF_MODULES= "$@" -j"$(nproc)" modules \
        >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; rig_die "build of $dir failed"; }
}
rig_log "iommufd kernel: building iommufd.ko and drivers/vfio with CONFIG_IOMMUFD, CONFIG_VFIO_DEVICE_CDEV"
kmake "$ifd" CONFIG_IOMMUFD=m KCFLAGS=-DCONFIG_IOMMUFD_MODULE=1
kmake "$S/drivers/vfio" CONFIG_IOMMUFD=m CONFIG_VFIO_DEVICE_CDEV=y \
    KCFLAGS="-DCONFIG_IOMMUFD_MODULE=1 -DCONFIG_VFIO_DEVICE_CDEV=1" KBUILD_EXTRA_SYMBOLS="$ifd/Module.symvers"

for ko in "$ifd/iommufd.ko" "$S"/drivers/vfio/vfio.ko "$S"/drivers/vfio/vfio_iommu_type1.ko \
          "$S"/drivers/vfio/pci/vfio-pci-core.ko "$S"/drivers/vfio/pci/vfio-pci.ko; do
    [ "$(modinfo -F vermagic "$ko" | cut -d' ' -f1)" = "$KVER" ] || rig_die "vermagic mismatch in $ko"
    # Debian ships its modules without debug info; so do we (smaller initramfs).
    strip --strip-debug -o "$OUT/modules/$(basename "$ko")" "$ko"
done
modinfo -F depends "$OUT/modules/vfio.ko" | grep -qw iommufd || rig_die "the rebuilt vfio.ko does not use iommufd"

# The two uapi headers, sanitized as 'make headers_install' does it (the
# script and its unifdef come with linux-kbuild).
for h in vfio.h iommufd.h; do
    (cd "$hdr" && scripts/headers_install.sh "$S/include/uapi/linux/$h" "$OUT/uapi/linux/$h")
done

printf 'IFD_KVER=%s\nIFD_PKGVER=%s\n' "$KVER" "$PKGVER" > "$OUT/info.env"
echo "$STAMP" > "$OUT/stamp"
# Kernels we no longer boot are dead weight (the private apt lists stay).
find "$BASE" -mindepth 1 -maxdepth 1 ! -path "$OUT" -exec rm -rf {} +
rig_log "iommufd kernel $KVER ($PKGVER) ready in $((SECONDS - T0))s"
echo "$OUT"
