//! A loopback HTTP proxy in front of a real registry that misbehaves on purpose: it fails a
//! fraction of requests (HTTP 500, HTTP 503, a reset in the middle of the response body, a
//! stall followed by a reset) chosen by a seeded generator, so a run can be repeated; or, as a
//! hostile front, answers chosen requests with enormous bodies that it generates on the fly.
//!
//! Each connection carries one request (`Connection: close` both ways), relayed to the
//! upstream with its body (chunked request bodies are re-framed with a length). Only
//! 127.0.0.1 is ever bound or dialled.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// What the proxy does to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fault {
    /// Relayed untouched.
    Pass,
    /// Answered `500 Internal Server Error` without reaching the registry.
    Error500,
    /// Answered `503 Service Unavailable` without reaching the registry.
    Error503,
    /// Relayed, but the response is cut in the middle of its body (or head) by a TCP reset.
    ResetMidBody,
    /// Not answered for the stall time, then reset.
    Stall,
}

/// The misbehaviour of a faulty proxy.
#[derive(Debug, Clone, Copy)]
pub struct Faults {
    /// The fraction of requests that fail (0.0–1.0), spread evenly over the four faults.
    pub rate: f64,
    /// The generator's seed: the same seed fails the same requests of the same sequence.
    pub seed: u64,
    /// How long a stalled request hangs before its connection is reset.
    pub stall: Duration,
}

/// An enormous answer of the hostile front.
#[derive(Debug, Clone)]
pub struct Flood {
    /// Its HTTP status.
    pub status: u16,
    /// Its `Content-Type`.
    pub content_type: String,
    /// Its size in bytes (whitespace after the first byte `{`, or all whitespace).
    pub size: u64,
    /// Whether a `Content-Length` announces it (else the end of the connection ends it).
    pub announced: bool,
    /// Extra response headers.
    pub headers: Vec<(String, String)>,
}

type Rule = dyn Fn(&str, &str) -> Option<Flood> + Send + Sync;

enum Mode {
    Faulty { faults: Faults, rng: u64 },
    Hostile(Box<Rule>),
}

struct State {
    mode: Mode,
    log: Vec<(String, String, Fault)>,
}

/// A running proxy; stops when dropped.
pub struct Proxy {
    address: std::net::SocketAddr,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Proxy {
    /// A proxy to `upstream` (`127.0.0.1:PORT`) failing requests as `faults` says.
    pub fn faulty(upstream: &str, faults: Faults) -> Self {
        let rng = faults.seed ^ 0x9E37_79B9_7F4A_7C15;
        Self::start(upstream, Mode::Faulty { faults, rng })
    }

    /// A front to `upstream` that answers the requests `rule` picks (by method and path) with
    /// its flood, and relays the rest.
    pub fn hostile(
        upstream: &str,
        rule: impl Fn(&str, &str) -> Option<Flood> + Send + Sync + 'static,
    ) -> Self {
        Self::start(upstream, Mode::Hostile(Box::new(rule)))
    }

    fn start(upstream: &str, mode: Mode) -> Self {
        assert!(
            upstream.starts_with("127.0.0.1:"),
            "loopback only: {upstream}"
        );
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let address = listener.local_addr().expect("local address");
        let state = Arc::new(Mutex::new(State {
            mode,
            log: Vec::new(),
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (state, stop, upstream) = (state.clone(), stop.clone(), upstream.to_owned());
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let (state, upstream) = (state.clone(), upstream.clone());
                    std::thread::spawn(move || {
                        // A connection that fails only fails the request it carried.
                        let _ = serve(stream, &upstream, &state);
                    });
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

    /// `127.0.0.1:<port>`, to use as the registry's host.
    pub fn host(&self) -> String {
        self.address.to_string()
    }

    /// Every request seen: method, path and what was done to it.
    pub fn log(&self) -> Vec<(String, String, Fault)> {
        self.state.lock().expect("proxy state").log.clone()
    }

    /// How many requests were failed on purpose.
    pub fn injected(&self) -> usize {
        self.log()
            .iter()
            .filter(|(_, _, f)| *f != Fault::Pass)
            .count()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.address);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A parsed request: its head lines (without `Connection` and framing headers) and its body.
struct Request {
    method: String,
    path: String,
    head: String,
    body: Vec<u8>,
}

fn read_request(reader: &mut BufReader<TcpStream>) -> std::io::Result<Option<Request>> {
    let mut request_line = String::new();
    if reader.read_line(&mut request_line)? == 0 {
        return Ok(None);
    }
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let path = parts.next().unwrap_or_default().to_owned();
    let mut head = request_line.clone();
    let (mut length, mut chunked) = (0usize, false);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" || line == "\n" {
            break;
        }
        let lower = line.to_ascii_lowercase();
        if let Some(value) = lower.strip_prefix("content-length:") {
            length = value.trim().parse().unwrap_or(0);
            continue;
        }
        if lower.starts_with("transfer-encoding:") {
            chunked = lower.contains("chunked");
            continue;
        }
        if lower.starts_with("connection:") || lower.starts_with("keep-alive:") {
            continue;
        }
        head.push_str(&line);
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            let mut size_line = String::new();
            reader.read_line(&mut size_line)?;
            let size = usize::from_str_radix(size_line.trim().split(';').next().unwrap_or("0"), 16)
                .unwrap_or(0);
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk)?;
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    } else {
        body.resize(length, 0);
        reader.read_exact(&mut body)?;
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    Ok(Some(Request {
        method,
        path,
        head,
        body,
    }))
}

fn serve(stream: TcpStream, upstream: &str, state: &Mutex<State>) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let Some(request) = read_request(&mut reader)? else {
        return Ok(());
    };
    let (fault, flood, stall) = {
        let mut state = state.lock().expect("proxy state");
        let (fault, flood, stall) = match &mut state.mode {
            Mode::Faulty { faults, rng } => (pick(faults, rng), None, faults.stall),
            Mode::Hostile(rule) => (
                Fault::Pass,
                rule(&request.method, &request.path),
                Duration::ZERO,
            ),
        };
        state
            .log
            .push((request.method.clone(), request.path.clone(), fault));
        (fault, flood, stall)
    };
    let mut client = stream;
    if let Some(flood) = flood {
        return send_flood(&mut client, &request.method, &flood);
    }
    match fault {
        Fault::Error500 | Fault::Error503 => {
            let (status, reason) = if fault == Fault::Error500 {
                (500, "Internal Server Error")
            } else {
                (503, "Service Unavailable")
            };
            let body = br#"{"errors":[{"code":"UNAVAILABLE","message":"fault injected by the test proxy"}]}"#;
            write!(
                client,
                "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )?;
            client.write_all(body)?;
            client.flush()
        }
        Fault::Stall => {
            std::thread::sleep(stall);
            reset(&client);
            Ok(())
        }
        Fault::Pass | Fault::ResetMidBody => {
            let response = relay(upstream, &request)?;
            if fault == Fault::Pass {
                client.write_all(&response)?;
                return client.flush();
            }
            let head_end = response
                .windows(4)
                .position(|w| w == b"\r\n\r\n")
                .map_or(response.len(), |p| p + 4);
            let body_len = response.len() - head_end;
            let cut = if body_len > 1 {
                head_end + body_len / 2
            } else {
                head_end / 2
            };
            client.write_all(&response[..cut])?;
            client.flush()?;
            reset(&client);
            Ok(())
        }
    }
}

/// Sends the request upstream and returns the whole response (the upstream closes after it).
fn relay(upstream: &str, request: &Request) -> std::io::Result<Vec<u8>> {
    let mut connection = TcpStream::connect(upstream)?;
    connection.write_all(request.head.as_bytes())?;
    connection.write_all(&request.body)?;
    connection.flush()?;
    let mut response = Vec::new();
    connection.read_to_end(&mut response)?;
    Ok(response)
}

/// Ends the connection with a TCP reset (linger 0), not a clean close.
fn reset(stream: &TcpStream) {
    use std::os::fd::AsRawFd as _;
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: the descriptor is open for the duration of the call and `linger` is a valid
    // option value of the size given.
    unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
    let _ = stream.shutdown(std::net::Shutdown::Read);
}

fn send_flood(client: &mut TcpStream, method: &str, flood: &Flood) -> std::io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {} Flood\r\nContent-Type: {}\r\nConnection: close\r\n",
        flood.status, flood.content_type
    );
    if flood.announced {
        head.push_str(&format!("Content-Length: {}\r\n", flood.size));
    }
    for (name, value) in &flood.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    client.write_all(head.as_bytes())?;
    if method == "HEAD" {
        return client.flush();
    }
    let block = vec![b' '; 1 << 16];
    client.write_all(b"{")?;
    let mut left = flood.size.saturating_sub(1);
    while left > 0 {
        let n = left.min(block.len() as u64) as usize;
        // The client hanging up early is the point: stop quietly.
        if client.write_all(&block[..n]).is_err() {
            return Ok(());
        }
        left -= n as u64;
    }
    client.flush()
}

/// The next fault: splitmix64 decides whether this request fails and how.
fn pick(faults: &Faults, rng: &mut u64) -> Fault {
    let mut next = || {
        *rng = rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = *rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let roll = (next() >> 11) as f64 / (1u64 << 53) as f64;
    if roll >= faults.rate {
        return Fault::Pass;
    }
    match next() % 4 {
        0 => Fault::Error500,
        1 => Fault::Error503,
        2 => Fault::ResetMidBody,
        _ => Fault::Stall,
    }
}
