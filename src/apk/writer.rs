//! Writing signed .apk v2 packages and APKINDEX archives (test support).
