#!/usr/bin/env bash
# Opens JShell with posteriors-java on the class path, the core imported, DJL offline, and arrays
# printable (-Djshell=true). Builds the project first if needed.
set -euo pipefail
cd "$(dirname "$0")"
export OPT_OUT_TRACKING=true
if [ ! -f posteriors-core/target/posteriors-core-0.1.0-SNAPSHOT.jar ] || [ ! -f examples/target/examples-0.1.0-SNAPSHOT.jar ]; then
  mvn -q -B -ntp -Dstyle.color=never install -DskipTests -Dinvoker.skip=true -Dmaven.javadoc.skip=true -Dmaven.source.skip=true
fi
cp_file=$(mktemp)
mvn -q -B -ntp -Dstyle.color=never -pl examples dependency:build-classpath -Dmdep.outputFile="$cp_file" >/dev/null
CP="examples/target/classes:$(cat "$cp_file")"
rm -f "$cp_file"
startup=$(mktemp --suffix=.jsh)
cat > "$startup" <<'JSH'
import ai.djl.engine.Engine;
import ai.djl.ndarray.*;
import ai.djl.ndarray.types.*;
import io.posteriors.*;
import io.posteriors.optim.*;
NDManager manager = NDManager.newBaseManager();
System.out.println("posteriors-java: io.posteriors.* imported; `manager` is an NDManager.");
JSH
exec jshell --class-path "$CP" -R-Dai.djl.offline=true -R-Djshell=true \
  -R-Dorg.slf4j.simpleLogger.defaultLogLevel=error --startup DEFAULT --startup "$startup" "$@"
