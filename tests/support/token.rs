//! A small token server on 127.0.0.1, as public registries have one (docker's token
//! specification): it issues real JWTs signed with ES256, with the signing certificate in the
//! `x5c` header, which Debian's `docker-registry` accepts when configured with `auth: token`
//! and the certificate as its `rootcertbundle` (`Registry::start_with_token_auth`).
//!
//! Who gets what, per requested scope `repository:NAME:ACTIONS`:
//! - anonymous (`GET` without credentials): `pull` only, on every repository (public images);
//! - [`super::registry::USER`] by password (`GET` with basic auth) or by the refresh token
//!   [`REFRESH_TOKEN`] (`POST` form, `grant_type=refresh_token`): what was asked, except
//!   `push` on repositories under `readonly/`;
//! - a wrong password or refresh token: 401.
//!
//! The key and self-signed certificate are made by `openssl` in a temporary directory.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use base64::Engine as _;
use p256::ecdsa::signature::Signer as _;
use p256::pkcs8::DecodePrivateKey as _;

use super::registry::{PASSWORD, USER};

/// The OAuth2 refresh token (a Docker config's `identitytoken`) the server accepts for [`USER`].
pub const REFRESH_TOKEN: &str = "receipts-test-refresh-token";
/// The `service` the registry names and tokens are issued for.
pub const SERVICE: &str = "receipts-test-registry";
/// The issuer the registry trusts.
pub const ISSUER: &str = "receipts-test-token-issuer";

/// One request the server answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issued {
    /// `GET` or `POST`.
    pub method: String,
    /// `anonymous`, `password`, `refresh_token`, or `refused`.
    pub grant: String,
    /// The scope asked for.
    pub scope: String,
    /// The actions granted.
    pub granted: String,
}

/// A running token server; stops when dropped.
pub struct TokenServer {
    address: std::net::SocketAddr,
    dir: tempfile::TempDir,
    log: Arc<Mutex<Vec<Issued>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

struct Signer {
    key: p256::ecdsa::SigningKey,
    certificate: String,
}

impl TokenServer {
    /// Makes a key and certificate and starts serving `/token`.
    pub fn start() -> Self {
        let dir = tempfile::tempdir().expect("token server dir");
        let status = std::process::Command::new("openssl")
            .args(["req", "-x509", "-newkey", "ec", "-pkeyopt"])
            .arg("ec_paramgen_curve:prime256v1")
            .args([
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=receipts test token issuer",
            ])
            .arg("-keyout")
            .arg(dir.path().join("key.pem"))
            .arg("-out")
            .arg(dir.path().join("cert.pem"))
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap_or_else(|e| {
                panic!("\n\n*** openssl not runnable ({e}); run ./scripts/test ***\n")
            });
        assert!(status.success(), "openssl req failed");
        let signer = Arc::new(Signer {
            key: p256::ecdsa::SigningKey::from_pkcs8_der(&pem_body(&dir.path().join("key.pem")))
                .expect("P-256 PKCS#8 key"),
            certificate: base64::engine::general_purpose::STANDARD
                .encode(pem_body(&dir.path().join("cert.pem"))),
        });
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let address = listener.local_addr().expect("local address");
        let log = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (log, stop) = (log.clone(), stop.clone());
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    if let Ok(stream) = stream {
                        let _ = answer(stream, &signer, &log);
                    }
                }
            })
        };
        Self {
            address,
            dir,
            log,
            stop,
            thread: Some(thread),
        }
    }

    /// The realm: `http://127.0.0.1:<port>/token`.
    pub fn realm(&self) -> String {
        format!("http://{}/token", self.address)
    }

    /// The certificate the registry must trust (`rootcertbundle`).
    pub fn certificate(&self) -> PathBuf {
        self.dir.path().join("cert.pem")
    }

    /// The registry's side of the arrangement.
    pub fn auth(&self) -> super::registry::TokenAuth {
        super::registry::TokenAuth {
            realm: self.realm(),
            service: SERVICE.into(),
            issuer: ISSUER.into(),
            certificate: self.certificate(),
        }
    }

    /// Every request answered so far.
    pub fn issued(&self) -> Vec<Issued> {
        self.log.lock().expect("token log").clone()
    }
}

impl Drop for TokenServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.address);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn pem_body(path: &Path) -> Vec<u8> {
    let text = std::fs::read_to_string(path).expect("read PEM");
    let body: String = text
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .expect("PEM base64")
}

fn answer(stream: TcpStream, signer: &Signer, log: &Mutex<Vec<Issued>>) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let (mut length, mut authorization) = (0usize, None);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" || line == "\n" {
            break;
        }
        let lower = line.to_ascii_lowercase();
        if let Some(value) = lower.strip_prefix("content-length:") {
            length = value.trim().parse().unwrap_or(0);
        }
        if lower.starts_with("authorization: basic ") {
            authorization = Some(line["authorization: basic ".len()..].trim().to_owned());
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let target = parts.next().unwrap_or_default();
    let query = target.split_once('?').map_or("", |(_, q)| q);
    let params: Vec<(String, String)> = match method.as_str() {
        "POST" => url::form_urlencoded::parse(&body).into_owned().collect(),
        _ => url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect(),
    };
    let param = |name: &str| {
        params
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
            .unwrap_or_default()
    };
    let scope = param("scope");
    let grant = match (
        method.as_str(),
        param("grant_type").as_str(),
        &authorization,
    ) {
        ("POST", "refresh_token", _) if param("refresh_token") == REFRESH_TOKEN => "refresh_token",
        ("GET", _, Some(basic)) if decode_basic(basic) == format!("{USER}:{PASSWORD}") => {
            "password"
        }
        ("GET", _, None) => "anonymous",
        _ => "refused",
    };
    let mut stream = stream;
    if grant == "refused" || !target.starts_with("/token") || param("service") != SERVICE {
        log.lock().expect("token log").push(Issued {
            method,
            grant: "refused".into(),
            scope,
            granted: String::new(),
        });
        let body = br#"{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}"#;
        write!(
            stream,
            "HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )?;
        stream.write_all(body)?;
        return stream.flush();
    }
    let (access, granted) = grant_for(&scope, grant != "anonymous");
    log.lock().expect("token log").push(Issued {
        method: method.clone(),
        grant: grant.into(),
        scope,
        granted,
    });
    let token = sign(signer, grant, &access);
    let json = if method == "POST" {
        serde_json::json!({"access_token": token, "expires_in": 300, "refresh_token": REFRESH_TOKEN})
    } else {
        serde_json::json!({"token": token, "expires_in": 300})
    };
    let body = json.to_string();
    write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    )?;
    stream.flush()
}

fn decode_basic(encoded: &str) -> String {
    base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .unwrap_or_default()
}

/// The `access` claim for a scope, and the actions granted, comma-joined.
fn grant_for(scope: &str, signed_in: bool) -> (serde_json::Value, String) {
    let mut parts = scope.splitn(3, ':');
    let (Some("repository"), Some(name), Some(actions)) =
        (parts.next(), parts.next(), parts.next())
    else {
        return (serde_json::json!([]), String::new());
    };
    let granted: Vec<&str> = actions
        .split(',')
        .filter(|action| match *action {
            "pull" => true,
            "push" => signed_in && !name.starts_with("readonly/"),
            _ => false,
        })
        .collect();
    (
        serde_json::json!([{"type": "repository", "name": name, "actions": granted}]),
        granted.join(","),
    )
}

fn sign(signer: &Signer, subject: &str, access: &serde_json::Value) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs();
    let url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header = serde_json::json!({"typ": "JWT", "alg": "ES256", "x5c": [signer.certificate]});
    let claims = serde_json::json!({
        "iss": ISSUER, "sub": subject, "aud": SERVICE,
        "exp": now + 300, "nbf": now - 10, "iat": now,
        "jti": format!("{now}-{}", rand_suffix()), "access": access,
    });
    let signing_input = format!(
        "{}.{}",
        url.encode(header.to_string()),
        url.encode(claims.to_string())
    );
    let signature: p256::ecdsa::Signature = signer.key.sign(signing_input.as_bytes());
    format!("{signing_input}.{}", url.encode(signature.to_bytes()))
}

fn rand_suffix() -> u64 {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).expect("random");
    u64::from_le_bytes(bytes)
}
