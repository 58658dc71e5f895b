//! The installed database apko writes: usr/lib/apk/db/installed, scripts.tar, triggers.
