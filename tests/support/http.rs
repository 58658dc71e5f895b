//! A tiny static file server on 127.0.0.1 for repository tests: serves a directory, answers
//! `HEAD` and `GET` with an `ETag`, counts requests, and can be told to serve other bytes for one
//! path (a corrupted index) or to change its ETags.

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use sha2::Digest as _;

/// What the server sends as `ETag`.
#[derive(Clone, Default)]
pub enum Etags {
    /// Hex SHA-256 of the body, quoted.
    #[default]
    Content,
    /// The same quoted value for every file, as in apko's cache tests.
    Fixed(String),
    /// No `ETag` header.
    Absent,
}

#[derive(Default)]
struct State {
    overrides: HashMap<String, Vec<u8>>,
    requests: Vec<(String, String)>,
    etags: Etags,
}

/// A running server; stops when dropped.
pub struct Server {
    address: std::net::SocketAddr,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Serves the files under `root` at `http://127.0.0.1:<port>/`.
    pub fn serve(root: &Path) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let address = listener.local_addr().expect("local address");
        let state = Arc::new(Mutex::new(State::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (root, state, stop) = (root.to_owned(), state.clone(), stop.clone());
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    if let Ok(stream) = stream {
                        // A failed connection only fails the request it carried.
                        let _ = answer(stream, &root, &state);
                    }
                }
            })
        };
        Self {
            address,
            state,
            stop,
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:<port>` followed by `path` (which starts with `/`, or is empty).
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// Serves `bytes` for `path` instead of the file.
    pub fn replace(&self, path: &str, bytes: Vec<u8>) {
        self.lock().overrides.insert(path.to_owned(), bytes);
    }

    /// Changes the `ETag` headers sent from now on.
    pub fn set_etags(&self, etags: Etags) {
        self.lock().etags = etags;
    }

    /// How many `method` requests reached `path`.
    pub fn count(&self, method: &str, path: &str) -> usize {
        let state = self.lock();
        let same = |(m, p): &&(String, String)| m == method && p == path;
        state.requests.iter().filter(same).count()
    }

    /// How many requests arrived in all.
    pub fn total(&self) -> usize {
        self.lock().requests.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("server state lock")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.address);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn answer(stream: TcpStream, root: &Path, state: &Mutex<State>) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header == "\r\n" || header == "\n" {
            break;
        }
    }
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let path = parts.next().unwrap_or_default().to_owned();

    let (body, etags) = {
        let mut state = state.lock().expect("server state lock");
        state.requests.push((method.clone(), path.clone()));
        let body = match state.overrides.get(&path) {
            Some(bytes) => Some(bytes.clone()),
            None => file_under(root, &path).and_then(|file| std::fs::read(file).ok()),
        };
        (body, state.etags.clone())
    };
    let mut stream = stream;
    match body {
        None => stream.write_all(
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        )?,
        Some(body) => {
            let mut head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n",
                body.len()
            );
            let etag = match etags {
                Etags::Content => Some(hex::encode(sha2::Sha256::digest(&body))),
                Etags::Fixed(etag) => Some(etag),
                Etags::Absent => None,
            };
            if let Some(etag) = etag {
                head.push_str(&format!("ETag: \"{etag}\"\r\n"));
            }
            head.push_str("\r\n");
            stream.write_all(head.as_bytes())?;
            if method != "HEAD" {
                stream.write_all(&body)?;
            }
        }
    }
    stream.flush()
}

/// The file a URL path names, refusing anything that climbs out of `root`.
fn file_under(root: &Path, path: &str) -> Option<PathBuf> {
    let mut file = root.to_owned();
    for element in path.split('/').filter(|e| !e.is_empty()) {
        if element == ".." || element.contains('\\') {
            return None;
        }
        file.push(element);
    }
    file.is_file().then_some(file)
}
