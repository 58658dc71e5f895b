//! .PKGINFO parsing with gopkg.in/ini.v1's quirks.
