#!/usr/bin/env bash
# Runs every JMH benchmark with its anchors in the same run and writes the JSON, then the report.
#
#   java/bench/run-benchmarks.sh                 all benchmarks -> java/bench/target/jmh-result.json,
#                                                then docs/benchmarks.md (generated section) and docs/img/*.png
#   java/bench/run-benchmarks.sh Coherent -t 2   extra arguments go to JMH (a regex, JMH options)
#   DMADIRECT_BENCH_REPORT=0 ...                 the JSON only
#
# The anchors (Netty pooled, ByteBuffer.allocateDirect, a plain copy, pagemap reads) are methods of the
# same benchmark classes, so they run in the same JVM session under the same load. HostMemoryBenchmark
# needs root and hugepages; AgentOverheadBenchmark needs the agent jar, built here. The kernel nvme driver
# is measured in the rig, not here: see the "NVMe vs kernel" section of docs/benchmarks.md.
#
# Every run has -prof gc, so the report gives the bytes allocated per operation (gc.alloc.rate.norm) of each
# benchmark; -f 1 -wi 3 -i 5 are the benchmarks' own defaults. The CPU is named as lscpu names it.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out="$root/java/bench/target/jmh-result.json"
mvn -B -q -f "$root/pom.xml" -pl java/bench,agent,docs/examples -am package -DskipTests
mkdir -p "$(dirname "$out")"
# Where the figures came from, read again by the report.
{
    echo "cpu=$( (lscpu 2>/dev/null | grep -m1 '^Model name:' || grep -m1 'model name' /proc/cpuinfo) | cut -d: -f2- | sed 's/^ *//')"
    echo "cores=$(nproc)"
    echo "kernel=$(uname -r)"
    echo "java=$(java -version 2>&1 | head -1)"
    echo "load_before=$(cut -d' ' -f1-3 /proc/loadavg)"
    echo "date=$(date -u +%Y-%m-%dT%H:%MZ)"
} > "$out.machine"
cd "$root"
java -jar "$root/java/bench/target/benchmarks.jar" -prof gc -rf json -rff "$out" "$@"
echo "load_after=$(cut -d' ' -f1-3 /proc/loadavg)" >> "$out.machine"
if [ "${DMADIRECT_BENCH_REPORT:-1}" != 0 ]; then
    java -Djava.awt.headless=true -jar "$root/docs/examples/target/bench-report.jar" "$out" "$root/docs"
fi
