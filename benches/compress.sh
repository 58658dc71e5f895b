#!/usr/bin/env bash
# Benchmarks the layer compressor against pigz -6, gzip -6 and flate2 level 6 on a tar of
# real binaries (>= 256 MB, built here in a temporary directory, never committed).
# Usage: benches/compress.sh [size-in-MB (default 300)] [runs (default 2)]
set -euo pipefail
cd "$(dirname "$0")/.."
size_mb="${1:-300}"
runs="${2:-2}"

need=()
command -v pigz >/dev/null 2>&1 || need+=(pigz)
command -v gzip >/dev/null 2>&1 || need+=(gzip)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >&2
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# Regular files from the usual binary directories, then the Rust toolchain's libraries when
# present; each directory in sorted order, until the size is reached.
sources=(/usr/bin /usr/lib)
for lib in "$HOME"/.rustup/toolchains/*/lib; do
  [ -d "$lib" ] && sources+=("$lib")
done
for dir in "${sources[@]}"; do
  find "$dir" -xdev -type f -size +0 -printf '%s\t%p\n' 2>/dev/null | sort -t$'\t' -k2
done | awk -F'\t' -v limit="$((size_mb * 1000000))" \
  '{ if (total < limit) { total += $1; print $2 } }' > "$tmp/files"
tar -cf "$tmp/corpus.tar" --no-recursion -T "$tmp/files" 2>/dev/null || true
actual=$(stat -c %s "$tmp/corpus.tar")
if [ "$actual" -lt 256000000 ]; then
  echo "corpus too small: $actual bytes" >&2
  exit 1
fi

cargo bench --bench compress -- "$tmp/corpus.tar" "$runs"
