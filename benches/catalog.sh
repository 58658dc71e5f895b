#!/usr/bin/env bash
# Catalogue audit throughput: images per minute at 1, 2 and 4 shards on this machine, and the
# shared package cache's hit rate. Builds, pushes and attests IMAGES images (default 50) with
# our package writer into a loopback registry, then audits the catalogue once per shard count
# (tests/catalog/scale.rs, `bench_images_per_minute_by_shards`), with the test profile (opt-level
# 1, dependencies 2; a release build of the test binary costs a long compile on 2 cores): compare
# the rows with each other, not with the audit bench.
# Usage: benches/catalog.sh [IMAGES]
set -euo pipefail
cd "$(dirname "$0")/.."
export RECEIPTS_CATALOG_IMAGES="${1:-50}"
export RECEIPTS_TESTDATA="${RECEIPTS_TESTDATA:-$(cd .. && pwd)/shared/testdata}"
# The bench test is compiled only with this cfg (the suite never skips it); its own target dir
# keeps the flag from rebuilding the everyday one.
RUSTFLAGS="${RUSTFLAGS:-} --cfg receipts_bench" CARGO_TARGET_DIR=target/bench-catalog \
  cargo test --locked --test tests catalog::scale::bench_images_per_minute_by_shards \
  -- --nocapture --test-threads=1
