//! Package repositories: local, file:// and http(s):// sources and the download cache.
