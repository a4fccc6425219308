#!/bin/sh
# Fuzzes every parser in turn: SECONDS each (default 600), twice that for HDF5, whose parser
# is another crate's. Seeds the corpus with real files of each format first; crashes land in
# fuzz/artifacts/<target>/, each run's final statistics in fuzz/logs/<target>.log.
# Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`).
set -eu
cd "$(dirname "$0")/.."
seconds=${1:-600}
HYPERSSL_FUZZ_CORPUS=fuzz/corpus cargo test --release --test parsers_under_mutation -- --ignored write_fuzz_seed_corpus >/dev/null
cargo +nightly fuzz build -O
mkdir -p fuzz/logs
for target in npy mat mnist envi hdf5; do
    limit=$seconds
    [ "$target" = hdf5 ] && limit=$((seconds * 2))
    echo "fuzzing $target for $limit s"
    status=0
    cargo +nightly fuzz run -O "$target" "fuzz/corpus/$target" -- \
        -max_total_time="$limit" -print_final_stats=1 -rss_limit_mb=4096 \
        >"fuzz/logs/$target.log" 2>&1 || status=$?
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb|SUMMARY|panicked" "fuzz/logs/$target.log" || true
    [ "$status" -eq 0 ] || echo "$target: exit $status, see fuzz/logs/$target.log"
done
