#!/usr/bin/env bash
# Runs this project's rig tests (tag `rig`) in the QEMU rig with `dmadirect rig`: a 24-bit edu and an NVMe
# controller with MDTS 3 and two namespaces. Builds the test classes and their class path on the host (no
# Maven in the guest), then the verdict is dmadirect rig's exit code; the evidence (console.log, JUnit XML,
# any hs_err file) lands in target/rig-results.
#
#   docs/examples/driver-kit/run-in-rig.sh            (DMADIRECT=/path/to/dmadirect to use an installed command)
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")"
DMADIRECT=${DMADIRECT:-../../../dmadirect}
mvn -B -q test-compile dependency:build-classpath -Dmdep.outputFile=target/classpath.txt >/dev/null
CP="$PWD/target/test-classes:$PWD/target/classes:$(cat target/classpath.txt)"
rm -rf target/rig-results
exec "$DMADIRECT" rig --device 'edu,dma_mask=0xffffff' --device 'nvme,mdts=3,namespaces=2' --hugepages 160 \
    --junit "$CP" --select-package com.example.echo --include-tag rig --results "$PWD/target/rig-results" "$@"
