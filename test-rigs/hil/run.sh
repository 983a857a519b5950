#!/usr/bin/env bash
# Runs the hardware-in-the-loop JUnit suite inside the QEMU rig, in three variants, and exits non-zero
# when any variant fails (a test failure, no result from the guest, a timeout).
#
#   test-rigs/hil/run.sh [variant...]      variants: iommu-vfio iommufd noiommu-uio noiommu-vfio (default: all)
#
# 1. iommu-vfio    intel-iommu, edu + nvme on vfio-pci (IOVA mode through VFIO type1), 1536 MiB guest, 80 hugepages
#                  (edu + NVMe driver sessions); Debian's 6.1 kernel
# 2. iommufd       the same devices and tests on the 6.12 kernel with iommufd and the VFIO device cdev
#                  (run-guest.sh --iommufd): sessions map through iommufd
# 3. noiommu-uio   no IOMMU, edu on uio_pci_generic (PA mode), 1 GiB guest, 300 hugepages (some below 256 MiB)
# 4. noiommu-vfio  no IOMMU, edu on vfio-pci no-IOMMU (PA mode), same guest
#
# The javaagent tests (Agent*Test) need agent/target/dmadirect-agent.jar and java/cli/target/dmadirect.jar,
# built here and snapshotted with the classes.
#
# The classpath is built on the host (one JVM per variant in the guest, JUnit console launcher);
# reports, console log, evidence and any hs_err file are copied to test-rigs/hil/target/rig/<variant>/.
# QEMU exits 0 whatever happened, so the verdict comes from the exit code the guest wrote (run-guest.sh)
# and the JUnit XML; no XML is a failure. A JVM that crashed (signal, hs_err) is retried once, and
# this script says so. The intel-iommu variant must also show a DMAR fault in console.log.
set -euo pipefail
HERE=$(cd "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
ROOT=$(cd "$HERE/../.." && pwd -P)
RIG="$ROOT/test-rigs/qemu"
OUT="$HERE/target/rig"
LAUNCHER_VERSION=1.13.4
log() { printf '[hil] %s\n' "$*" >&2; }

VARIANTS=("$@")
[ ${#VARIANTS[@]} -gt 0 ] || VARIANTS=(iommu-vfio iommufd noiommu-uio noiommu-vfio)
T0=$(date +%s)

# --- classpath, built on the host -------------------------------------------------------------------
log "building the classpath on the host"
# java/cli: cli-udev-checks.sh and `dmadirect agent attach`; agent: the javaagent tests (Agent*Test)
(cd "$ROOT" && mvn -B -q install -DskipTests -pl test-rigs/hil,java/cli,agent -am >/dev/null)
(cd "$ROOT" && mvn -B -q test-compile -pl test-rigs/hil >/dev/null)
mkdir -p "$HERE/target/launcher"
JAR="$HERE/target/launcher/junit-platform-console-standalone-$LAUNCHER_VERSION.jar"
if [ ! -f "$JAR" ]; then
    (cd "$ROOT" && mvn -B -q dependency:copy -Dartifact="org.junit.platform:junit-platform-console-standalone:$LAUNCHER_VERSION" \
        -DoutputDirectory="$HERE/target/launcher" >/dev/null)
fi
(cd "$ROOT" && mvn -B -q dependency:build-classpath -pl test-rigs/hil -Dmdep.includeScope=runtime \
    -Dmdep.excludeGroupIds=io.dmadirect -Dmdep.outputFile="$HERE/target/classpath.txt" >/dev/null)
# Our own classes come from this checkout, copied to a snapshot: the io.dmadirect jars in ~/.m2 are
# shared with other checkouts, whose builds may replace them while the guest runs.
SNAP="$HERE/target/rig-classes"
rm -rf "$SNAP"; mkdir -p "$SNAP"
cp -r "$ROOT/java/core/target/classes" "$SNAP/core"
cp -r "$ROOT/java/drivers/target/classes" "$SNAP/drivers"
cp -r "$HERE/target/test-classes" "$SNAP/hil"
# The agent jar and the command's jar, for the agent tests: -javaagent in a child JVM, `dmadirect agent attach`.
mkdir -p "$SNAP/jars"
cp "$ROOT/agent/target/dmadirect-agent.jar" "$ROOT/java/cli/target/dmadirect.jar" "$SNAP/jars/"
CP="$JAR:$SNAP/hil:$SNAP/drivers:$SNAP/core:$(cat "$HERE/target/classpath.txt")"
JAVA_BIN="${JAVA_HOME:+$JAVA_HOME/bin/}java"
JAVA_FLAGS=(-XX:+UnlockDiagnosticVMOptions -XX:ArchiveRelocationMode=0 -XX:TieredStopAtLevel=1
    -Dhil.agentJar="$SNAP/jars/dmadirect-agent.jar" -Dhil.cliJar="$SNAP/jars/dmadirect.jar")
# AgentAttachTest attaches the agent to the JUnit JVM; JDK 21+ warns about that unless the JVM says it expects
# it (the flag is unknown to JDK 17, which needs nothing). The guest runs this same JDK.
if "$JAVA_BIN" -XX:+EnableDynamicAgentLoading -version >/dev/null 2>&1; then
    JAVA_FLAGS+=(-XX:+EnableDynamicAgentLoading)
fi

# --- one variant ----------------------------------------------------------------------------------------
run_variant() {   # run_variant NAME -> 0 on pass
    local name=$1 results="$OUT/$1" iommu mem pages bind tags t0=$SECONDS
    case "$name" in
        # Tests tagged for what a variant lacks are not selected there, rather than run and skipped.
        iommu-vfio)   iommu=--iommu;    mem=1536M; pages=80;  bind="$RIG/bind.sh edu vfio-pci && $RIG/bind.sh nvme vfio-pci"
                      tags="" ;;
        iommufd)      iommu=--iommufd;  mem=1536M; pages=80;  bind="$RIG/bind.sh edu vfio-pci && $RIG/bind.sh nvme vfio-pci"
                      tags="" ;;
        noiommu-uio)  iommu=--no-iommu; mem=1G;    pages=300; bind="$RIG/bind.sh edu uio_pci_generic"
                      tags="--exclude-tag iommu --exclude-tag nvme" ;;
        noiommu-vfio) iommu=--no-iommu; mem=1G;    pages=300; bind="$RIG/bind.sh edu vfio-pci"
                      tags="--exclude-tag iommu --exclude-tag nvme" ;;
        *) log "unknown variant $name"; return 2 ;;
    esac
    rm -rf "$results"; mkdir -p "$results"
    # Issue 8: the CLI and udev checks run first, on the devices as booted; their verdict is cli-udev.rc.
    local checks="{ rc=0; bash $HERE/cli-udev-checks.sh $name || rc=\$?; echo \$rc > \$DMADIRECT_RIG_RESULTS/cli-udev.rc; } \
2>&1 | tee \$DMADIRECT_RIG_RESULTS/cli-udev.log"
    local guest_cmd
    guest_cmd="set -e; ulimit -l unlimited; $checks; $bind; rc=0; \
\"$JAVA_BIN\" ${JAVA_FLAGS[*]} -XX:ErrorFile=\$DMADIRECT_RIG_RESULTS/hs_err_%p.log -cp \"$CP\" \
org.junit.platform.console.ConsoleLauncher execute --select-package io.dmadirect.hil $tags --fail-if-no-tests \
--disable-banner --details=tree --reports-dir \$DMADIRECT_RIG_RESULTS/junit || rc=\$?; exit \$rc"
    local attempt rc
    for attempt in 1 2; do
        rc=0
        DMADIRECT_HIL_VARIANT=$name "$RIG/run-guest.sh" $iommu --mem "$mem" --hugepages "$pages" --timeout 900 \
            --results "$results" --env DMADIRECT_HIL_VARIANT -- bash -c "$guest_cmd" || rc=$?
        # A crashed JVM (killed by a signal, or an hs_err file) may be retried once; say so.
        if [ "$attempt" = 1 ] && { [ "$rc" -ge 128 ] && [ "$rc" -lt 160 ] || compgen -G "$results/hs_err_*.log" >/dev/null; }; then
            log "RETRY: $name: the JVM crashed (exit $rc); keeping its hs_err in $results/crash-1 and retrying once"
            mkdir -p "$results/crash-1"; mv "$results"/hs_err_*.log "$results/console.log" "$results/crash-1/" 2>/dev/null || true
            continue
        fi
        break
    done
    if [ "$rc" != 0 ]; then log "FAIL: $name: guest command exit $rc (results in $results)"; return 1; fi
    if ! compgen -G "$results/junit/*.xml" >/dev/null; then log "FAIL: $name: no JUnit XML report"; return 1; fi
    if grep -qE '<(failure|error)' "$results"/junit/*.xml; then log "FAIL: $name: failures in the JUnit report"; return 1; fi
    if [ "$(cat "$results/cli-udev.rc" 2>/dev/null)" != 0 ]; then
        log "FAIL: $name: CLI/udev checks (test-rigs/hil/cli-udev-checks.sh), see $results/cli-udev.log"; return 1
    fi
    log "$name: $(tail -1 "$results/cli-udev.log")"
    if [ "$name" = iommu-vfio ] || [ "$name" = iommufd ]; then
        # The DMAR fault is logged asynchronously: check the console after the guest is gone.
        if ! grep -q 'DMAR: \[DMA Write' "$results/console.log"; then
            log "FAIL: $name: no DMAR fault in console.log"; return 1
        fi
        log "$name: console.log: $(grep -m1 -A1 'DMAR: \[DMA Write' "$results/console.log" | tr -s '\r\n' ' ')"
    fi
    local tests skipped
    tests=$(grep -ho 'tests="[0-9]*"' "$results"/junit/*.xml | head -1)
    skipped=$(grep -ho 'skipped="[0-9]*"' "$results"/junit/*.xml | head -1)
    # No silent skips: every selected test must have run.
    if [ "$skipped" != 'skipped="0"' ]; then
        log "FAIL: $name: tests were skipped ($skipped); a variant selects only the tests it can run"; return 1
    fi
    log "PASS: $name ($tests $skipped) in $((SECONDS - t0)) s$(grep -ho ', agent tests [0-9]* s' "$results/evidence.txt" 2>/dev/null \
        | awk '{ s += $4 } END { if (NR) printf ", of which %d s in the agent tests", s }')"
}

FAILED=()
for v in "${VARIANTS[@]}"; do
    run_variant "$v" || FAILED+=("$v")
done
log "wall time $(( $(date +%s) - T0 )) s for ${VARIANTS[*]}"
if [ ${#FAILED[@]} -gt 0 ]; then log "FAILED variants: ${FAILED[*]}"; exit 1; fi
log "all variants passed"
