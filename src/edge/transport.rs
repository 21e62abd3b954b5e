//! The only doors to the outside world: HTTP and time.
//!
//! The core never opens a socket or reads a clock itself. Requests and
//! answers are plain values; the WebAssembly build plugs in gloo-net and the
//! host's timers (`src/wasm.rs`), tests plug in scripted doubles.

use std::fmt;

/// HTTP method of a request the core wants sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
        }
    }

    /// GET and DELETE can be repeated without a second effect; POST/PUT
    /// cannot be assumed to (Lightspeed has no idempotency key).
    pub fn is_idempotent(self) -> bool {
        matches!(self, Method::Get | Method::Delete)
    }
}

/// A request as a value: what to send, nothing sent yet.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpRequest {
    pub method: Method,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
    /// Give up waiting for the answer after this many milliseconds.
    pub timeout_ms: u64,
}

// Hand-written so an Authorization header or a token-grant body never ends up
// in a log line through `{:?}`.
impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(k, v)| {
                let secret = k.eq_ignore_ascii_case("authorization");
                (k.as_str(), if secret { "<redacted>" } else { v.as_str() })
            })
            .collect();
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("headers", &headers)
            .field(
                "body",
                &self.body.as_ref().map(|b| format!("<{} bytes>", b.len())),
            )
            .field("timeout_ms", &self.timeout_ms)
            .finish()
    }
}

impl HttpRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }
}

/// An answer as a value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl HttpResponse {
    pub fn new(status: u16, body: impl Into<String>) -> Self {
        HttpResponse {
            status,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// Header lookup, case-insensitive as HTTP wants.
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }
}

fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Why no answer came back.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// No answer within the request's timeout. `maybe_sent`: the request may
    /// have reached the server (and a write may have been applied).
    #[error("no answer within the timeout")]
    Timeout { maybe_sent: bool },
    /// Connection refused, reset, DNS failure… `maybe_sent` as above.
    #[error("network error: {message}")]
    Network { message: String, maybe_sent: bool },
    /// The request could not even be built (bad URL, bad header).
    #[error("request could not be built: {message}")]
    Invalid { message: String },
}

impl TransportError {
    /// Could the server have received (and acted on) the request?
    pub fn maybe_sent(&self) -> bool {
        match self {
            TransportError::Timeout { maybe_sent } => *maybe_sent,
            TransportError::Network { maybe_sent, .. } => *maybe_sent,
            TransportError::Invalid { .. } => false,
        }
    }
}

/// Sends one request. One implementation per platform.
#[allow(async_fn_in_trait)] // single-threaded (WebAssembly); no Send bound wanted
pub trait Transport {
    async fn send(&self, req: HttpRequest) -> Result<HttpResponse, TransportError>;
}

/// Time, as the host sees it.
#[allow(async_fn_in_trait)]
pub trait Clock {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> u64;
    async fn sleep(&self, ms: u64);
}
