#!/usr/bin/env bash
# Rebuilds vfio.ko for the rig's guest kernel with CONFIG_VFIO_NOIOMMU=y.
# Called by prepare.sh --noiommu:  build-noiommu-vfio.sh KVER PACKAGE_VERSION
#
# Debian's kernel is built without CONFIG_VFIO_NOIOMMU, so /dev/vfio/noiommu-N
# never appears. We build only drivers/vfio out of the tree, from the exact
# linux-source-6.1 of the guest kernel, against its linux-headers (the kernel's
# .config and Module.symvers) with the same gcc-12. The option only changes
# code inside vfio.ko (vfio_main.c/container code under #ifdef), so
# -DCONFIG_VFIO_NOIOMMU=1 is enough, and the stock vfio-pci loads against the
# result (same symbol CRCs). Nothing is installed on the host: the .debs are
# unpacked into a scratch directory, which is removed afterwards.
# Result: $RIG_CACHE/noiommu/KVER/modules/vfio.ko
set -euo pipefail
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

KVER=$1 PKGVER=$2
OUT="$RIG_CACHE/noiommu/$KVER"
STAMP="$KVER $PKGVER $(sha256sum "$0" | cut -d' ' -f1)"
if [ -f "$OUT/modules/vfio.ko" ] && [ "$(cat "$OUT/stamp" 2>/dev/null)" = "$STAMP" ]; then
    exit 0
fi
# The Debian 6.1 kernel is built with gcc-12; objtool and modpost come
# prebuilt in linux-kbuild-6.1.
for p in make gcc-12; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'ok installed' \
        || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$p" >/dev/null
done

T0=$SECONDS
COMMON=${KVER%-amd64}-common
work=$(mktemp -d "$RIG_CACHE/noiommu-build.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/dl" "$work/root" "$work/src"
rig_log "no-IOMMU vfio: downloading linux-source-6.1 $PKGVER and headers for $KVER"
pkgs=("linux-source-6.1=$PKGVER" "linux-headers-$KVER=$PKGVER" "linux-headers-$COMMON=$PKGVER" "linux-kbuild-6.1=$PKGVER")
if ! (cd "$work/dl" && apt-get download -qq "${pkgs[@]}" >/dev/null 2>&1); then
    apt-get update -qq
    (cd "$work/dl" && apt-get download -qq "${pkgs[@]}")
fi
for f in "$work"/dl/*.deb; do dpkg -x "$f" "$work/root"; done
rm -rf "$work/dl"
# Only drivers/vfio out of the 138 MB source tarball.
tar -xJf "$work/root/usr/src/linux-source-6.1.tar.xz" -C "$work/src" linux-source-6.1/drivers/vfio
# The headers' Makefile includes the common tree by its absolute /usr/src path;
# point it at our unpacked copy instead.
hdr="$work/root/usr/src/linux-headers-$KVER"
echo "include $work/root/usr/src/linux-headers-$COMMON/Makefile" > "$hdr/Makefile"
rig_log "no-IOMMU vfio: building drivers/vfio"
make -s -C "$hdr" M="$work/src/linux-source-6.1/drivers/vfio" CC=gcc-12 \
    KCFLAGS=-DCONFIG_VFIO_NOIOMMU=1 -j"$(nproc)" modules >"$work/build.log" 2>&1 \
    || { cat "$work/build.log" >&2; rig_die "vfio build failed"; }
ko="$work/src/linux-source-6.1/drivers/vfio/vfio.ko"
modinfo -F parm "$ko" | grep -q enable_unsafe_noiommu_mode || rig_die "built vfio.ko has no noiommu parameter"
[ "$(modinfo -F vermagic "$ko" | cut -d' ' -f1)" = "$KVER" ] || rig_die "vermagic mismatch"
mkdir -p "$OUT/modules"
# Debian ships its modules without debug info; so do we (smaller initramfs).
strip --strip-debug -o "$OUT/modules/vfio.ko" "$ko"
echo "$STAMP" > "$OUT/stamp"
# Builds for kernels we no longer boot are dead weight.
find "$RIG_CACHE/noiommu" -mindepth 1 -maxdepth 1 ! -path "$OUT" -exec rm -rf {} +
rig_log "no-IOMMU vfio.ko built in $((SECONDS - T0))s"
