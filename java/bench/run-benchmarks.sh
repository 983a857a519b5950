#!/usr/bin/env bash
# Builds and runs the JMH benchmarks with their anchors in the same run, writing JSON to
# java/bench/target/jmh-result.json. Extra arguments go to JMH (for example a benchmark regex, or
# -t 2 for two threads).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
mvn -B -q -f "$root/pom.xml" -pl java/bench -am package -DskipTests
exec java -jar "$root/java/bench/target/benchmarks.jar" -rf json -rff "$root/java/bench/target/jmh-result.json" "$@"
