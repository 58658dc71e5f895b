//! Reading .apk v2 package files: member splitting and integrity checks.
