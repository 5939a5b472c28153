#!/usr/bin/env bash
# Builds posteriors-java (tests skipped) and runs the quick start with the given options,
# e.g. ./quickstart.sh --method=sghmc --epochs=30   (./quickstart.sh --list for the methods).
set -euo pipefail
cd "$(dirname "$0")"
export OPT_OUT_TRACKING=true
mvn -q -B -ntp install -DskipTests
mvn -q -B -ntp -pl examples exec:exec -Dquickstart.args="${*:---method=adam}"
