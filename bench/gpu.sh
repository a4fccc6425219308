#!/usr/bin/env bash
# The GPU measurements, in one run on a machine with an NVIDIA GPU and PyTorch (the reference):
# burn's CUDA backend beside PyTorch on the same GPU (benches/throughput.rs --device cuda), for
# K = 16, 100 and 10 classes, and the MNIST M1+M2 run with 100 labels end to end.
#
#   bash bench/gpu.sh BIN_DIR MNIST_DIR OUT_DIR [BASE_DIR]
#
# BIN_DIR holds `hyperssl` and `throughput` built with --features cuda, and optionally
# `cuda_matches_cpu` and `cuda_one_row`:
#   CUDARC_CUDA_VERSION=13000 cargo build --release --features cuda
#   CUDARC_CUDA_VERSION=13000 cargo bench --features cuda --bench throughput --no-run
#   CUDARC_CUDA_VERSION=13000 cargo test --release --features cuda --test cuda_one_row --test cuda_matches_cpu --no-run
# (the bench and test binaries are target/release/deps/throughput-<hash>, cuda_one_row-<hash>). The CUDA libraries are taken from
# the PyTorch install, so nothing else needs installing there. Each step has its own time limit,
# so a slow one does not hide the rest; logs and tables go to OUT_DIR, one line per step to
# OUT_DIR/steps.txt, and all of it to OUT_DIR.tar.gz after every step. BASE_DIR, when given,
# holds a `throughput` of an earlier build: it is timed on the same GPU (without PyTorch) for a
# before/after comparison.
set -u
BIN=$1 MNIST=$2 OUT=$3 BASE=${4:-}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd) BIN=$(cd "$BIN" && pwd)  # absolute: the profile step runs elsewhere
TL=$(python3 -c "import torch,os;print(os.path.dirname(torch.__file__)+'/lib')")
NV=$(ls -d "$(dirname "$(dirname "$TL")")"/nvidia/*/lib "$(dirname "$(dirname "$TL")")"/nvidia/*/*/lib 2>/dev/null | tr '\n' ':')
export LD_LIBRARY_PATH=$TL:$NV${LD_LIBRARY_PATH:-}
{ nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  python3 -c "import torch;print('torch', torch.__version__, torch.cuda.get_device_name(0))"
  nproc; } 2>&1 | tee "$OUT/machine.txt"

step() { # NAME LIMIT_S COMMAND...
  local name=$1 limit=$2; shift 2
  local t0=$SECONDS
  timeout "$limit" "$@" > "$OUT/$name.out" 2> "$OUT/$name.err"
  local rc=$?
  echo "$name: exit $rc after $((SECONDS - t0)) s" | tee -a "$OUT/steps.txt"
  tar -czf "$OUT.tar.gz" -C "$(dirname "$OUT")" "$(basename "$OUT")"  # everything so far, one file
  tail -n 30 "$OUT/$name.out"; tail -n 5 "$OUT/$name.err"
  return $rc
}
bench() { # NAME CLASSES LIMIT ARGS...
  bench_with "$BIN" "$@"
}
bench_with() { # DIR NAME CLASSES LIMIT ARGS...
  local dir=$1 name=$2 k=$3 limit=$4; shift 4
  rm -f target/bench/throughput.json  # a step cut short must not leave the last step's table
  HYPERSSL_BENCH_M2_CLASSES=$k step "$name" "$limit" "$dir/throughput" --bench --device cuda \
    --python python3 --threads 2 "$@"
  cp target/bench/throughput.json "$OUT/$name.json" 2>/dev/null
}

# Stop here when nothing was measured at all (no GPU, no libraries): the rest would fail alike.
bench k16 16 150 --models m1,m2 --batches 256,1000 || grep -q "ex/s" "$OUT/k16.err" || exit 1
step mnist 200 "$BIN/hyperssl" paper-mnist --device cuda --data "$MNIST" --labels 100 \
  --model m1m2 --batch-size 1000 --lr 3e-3 --run runs/gpu-mnist
cp runs/gpu-mnist/*.json runs/gpu-mnist/*.csv "$OUT/" 2>/dev/null
bench k100 100 50 --models m2 --batches 256 --no-gemm
if [ -n "$BASE" ]; then
  bench_with "$BASE" base-k16 16 60 --models m1,m2 --batches 256,1000 --no-gemm --no-python
  bench_with "$BASE" base-k100 100 35 --models m2 --batches 256 --no-gemm --no-python
fi
bench k10 10 60 --models m2 --batches 256,1000 --no-gemm
bench k16-host-noise 16 50 --models m1,m2 --batches 256 --no-gemm --no-python --noise host

# Time per kernel of M2 (100 classes, batch 256): cubecl's profiler, switched on by a cubecl.toml
# in the working directory, times every kernel (one at a time, so the step is slower) and prints
# a table at each synchronisation; the last table covers the last timed repeat.
mkdir -p "$OUT/profile-k100.d"
printf '[profiling.logger]\nlevel = "basic"\nfile = "%s"\n' "$OUT/profile-k100.log" > "$OUT/profile-k100.d/cubecl.toml"
(cd "$OUT/profile-k100.d" && HYPERSSL_BENCH_M2_CLASSES=100 step profile-k100 60 "$BIN/throughput" \
  --bench --device cuda --threads 2 --models m2 --batches 256 --quick --no-gemm --no-python)

# The CUDA backend against the CPU backend (tests/cuda_matches_cpu.rs built with --features cuda).
if [ -x "$BIN/cuda_matches_cpu" ]; then
  step matches-cpu 60 "$BIN/cuda_matches_cpu" --test-threads 1
fi

# The labelled term on one row, each piece in its own process (a fault spoils the process's
# GPU context); BIN_DIR/cuda_one_row is tests/cuda_one_row.rs built with --features cuda.
if [ -x "$BIN/cuda_one_row" ]; then
  for t in $("$BIN/cuda_one_row" --list 2>/dev/null | sed -n 's/: test$//p'); do
    step "one-row-$t" 30 "$BIN/cuda_one_row" --exact "$t"
  done
fi
