//! A local Lambda Runtime API: the interface a `provided.al2023` function
//! polls (`AWS_LAMBDA_RUNTIME_API`), for one function process at a time.
//!
//! [`RuntimeApi::queue`] puts an event up as the answer to the runtime's next
//! `GET /2018-06-01/runtime/invocation/next`; [`RuntimeApi::answer`] waits for
//! its `POST …/invocation/{id}/response` (or `/error`, or the process's
//! `POST /2018-06-01/runtime/init/error`) and returns the moments that make
//! the figures: when the runtime asked, when the event was written, when the
//! answer was read in full.
//!
//! HTTP/1.1 by hand: the runtime client sends small requests with a
//! `Content-Length` (a streamed response is chunked; both are read), and a few
//! dozen lines keep this tool free of an HTTP server crate.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, Mutex};
use tokio::task::{JoinHandle, JoinSet};

const NEXT: &str = "/2018-06-01/runtime/invocation/next";
const INVOCATION: &str = "/2018-06-01/runtime/invocation/";
const INIT_ERROR: &str = "/2018-06-01/runtime/init/error";

/// The deadline the runtime is told (`Lambda-Runtime-Deadline-Ms`); this
/// tool gives up on an answer by then too.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// How the function answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Response(Vec<u8>),
    /// `POST …/error`: the handler failed (the body is Lambda's error JSON).
    Error(Vec<u8>),
    /// `POST /runtime/init/error`: the process could not start its runtime.
    InitError(Vec<u8>),
}

/// One invocation, seen from the Runtime API.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The runtime's `GET …/next` for this event arrived (it was done with
    /// its init, or with the event before).
    pub asked: Instant,
    /// The event was written to the runtime.
    pub sent: Instant,
    /// The answer was read in full.
    pub answered: Instant,
    pub outcome: Outcome,
}

impl Answer {
    /// What Lambda bills as the invocation's duration, near enough: event
    /// handed over → answer back.
    pub fn duration(&self) -> Duration {
        self.answered.duration_since(self.sent)
    }
}

struct Event {
    id: String,
    payload: Vec<u8>,
}

enum Report {
    Delivered {
        id: String,
        asked: Instant,
        sent: Instant,
    },
    Answered {
        id: Option<String>,
        at: Instant,
        outcome: Outcome,
    },
}

struct Shared {
    events: Mutex<mpsc::Receiver<Event>>,
    reports: mpsc::UnboundedSender<Report>,
    function_arn: String,
}

/// The server, listening on a loopback port of its own until dropped.
pub struct RuntimeApi {
    address: SocketAddr,
    events: mpsc::Sender<Event>,
    reports: mpsc::UnboundedReceiver<Report>,
    delivered: HashMap<String, (Instant, Instant)>,
    answered: Vec<(Option<String>, Instant, Outcome)>,
    next_id: u64,
    server: JoinHandle<()>,
}

impl RuntimeApi {
    pub async fn start(function: &str) -> io::Result<RuntimeApi> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let (events_tx, events_rx) = mpsc::channel(1);
        let (reports_tx, reports_rx) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            events: Mutex::new(events_rx),
            reports: reports_tx,
            function_arn: format!("arn:aws:lambda:eu-west-3:123456789012:function:{function}"),
        });
        // The connections live in the accept task's JoinSet: dropping the
        // server aborts them, so a runtime still waiting on `next` from a
        // process that was killed cannot take the next process's event.
        let server = tokio::spawn(async move {
            let mut connections = JoinSet::new();
            while let Ok((stream, _)) = listener.accept().await {
                let _ = stream.set_nodelay(true);
                connections.spawn(serve(stream, shared.clone()));
            }
        });
        Ok(RuntimeApi {
            address,
            events: events_tx,
            reports: reports_rx,
            delivered: HashMap::new(),
            answered: Vec::new(),
            next_id: 0,
            server,
        })
    }

    /// `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> String {
        self.address.to_string()
    }

    /// Puts up the next event; returns its request id. Waits while an
    /// earlier event has not been taken yet.
    pub async fn queue(&mut self, payload: Vec<u8>) -> String {
        self.next_id += 1;
        let id = format!("coldstart-{:06}", self.next_id);
        let event = Event {
            id: id.clone(),
            payload,
        };
        // The receiver lives as long as the server task, which lives as long
        // as `self`.
        let _ = self.events.send(event).await;
        id
    }

    /// Waits for the answer to event `id` (or an init error). Cancel-safe:
    /// what was received is kept for the next call.
    pub async fn answer(&mut self, id: &str) -> Answer {
        loop {
            // An init error answers whatever was queued. An answer is complete
            // once its delivery was reported too (two connections may report
            // in either order).
            let delivered = self.delivered.get(id).copied();
            if let Some(at) = self.answered.iter().position(|(of, _, _)| match of {
                None => true,
                Some(of) => of == id && delivered.is_some(),
            }) {
                let (_, answered, outcome) = self.answered.remove(at);
                self.delivered.remove(id);
                let (asked, sent) = delivered.unwrap_or((answered, answered));
                return Answer {
                    asked,
                    sent,
                    answered,
                    outcome,
                };
            }
            match self.reports.recv().await {
                Some(Report::Delivered { id, asked, sent }) => {
                    self.delivered.insert(id, (asked, sent));
                }
                Some(Report::Answered { id, at, outcome }) => self.answered.push((id, at, outcome)),
                // The server task ended: nothing more will come.
                None => std::future::pending::<()>().await,
            }
        }
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn serve(stream: TcpStream, shared: Arc<Shared>) {
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    // A read or write error is the process going away: the connection ends.
    while let Ok(Some(request)) = read_request(&mut read).await {
        let arrived = Instant::now();
        let path = request.path.as_str();
        let written = match request.method.as_str() {
            "GET" if path == NEXT => {
                let Some(event) = shared.events.lock().await.recv().await else {
                    return;
                };
                let deadline = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .unwrap_or_default()
                    .saturating_add(DEADLINE)
                    .as_millis();
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
                     lambda-runtime-aws-request-id: {}\r\nlambda-runtime-deadline-ms: {deadline}\r\n\
                     lambda-runtime-invoked-function-arn: {}\r\n\r\n",
                    event.payload.len(),
                    event.id,
                    shared.function_arn,
                );
                let written = write_all(&mut write, &[head.as_bytes(), &event.payload]).await;
                let _ = shared.reports.send(Report::Delivered {
                    id: event.id,
                    asked: arrived,
                    sent: Instant::now(),
                });
                written
            }
            "POST" if path == INIT_ERROR => {
                let _ = shared.reports.send(Report::Answered {
                    id: None,
                    at: arrived,
                    outcome: Outcome::InitError(request.body),
                });
                accepted(&mut write).await
            }
            "POST" => match path
                .strip_prefix(INVOCATION)
                .and_then(|p| p.split_once('/'))
            {
                Some((id, kind @ ("response" | "error"))) => {
                    let outcome = match kind {
                        "response" => Outcome::Response(request.body),
                        _ => Outcome::Error(request.body),
                    };
                    let _ = shared.reports.send(Report::Answered {
                        id: Some(id.to_owned()),
                        at: arrived,
                        outcome,
                    });
                    accepted(&mut write).await
                }
                _ => not_found(&mut write).await,
            },
            _ => not_found(&mut write).await,
        };
        if written.is_err() {
            return;
        }
    }
}

async fn write_all<W: AsyncWriteExt + Unpin>(write: &mut W, parts: &[&[u8]]) -> io::Result<()> {
    for part in parts {
        write.write_all(part).await?;
    }
    write.flush().await
}

async fn accepted<W: AsyncWriteExt + Unpin>(write: &mut W) -> io::Result<()> {
    let body = br#"{"status":"OK"}"#;
    let head = format!(
        "HTTP/1.1 202 Accepted\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    write_all(write, &[head.as_bytes(), body]).await
}

async fn not_found<W: AsyncWriteExt + Unpin>(write: &mut W) -> io::Result<()> {
    write_all(
        write,
        &[b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n"],
    )
    .await
}

/// A request read off the connection.
#[derive(Debug, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub body: Vec<u8>,
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_owned())
}

/// The next request, or `None` when the client closed the connection.
pub async fn read_request<R: AsyncBufRead + Unpin>(read: &mut R) -> io::Result<Option<Request>> {
    let mut line = String::new();
    if read.read_line(&mut line).await? == 0 {
        return Ok(None);
    }
    let mut words = line.split_whitespace();
    let (Some(method), Some(path)) = (words.next(), words.next()) else {
        return Err(invalid("bad request line"));
    };
    let (method, path) = (method.to_owned(), path.to_owned());
    let mut length = 0usize;
    let mut chunked = false;
    loop {
        line.clear();
        if read.read_line(&mut line).await? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        let Some((name, value)) = header.split_once(':') else {
            return Err(invalid("bad header"));
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = value.parse().map_err(|_| invalid("bad content-length"))?;
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.eq_ignore_ascii_case("chunked");
        }
    }
    let body = if chunked {
        read_chunked(read).await?
    } else {
        let mut body = vec![0; length];
        read.read_exact(&mut body).await?;
        body
    };
    Ok(Some(Request { method, path, body }))
}

async fn read_chunked<R: AsyncBufRead + Unpin>(read: &mut R) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        read.read_line(&mut line).await?;
        let size = line.trim_end().split(';').next().unwrap_or_default();
        let size = usize::from_str_radix(size.trim(), 16).map_err(|_| invalid("bad chunk size"))?;
        if size == 0 {
            // Trailers (a streamed response's error report), then a blank line.
            loop {
                line.clear();
                if read.read_line(&mut line).await? == 0 || line.trim_end().is_empty() {
                    return Ok(body);
                }
            }
        }
        let start = body.len();
        body.resize(start + size, 0);
        read.read_exact(&mut body[start..]).await?;
        let mut crlf = [0; 2];
        read.read_exact(&mut crlf).await?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn parse(raw: &[u8]) -> io::Result<Option<Request>> {
        read_request(&mut BufReader::new(raw)).await
    }

    #[tokio::test]
    async fn reads_a_request_with_a_length_then_the_end() {
        let raw = b"POST /2018-06-01/runtime/invocation/x/response HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nnullGET";
        let mut read = BufReader::new(&raw[..]);
        let request = read_request(&mut read).await.unwrap().unwrap();
        assert_eq!(request.method, "POST");
        assert_eq!(request.path, "/2018-06-01/runtime/invocation/x/response");
        assert_eq!(request.body, b"null");
        assert!(read_request(&mut read).await.is_err(), "a cut request");
        assert_eq!(parse(b"").await.unwrap(), None);
    }

    #[tokio::test]
    async fn reads_a_chunked_body_with_trailers() {
        let raw = b"POST /r HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\nLambda-Runtime-Function-Error-Type: x\r\n\r\n";
        assert_eq!(parse(raw).await.unwrap().unwrap().body, b"abcde");
    }

    /// The runtime's own exchange, over a real socket.
    #[tokio::test]
    async fn hands_out_an_event_and_times_its_answer() {
        let mut api = RuntimeApi::start("menu").await.unwrap();
        let id = api.queue(b"{\"n\":1}".to_vec()).await;
        let mut stream = TcpStream::connect(api.address()).await.unwrap();
        stream
            .write_all(format!("GET {NEXT} HTTP/1.1\r\nhost: x\r\n\r\n").as_bytes())
            .await
            .unwrap();
        let mut read = BufReader::new(&mut stream);
        let mut head = String::new();
        loop {
            let mut line = String::new();
            read.read_line(&mut line).await.unwrap();
            if line == "\r\n" {
                break;
            }
            head.push_str(&line);
        }
        assert!(head.starts_with("HTTP/1.1 200"));
        assert!(head.contains(&format!("lambda-runtime-aws-request-id: {id}")));
        let mut event = [0; 7];
        read.read_exact(&mut event).await.unwrap();
        assert_eq!(&event, b"{\"n\":1}");
        let post =
            format!("POST {INVOCATION}{id}/response HTTP/1.1\r\ncontent-length: 2\r\n\r\n{{}}");
        stream.write_all(post.as_bytes()).await.unwrap();
        let answer = api.answer(&id).await;
        assert_eq!(answer.outcome, Outcome::Response(b"{}".to_vec()));
        assert!(answer.asked <= answer.sent && answer.sent <= answer.answered);
    }
}
