#!/usr/bin/env bash
# Seeds fuzz/corpus/<target>/ from the shared test data (README "Fuzzing"). The data is copied at
# run time, never committed; files are named by their SHA-1 as libFuzzer names its own finds, so
# running this again adds nothing twice. Seeds over MAX_SEED bytes are left out: libFuzzer sizes
# its inputs by the largest seed, and big ones slow every run down.
#
# Usage: fuzz/seed.sh [TESTDATA]   (default: $RECEIPTS_TESTDATA, else ../shared/testdata)
set -euo pipefail
cd "$(dirname "$0")"
data="${1:-${RECEIPTS_TESTDATA:-$(cd ../.. && pwd)/shared/testdata}}"
if [ ! -d "$data" ]; then
  echo "fuzz/seed.sh: no test data at $data (pass its path or set RECEIPTS_TESTDATA)" >&2
  exit 1
fi
# The fuzz workspace builds the versions the main crate is tested with.
cp ../Cargo.lock Cargo.lock
MAX_SEED=$((128 * 1024))
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

# seed TARGET FILE: copies FILE into the target's corpus when it is small enough.
seed() {
  local target="$1" file="$2" size
  [ -f "$file" ] || return 0
  size=$(wc -c <"$file")
  if [ "$size" -eq 0 ] || [ "$size" -gt "$MAX_SEED" ]; then return 0; fi
  mkdir -p "corpus/$target"
  cp "$file" "corpus/$target/$(sha1sum "$file" | cut -d' ' -f1)"
}

# seed_text TARGET TEXT: one seed holding TEXT (a line taken out of the test data).
seed_text() {
  printf '%s' "$2" >"$scratch/text"
  seed "$1" "$scratch/text"
}

while IFS= read -r -d '' file; do
  seed apkindex "$file"
  seed strict_gzip "$file"
  if gzip -dc "$file" >"$scratch/index.tar" 2>/dev/null; then seed tar "$scratch/index.tar"; fi
  if tar -xzOf "$file" APKINDEX >"$scratch/APKINDEX" 2>/dev/null; then seed apkindex "$scratch/APKINDEX"; fi
done < <(find "$data" \( -name 'APKINDEX.tar.gz' -o -name 'APKINDEX.tgz' \) -print0)
while IFS= read -r -d '' file; do seed apkindex "$file"; done < <(find "$data" -name APKINDEX -print0)

while IFS= read -r -d '' file; do
  seed apk "$file"
  seed strict_gzip "$file"
  if gzip -dc "$file" >"$scratch/package.tar" 2>/dev/null; then seed tar "$scratch/package.tar"; fi
  if tar -xzOif "$file" .PKGINFO >"$scratch/PKGINFO" 2>/dev/null; then seed pkginfo "$scratch/PKGINFO"; fi
done < <(find "$data" -name '*.apk' -print0)

while IFS= read -r -d '' file; do seed tar "$file"; done < <(find "$data" -name '*.tar' -print0)
while IFS= read -r -d '' file; do
  seed strict_gzip "$file"
done < <(find "$data" \( -name '*.gz' -o -name '*.pgzip' -o -name '*.tgz' \) -print0)

# apko configurations (YAML) and their JSON forms (lock files, config dumps).
while IFS= read -r -d '' file; do seed config "$file"; done < <(find "$data/chainguard-dev" \
  \( -name '*.yaml' -o -name '*.apko.json' -o -name '*.lock.json' -o -name 'config.json' \) -print0)

# Attestations: DSSE envelopes, Sigstore bundles, in-toto statements.
while IFS= read -r -d '' file; do
  if grep -q '"mediaType": *"application/vnd.dev.sigstore.bundle' "$file"; then seed bundle "$file"; fi
  if grep -q '"payloadType"' "$file"; then seed dsse "$file"; fi
  if grep -q '"_type": *"https://in-toto.io/Statement' "$file"; then seed dsse "$file"; fi
done < <(find "$data/sigstore" "$data/derived" -type f -print0)
while IFS= read -r -d '' file; do seed bundle "$file"; done < <(find "$data" -name '*.sigstore.json' -print0)

# TUF metadata and trusted roots.
while IFS= read -r -d '' file; do seed tuf "$file"; done < <(find "$data" \( -name '*tuf-root*.json' \
  -o -name 'trusted_root*.json' -o -name 'root.json' -o -name 'timestamp.json' \
  -o -name 'snapshot.json' -o -name 'targets.json' \) -print0)

# RFC 3161 tokens: the signed timestamps inside the Sigstore bundles, base64-decoded.
grep -rhoE '"signedTimestamp": *"[^"]*"' "$data" | sed -E 's/.*: *"([^"]*)"/\1/' | sort -u |
  while IFS= read -r encoded; do
    if printf '%s' "$encoded" | base64 -d >"$scratch/token" 2>/dev/null; then seed timestamp "$scratch/token"; fi
  done

# Image references named in the test data.
grep -rhoE '"docker-reference": *"[^"]*"|[a-z0-9.-]+(:[0-9]+)?/[A-Za-z0-9._/-]+(:[A-Za-z0-9._-]+)?(@sha256:[0-9a-f]{64})?' \
  --include='*.json' --include='*.yaml' "$data" | sed -E 's/^"docker-reference": *"([^"]*)"/\1/' |
  sort -u | awk 'NR <= 200' |
  while IFS= read -r reference; do seed_text oci_reference "$reference"; done

for target in corpus/*; do
  echo "$(basename "$target"): $(find "$target" -type f | wc -l) seeds"
done
