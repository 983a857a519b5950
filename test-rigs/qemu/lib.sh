# shellcheck shell=bash disable=SC2034  # the variables are for the scripts that source this
# Shared settings for the QEMU rig scripts (sourced, not executed).
#
# Everything large lives in the cache directory, never in the work tree:
# the unpacked Debian kernel, the initramfs images, the NVMe disk image,
# the compiled self-test and the per-run result directories.

RIG_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
RIG_CACHE=${DMADIRECT_RIG_CACHE:-$HOME/.cache/dmadirect-rig}

# Host packages the rig needs. gcc builds the self-test; fio runs the kernel-driver side of
# test-rigs/hil/nvme-vs-kernel.sh in the guest (which runs the host's root); udev gives the guest a
# real systemd-udevd (udev/test/rig-udev.sh, test-rigs/hil/cli-udev-checks.sh); the no-IOMMU vfio
# rebuild additionally needs the kernel headers/kbuild (installed on demand).
RIG_HOST_PACKAGES=(qemu-system-x86 qemu-utils busybox-static cpio kmod pciutils xz-utils gcc libc6-dev fio udev)

# Modules the guest loads, in this order (dependencies are added by
# prepare.sh from modprobe --show-depends). overlay gives a writable root.
RIG_MODULES=(virtio_pci 9pnet_virtio 9p overlay vfio vfio_iommu_type1 vfio-pci uio_pci_generic)
# The iommufd guest (prepare.sh --iommufd): the same plus iommufd (/dev/iommu),
# which the rebuilt vfio.ko needs anyway.
RIG_MODULES_IOMMUFD=("${RIG_MODULES[@]}" iommufd)
# --- issue 21 (rig-breadth): virtio-iommu (run-guest.sh --iommufd --iommu-model virtio). Debian's 6.1 lacks
# CONFIG_VIRTIO_IOMMU; the 6.12 kernel has it as a module. Loaded with the others, before anything binds to
# vfio-pci, so the edu and NVMe are in IOMMU groups when bind.sh runs; with no virtio-iommu device it does nothing. ---
RIG_MODULES_IOMMUFD+=(virtio_iommu)
# --- end issue 21 ---

rig_log() { printf '[rig] %s\n' "$*" >&2; }
rig_die() { printf '[rig] ERROR: %s\n' "$*" >&2; exit 1; }
