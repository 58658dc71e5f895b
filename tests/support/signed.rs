//! Builds signed, corrupted and hostile APKINDEX.tar.gz archives at test time, signed with apko's
//! committed test key (`internal/cli/testdata/private_packages/private_pkg_key.rsa`).

use std::io::Write as _;

use receipts::apk::keyring::Keyring;
use rsa::pkcs1::DecodeRsaPrivateKey as _;
use sha1::Digest as _;

const KEY: &str = "chainguard-dev/apko/internal/cli/testdata/private_packages/private_pkg_key.rsa";
const KEY_NAME: &str = "private_pkg_key.rsa.pub";

/// One entry of a signature member.
pub struct Signature {
    name: String,
    sha256: bool,
}

impl Signature {
    /// `.SIGN.RSA.<test key>`: SHA-1.
    pub fn rsa() -> Self {
        Self::named_for_key("RSA")
    }

    /// `.SIGN.RSA256.<test key>`: SHA-256.
    pub fn rsa256() -> Self {
        Self {
            sha256: true,
            ..Self::named_for_key("RSA256")
        }
    }

    /// `.SIGN.<kind>.<test key>` holding a SHA-1 signature.
    pub fn named_for_key(kind: &str) -> Self {
        Self::named(&format!(".SIGN.{kind}.{KEY_NAME}"))
    }

    /// Any entry name, holding a SHA-1 signature.
    pub fn named(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            sha256: false,
        }
    }
}

/// Signs archives with the test key.
pub struct Signer {
    key: rsa::PrivateKey,
}

impl Signer {
    /// Loads the test private key.
    pub fn load() -> Self {
        let pem = std::fs::read_to_string(super::data(KEY)).expect("test key is readable");
        let key = rsa::PrivateKey::from_pkcs1_pem(&pem).expect("test key parses");
        Self { key }
    }

    /// A keyring trusting the test key under its published name.
    pub fn keyring(&self) -> Keyring {
        Keyring::from_paths(&[super::data(&format!("{KEY}.pub"))]).expect("public key loads")
    }

    /// A signed index whose member 2 is a tar of `entries`.
    pub fn index(&self, signatures: &[Signature], entries: &[(&str, &[u8])]) -> Vec<u8> {
        self.signed(signatures, &gzip(&tar(entries, Ending::Blocks)))
    }

    /// A correctly signed (RSA, SHA-1) index whose member 2 is `member_two`, already compressed.
    pub fn index_with_member_two(&self, member_two: &[u8]) -> Vec<u8> {
        self.signed(&[Signature::rsa()], member_two)
    }

    /// Only a signature member: nothing is signed.
    pub fn signature_member_only(&self) -> Vec<u8> {
        self.signed(&[Signature::rsa()], &[])
    }

    fn signed(&self, signatures: &[Signature], member_two: &[u8]) -> Vec<u8> {
        let entries: Vec<(String, Vec<u8>)> = signatures
            .iter()
            .map(|signature| {
                let bytes = if signature.sha256 {
                    let digest = sha2::Sha256::digest(member_two);
                    self.key
                        .sign(rsa::Pkcs1v15Sign::new::<sha2::Sha256>(), digest.as_slice())
                } else {
                    let digest = sha1::Sha1::digest(member_two);
                    self.key
                        .sign(rsa::Pkcs1v15Sign::new::<sha1::Sha1>(), digest.as_slice())
                };
                (signature.name.clone(), bytes.expect("signing works"))
            })
            .collect();
        let borrowed: Vec<(&str, &[u8])> = entries
            .iter()
            .map(|(name, bytes)| (name.as_str(), bytes.as_slice()))
            .collect();
        // abuild-sign cuts the end-of-archive blocks from the signature tar.
        let mut archive = gzip(&tar(&borrowed, Ending::Cut));
        archive.extend_from_slice(member_two);
        archive
    }
}

#[derive(PartialEq)]
enum Ending {
    Blocks,
    Cut,
}

fn header(name: &str, size: u64) -> tar::Header {
    let mut header = tar::Header::new_ustar();
    header.set_path(name).expect("short name");
    header.set_size(size);
    header.set_mode(0o644);
    header.set_entry_type(tar::EntryType::Regular);
    header.set_cksum();
    header
}

fn tar(entries: &[(&str, &[u8])], ending: Ending) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (name, data) in entries {
        builder
            .append(&header(name, data.len() as u64), *data)
            .expect("tar append");
    }
    let mut bytes = builder.into_inner().expect("tar finish");
    if ending == Ending::Cut {
        bytes.truncate(bytes.len() - 1024);
    }
    bytes
}

/// One gzip member holding `data`.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(data).expect("gzip");
    encoder.finish().expect("gzip")
}

/// A tar whose `APKINDEX` header declares 100 bytes more than follow.
pub fn truncated_tar(text: &[u8]) -> Vec<u8> {
    let mut bytes = header("APKINDEX", text.len() as u64 + 100)
        .as_bytes()
        .to_vec();
    bytes.extend_from_slice(text);
    bytes
}

/// A gzip member of `total` decompressed bytes: 1 MiB `DESCRIPTION` entries of zeros, each
/// below the limit on its own, streamed so the test never holds them in memory.
pub fn zeros_tar_gz(total: u64) -> Vec<u8> {
    let chunk = vec![0u8; 1 << 20];
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let entry = (chunk.len() + 512) as u64;
    for _ in 0..total.div_ceil(entry) {
        encoder
            .write_all(header("DESCRIPTION", chunk.len() as u64).as_bytes())
            .expect("gzip");
        encoder.write_all(&chunk).expect("gzip");
    }
    encoder.finish().expect("gzip")
}

/// A gzip member whose only tar header claims `size` bytes of `APKINDEX`.
pub fn huge_header_tar_gz(size: u64) -> Vec<u8> {
    gzip(header("APKINDEX", size).as_bytes())
}

/// Length of the first gzip member, found by decoding it with a plain reader that stops there.
pub fn first_member_len(archive: &[u8]) -> usize {
    let mut rest = archive;
    let mut decoder = flate2::bufread::GzDecoder::new(&mut rest);
    std::io::copy(&mut decoder, &mut std::io::sink()).expect("member 1 decodes");
    drop(decoder);
    archive.len() - rest.len()
}
