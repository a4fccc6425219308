#!/usr/bin/env bash
# Train and predict with the defaults on a generated drill-core corpus of 4 and of 16 files
# (2,000 rows x 384 pixels x 268 bands each, the seed layout), each command in its own process
# under /usr/bin/time: wall time and peak resident memory per command, and the seconds of each
# training epoch from the run's log.
#
#   [TRAIN_OPTIONS="..."] bash bench/corpus_scale.sh [WORK_DIR] [HYPERSSL] [MAKE_CORPUS]
#
# TRAIN_OPTIONS are added to `train`'s arguments (for example "--covariance-components 0
# --morphology-components 0", the defaults before the covariance descriptors and the profiles).
# WORK_DIR (default /tmp/hyperssl-corpus) receives the 16 files (6.6 GB), the runs and the
# predictions; the binaries default to target/release/hyperssl and
# target/release/examples/make_corpus (cargo build --release --example make_corpus).
set -eu
WORK=${1:-/tmp/hyperssl-corpus}
BIN=${2:-target/release/hyperssl}
MAKE=${3:-target/release/examples/make_corpus}
mkdir -p "$WORK"
if [ ! -f "$WORK/c16/core015-labeled.hdf5" ]; then
  "$MAKE" "$WORK/c16" --files 16 --rows 2000
fi
mkdir -p "$WORK/c4"
for i in 000 001 002 003; do ln -sf "$WORK/c16/core$i-labeled.hdf5" "$WORK/c4/"; done
measure() { # NAME COMMAND...
  local name=$1; shift
  /usr/bin/time -f "$name %e s %M KB" -o "$WORK/$name.time" "$@" > "$WORK/$name.out" 2> "$WORK/$name.err"
  cat "$WORK/$name.time"
}
for n in 4 16; do
  rm -rf "$WORK/run$n" "$WORK/predict$n"
  # shellcheck disable=SC2086 # the options are words
  measure "train$n" "$BIN" train "$WORK/c$n" --run "$WORK/run$n" ${TRAIN_OPTIONS:-}
  measure "predict$n" "$BIN" predict --run "$WORK/run$n" "$WORK/c$n" --out "$WORK/predict$n"
  # Seconds per epoch between the log's rows.
  awk -F, 'NR > 1 { if (NR > 2) printf "%.2f ", ($2 - t) / ($9 - e); t = $2; e = $9 }' "$WORK/run$n/m2_log.csv" > "$WORK/epochs$n.txt"
  echo "epoch seconds ($n files): $(cat "$WORK/epochs$n.txt")"
done
