//! The WebAssembly boundary: the only file that knows about JavaScript.
//!
//! `run_job(job, host)` takes the job object and a host object:
//! `{ emit(event), awaitTokenSaved(refreshToken) -> Promise,
//!    now() -> ms, sleep(ms) -> Promise, random() -> [0,1) }`
//! and returns a Promise of the final `result` event.

use crate::edge::transport::{Clock, HttpRequest, HttpResponse, Method, Transport, TransportError};
use crate::edge::Host;
use crate::protocol::Event;
use crate::runner;
use futures::future::{select, Either};
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}

/// The core's version (the sidecar's `hello` event carries it).
#[wasm_bindgen]
pub fn core_version() -> String {
    crate::CORE_VERSION.to_string()
}

#[wasm_bindgen]
extern "C" {
    /// The host object handed in by the sidecar.
    pub type JsHost;

    #[wasm_bindgen(method, catch)]
    fn emit(this: &JsHost, event: JsValue) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, catch, js_name = awaitTokenSaved)]
    fn await_token_saved(this: &JsHost, refresh_token: &str) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, catch)]
    fn now(this: &JsHost) -> Result<f64, JsValue>;
    #[wasm_bindgen(method, catch)]
    fn sleep(this: &JsHost, ms: f64) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, catch)]
    fn random(this: &JsHost) -> Result<f64, JsValue>;
}

fn to_js<T: Serialize>(v: &T) -> JsValue {
    v.serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .unwrap_or(JsValue::NULL)
}

fn js_message(e: &JsValue) -> String {
    e.as_string()
        .or_else(|| {
            js_sys::Reflect::get(e, &"message".into())
                .ok()
                .and_then(|m| m.as_string())
        })
        .unwrap_or_else(|| "JavaScript error".to_string())
}

struct Env {
    host: JsHost,
}

impl Host for Env {
    fn emit(&self, event: &Event) {
        // A failing emit (closed stdout) must not abort the run mid-page.
        let _ = self.host.emit(to_js(&event.to_json()));
    }

    async fn await_token_saved(&self, refresh_token: &str) -> Result<(), String> {
        let p = self
            .host
            .await_token_saved(refresh_token)
            .map_err(|e| js_message(&e))?;
        let p: js_sys::Promise = p
            .dyn_into()
            .map_err(|_| "awaitTokenSaved did not return a Promise".to_string())?;
        JsFuture::from(p)
            .await
            .map(|_| ())
            .map_err(|e| js_message(&e))
    }

    fn seed(&self) -> u64 {
        let r = self.host.random().unwrap_or(0.5);
        ((r * 9.007_199_254_740_992e15) as u64) | 1
    }
}

impl Clock for Env {
    fn now_ms(&self) -> u64 {
        self.host.now().map(|n| n.max(0.0) as u64).unwrap_or(0)
    }

    async fn sleep(&self, ms: u64) {
        if let Ok(p) = self.host.sleep(ms as f64) {
            if let Ok(p) = p.dyn_into::<js_sys::Promise>() {
                let _ = JsFuture::from(p).await;
            }
        }
    }
}

/// HTTP through gloo-net (the global `fetch`), with an AbortController for
/// the timeout: dropping a fetch future does not cancel the request itself.
struct Fetch<'a> {
    env: &'a Env,
}

impl Transport for Fetch<'_> {
    async fn send(&self, req: HttpRequest) -> Result<HttpResponse, TransportError> {
        use gloo_net::http::{Method as M, RequestBuilder};
        let controller = web_sys::AbortController::new().map_err(|e| TransportError::Invalid {
            message: js_message(&e),
        })?;
        let method = match req.method {
            Method::Get => M::GET,
            Method::Post => M::POST,
            Method::Put => M::PUT,
            Method::Delete => M::DELETE,
        };
        let mut builder = RequestBuilder::new(&req.url)
            .method(method)
            .abort_signal(Some(&controller.signal()));
        for (k, v) in &req.headers {
            builder = builder.header(k, v);
        }
        let request = match &req.body {
            Some(b) => builder.body(b.as_str()),
            None => builder.build(),
        }
        .map_err(|e| TransportError::Invalid {
            message: e.to_string(),
        })?;
        let has_body = req.body.is_some();
        let exchange = Box::pin(async move {
            let resp = request.send().await?;
            let status = resp.status();
            let headers = resp.headers().entries().collect::<Vec<_>>();
            let body = resp.text().await?;
            Ok::<_, gloo_net::Error>(HttpResponse {
                status,
                headers,
                body,
            })
        });
        let timer = Box::pin(self.env.sleep(req.timeout_ms));
        match select(exchange, timer).await {
            Either::Left((Ok(r), _)) => Ok(r),
            Either::Left((Err(e), _)) => Err(TransportError::Network {
                message: e.to_string(),
                // fetch does not say whether the body left; assume a write may have.
                maybe_sent: has_body,
            }),
            Either::Right(_) => {
                controller.abort();
                Err(TransportError::Timeout { maybe_sent: true })
            }
        }
    }
}

/// Runs one job. Bad jobs and bad hosts give an `error` event (when `emit`
/// works) and a `result` with `ok:false`; the Promise never rejects for them.
#[wasm_bindgen]
pub async fn run_job(job: JsValue, host: JsValue) -> Result<JsValue, JsValue> {
    for name in ["emit", "awaitTokenSaved", "now", "sleep", "random"] {
        let f = js_sys::Reflect::get(&host, &name.into()).unwrap_or(JsValue::UNDEFINED);
        if !f.is_function() {
            return Err(JsValue::from_str(&format!(
                "host.{name} must be a function"
            )));
        }
    }
    let env = Env {
        host: host.unchecked_into(),
    };
    // Through JSON text: integers stay integers (a JS number is an f64).
    let job_value: serde_json::Value = js_sys::JSON::stringify(&job)
        .ok()
        .and_then(|s| s.as_string())
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or(serde_json::Value::Null);
    let transport = Fetch { env: &env };
    let result = runner::run(job_value, &transport, &env, &env).await;
    Ok(to_js(&result.to_json()))
}
