//! `cargo run --example audit --features audit -- [OPTIONS] URL...`
//!
//! Audits how any HTTP server (not only a Rust one) answers conditional requests: the checks of
//! `tower_conditional::audit`, sent over HTTP/1.1 with hyper's client. Prints one finding per
//! line, the URL first and then the rule it breaks (`RFC 9110 §15.4.5: 304-fields: …`), and a
//! summary per URL on stderr. Exits 1 when it found anything, 0 when it found nothing, 2 on a
//! usage error.
//!
//! ```text
//! cargo run --example audit --features audit -- http://127.0.0.1:3000/ http://127.0.0.1:3000/report
//! cargo run --example audit --features audit -- \
//!     --write 'PUT={"name":"audited"}' --header 'Content-Type: application/json' \
//!     --require-preconditions http://127.0.0.1:3001/items/1
//! ```
//!
//! Options:
//!
//! - `--write METHOD[=BODY]`: also audit writes, with this sample write. **It changes the
//!   resource**, a dozen times: point it at a resource made for the audit.
//! - `--require-preconditions`: a write without a precondition must get 428 (RFC 6585 §3).
//! - `--header 'Name: value'` (or `-H`, repeatable): sent with every request (credentials,
//!   the write's `Content-Type`); never printed.
//! - `--races N`: rounds of two concurrent writers (default 5).
//!
//! Plain `http://` only (no TLS client here). Each request is bounded by 10 s and each URL by
//! 120 s; a request that fails or times out is a finding.

use std::process::ExitCode;
use std::time::Duration;

use bytes::Bytes;
use http::uri::{PathAndQuery, Scheme};
use http::{HeaderName, HeaderValue, Method, Request, Response, Uri};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tower::util::BoxCloneService;
use tower_conditional::audit::Audit;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The service the audit sends its requests to: hyper's client, with each request's
/// `/path?query` sent to `base`'s scheme and authority.
pub type HttpService = BoxCloneService<Request<Full<Bytes>>, Response<Incoming>, BoxError>;

/// Each request, and each URL's whole audit, is bounded by these.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
const URL_TIMEOUT: Duration = Duration::from_secs(120);

/// A `tower::Service` over HTTP for `Audit::run`: the audit's requests (`/path?query`) go to
/// `base`'s `scheme://authority`, on pooled HTTP/1.1 connections; two requests in flight at
/// once take two connections. Needs a tokio runtime.
pub fn http_service(base: &Uri) -> Result<HttpService, String> {
    let scheme = base.scheme().cloned().unwrap_or(Scheme::HTTP);
    if scheme != Scheme::HTTP {
        return Err(format!("{base}: only http:// URLs can be audited here"));
    }
    let authority = base
        .authority()
        .cloned()
        .ok_or_else(|| format!("{base}: no host"))?;
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let service = tower::service_fn(move |mut request: Request<Full<Bytes>>| {
        let client = client.clone();
        let target = Uri::builder()
            .scheme(scheme.clone())
            .authority(authority.clone())
            .path_and_query(
                request
                    .uri()
                    .path_and_query()
                    .cloned()
                    .unwrap_or_else(|| PathAndQuery::from_static("/")),
            )
            .build();
        async move {
            *request.uri_mut() = target?;
            match tokio::time::timeout(REQUEST_TIMEOUT, client.request(request)).await {
                Ok(response) => Ok(response?),
                Err(_) => Err(format!("no response within {REQUEST_TIMEOUT:?}").into()),
            }
        }
    });
    Ok(BoxCloneService::new(service))
}

/// What the command line asks for.
#[derive(Debug, Default)]
struct Options {
    write: Option<(Method, String)>,
    require_preconditions: bool,
    headers: Vec<(HeaderName, HeaderValue)>,
    races: Option<usize>,
    urls: Vec<Uri>,
}

impl Options {
    /// The audit of `path` the options ask for.
    fn audit(&self, path: &str) -> Audit {
        let mut audit = Audit::new(path).requires_preconditions(self.require_preconditions);
        if let Some((method, body)) = &self.write {
            audit = audit.write(method.clone(), body.clone());
        }
        if let Some(rounds) = self.races {
            audit = audit.races(rounds);
        }
        for (name, value) in &self.headers {
            audit = audit.header(name.clone(), value.clone());
        }
        audit
    }
}

fn parse(args: impl IntoIterator<Item = String>) -> Result<Options, String> {
    let mut options = Options::default();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--write" => {
                let spec = value("--write")?;
                let (method, body) = spec.split_once('=').unwrap_or((spec.as_str(), ""));
                let method = Method::from_bytes(method.as_bytes())
                    .map_err(|_| format!("--write: {method:?} is not a method"))?;
                options.write = Some((method, body.to_owned()));
            }
            "--require-preconditions" => options.require_preconditions = true,
            "--header" | "-H" => {
                let line = value("--header")?;
                let (name, field) = line
                    .split_once(':')
                    .ok_or_else(|| format!("--header {line:?}: not 'Name: value'"))?;
                let name = HeaderName::from_bytes(name.trim().as_bytes())
                    .map_err(|_| format!("--header: {name:?} is not a field name"))?;
                let field = HeaderValue::from_str(field.trim())
                    .map_err(|_| format!("--header: the value of {name} is not a field value"))?;
                options.headers.push((name, field));
            }
            "--races" => {
                let rounds = value("--races")?;
                options.races = Some(
                    rounds
                        .parse()
                        .map_err(|_| format!("--races {rounds:?}: not a number"))?,
                );
            }
            "-h" | "--help" => return Err(String::new()),
            option if option.starts_with('-') => return Err(format!("unknown option {option}")),
            url => {
                let uri: Uri = url.parse().map_err(|_| format!("{url:?} is not a URL"))?;
                if uri.scheme() != Some(&Scheme::HTTP) || uri.authority().is_none() {
                    return Err(format!("{url}: only http://host[:port]/path URLs"));
                }
                options.urls.push(uri);
            }
        }
    }
    if options.urls.is_empty() {
        return Err("no URL to audit".to_owned());
    }
    if options.require_preconditions && options.write.is_none() {
        return Err("--require-preconditions needs --write".to_owned());
    }
    Ok(options)
}

const USAGE: &str = "usage: audit [--write METHOD[=BODY]] [--require-preconditions] \
                     [--header 'Name: value']... [--races N] URL...";

/// Audits `url`: its findings, each on a line of its own after the URL, and what was skipped
/// (on stderr). An error when the audit did not finish in time.
async fn audit_url(options: &Options, url: &Uri) -> Result<Vec<String>, String> {
    let path = url.path_and_query().map_or("/", PathAndQuery::as_str);
    let service = http_service(url)?;
    let report = tokio::time::timeout(URL_TIMEOUT, options.audit(path).run(service))
        .await
        .map_err(|_| format!("the audit did not finish within {URL_TIMEOUT:?}"))?;
    for skipped in report.skipped() {
        eprintln!("{url}: skipped {skipped}");
    }
    Ok(report
        .findings()
        .iter()
        .map(|finding| format!("{url} {finding}"))
        .collect())
}

#[allow(dead_code)] // Tests include this file for `http_service`, not for `main`.
#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let options = match parse(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("audit: {message}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let mut found = 0;
    for url in &options.urls {
        match audit_url(&options, url).await {
            Ok(lines) => {
                eprintln!("{url}: {} finding(s)", lines.len());
                found += lines.len();
                for line in lines {
                    println!("{line}");
                }
            }
            Err(message) => {
                // In the findings' form, so that every line names a rule.
                println!("{url} RFC 9110 §15: no-response: {message}");
                found += 1;
            }
        }
    }
    if found == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
