//! A real registry for tests: Debian's `docker-registry` (distribution 2.8) on a free loopback
//! port, storage in a temporary directory, optionally behind htpasswd basic auth or bearer
//! tokens from a token server (`auth: token`, see `token.rs`); killed when dropped. Recipe from reference/registry-and-plugins.md §6.3.
//!
//! The registry picks its own port (`http.addr: 127.0.0.1:0`) and announces it in its log, so
//! two tests never race for one. Missing `docker-registry` fails the test loudly: install it
//! with `./scripts/test`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where a token-auth registry sends clients, and whose tokens it trusts.
pub struct TokenAuth {
    /// The token server's URL.
    pub realm: String,
    /// The `service` tokens are issued for.
    pub service: String,
    /// The issuer tokens must name.
    pub issuer: String,
    /// The certificate bundle tokens are verified against (`rootcertbundle`).
    pub certificate: PathBuf,
}

/// A running registry; stops when dropped.
pub struct Registry {
    child: Child,
    host: String,
    dir: tempfile::TempDir,
}

/// User name and password of the htpasswd-protected registry.
pub const USER: &str = "testuser";
/// Password of [`USER`].
pub const PASSWORD: &str = "testpass";

impl Registry {
    /// A registry without authentication.
    pub fn start() -> Self {
        Self::launch(false, None)
    }

    /// A registry that requires [`USER`] / [`PASSWORD`] by HTTP basic auth (bcrypt htpasswd).
    pub fn start_with_basic_auth() -> Self {
        Self::launch(true, None)
    }

    /// A registry that requires bearer tokens issued by `tokens`, as public registries do.
    pub fn start_with_token_auth(tokens: &TokenAuth) -> Self {
        Self::launch(false, Some(tokens))
    }

    fn launch(basic_auth: bool, tokens: Option<&TokenAuth>) -> Self {
        let dir = tempfile::tempdir().expect("registry temp dir");
        let data = dir.path().join("data");
        std::fs::create_dir_all(&data).expect("registry data dir");
        let mut config = format!(
            "version: 0.1\nlog:\n  level: info\n  accesslog:\n    disabled: true\n\
             storage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\n\
             http:\n  addr: 127.0.0.1:0\n  secret: not-a-secret-test-only\n",
            data.display()
        );
        if basic_auth {
            let htpasswd = dir.path().join("htpasswd");
            let output = Command::new("htpasswd")
                .args(["-Bbn", USER, PASSWORD])
                .output()
                .unwrap_or_else(|e| {
                    panic!("\n\n*** htpasswd not runnable ({e}); run ./scripts/test ***\n")
                });
            assert!(output.status.success(), "htpasswd -Bbn failed");
            std::fs::write(&htpasswd, &output.stdout).expect("write htpasswd");
            config.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: test-realm\n    path: {}\n",
                htpasswd.display()
            ));
        }
        if let Some(tokens) = tokens {
            config.push_str(&format!(
                "auth:\n  token:\n    realm: {}\n    service: {}\n    issuer: {}\n    \
                 rootcertbundle: {}\n",
                tokens.realm,
                tokens.service,
                tokens.issuer,
                tokens.certificate.display()
            ));
        }
        let config_path = dir.path().join("config.yml");
        std::fs::write(&config_path, config).expect("write registry config");
        let log_path = dir.path().join("registry.log");
        let log = std::fs::File::create(&log_path).expect("registry log");
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config_path)
            .stdout(Stdio::from(log.try_clone().expect("log handle")))
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "\n\n*** docker-registry not runnable ({e}); install it with ./scripts/test ***\n"
                )
            });
        let mut registry = Self {
            child,
            host: String::new(),
            dir,
        };
        registry.host = registry.wait_for_address(&log_path);
        registry.wait_until_ready();
        registry
    }

    fn wait_for_address(&mut self, log_path: &Path) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            let log = std::fs::read_to_string(log_path).unwrap_or_default();
            if let Some(rest) = log.split("listening on ").nth(1) {
                let address: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ':')
                    .collect();
                if address.contains(':') {
                    return address;
                }
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("docker-registry exited ({status}):\n{log}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "docker-registry announced no address:\n{}",
            std::fs::read_to_string(log_path).unwrap_or_default()
        );
    }

    fn wait_until_ready(&self) {
        let client = reqwest::blocking::Client::new();
        let url = format!("http://{}/v2/", self.host);
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(response) = client.get(&url).send()
                && matches!(response.status().as_u16(), 200 | 401)
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("registry at {url} never answered:\n{}", self.log());
    }

    /// `127.0.0.1:<port>`.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// `127.0.0.1:<port>/<repository>`.
    pub fn repository(&self, repository: &str) -> String {
        format!("{}/{repository}", self.host)
    }

    /// The registry's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }

    /// How many `method` requests whose URI contains `uri_part` the registry has logged.
    pub fn requests(&self, method: &str, uri_part: &str) -> usize {
        let method = format!("http.request.method={method} ");
        self.log()
            .lines()
            .filter(|line| line.contains("msg=\"response completed"))
            .filter(|line| line.contains(&method))
            .filter(|line| {
                line.split("http.request.uri=")
                    .nth(1)
                    .and_then(|rest| rest.split_whitespace().next())
                    .is_some_and(|uri| uri.contains(uri_part))
            })
            .count()
    }

    /// [`Self::requests`], once the registry's log has settled: it writes each line after
    /// answering, so a count read at once may lag behind.
    pub fn settled_requests(&self, method: &str, uri_part: &str) -> usize {
        let mut last = self.requests(method, uri_part);
        loop {
            std::thread::sleep(Duration::from_millis(150));
            let now = self.requests(method, uri_part);
            if now == last {
                return now;
            }
            last = now;
        }
    }

    /// A scratch directory that lives as long as the registry.
    pub fn scratch(&self, name: &str) -> PathBuf {
        let path = self.dir.path().join("scratch").join(name);
        std::fs::create_dir_all(&path).expect("scratch dir");
        path
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
