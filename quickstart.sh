#!/usr/bin/env bash
# Builds posteriors-java (tests, Javadoc and source jars skipped) and runs the quick start with the
# given options, e.g. ./quickstart.sh --method=sghmc --epochs=30   (./quickstart.sh --list for the
# methods). The quick start runs as a plain java process, so a wrong option prints the quick
# start's own message and usage, not Maven's.
set -euo pipefail
cd "$(dirname "$0")"
export OPT_OUT_TRACKING=true
MVN=(mvn -q -B -ntp -Dstyle.color=never)
"${MVN[@]}" install -DskipTests -Dinvoker.skip=true -Dmaven.javadoc.skip=true \
  -Dmaven.source.skip=true -Dspotless.check.skip=true
cp_file=$(mktemp)
trap 'rm -f "$cp_file"' EXIT
"${MVN[@]}" -pl examples dependency:build-classpath -Dmdep.includeScope=runtime \
  -Dmdep.outputFile="$cp_file" >/dev/null
CP="examples/target/classes:$(cat "$cp_file")"
[ $# -gt 0 ] || set -- --method=adam
exec java -Dai.djl.offline=true -cp "$CP" io.posteriors.examples.quickstart.QuickStart "$@"
