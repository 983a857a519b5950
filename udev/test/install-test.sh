#!/usr/bin/env bash
# Tests udev/install on this host without touching it: --dry-run writes nothing, --root installs into a
# temporary tree whose files are then checked, bad arguments exit 2, --uninstall removes what was written.
# Run by the Maven build (java/cli's UdevInstallTest); the rig runs udev/test/rig-udev.sh with a real udevd.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "install-test: FAIL: $*" >&2; exit 1; }

# Dry run: prints the rules, changes nothing.
out=$("$here/install" --dry-run --root "$tmp/dry" --group dmatest --ids 1234:11e8)
[ ! -e "$tmp/dry" ] || fail "--dry-run wrote files"
grep -q 'GROUP="dmatest"' <<<"$out" || fail "--dry-run did not show the access rules"
grep -q 'dry run: nothing was changed' <<<"$out" || fail "--dry-run did not say so"

# Install into a tree.
"$here/install" --root "$tmp/r" --group dmatest --mode 0660 --ids 1234:11E8,8086:10d3 --driver vfio-pci >/dev/null
access=$tmp/r/etc/udev/rules.d/70-dmadirect-vfio.rules
bind=$tmp/r/etc/udev/rules.d/71-dmadirect-bind.rules
helper=$tmp/r/usr/local/libexec/dmadirect-udev-bind
[ -f "$access" ] && [ -f "$bind" ] && [ -x "$helper" ] || fail "files missing"
for subsystem in 'SUBSYSTEM=="vfio"' 'SUBSYSTEM=="vfio-dev"' 'KERNEL=="iommu"' 'KERNEL=="vfio"'; do
    grep -F "$subsystem" "$access" | grep -q 'GROUP="dmatest", MODE="0660"' || fail "no rule for $subsystem"
done
grep -q 'ATTR{vendor}=="0x1234", ATTR{device}=="0x11e8", RUN+="/usr/local/libexec/dmadirect-udev-bind $kernel vfio-pci"' "$bind" \
    || fail "no bind rule for 1234:11e8 (ids are lower-cased)"
grep -q 'ATTR{device}=="0x10d3"' "$bind" || fail "no bind rule for 8086:10d3"
! grep -q '@' "$access" "$bind" || fail "a template placeholder was left"
# Every rule line is KEY op "value" pairs separated by commas (udevadm verify needs systemd 254+).
grep -hv '^\s*\(#\|$\)' "$access" "$bind" | while read -r line; do
    grep -Eq '^([A-Z_]+(\{[a-z_]+\})?(==|!=|=|\+=)"[^"]*")(, [A-Z_]+(\{[a-z_]+\})?(==|!=|=|\+=)"[^"]*")*$' <<<"$line" \
        || fail "malformed rule line: $line"
done
sh -n "$helper" || fail "the helper is not valid sh"

# Without --ids the bind rules go away.
"$here/install" --root "$tmp/r" --group dmatest >/dev/null
[ ! -e "$bind" ] || fail "the bind rules stayed without --ids"

# Bad arguments are usage errors.
for args in "--group Bad!" "--ids 12:34" "--driver nvme" "--mode 999" "--frobnicate"; do
    set +e; "$here/install" --root "$tmp/bad" $args >/dev/null 2>&1; code=$?; set -e
    [ "$code" = 2 ] || fail "'$args' exited $code, not 2"
done

"$here/install" --root "$tmp/r" --uninstall >/dev/null
[ ! -e "$access" ] && [ ! -e "$helper" ] || fail "--uninstall left files"
echo "install-test: all passed"
