#!/usr/bin/env bash
# Runs the hardware-in-the-loop JUnit suite inside the QEMU rig, one guest per variant, and exits non-zero
# when any variant fails (a test failure, no result from the guest, a timeout).
#
#   test-rigs/hil/run.sh [variant...]
#
# Variants (default: all nine (the six below and the three of issue 21), or the list in DMADIRECT_HIL_VARIANTS when set and no argument is given):
# 1. iommu-vfio    intel-iommu, edu + nvme on vfio-pci (IOVA mode through VFIO type1), 1536 MiB guest, 80 hugepages
#                  (edu + NVMe driver sessions); Debian's 6.1 kernel
# 2. iommufd       the same devices and tests on the 6.12 kernel with iommufd and the VFIO device cdev
#                  (run-guest.sh --iommufd): sessions map through iommufd
# 3. noiommu-uio   no IOMMU, edu on uio_pci_generic (PA mode), 1 GiB guest, 300 hugepages (some below 256 MiB)
# 4. noiommu-vfio  no IOMMU, edu on vfio-pci no-IOMMU (PA mode), same guest
# 5. highmem-uio   no IOMMU, edu on uio_pci_generic (PA mode), 6 GiB guest: q35 puts 2 GiB below 4 GiB and
#                  4 GiB above; 600 hugepages reserved after boot come from ZONE_NORMAL, so all lie above
#                  4 GiB, and the 28-bit edu must still MATCH (issue 14: low memory on demand)
# 6. highmem-vfio  the same guest, edu on vfio-pci no-IOMMU (PA mode)
# --- issue 21 (rig-breadth): numa, amd-iommu and virtio-iommu (QEMU's virtio-iommu-pci on the 6.12 kernel, sessions
# through iommufd; interrupts unisolated) each run a representative subset of classes (rb_classes below) ---
#
# Flake hunting: DMADIRECT_HIL_SELECT="AgentAttachTest ..." runs only those classes (no CLI/udev or DMAR
# check; the verdict says "partial"), DMADIRECT_HIL_REPEAT=N launches them N times in one boot, each in a
# fresh JVM with its reports in junit/<n>/, and says how many launches passed. DMADIRECT_HIL_GUEST_ARGS adds
# run-guest.sh options (e.g. "--edu-dma-mask 0xffffffff", for PeerBarDmaTest's PA-mode round trip).
#
# Tags ([nic], issue 22): tests tagged nic need the two e1000e of run-guest.sh --nic-pair (iommu-vfio, noiommu-uio);
# nic-agent (the NIC under the javaagent, a ~90 s child JVM) runs in iommu-vfio only.
# Tags: tests tagged cmb need the CMB NVMe (run-guest.sh --nvme-cmb: iommu-vfio, iommufd, noiommu-vfio);
# tests tagged iommu or nvme run only in the IOMMU variants; tests tagged highmem only in the highmem
# variants (every other variant excludes them), which also run every other PA-mode test.
#
# The javaagent tests (Agent*Test) need agent/target/dmadirect-agent.jar and java/cli/target/dmadirect.jar,
# built here and snapshotted with the classes.
#
# The classpath is built on the host (one JVM per variant in the guest, JUnit console launcher).
# Every run of a variant keeps its evidence in its own directory, test-rigs/hil/target/rig/runs/<time>-<variant>/
# (reports, console log, evidence.txt, cli-udev.log and any hs_err file); test-rigs/hil/target/rig/<variant>
# links to that variant's latest run and target/rig/runs/latest to the newest of all. The newest
# DMADIRECT_HIL_KEEP_RUNS run directories are kept (default 24), older ones are deleted.
# QEMU exits 0 whatever happened, so the verdict comes from the exit code the guest wrote (run-guest.sh)
# and the JUnit XML; no XML is a failure. A JVM that crashed (signal, hs_err) or a QEMU that crashed
# (run-guest.sh's qemu-crashed file), or whose guest kernel panicked while booting before the command printed
# anything, is retried once, and this script says so. The intel-iommu variant must also
# show a DMAR fault in console.log.
set -euo pipefail
HERE=$(cd "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
ROOT=$(cd "$HERE/../.." && pwd -P)
RIG="$ROOT/test-rigs/qemu"
OUT="$HERE/target/rig"
LAUNCHER_VERSION=1.13.4
CURRENT_RUN=''   # the run directory of the variant being run: log lines are kept there too (run.log)
log() {
    printf '[hil] %s\n' "$*" >&2
    if [ -n "$CURRENT_RUN" ]; then printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*" >> "$CURRENT_RUN/run.log"; fi
}

ALL_VARIANTS=(iommu-vfio iommufd noiommu-uio noiommu-vfio highmem-uio highmem-vfio)
# --- issue 21 (rig-breadth): more IOMMUs, NUMA, 1 GiB pages; each runs a representative subset (RB_CLASSES below) ---
ALL_VARIANTS+=(numa amd-iommu virtio-iommu)
# --- end issue 21 ---
VARIANTS=("$@")
if [ ${#VARIANTS[@]} -eq 0 ]; then
    # CI's second JDK runs a subset (.ci/run); word splitting of the list is intended.
    # shellcheck disable=SC2206
    if [ -n "${DMADIRECT_HIL_VARIANTS:-}" ]; then VARIANTS=($DMADIRECT_HIL_VARIANTS); else VARIANTS=("${ALL_VARIANTS[@]}"); fi
fi
for v in "${VARIANTS[@]}"; do
    case " ${ALL_VARIANTS[*]} " in *" $v "*) ;; *) log "unknown variant $v (known: ${ALL_VARIANTS[*]})"; exit 2 ;; esac
done
KEEP_RUNS=${DMADIRECT_HIL_KEEP_RUNS:-24}
SELECT=${DMADIRECT_HIL_SELECT:-}   # test classes instead of the whole suite (flake hunting), e.g. AgentAttachTest
REPEAT=${DMADIRECT_HIL_REPEAT:-1}  # launches of the tests per boot
GUEST_ARGS=${DMADIRECT_HIL_GUEST_ARGS:-}   # more run-guest.sh options, e.g. "--edu-dma-mask 0xffffffff"
[[ $REPEAT =~ ^[1-9][0-9]*$ ]] || { log "DMADIRECT_HIL_REPEAT wants a positive number"; exit 2; }
[[ $KEEP_RUNS =~ ^[1-9][0-9]*$ ]] || { log "DMADIRECT_HIL_KEEP_RUNS wants a positive number"; exit 2; }
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

# --- evidence, one directory per run of a variant ---------------------------------------------------
RUNS="$OUT/runs"
new_run_dir() {   # new_run_dir VARIANT -> prints the new directory; links target/rig/VARIANT and runs/latest to it
    local dir
    mkdir -p "$RUNS"
    dir=$(mktemp -d "$RUNS/$(date -u +%Y%m%dT%H%M%SZ)-$1-XXXX")
    chmod 755 "$dir"   # as a plain mkdir would make it: the guest's non-root children write there too
    # Before this layout target/rig/<variant> was a directory; it becomes a link to the latest run.
    if [ -d "$OUT/$1" ] && [ ! -L "$OUT/$1" ]; then rm -rf "$OUT/$1"; fi
    ln -sfn "runs/$(basename "$dir")" "$OUT/$1"
    ln -sfn "$(basename "$dir")" "$RUNS/latest"
    # Keep the newest KEEP_RUNS runs (names start with their UTC time, so they sort by age).
    { find "$RUNS" -mindepth 1 -maxdepth 1 -type d -name '2*' | sort -r | tail -n +$((KEEP_RUNS + 1)); } | xargs -r rm -rf
    printf '%s\n' "$dir"
}

# --- one variant ----------------------------------------------------------------------------------------
run_variant() {   # run_variant NAME -> 0 on pass
    local name=$1 results iommu mem pages bind tags checks_as t0=$SECONDS rb_classes=''
    local pa_tags="--exclude-tag iommu --exclude-tag nvme"
    case "$name" in
        # Tests tagged for what a variant lacks are not selected there, rather than run and skipped.
        iommu-vfio)   iommu="--iommu --nvme-cmb"; mem=1536M; pages=80;  bind="$RIG/bind.sh edu vfio-pci && $RIG/bind.sh nvme vfio-pci"
                      tags="--exclude-tag highmem"; checks_as=$name ;;
        iommufd)      iommu="--iommufd --nvme-cmb"; mem=1536M; pages=80;  bind="$RIG/bind.sh edu vfio-pci && $RIG/bind.sh nvme vfio-pci"
                      tags="--exclude-tag highmem"; checks_as=$name ;;
        noiommu-uio)  iommu=--no-iommu; mem=1G;    pages=300; bind="$RIG/bind.sh edu uio_pci_generic"
                      tags="$pa_tags --exclude-tag highmem --exclude-tag cmb"; checks_as=$name ;;
        # The CMB NVMe (00:06.0) on vfio-pci no-IOMMU too: PeerBarDmaTest's PA-mode case.
        noiommu-vfio) iommu="--no-iommu --nvme-cmb"; mem=1G; pages=300
                      bind="$RIG/bind.sh edu vfio-pci && $RIG/bind.sh 0000:00:06.0 vfio-pci"
                      tags="$pa_tags --exclude-tag highmem"; checks_as=$name ;;
        # q35 maps min(RAM, 2 GiB) below 4 GiB when the guest has more than 2.75 GiB; the rest lies above.
        # hugepages reserved after boot come from the highest zone first (ZONE_NORMAL), so all 600 lie
        # above 4 GiB and nothing of the pool is within the edu's 28 bits.
        highmem-uio)  iommu=--no-iommu; mem=6G;    pages=600; bind="$RIG/bind.sh edu uio_pci_generic"
                      tags="$pa_tags --exclude-tag cmb"; checks_as=noiommu-uio ;;
        highmem-vfio) iommu=--no-iommu; mem=6G;    pages=600; bind="$RIG/bind.sh edu vfio-pci"
                      tags="$pa_tags --exclude-tag cmb"; checks_as=noiommu-vfio ;;
        # --- issue 21 (rig-breadth) variants: a representative subset each (rb_classes), no CLI/udev pass ---
        # numa: two nodes, edu + NVMe behind a pxb-pcie on node 1, intel-iommu aw-bits=48, one 1 GiB page (NVMe I/O
        # there: the reset, 1 GiB and NUMA tests; NvmeDriverTest is left to the other IOMMU variants, for CI time)
        numa)         iommu="--iommu --numa --aw-bits 48 --gigantic-pages 1"; mem=4G; pages=64
                      bind="$RIG/bind.sh \$DMADIRECT_RIG_EDU_BDF vfio-pci && $RIG/bind.sh \$DMADIRECT_RIG_NVME_BDF vfio-pci"
                      tags="--exclude-tag highmem --exclude-tag cmb"; checks_as=''
                      rb_classes="EduBasicsTest NvmeResetTest GiganticPageTest IommuWidthTest NumaPlacementTest IommuReservedRegionsTest" ;;
        # amd-iommu: QEMU's AMD-Vi (IVRS), the IOVA-mode subset through VFIO type1 on Debian's 6.1. Not
        # IommuIsolationTest: QEMU 7.2's AMD-Vi logs no IO_PAGE_FAULT event for a DMA to an unmapped IOVA
        # (the canary stays untouched, but the test needs the kernel's fault line; docs/limits.md)
        amd-iommu)    iommu="--iommu --iommu-model amd"; mem=1536M; pages=80
                      bind="$RIG/bind.sh edu vfio-pci && $RIG/bind.sh nvme vfio-pci"
                      tags="--exclude-tag highmem --exclude-tag cmb"; checks_as=''
                      rb_classes="EduBasicsTest EduMaskHonouredTest EduBounceTest EduInterruptTest NvmeDriverTest NvmeResetTest IommuReservedRegionsTest" ;;
        # virtio-iommu: QEMU's virtio-iommu-pci (ACPI VIOT) on the 6.12 kernel, whose initramfs loads virtio_iommu
        # (Debian's 6.1 lacks it). Sessions map through iommufd (the default where /dev/iommu exists);
        # IommuInterfaceTest moves data through VFIO type1 and iommufd both. The group's reserved region is the MSI
        # window, which the IOVA allocator must leave out (IommuReservedRegionsTest)
        virtio-iommu) iommu="--iommufd --iommu-model virtio"; mem=1536M; pages=80
                      bind="$RIG/bind.sh edu vfio-pci && $RIG/bind.sh nvme vfio-pci"
                      tags="--exclude-tag highmem --exclude-tag cmb"; checks_as=''
                      rb_classes="EduBasicsTest EduMaskHonouredTest EduBounceTest EduInterruptTest IommuIsolationTest NvmeDriverTest IommuReservedRegionsTest IommuInterfaceTest" ;;
        # --- end issue 21 ---
        *) log "unknown variant $name"; return 2 ;;
    esac
    # --- issue 21 (rig-breadth): tests tagged reset (NVMe FLR, hot-unplug) or width (IOMMU address width) run in
    # iommu-vfio and the issue-21 variants only (JDK 25's iommufd run stays as it was); tests tagged rig-breadth
    # (1 GiB page, NUMA, other IOMMUs) only in the issue-21 variants, which select their classes ---
    case "$name" in
        iommu-vfio) tags+=" --exclude-tag rig-breadth" ;;
        numa|amd-iommu|virtio-iommu) ;;
        *) tags+=" --exclude-tag reset --exclude-tag width --exclude-tag rig-breadth" ;;
    esac
    # tests tagged iommufd (IOMMU_IOAS_MAP_FILE) need the 6.12 kernel's /dev/iommu: the iommufd and virtio-iommu variants
    case "$name" in iommufd|virtio-iommu) ;; *) tags+=" --exclude-tag iommufd" ;; esac
    # --- end issue 21 ---
    # --- [nic] issue 22: two e1000e on one hub in iommu-vfio (vfio-pci, IOVA) and noiommu-uio (uio_pci_generic,
    # PA); the tests tagged nic run only there ---
    case "$name" in
        iommu-vfio)  iommu+=" --nic-pair"; bind+=" && $RIG/bind.sh e1000e vfio-pci" ;;
        # the agent's NIC run (a ~90 s child JVM) once, in iommu-vfio: noiommu-uio runs on both JDKs in CI
        noiommu-uio) iommu+=" --nic-pair"; bind+=" && $RIG/bind.sh e1000e uio_pci_generic"; tags+=" --exclude-tag nic-agent" ;;
        *)           tags+=" --exclude-tag nic" ;;
    esac
    # --- end [nic] ---
    results=$(new_run_dir "$name")
    CURRENT_RUN=$results
    # Issue 8: the CLI and udev checks run first, on the devices as booted; their verdict is cli-udev.rc.
    local checks="{ rc=0; bash $HERE/cli-udev-checks.sh $checks_as || rc=\$?; echo \$rc > \$DMADIRECT_RIG_RESULTS/cli-udev.rc; } \
2>&1 | tee \$DMADIRECT_RIG_RESULTS/cli-udev.log"
    local guest_cmd
    # Where the guest's memory and hugepages lie, kept with the evidence (the highmem variants depend on it).
    local layout="{ grep 'System RAM' /proc/iomem; grep -E '^Node|^  +(pages free|managed) ' /proc/zoneinfo; \
grep -i huge /proc/meminfo; } > \$DMADIRECT_RIG_RESULTS/memory-layout.txt 2>&1 || true"
    # The tests: the whole suite, or DMADIRECT_HIL_SELECT's classes; DMADIRECT_HIL_REPEAT launches in one boot,
    # each a fresh JVM with its reports in junit/<n>/, all run even when one fails (to count a flaky test's
    # failures). A selection skips the CLI/udev checks and the DMAR check, and its verdict says "partial".
    local select="--select-package io.dmadirect.hil" c
    # --- issue 21 (rig-breadth): a variant's subset is a selection of classes, unless DMADIRECT_HIL_SELECT narrows it ---
    local SELECT=${SELECT:-$rb_classes}
    # --- end issue 21 ---
    if [ -n "$SELECT" ]; then
        select=""; checks="echo 0 > \$DMADIRECT_RIG_RESULTS/cli-udev.rc; echo 'cli-udev: not run (DMADIRECT_HIL_SELECT)' \
> \$DMADIRECT_RIG_RESULTS/cli-udev.log"
        for c in $SELECT; do [[ $c == *.* ]] || c=io.dmadirect.hil.$c; select+=" --select-class $c"; done
    fi
    guest_cmd="set -e; ulimit -l unlimited; $layout; $checks; $bind; rc=0; for n in \$(seq 1 $REPEAT); do \
\"$JAVA_BIN\" ${JAVA_FLAGS[*]} -XX:ErrorFile=\$DMADIRECT_RIG_RESULTS/hs_err_%p.log -cp \"$CP\" \
org.junit.platform.console.ConsoleLauncher execute $select $tags --fail-if-no-tests \
--disable-banner --details=tree --reports-dir \$DMADIRECT_RIG_RESULTS/junit/\$n || rc=\$?; done; exit \$rc"
    log "$name: evidence in $results"
    local attempt rc
    for attempt in 1 2; do
        rc=0
        # issue 20: the boot goes through the product, `dmadirect rig` (the command's jar snapshotted above), with
        # this checkout's rig scripts; guest_cmd binds the devices itself (--bind none) and sets its JVMs' -XX:ErrorFile.
        DMADIRECT_HIL_VARIANT=$name "$JAVA_BIN" -jar "$SNAP/jars/dmadirect.jar" rig --scripts "$RIG" --bind none \
            --no-crash-log-option $iommu $GUEST_ARGS --mem "$mem" --hugepages "$pages" --timeout 900 \
            --results "$results" --env DMADIRECT_HIL_VARIANT -- bash -c "$guest_cmd" || rc=$?
        # A crashed QEMU (run-guest.sh leaves qemu-crashed) may be retried once, as may a crashed JVM (killed
        # by a signal, or an hs_err file); say so. Both leave their evidence in crash-1.
        if [ "$attempt" = 1 ] && [ -f "$results/qemu-crashed" ]; then
            log "RETRY: $name: QEMU crashed (exit $(cat "$results/qemu-crashed")) before the guest finished; keeping its logs in $results/crash-1 and retrying once"
            mkdir -p "$results/crash-1"; mv "$results/qemu-crashed" "$results/console.log" "$results/qemu.log" "$results/junit" "$results/crash-1/" 2>/dev/null || true
            continue
        fi
        # A guest kernel that panics while booting, before the command printed anything, is the emulator's or the
        # guest kernel's failure, not the suite's (seen once under TCG on a doubly loaded machine: "Fatal exception
        # in interrupt" 1.3 s into boot); retried once like a crashed QEMU. A panic after the command started fails.
        if [ "$attempt" = 1 ] && [ "$rc" = 125 ] && ! [ -s "$results/stdout.log" ] \
                && grep -q 'Kernel panic - not syncing' "$results/console.log" 2>/dev/null; then
            log "RETRY: $name: the guest kernel panicked while booting, before the command started; keeping its logs in $results/crash-1 and retrying once"
            mkdir -p "$results/crash-1"; mv "$results/console.log" "$results/qemu.log" "$results/stdout.log" "$results/stderr.log" "$results/crash-1/" 2>/dev/null || true
            continue
        fi
        if [ "$attempt" = 1 ] && { [ "$rc" -ge 128 ] && [ "$rc" -lt 160 ] || compgen -G "$results/hs_err_*.log" >/dev/null; }; then
            log "RETRY: $name: the JVM crashed (exit $rc); keeping its hs_err in $results/crash-1 and retrying once"
            mkdir -p "$results/crash-1"; mv "$results"/hs_err_*.log "$results/console.log" "$results/junit" "$results/crash-1/" 2>/dev/null || true
            continue
        fi
        break
    done
    local n reports=() failed_reps=()
    for n in $(seq 1 "$REPEAT"); do
        if compgen -G "$results/junit/$n/*.xml" >/dev/null; then reports+=("$results/junit/$n"/*.xml); else failed_reps+=("$n:no-report"); continue; fi
        if grep -qE '<(failure|error)' "$results/junit/$n"/*.xml; then
            failed_reps+=("$n:$(awk 'match($0, /<testcase name="[^"]*" classname="[^"]*"/) { t = substr($0, RSTART, RLENGTH) }
                /<(failure|error)/ { gsub(/<testcase name="|" classname="io\.dmadirect\.hil\.|"$/, " ", t); split(t, f, " ");
                print f[2] "." f[1] }' "$results/junit/$n"/*.xml | sort -u | tr '\n' ' ')")
        fi
    done
    if [ "$REPEAT" -gt 1 ]; then log "$name: $((REPEAT - ${#failed_reps[@]})) of $REPEAT launches passed${failed_reps:+; failed: ${failed_reps[*]}}"; fi
    if [ "$rc" != 0 ]; then log "FAIL: $name: guest command exit $rc (results in $results)"; return 1; fi
    if [ ${#reports[@]} -eq 0 ]; then log "FAIL: $name: no JUnit XML report"; return 1; fi
    if [ ${#failed_reps[@]} -gt 0 ]; then log "FAIL: $name: failures in the JUnit report: ${failed_reps[*]}"; return 1; fi
    if [ "$(cat "$results/cli-udev.rc" 2>/dev/null)" != 0 ]; then
        log "FAIL: $name: CLI/udev checks (test-rigs/hil/cli-udev-checks.sh), see $results/cli-udev.log"; return 1
    fi
    log "$name: $(tail -1 "$results/cli-udev.log")"
    if [ -z "$SELECT" ] && { [ "$name" = iommu-vfio ] || [ "$name" = iommufd ]; }; then
        # The DMAR fault is logged asynchronously: check the console after the guest is gone.
        if ! grep -q 'DMAR: \[DMA Write' "$results/console.log"; then
            log "FAIL: $name: no DMAR fault in console.log"; return 1
        fi
        log "$name: console.log: $(grep -m1 -A1 'DMAR: \[DMA Write' "$results/console.log" | tr -s '\r\n' ' ')"
    fi
    local tests skipped
    # The launcher writes an empty report per engine besides Jupiter's (tests="0"): name the counts that ran.
    tests=$(grep -ho 'tests="[0-9]*"' "${reports[@]}" | grep -v '"0"' | sort -u | tr '\n' ' ' | sed 's/ $//')
    skipped=$(grep -ho 'skipped="[0-9]*"' "${reports[@]}" | sort -u | tr '\n' ' ' | sed 's/ $//')
    # No silent skips: every selected test must have run.
    if [ "$skipped" != 'skipped="0"' ]; then
        log "FAIL: $name: tests were skipped ($skipped); a variant selects only the tests it can run"; return 1
    fi
    log "PASS: $name ($tests $skipped${SELECT:+; partial: $SELECT}$([ "$REPEAT" -gt 1 ] && echo " x$REPEAT launches")) in $((SECONDS - t0)) s$(grep -ho ', agent tests [0-9]* s' "$results/evidence.txt" 2>/dev/null \
        | awk '{ s += $4 } END { if (NR) printf ", of which %d s in the agent tests", s }')"
}

FAILED=()
for v in "${VARIANTS[@]}"; do
    vrc=0
    run_variant "$v" || vrc=$?
    # The verdict stays with the run's evidence.
    [ -n "$CURRENT_RUN" ] && if [ "$vrc" = 0 ]; then echo PASS > "$CURRENT_RUN/verdict"; else echo FAIL > "$CURRENT_RUN/verdict"; fi
    CURRENT_RUN=''
    [ "$vrc" = 0 ] || FAILED+=("$v")
done
log "wall time $(( $(date +%s) - T0 )) s for ${VARIANTS[*]}"
if [ ${#FAILED[@]} -gt 0 ]; then log "FAILED variants: ${FAILED[*]}"; exit 1; fi
log "all variants passed"
