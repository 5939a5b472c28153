#!/usr/bin/env bash
# Runs the plain-PyTorch reference (shared/reference/ref_bench.py), then the full benchmark table
# with the reference's figures beside it (--python-ref), then the reference again, so that both
# come from one window on one machine:
#   benchmarks/with-reference.sh [REFERENCE_DIR] [extra benchmark options...]
# REFERENCE_DIR holds ref_bench.py (default ../shared/reference). Needs Debian's python3-torch and
# libopenblas0-openmp (apt-get install -y python3-torch libopenblas0-openmp) and /usr/bin/python3.
# Writes benchmarks/results/<UTC>-ref-before.jsonl, -ref-after.jsonl and the benchmark's own file.
set -euo pipefail
cd "$(dirname "$0")/.."
ref=${1:-../shared/reference}
[ $# -gt 0 ] && shift
[ -f "$ref/ref_bench.py" ] || { echo "no ref_bench.py in $ref" >&2; exit 2; }
out=benchmarks/results
mkdir -p "$out"
stamp=$(date -u +%Y%m%d-%H%M%S)
python=/usr/bin/python3
reference() {
  # posteriors' own code path (func) for W1-W6, and W6 through plain autograd as well
  "$python" "$ref/ref_bench.py" | grep '^{'
  "$python" "$ref/ref_bench.py" --impl autograd --only sghmc-gauss-2d | grep '^{'
}
reference > "$out/$stamp-ref-before.jsonl"
export OPT_OUT_TRACKING=true
java -Dai.djl.offline=true -jar benchmarks/target/benchmarks.jar \
  --python-ref="$out/$stamp-ref-before.jsonl" "$@"
reference > "$out/$stamp-ref-after.jsonl"
echo "# reference before: $out/$stamp-ref-before.jsonl, after: $out/$stamp-ref-after.jsonl"
