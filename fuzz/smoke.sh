#!/usr/bin/env bash
# A short run of every fuzz target on stable Rust (README "Fuzzing"; run by scripts/test): seeds
# the corpora from the shared test data, builds the targets without sanitizers, then gives each
# target SECONDS seconds (default 5) over its corpus. Fails on the first crash, leak or timeout;
# libFuzzer writes the input to fuzz/artifacts/<target>/.
#
# Without nightly's coverage instrumentation libFuzzer runs every seed, then mutates blindly, so
# this catches a panic on any seed and on shallow mutations; `cargo +nightly fuzz run` searches.
#
# The build shares the main crate's target directory and Cargo.lock (seed.sh copies it), so the
# dependencies already compiled by the test build are reused.
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-5}"
./seed.sh >/dev/null
cargo build --quiet --manifest-path Cargo.toml --target-dir ../target
targets=$(sed -n 's/^name = "\(.*\)"$/\1/p' Cargo.toml | grep -v '^receipts-fuzz$')
for target in $targets; do
  mkdir -p "artifacts/$target"
  started=$(date +%s)
  if ! "../target/debug/$target" "corpus/$target" -max_total_time="$seconds" -timeout=10 \
    -rss_limit_mb=2048 -artifact_prefix="artifacts/$target/" >"artifacts/$target.log" 2>&1; then
    tail -40 "artifacts/$target.log" >&2
    echo "*** fuzz target $target crashed: fuzz/artifacts/$target/ holds the input ***" >&2
    exit 1
  fi
  runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "artifacts/$target.log")
  echo "fuzz $target: ${runs:-?} runs in $(($(date +%s) - started)) s, no crash"
done
