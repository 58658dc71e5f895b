//! A test OIDC issuer and a test Fulcio. The issuer mints ES256 JWTs shaped like GitHub
//! Actions' (`iss`, `sub`, `aud`, `exp`, `job_workflow_ref`) and serves GitHub's token request
//! endpoint (`GET /token?audience=…` with the request bearer). Fulcio implements
//! `POST /api/v2/signingCert`: it verifies the token's signature with the issuer's key, its
//! expiry, audience `sigstore` and issuer, then the proof of possession (the key's signature
//! over the token's subject), and issues a leaf from the private CA of
//! tests/attest_verify/pki.rs (URI SAN `https://github.com/<job_workflow_ref>`, issuer
//! extensions, an SCT embedded by the test CT log key) with the chain above it.
//! [`Fulcio::refuse_next`] makes the next request fail; [`Fulcio::validity_next`] makes the
//! next certificate valid at other times (for timestamps outside its validity). Test
//! infrastructure only.

use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use receipts::attest::key::{self, pem};
use receipts::attest::verify::now;
use serde_json::{Value, json};

use super::front::{Front, Handler, Request, Response};
use crate::attest_verify::pki::{Key, LeafSpec, Pki};

/// The workflow the minted tokens name.
pub const WORKFLOW_REF: &str = "acme/app/.github/workflows/release.yml@refs/tags/v1.0.0";
/// The certificate identity Fulcio derives from it.
pub const IDENTITY: &str =
    "https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1.0.0";
/// The bearer the GitHub token endpoint expects.
pub const ACTIONS_REQUEST_TOKEN: &str = "actions-request-token";

/// The test OIDC issuer.
pub struct Issuer {
    pub key: Arc<Key>,
    /// The `iss` of its tokens (its own URL).
    pub url: String,
    front: Front,
}

impl Issuer {
    pub fn start() -> Arc<Issuer> {
        let key = Arc::new(Key::generate());
        // The handler signs with the issuer's URL, known only once the front listens.
        let url_slot: Arc<Mutex<String>> = Arc::default();
        let handler: Handler = {
            let (key, url_slot) = (key.clone(), url_slot.clone());
            Arc::new(move |request: &Request| {
                let issuer = url_slot.lock().unwrap().clone();
                github_token(request, &key, &issuer)
            })
        };
        let front = Front::start(handler);
        let url = front.url();
        *url_slot.lock().unwrap() = url.clone();
        Arc::new(Issuer { key, url, front })
    }

    /// A token for `audience` expiring at `exp`.
    pub fn mint(&self, audience: &str, exp: i64) -> String {
        jwt(&self.key, &self.url, audience, exp)
    }

    /// GitHub's token request URL (as `ACTIONS_ID_TOKEN_REQUEST_URL`).
    pub fn actions_url(&self) -> String {
        format!("{}/token?api-version=2.0", self.front.url())
    }
}

fn jwt(key: &Key, issuer: &str, audience: &str, exp: i64) -> String {
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"ES256","typ":"JWT","kid":"test"}"#);
    let claims = URL_SAFE_NO_PAD.encode(
        json!({
            "iss": issuer,
            "sub": "repo:acme/app:ref:refs/tags/v1.0.0",
            "aud": audience,
            "exp": exp,
            "iat": now() - 5,
            "job_workflow_ref": WORKFLOW_REF,
            "repository": "acme/app",
            "event_name": "push"
        })
        .to_string(),
    );
    let input = format!("{header}.{claims}");
    let der = key.sign(input.as_bytes());
    let raw = p256::ecdsa::Signature::from_der(&der).unwrap().to_bytes();
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(raw))
}

fn github_token(request: &Request, key: &Key, issuer: &str) -> Response {
    if request.method != "GET" || !request.target.starts_with("/token?") {
        return Response::error(404, "not found");
    }
    if request.header("authorization") != Some(&format!("Bearer {ACTIONS_REQUEST_TOKEN}")) {
        return Response::error(401, "bad request token");
    }
    let audience = request
        .target
        .split(['?', '&'])
        .find_map(|p| p.strip_prefix("audience="))
        .unwrap_or("");
    Response::json(
        200,
        &json!({"value": jwt(key, issuer, audience, now() + 300)}),
    )
}

/// The test Fulcio.
pub struct Fulcio {
    front: Front,
    refuse: Arc<Mutex<Option<u16>>>,
    validity: Arc<Mutex<Option<(i64, i64)>>>,
}

impl Fulcio {
    pub fn start(pki: Arc<Pki>, issuer: Arc<Issuer>) -> Fulcio {
        let refuse: Arc<Mutex<Option<u16>>> = Arc::default();
        let validity: Arc<Mutex<Option<(i64, i64)>>> = Arc::default();
        let handler: Handler = {
            let (refuse, validity) = (refuse.clone(), validity.clone());
            Arc::new(move |request: &Request| {
                if let Some(status) = refuse.lock().unwrap().take() {
                    return Response::error(status, "injected refusal");
                }
                let validity = validity.lock().unwrap().take();
                signing_cert(request, &pki, &issuer, validity)
            })
        };
        Fulcio {
            front: Front::start(handler),
            refuse,
            validity,
        }
    }

    pub fn url(&self) -> String {
        self.front.url()
    }

    pub fn refuse_next(&self, status: u16) {
        *self.refuse.lock().unwrap() = Some(status);
    }

    /// The next certificate is valid from `now + from` to `now + to` (seconds).
    pub fn validity_next(&self, from: i64, to: i64) {
        *self.validity.lock().unwrap() = Some((now() + from, now() + to));
    }
}

fn verify_jwt(token: &str, issuer: &Issuer) -> Result<Value, String> {
    let parts: Vec<&str> = token.split('.').collect();
    let [header, claims, signature] = parts.as_slice() else {
        return Err("not a JWT".into());
    };
    let raw = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| "signature not base64url")?;
    let der = p256::ecdsa::Signature::from_slice(&raw)
        .map_err(|_| "not an ES256 signature")?
        .to_der();
    issuer
        .key
        .public
        .verify(format!("{header}.{claims}").as_bytes(), der.as_bytes())
        .map_err(|_| "token signature does not verify")?;
    let claims: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(claims)
            .map_err(|_| "claims not base64url")?,
    )
    .map_err(|_| "claims not JSON")?;
    if claims["iss"] != issuer.url.as_str() {
        return Err("unknown issuer".into());
    }
    if claims["exp"].as_i64().is_none_or(|exp| exp <= now()) {
        return Err("token expired".into());
    }
    if claims["aud"] != "sigstore" {
        return Err("token audience is not sigstore".into());
    }
    Ok(claims)
}

fn signing_cert(
    request: &Request,
    pki: &Pki,
    issuer: &Issuer,
    validity: Option<(i64, i64)>,
) -> Response {
    if request.method != "POST" || request.target != "/api/v2/signingCert" {
        return Response::error(404, "not found");
    }
    let Ok(body) = serde_json::from_slice::<Value>(&request.body) else {
        return Response::error(400, "not JSON");
    };
    let token = body["credentials"]["oidcIdentityToken"]
        .as_str()
        .unwrap_or("");
    let claims = match verify_jwt(token, issuer) {
        Ok(claims) => claims,
        Err(reason) => return Response::error(401, &reason),
    };
    let request_key = &body["publicKeyRequest"];
    let pem_text = request_key["publicKey"]["content"].as_str().unwrap_or("");
    let Ok(public) = key::load_public_key(pem_text.as_bytes()) else {
        return Response::error(400, "public key does not parse");
    };
    let proof = STANDARD
        .decode(request_key["proofOfPossession"].as_str().unwrap_or(""))
        .unwrap_or_default();
    let subject = claims["email"]
        .as_str()
        .or(claims["sub"].as_str())
        .unwrap_or("");
    if public.verify(subject.as_bytes(), &proof).is_err() {
        return Response::error(400, "proof of possession does not verify");
    }
    let Some(workflow) = claims["job_workflow_ref"].as_str() else {
        return Response::error(400, "token has no job_workflow_ref");
    };
    let mut spec = LeafSpec {
        identity: format!("https://github.com/{workflow}"),
        issuer: issuer.url.clone(),
        ..LeafSpec::default()
    };
    if let Some(validity) = validity {
        spec.validity = validity;
    }
    let leaf = pki.certify(&spec, &public.to_der().unwrap());
    let chain = [&leaf, &pki.intermediate, &pki.root]
        .iter()
        .map(|der| pem::encode("CERTIFICATE", der))
        .collect::<Vec<_>>();
    Response::json(
        201,
        &json!({"signedCertificateEmbeddedSct": {"chain": {"certificates": chain}}}),
    )
}
