//! APKINDEX.tar.gz archives: reading the signed index and checking its signatures.
