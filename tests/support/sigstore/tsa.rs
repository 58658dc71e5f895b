//! A test RFC 3161 time-stamping authority: OpenSSL's `openssl ts -reply` behind the HTTP
//! front, at `POST /api/v1/timestamp` (`application/timestamp-query` in,
//! `application/timestamp-reply` out), signing with a TSA certificate issued by the private CA
//! of tests/attest_verify/pki.rs. [`Tsa::fail_next`] makes the next request fail. Test
//! infrastructure only.

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use receipts::attest::key::pem;

use super::front::{Front, Handler, Request, Response};
use crate::attest_verify::pki::{Key, Pki};

/// The timestamp endpoint's path.
pub const PATH: &str = "/api/v1/timestamp";

/// A running TSA.
pub struct Tsa {
    front: Front,
    /// The TSA's signing certificate, DER.
    pub certificate: Vec<u8>,
    fail: Arc<Mutex<Option<u16>>>,
}

/// OpenSSL's `ts` configuration. Only the signing certificate goes into replies (the chain
/// is in the trusted root): OpenSSL does not sort the SignedData certificate SET as DER
/// requires, and strict readers (rfc3161-client) refuse an unsorted one.
fn write_config(dir: &Path) {
    let d = dir.display();
    let config = format!(
        "[ tsa ]\ndefault_tsa = test_tsa\n\n[ test_tsa ]\ndir = {d}\nserial = {d}/serial\n\
         crypto_device = builtin\nsigner_cert = {d}/tsa.pem\n\
         signer_key = {d}/tsa.key\nsigner_digest = sha256\ndefault_policy = 1.3.6.1.4.1.57264.2\n\
         digests = sha256, sha384, sha512\naccuracy = secs:1\nordering = yes\ntsa_name = no\n\
         ess_cert_id_chain = no\ness_cert_id_alg = sha256\n"
    );
    std::fs::write(dir.join("tsa.cnf"), config).unwrap();
    std::fs::write(dir.join("serial"), "01\n").unwrap();
}

impl Tsa {
    /// Starts a TSA keeping its files in `dir`.
    pub fn start(pki: &Pki, dir: &Path) -> Tsa {
        std::fs::create_dir_all(dir).unwrap();
        let key = Key::generate();
        let certificate = pki.tsa_certificate(&key);
        std::fs::write(
            dir.join("tsa.key"),
            pem::encode("PRIVATE KEY", &key.private.to_pkcs8_der().unwrap()),
        )
        .unwrap();
        std::fs::write(
            dir.join("tsa.pem"),
            pem::encode("CERTIFICATE", &certificate),
        )
        .unwrap();
        write_config(dir);
        let fail: Arc<Mutex<Option<u16>>> = Arc::default();
        let counter = Arc::new(AtomicU64::new(0));
        let handler: Handler = {
            let (dir, fail) = (dir.to_owned(), fail.clone());
            Arc::new(move |request: &Request| {
                if let Some(status) = fail.lock().unwrap().take() {
                    return Response::error(status, "injected failure");
                }
                reply(request, &dir, counter.fetch_add(1, Ordering::SeqCst))
            })
        };
        Tsa {
            front: Front::start(handler),
            certificate,
            fail,
        }
    }

    /// The timestamp endpoint's URL.
    pub fn url(&self) -> String {
        format!("{}{PATH}", self.front.url())
    }

    pub fn fail_next(&self, status: u16) {
        *self.fail.lock().unwrap() = Some(status);
    }
}

fn reply(request: &Request, dir: &Path, n: u64) -> Response {
    if request.method != "POST" || request.target != PATH {
        return Response::error(404, "not found");
    }
    let query = dir.join(format!("q{n}.tsq"));
    let answer = dir.join(format!("r{n}.tsr"));
    std::fs::write(&query, &request.body).unwrap();
    let output = Command::new("openssl")
        .args(["ts", "-reply", "-config"])
        .arg(dir.join("tsa.cnf"))
        .arg("-queryfile")
        .arg(&query)
        .arg("-out")
        .arg(&answer)
        .output()
        .expect("run openssl ts -reply");
    if !output.status.success() {
        return Response::error(
            500,
            &format!(
                "openssl ts -reply failed: {}",
                String::from_utf8_lossy(&output.stderr)
            ),
        );
    }
    Response {
        status: 200,
        content_type: "application/timestamp-reply",
        headers: Vec::new(),
        body: std::fs::read(&answer).unwrap(),
    }
}
