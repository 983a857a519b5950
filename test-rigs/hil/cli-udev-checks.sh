#!/usr/bin/env bash
# Lab notebook (issue 8): the dmadirect CLI and the udev rules against real vfio-pci and uio binding,
# run as root inside the rig guest (test-rigs/qemu), once per variant, before the JUnit suite binds.
#
#   test-rigs/hil/cli-udev-checks.sh iommu-vfio|iommufd|noiommu-uio|noiommu-vfio
#   (run.sh runs the highmem variants' checks as noiommu-uio and noiommu-vfio: the same bindings)
#
# Device:  edu (1234:11e8, group 3, unbound at boot); in the intel-iommu guest also group 5 (6 with --nvme-cmb), the q35
#          ICH9 functions 00:1f.0 (ISA bridge), 00:1f.2 (SATA), 00:1f.3 (SMBus), all unbound at boot.
# Setup:   the guest as booted; java/cli/target/dmadirect.jar from the checkout (what ./dmadirect runs);
#          a real systemd-udevd from the host root (package udev on the host).
# Action and what must be seen, per variant:
#   iommu-vfio   info: dmar0, 39-bit width, groups; hugepages --reserve on node 0; bind/unbind edu on
#                vfio-pci with /dev/vfio/3; bind refused for a group with a member on uio_pci_generic;
#                doctor: iommu PASS, iova-width WARN/PASS against QEMU's default aw-bits=39, iommu-groups
#                FAIL then PASS after binding, vfio-permissions for a non-root user FAIL before the udev
#                rules and PASS after; udev/test/rig-udev.sh (udev binds edu, /dev/vfio/3 dmatest 0660).
#   iommufd      the same as iommu-vfio on the 6.12 guest kernel with iommufd; the udev rules must also
#                give /dev/iommu and the edu's cdev /dev/vfio/devices/vfioN to the group.
#   noiommu-uio  info: no IOMMU, no-IOMMU mode; bind/unbind edu on uio_pci_generic (/dev/uio0);
#                doctor: no-iommu-mode WARN, iommu FAIL, exit 1, --json; usage error exits 2.
#   noiommu-vfio bind edu on vfio-pci in VFIO's no-IOMMU mode (/dev/vfio/noiommu-N), doctor WARN, unbind.
# Prints one "ok" or "FAIL" line per check and exits 1 when any failed. Leaves every device unbound
# (the JUnit run binds what it needs) and stops the udevd it started.
set -uo pipefail
# The rig runs commands chrooted into its overlay root (PID 1 is the initramfs init); systemd's tools
# (udevadm, systemd-udevd) then ignore every request unless told that this is fine.
export SYSTEMD_IGNORE_CHROOT=1
HERE=$(cd "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
ROOT=$(cd "$HERE/../.." && pwd -P)
VARIANT=${1:?usage: cli-udev-checks.sh iommu-vfio|iommufd|noiommu-uio|noiommu-vfio}
JAR="$ROOT/java/cli/target/dmadirect.jar"
JAVA_BIN="${JAVA_HOME:+$JAVA_HOME/bin/}java"
# Start-up flags only (TCG makes every JVM start cost seconds); the commands are those of ./dmadirect.
JOPTS=(-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xshare:auto)
EDU=${DMADIRECT_RIG_EDU_BDF:-0000:00:04.0}
SYS=/sys/bus/pci/devices
OUT=$(mktemp -d)
FAILS=0 CHECKS=0

ok()   { CHECKS=$((CHECKS + 1)); echo "ok   $*"; }
bad()  { CHECKS=$((CHECKS + 1)); FAILS=$((FAILS + 1)); echo "FAIL $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }
# dd NAME ARGS...: runs `dmadirect ARGS`, stdout to $OUT/NAME.out, stderr to $OUT/NAME.err, exit code in RC.
# Under TCG a JVM start costs 3-5 s, so the commands run in one JVM (CliRunner, a bash coproc: the same
# DmadirectCommand that main() runs); dd_jar starts `java -jar dmadirect.jar` itself, as ./dmadirect does.
HIL_CLASSES="$HERE/target/rig-classes/hil"; [ -d "$HIL_CLASSES" ] || HIL_CLASSES="$HERE/target/test-classes"
dd() { local name=$1; shift
    if [ -z "${CLI_PID:-}" ]; then
        coproc CLI { exec "$JAVA_BIN" "${JOPTS[@]}" -cp "$JAR:$HIL_CLASSES" io.dmadirect.hil.CliRunner "$OUT"; }
        CLI_PID=$CLI_PID CLI_IN=${CLI[1]} CLI_OUT=${CLI[0]}
    fi
    local IFS=$'\t'; echo "$name	$*" >&"$CLI_IN"; RC=99; read -r RC <&"$CLI_OUT" || true; }
dd_jar() { local name=$1; shift; RC=0; "$JAVA_BIN" "${JOPTS[@]}" -jar "$JAR" "$@" >"$OUT/$name.out" 2>"$OUT/$name.err" || RC=$?; }
# dd_nobody NAME ARGS...: the same as user nobody with supplementary group dmatest
dd_nobody() { local name=$1; shift; RC=0
    setpriv --reuid=nobody --regid=nogroup --groups="$(getent group dmatest | cut -d: -f3)" -- "$JAVA_BIN" "${JOPTS[@]}" -jar "$JAR" "$@" \
        >"$OUT/$name.out" 2>"$OUT/$name.err" || RC=$?; }
show() { sed 's/^/     | /' "$OUT/$1.out" "$OUT/$1.err"; }
rc_is() { [ "$RC" = "$1" ] || { echo "     exit code $RC, expected $1"; return 1; }; }
driver_of() { if [ -e "$SYS/$1/driver" ]; then basename "$(readlink "$SYS/$1/driver")"; else echo none; fi; }
override_of() { cat "$SYS/$1/driver_override"; }
# jcheck NAME JQ-EXPRESSION: the JSON in $OUT/NAME.out satisfies the expression
jcheck() { jq -e "$2" "$OUT/$1.out" >/dev/null || { echo "     jq '$2' is not true"; return 1; }; }
# verdict NAME CHECK: the verdict of one doctor check in $OUT/NAME.out (JSON)
verdict() { jq -r --arg c "$2" '.checks[] | select(.name == $c) | .verdict' "$OUT/$1.out"; }
finding() { jq -r --arg c "$2" '.checks[] | select(.name == $c) | "\(.verdict) \(.finding)"' "$OUT/$1.out"; }
sysfs_unbind() { # leave a device unbound with no override, without the CLI
    [ -e "$SYS/$1/driver" ] && echo "$1" > "$SYS/$1/driver/unbind"; echo > "$SYS/$1/driver_override"; }
sysfs_bind() { echo "$2" > "$SYS/$1/driver_override"; echo "$1" > /sys/bus/pci/drivers_probe || true; }

[ "$(id -u)" = 0 ] || { echo "FAIL run as root in the rig guest"; exit 1; }
[ -f "$JAR" ] || { echo "FAIL no $JAR (mvn -B -q package -DskipTests -pl java/cli -am)"; exit 1; }
echo "cli-udev: $VARIANT, $("$JAVA_BIN" -version 2>&1 | head -1), edu $EDU"

common_bind_unbind() { # common_bind_unbind DRIVER NODE-GLOB: dmadirect bind, then unbind, of edu
    local drv=$1 args=()
    [ "$drv" = vfio-pci ] || args=(--driver "$drv")
    dd bind bind "$EDU" "${args[@]}"
    if rc_is 0 && [ "$(driver_of "$EDU")" = "$drv" ]; then
        ok "bind $EDU ${args[*]}: $(cat "$OUT/bind.out") (driver link -> $(readlink "$SYS/$EDU/driver"))"
    else bad "bind $EDU ${args[*]}: driver $(driver_of "$EDU")"; show bind; fi
    local node
    case $drv in
        uio_pci_generic) node=$(ls -d "$SYS/$EDU"/uio/uio* 2>/dev/null | head -1); node=/dev/${node##*/} ;;
        *) node=$(ls /dev/vfio/ | grep -v '^vfio$' | grep -E "^(noiommu-)?$(basename "$(readlink "$SYS/$EDU/iommu_group")")\$") \
               && node=/dev/vfio/$node ;;
    esac
    check "device node $node is a character device after bind ($(stat -c '%G %a' "$node" 2>&1))" [ -c "$node" ]
    dd unbind unbind "$EDU"
    if rc_is 0 && [ "$(driver_of "$EDU")" = none ] && [ "$(override_of "$EDU")" = "(null)" ]; then
        ok "unbind $EDU: $(cat "$OUT/unbind.out"); driver_override $(override_of "$EDU"), $node gone: $([ -e "$node" ] && echo no || echo yes)"
    else bad "unbind $EDU: driver $(driver_of "$EDU"), driver_override '$(override_of "$EDU")'"; show unbind; fi
}

iommu_vfio() {
    # info: the IOMMU units, width and groups
    dd info info --json
    local iommufd=false; [ "$VARIANT" = iommufd ] && iommufd=true
    if rc_is 0 && jcheck info '.iommu.enabled and (.iommu.units | index("dmar0")) and .iommu.addressWidthBits == 39
            and .iommu.groups >= 6 and (.pciDevices[] | select(.address == "'"$EDU"'") | .iommuGroup == 3)
            and .iommu.iommufd == '"$iommufd"; then
        ok "info: iommu $(jq -c '.iommu' "$OUT/info.out"); edu $(jq -c '.pciDevices[] | select(.id == "1234:11e8")' "$OUT/info.out")"
    else bad "info --json"; show info; fi

    # hugepages --reserve N --node 0, as root
    local nr=/sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages before want
    before=$(cat "$nr"); want=$((before + 16))
    dd huge hugepages --reserve "$want" --node 0
    if rc_is 0 && [ "$(cat "$nr")" = "$want" ]; then ok "hugepages --reserve $want --node 0 (was $before): $(cat "$OUT/huge.out")"
    else bad "hugepages --reserve $want --node 0: node0 has $(cat "$nr")"; show huge; fi

    common_bind_unbind vfio-pci

    # The group of 00:1f.0 ISA bridge, 00:1f.2 SATA, 00:1f.3 SMBus: put 00:1f.3 on uio_pci_generic, a driver
    # that VFIO does not let share a group; binding 00:1f.2 must then be refused and change nothing.
    local sata=0000:00:1f.2 smbus=0000:00:1f.3 lpc
    # Its number follows the devices before slot 1f: 5, or 6 when run-guest.sh --nvme-cmb adds 00:06.0.
    lpc=$(basename "$(readlink "$SYS/$sata/iommu_group")")
    sysfs_bind "$smbus" uio_pci_generic
    if [ "$(driver_of "$smbus")" = uio_pci_generic ]; then
        ok "setup: $smbus on uio_pci_generic in group $(basename "$(readlink "$SYS/$smbus/iommu_group")") with $sata"
        dd refuse bind "$sata"
        if rc_is 1 && grep -q "IOMMU group $lpc would not be viable: $smbus (uio_pci_generic)" "$OUT/refuse.err" \
                && [ "$(driver_of "$sata")" = none ] && [ "$(override_of "$sata")" = "(null)" ]; then
            ok "bind $sata refused, exit 1, untouched: $(head -1 "$OUT/refuse.err")"
        else bad "bind $sata with $smbus on uio_pci_generic: driver $(driver_of "$sata")"; show refuse; fi
    else bad "setup: $smbus did not bind to uio_pci_generic"; fi

    # doctor with a group that is not viable: 00:1f.2 on vfio-pci (bound by sysfs), 00:1f.3 still on uio
    sysfs_bind "$EDU" vfio-pci; sysfs_bind "$sata" vfio-pci
    dd doc1 doctor --json --mask-bits 64
    if rc_is 1 && jcheck doc1 '.ok == false' && [ "$(verdict doc1 iommu)" = PASS ] \
            && [ "$(verdict doc1 iommu-groups)" = FAIL ] && grep -q "group $lpc is not viable: $smbus is bound to uio_pci_generic" "$OUT/doc1.out" \
            && [ "$(verdict doc1 iova-width)" = WARN ] && [ "$(verdict doc1 no-iommu-mode)" = PASS ]; then
        ok "doctor --json --mask-bits 64, exit 1: $(finding doc1 iommu) | $(finding doc1 iommu-groups) | $(finding doc1 iova-width)"
    else bad "doctor with group $lpc not viable"; show doc1; fi

    local want="PASS not offered by this kernel"; [ "$VARIANT" = iommufd ] && want="PASS /dev/iommu and"
    if [[ "$(finding doc1 iommufd)" == "$want"* ]]; then ok "doctor iommufd as root: $(finding doc1 iommufd)"
    else bad "doctor iommufd as root: $(finding doc1 iommufd)"; show doc1; fi

    dd fix bind "$smbus"
    if rc_is 0 && [ "$(driver_of "$smbus")" = vfio-pci ]; then ok "bind $smbus: $(cat "$OUT/fix.out")"
    else bad "bind $smbus"; show fix; fi
    dd doc2 doctor --mask-bits 28
    if rc_is 0 && grep -qE "^PASS +iommu-groups +2 group\\(s\\) viable: 3, $lpc" "$OUT/doc2.out" \
            && grep -qE '^PASS +iova-width +39-bit IOVAs, .*device mask 28 bits' "$OUT/doc2.out" \
            && grep -qE '^PASS +vfio-permissions +running as root' "$OUT/doc2.out"; then
        ok "doctor --mask-bits 28 (text), exit 0: $(grep -E 'iommu-groups|iova-width' "$OUT/doc2.out" | tr -s ' ' | paste -sd'|')"
    else bad "doctor after binding the whole group"; show doc2; fi

    # vfio-permissions as a non-root user in group dmatest: before the udev rules
    getent group dmatest >/dev/null || groupadd --system dmatest
    dd_nobody nob1 doctor --json --memlock 1M
    if [ "$(verdict nob1 vfio-permissions)" = FAIL ] && finding nob1 vfio-permissions | grep -q '/dev/vfio/3'; then
        ok "as nobody (+dmatest), no rules: exit $RC, $(finding nob1 vfio-permissions) [$(stat -c '%n %G %a' /dev/vfio/3 | tr '\n' ' ')]"
    else bad "as nobody before the udev rules"; show nob1; fi
    if [ "$VARIANT" = iommufd ]; then
        if [ "$(verdict nob1 iommufd)" = WARN ]; then ok "as nobody, no rules: $(finding nob1 iommufd)"
        else bad "doctor iommufd as nobody before the udev rules: $(finding nob1 iommufd)"; show nob1; fi
    fi

    # udev with a real systemd-udevd: rig-udev.sh (install, unbind, replay add, check), then the rules again
    local udevd=/lib/systemd/systemd-udevd pid=""
    if [ -x "$udevd" ]; then
        "$udevd" --daemon 2>"$OUT/udevd.err"; sleep 0.5   # resolving group names: not --resolve-names=never
        pid=$(pgrep -x systemd-udevd | head -1)
        sysfs_unbind "$EDU"
        if bash "$ROOT/udev/test/rig-udev.sh" "$EDU" >"$OUT/rigudev.out" 2>&1; then
            ok "udev: $(tail -1 "$OUT/rigudev.out") (systemd-udevd $(udevadm --version), pid $pid)"
        else bad "udev/test/rig-udev.sh"; sed 's/^/     | /' "$OUT/rigudev.out"; fi
        "$ROOT/udev/install" --group dmatest >"$OUT/install.out" 2>&1 || { bad "udev/install --group dmatest"; cat "$OUT/install.out"; }
        udevadm settle --timeout=30
        dd_nobody nob2 doctor --json --memlock 1M
        if rc_is 0 && [ "$(verdict nob2 vfio-permissions)" = PASS ]; then
            ok "as nobody (+dmatest), rules installed: exit 0, $(finding nob2 vfio-permissions) [$(stat -c '%n %G %a' /dev/vfio/vfio /dev/vfio/3 "/dev/vfio/$lpc" | paste -sd' ')]"
        else bad "as nobody after the udev rules"; show nob2; fi
        if [ "$VARIANT" = iommufd ]; then
            local cdev perms
            cdev=/dev/vfio/devices/$(ls "$SYS/$EDU/vfio-dev" 2>/dev/null | head -1)
            perms=$(stat -c '%n %G %a' /dev/iommu "$cdev" 2>&1 | paste -sd' ')
            if [ "$perms" = "/dev/iommu dmatest 660 $cdev dmatest 660" ] && [ "$(verdict nob2 iommufd)" = PASS ]; then
                ok "udev rules give iommufd to the group: $perms; doctor as nobody: $(finding nob2 iommufd)"
            else bad "udev rules and iommufd: $perms; doctor as nobody: $(finding nob2 iommufd)"; fi
        fi
        "$ROOT/udev/install" --uninstall >/dev/null 2>&1 || true
        [ -n "$pid" ] && kill "$pid" 2>/dev/null
    else
        bad "no $udevd on the host root: install the udev package (test-rigs/qemu/prepare.sh does)"
    fi
    for d in "$EDU" "$sata" "$smbus"; do sysfs_unbind "$d"; done
}

noiommu_uio() {
    dd info info --json
    if rc_is 0 && jcheck info '(.iommu.enabled | not) and .iommu.noIommuMode and .iommu.units == []'; then
        ok "info: iommu $(jq -c '.iommu' "$OUT/info.out")"
    else bad "info --json in the no-IOMMU guest"; show info; fi
    common_bind_unbind uio_pci_generic
    dd_jar doc doctor --json
    if rc_is 1 && jcheck doc '.ok == false' && [ "$(verdict doc no-iommu-mode)" = WARN ] && [ "$(verdict doc iommu)" = FAIL ]; then
        ok "doctor --json, exit 1: $(finding doc no-iommu-mode | cut -c1-90)... | $(finding doc iommu | cut -c1-60)..."
    else bad "doctor in the no-IOMMU guest"; show doc; fi
    dd_jar usage doctor --no-such-option
    if rc_is 2; then ok "usage error exits 2: $(head -1 "$OUT/usage.err")"; else bad "usage error"; show usage; fi
}

noiommu_vfio() {
    common_bind_unbind vfio-pci
}

case $VARIANT in
    iommu-vfio|iommufd) iommu_vfio ;;
    noiommu-uio) noiommu_uio ;;
    noiommu-vfio) noiommu_vfio ;;
    *) echo "FAIL unknown variant $VARIANT"; exit 2 ;;
esac
if [ -n "${CLI_PID:-}" ]; then exec {CLI_IN}>&-; wait "$CLI_PID" 2>/dev/null; fi
rm -rf "$OUT"
if [ "$FAILS" -gt 0 ]; then echo "cli-udev: $VARIANT: $FAILS of $CHECKS checks FAILED"; exit 1; fi
echo "cli-udev: $VARIANT: all $CHECKS checks ok"
