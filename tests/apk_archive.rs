//! Tests for the apk_archive flow: reading and verifying `.apk` v2 files (`apk::archive`),
//! `.PKGINFO` parsing (`apk::pkginfo`) and our own package and index writer (`apk::writer`).

mod corpus;
mod pkginfo;
mod reader;
mod writer;
