#!/bin/bash
# Kills a training run with SIGKILL at random moments, resumes it each time, and compares its
# class map and scores with those of an uninterrupted run of the same settings.
#   bench/kill_resume.sh [KILLS] [SEED]     (defaults: 8 kills, seed 1)
# Uses the release binary (cargo build --release) on the embedded scene; writes under
# runs/kill-resume/. Prints one line per kill and a verdict; exits 1 if the results differ.
set -u
cd "$(dirname "$0")/.."
kills=${1:-8}
RANDOM=${2:-1}
bin=target/release/hyperssl
root=runs/kill-resume
rm -rf "$root"
settings=(--epochs 20 --eval-every 1 --seed 3)

"$bin" train --run "$root/whole" "${settings[@]}" >/dev/null 2>&1 || { echo "reference run failed"; exit 1; }
passed=0
for i in $(seq 1 "$kills"); do
    # The first start is a fresh run; later ones resume. Killed at 0.5-6 s into each start.
    resume=(); [ "$i" -gt 1 ] && resume=(--resume)
    "$bin" train --run "$root/killed" "${settings[@]}" "${resume[@]}" >/dev/null 2>&1 &
    pid=$!
    delay=$(awk -v r="$RANDOM" 'BEGIN { printf "%.2f", 0.5 + 5.5 * r / 32767 }')
    sleep "$delay"
    if kill -9 "$pid" 2>/dev/null; then state="killed"; else state="had finished"; fi
    wait "$pid" 2>/dev/null
    done_epochs=$(tail -n +2 "$root/killed/m2_log.csv" 2>/dev/null | wc -l)
    echo "start $i: $state after $delay s, $done_epochs epochs in the log"
done
"$bin" train --run "$root/killed" "${settings[@]}" --resume >/dev/null 2>&1 || { echo "final resume failed"; exit 1; }
if cmp -s "$root/whole/class_map.npy" "$root/killed/class_map.npy" && cmp -s "$root/whole/m2_model.mpk" "$root/killed/m2_model.mpk"; then
    echo "same class map and model file as the uninterrupted run after $kills starts"
else
    echo "DIFFERENT from the uninterrupted run"; exit 1
fi
