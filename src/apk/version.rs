//! apk package versions: parsing and ordering with apko's rules.
