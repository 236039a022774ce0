//! Guarded writes, end to end: an in-memory JSON documents API on axum, written the way the
//! docs show (one `representation(version)` declared once and used by the validator source,
//! the GET handler and the writes; each write a compare-and-swap with `Preconditions::check`
//! under the lock it writes in), behind tower-http's compression as the README orders it, in
//! both placements, over real HTTP on 127.0.0.1. Covers coded tags on writes (RFC 9110
//! §8.8.3.3), lost updates (§13.1.1), missing resources (§13.2.1), 428 (RFC 6585 §3), problem
//! details (RFC 9457) and what a 304 carries (§15.4.5). Needs `--features axum`.
#![cfg(feature = "axum")]

mod common;
#[path = "common/docs.rs"]
mod docs;
#[path = "common/gzip.rs"]
mod gzip;

use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use common::{CONTENT_FIELDS, GZIP, Reply, compressed_placements, fetch};
use docs::{DOC_A, Docs, LIST, routes, source, with_source};
use gzip::gunzip;
use http::{Method, Request, StatusCode};
use http_body_util::Full;
use tower_conditional::ConditionalLayer;

// The application is `tests/common/docs.rs`, shared with `tests/audit.rs`.

// ---------------------------------------------------------------------------------------------
// The client.

/// What the tests read of a reply beyond its fields.
trait Decoded {
    /// The body, decoded when it is gzip.
    fn text(&self) -> String;
    /// The tokens of its `Vary` lines, in order, without repeats.
    fn vary(&self) -> Vec<String>;
}

impl Decoded for Reply {
    fn text(&self) -> String {
        if self.header("content-encoding") == Some("gzip") {
            gunzip(&self.body)
        } else {
            String::from_utf8(self.body.to_vec()).unwrap()
        }
    }

    fn vary(&self) -> Vec<String> {
        let mut tokens: Vec<String> = Vec::new();
        for line in self.all("vary") {
            for token in line
                .split(',')
                .map(|token| token.trim().to_ascii_lowercase())
            {
                if !tokens.contains(&token) {
                    tokens.push(token);
                }
            }
        }
        tokens
    }
}

/// One request on a new HTTP/1.1 connection, with `body` as JSON when it is not empty.
async fn call(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Reply {
    let mut request = Request::builder()
        .method(Method::from_bytes(method.as_bytes()).unwrap())
        .uri(path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if !body.is_empty() {
        request = request.header("content-type", "application/json");
    }
    let request = request
        .body(Full::new(Bytes::copy_from_slice(body.as_bytes())))
        .unwrap();
    fetch(addr, request).await
}

async fn get_doc(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> Reply {
    call(addr, "GET", path, headers, "").await
}

// ---------------------------------------------------------------------------------------------
// The tests.

/// 1. A client that was sent gzip bytes holds the coded tag `"v1-gzip"` (RFC 9110 §8.8.3.3)
/// and writes with it: `If-Match: "v1-gzip"` names version v1, so its PUT and PATCH go
/// through; the same write again, with the tag now stale, is a 412 and writes nothing
/// (§13.1.1, lost-update protection). An identity client's `"v3"` works the same;
/// `W/"v3"` never does (If-Match uses the strong comparison, §8.8.3.2).
#[tokio::test]
async fn a_gzip_client_writes_with_the_tag_it_holds() {
    for (placement, addr, docs) in compressed_placements(Docs::seeded, routes, with_source).await {
        let full = get_doc(addr, "/docs/a", &[GZIP]).await;
        assert_eq!(full.status, 200, "{placement}");
        assert_eq!(full.header("content-encoding"), Some("gzip"), "{placement}");
        assert_eq!(full.header("etag"), Some("\"v1-gzip\""), "{placement}");
        assert_eq!(full.text(), DOC_A, "{placement}");

        // PUT with the coded tag.
        let v2 = r#"{"title":"Document A","text":"the second version, written by PUT"}"#;
        let put = call(
            addr,
            "PUT",
            "/docs/a",
            &[GZIP, ("if-match", "\"v1-gzip\"")],
            v2,
        )
        .await;
        assert_eq!(put.status, 204, "{placement}: PUT with the coded tag");
        assert_eq!(put.header("etag"), Some("\"v2\""), "{placement}");
        let writes = docs.writes.get();
        let again = call(
            addr,
            "PUT",
            "/docs/a",
            &[GZIP, ("if-match", "\"v1-gzip\"")],
            "{}",
        )
        .await;
        assert_eq!(
            again.status, 412,
            "{placement}: PUT with the stale coded tag"
        );
        assert_eq!(docs.writes.get(), writes, "{placement}: the handler ran");
        assert_eq!(
            docs.stored("a").await,
            Some((2, v2.to_owned())),
            "{placement}"
        );
        let read = get_doc(addr, "/docs/a", &[GZIP]).await;
        assert_eq!(read.header("etag"), Some("\"v2-gzip\""), "{placement}");
        assert_eq!(read.text(), v2, "{placement}: the stale PUT wrote");

        // PATCH with the coded tag.
        let patch = r#" /* amended by PATCH with the coded tag */"#;
        let amended = call(
            addr,
            "PATCH",
            "/docs/a",
            &[GZIP, ("if-match", "\"v2-gzip\"")],
            patch,
        )
        .await;
        assert_eq!(amended.status, 204, "{placement}: PATCH with the coded tag");
        let again = call(
            addr,
            "PATCH",
            "/docs/a",
            &[GZIP, ("if-match", "\"v2-gzip\"")],
            " /* stale */",
        )
        .await;
        assert_eq!(
            again.status, 412,
            "{placement}: PATCH with the stale coded tag"
        );
        let read = get_doc(addr, "/docs/a", &[GZIP]).await;
        assert_eq!(read.header("etag"), Some("\"v3-gzip\""), "{placement}");
        assert_eq!(
            read.text(),
            format!("{v2}{patch}"),
            "{placement}: the stale PATCH wrote"
        );

        // The identity client's tag, and its weak form.
        let identity = get_doc(addr, "/docs/a", &[]).await;
        assert_eq!(identity.header("content-encoding"), None, "{placement}");
        assert_eq!(identity.header("etag"), Some("\"v3\""), "{placement}");
        let weak = call(addr, "PUT", "/docs/a", &[("if-match", "W/\"v3\"")], "{}").await;
        assert_eq!(
            weak.status, 412,
            "{placement}: If-Match W/\"v3\" (strong comparison)"
        );
        let v4 = r#"{"title":"Document A","text":"the fourth version, from an identity client"}"#;
        let put = call(addr, "PUT", "/docs/a", &[("if-match", "\"v3\"")], v4).await;
        assert_eq!(put.status, 204, "{placement}: PUT with the identity tag");
        assert_eq!(
            docs.stored("a").await,
            Some((4, v4.to_owned())),
            "{placement}"
        );

        // And a DELETE with the coded tag of the current version.
        let stale = call(
            addr,
            "DELETE",
            "/docs/a",
            &[GZIP, ("if-match", "\"v3-gzip\"")],
            "",
        )
        .await;
        assert_eq!(
            stale.status, 412,
            "{placement}: DELETE with a stale coded tag"
        );
        let deleted = call(
            addr,
            "DELETE",
            "/docs/a",
            &[GZIP, ("if-match", "\"v4-gzip\"")],
            "",
        )
        .await;
        assert_eq!(
            deleted.status, 204,
            "{placement}: DELETE with the coded tag"
        );
        assert_eq!(
            get_doc(addr, "/docs/a", &[GZIP]).await.status,
            404,
            "{placement}"
        );
    }
}

/// 2. Two writers hold the same tag and PUT at once. Both pass the layer's check (the source
/// still says the old version); the handler works for 50 ms, then takes the lock and checks
/// again against the version it reads there: exactly one wins, the other gets a 412 naming
/// the winner's version, and the stored document is the winner's (RFC 9110 §13.1.1, the
/// lost update). Without the handler's `check`, both would "win" and one update would be lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_two_concurrent_writers_exactly_one_wins() {
    const ROUNDS: u64 = 32;
    for (placement, addr, docs) in compressed_placements(Docs::seeded, routes, with_source).await {
        let refused_before = docs.refused.get();
        for round in 0..ROUNDS {
            let version = round + 1;
            // Half the rounds the writers hold the coded tag, half the identity one.
            let gzip = round % 2 == 0;
            let accept: &[(&str, &str)] = if gzip { &[GZIP] } else { &[] };
            let read = get_doc(addr, "/docs/a", accept).await;
            let held = read.header("etag").unwrap().to_owned();
            let expected = if gzip {
                format!("\"v{version}-gzip\"")
            } else {
                format!("\"v{version}\"")
            };
            assert_eq!(held, expected, "{placement} round {round}");

            let bodies = [
                format!(
                    r#"{{"writer":"first","round":{round},"text":"the first writer's version"}}"#
                ),
                format!(
                    r#"{{"writer":"second","round":{round},"text":"the second writer's version"}}"#
                ),
            ];
            let guard = [("if-match", held.as_str())];
            let (first, second) = tokio::join!(
                call(addr, "PUT", "/docs/a", &guard, &bodies[0]),
                call(addr, "PUT", "/docs/a", &guard, &bodies[1]),
            );
            let statuses = [first.status.as_u16(), second.status.as_u16()];
            let (winner, loser) = match statuses {
                [204, 412] => (0, &second),
                [412, 204] => (1, &first),
                _ => panic!(
                    "{placement} round {round}: statuses {statuses:?}, not one 204 and one 412"
                ),
            };
            assert_eq!(
                loser.header("etag"),
                Some(format!("\"v{}\"", version + 1).as_str()),
                "{placement} round {round}: the 412 names the winner's version"
            );
            assert_eq!(
                docs.stored("a").await,
                Some((version + 1, bodies[winner].clone())),
                "{placement} round {round}: the stored document is not the winner's"
            );
        }
        let in_handler = docs.refused.get() - refused_before;
        eprintln!(
            "{placement}: {ROUNDS} rounds, {in_handler} losers refused by the handler's check, {} by the layer's",
            ROUNDS - in_handler as u64
        );
        // The race window was really exercised: losers got past the layer's check.
        assert!(
            in_handler as u64 * 2 >= ROUNDS,
            "{placement}: only {in_handler} of {ROUNDS} losers reached the handler"
        );
    }
}

/// 3. Missing documents (RFC 9110 §13.2.1): preconditions apply only where the answer without
/// them would be 2xx. A DELETE or PATCH of nothing is the handler's 404, whatever its
/// `If-Match`; a PUT, which may create, is judged: `If-Match` names no current version (412,
/// handler not run), `If-None-Match: *` creates (201), and a second create-only PUT finds the
/// document there (412).
#[tokio::test]
async fn missing_documents_keep_their_404_and_puts_are_judged() {
    for (placement, addr, docs) in compressed_placements(Docs::seeded, routes, with_source).await {
        for method in ["DELETE", "PATCH"] {
            let writes = docs.writes.get();
            let answer = call(addr, method, "/docs/b", &[("if-match", "\"v1\"")], "{}").await;
            assert_eq!(
                answer.status, 404,
                "{placement} {method} of a missing document"
            );
            assert_eq!(answer.text(), "no such document", "{placement} {method}");
            assert_eq!(
                docs.writes.get(),
                writes + 1,
                "{placement} {method}: not the handler's 404"
            );
        }

        let writes = docs.writes.get();
        let answer = call(addr, "PUT", "/docs/b", &[("if-match", "\"v1\"")], DOC_A).await;
        assert_eq!(
            answer.status, 412,
            "{placement}: PUT If-Match of a missing document"
        );
        assert_eq!(
            answer.header("etag"),
            None,
            "{placement}: no current tag to send"
        );
        assert_eq!(docs.writes.get(), writes, "{placement}: the handler ran");
        assert_eq!(docs.stored("b").await, None, "{placement}");

        let created = call(addr, "PUT", "/docs/b", &[("if-none-match", "*")], DOC_A).await;
        assert_eq!(created.status, 201, "{placement}: create-only PUT");
        assert_eq!(created.header("etag"), Some("\"v1\""), "{placement}");
        assert_eq!(
            docs.stored("b").await,
            Some((1, DOC_A.to_owned())),
            "{placement}"
        );
        let writes = docs.writes.get();
        let again = call(addr, "PUT", "/docs/b", &[("if-none-match", "*")], "{}").await;
        assert_eq!(
            again.status, 412,
            "{placement}: create-only PUT of an existing document"
        );
        assert_eq!(again.header("etag"), Some("\"v1\""), "{placement}");
        assert_eq!(docs.writes.get(), writes, "{placement}: the handler ran");
        assert_eq!(
            docs.stored("b").await,
            Some((1, DOC_A.to_owned())),
            "{placement}"
        );
    }
}

/// 2023-11-14T22:13:20Z, the modification date the dated source reports.
const MODIFIED_SECONDS: u64 = 1_700_000_000;
const MODIFIED: &str = "Tue, 14 Nov 2023 22:13:20 GMT";
const DAY_BEFORE: &str = "Mon, 13 Nov 2023 22:13:20 GMT";
const DAY_AFTER: &str = "Wed, 15 Nov 2023 22:13:20 GMT";

fn requiring(docs: &Docs, modified: Option<SystemTime>) -> ConditionalLayer {
    ConditionalLayer::new()
        .validator_source(source(docs, modified))
        .require_preconditions([Method::PUT, Method::PATCH, Method::DELETE])
}

/// 4. `require_preconditions` (RFC 6585 §3): an unconditional write is a 428 that says how to
/// resubmit, is never stored (`no-store`) and never reaches the handler; `If-Match` and a
/// create-only `If-None-Match: *` go through. `If-Unmodified-Since` alone guards a write only
/// where the source reports a `Last-Modified` (without one it is ignored, RFC 9110 §13.1.4,
/// and the write would be blind): then it is judged (412 when the document changed after the
/// date). A DELETE or PATCH of a missing document is the handler's 404 before any 428
/// (§13.2.1).
#[tokio::test]
async fn unconditional_writes_are_refused_with_428() {
    for (placement, addr, docs) in
        compressed_placements(Docs::seeded, routes, |docs| requiring(docs, None)).await
    {
        for method in ["PUT", "PATCH", "DELETE"] {
            let writes = docs.writes.get();
            let blind = call(addr, method, "/docs/a", &[], "{}").await;
            assert_eq!(blind.status, 428, "{placement} unconditional {method}");
            assert_eq!(
                blind.header("cache-control"),
                Some("no-store"),
                "{placement} {method}"
            );
            assert!(
                blind.text().contains("If-Match"),
                "{placement} {method}: the 428 does not say how to resubmit: {:?}",
                blind.text()
            );
            assert_eq!(
                docs.writes.get(),
                writes,
                "{placement} {method}: the handler ran"
            );

            // If-Unmodified-Since alone, where the source knows no modification date.
            let dated = call(
                addr,
                method,
                "/docs/a",
                &[("if-unmodified-since", DAY_AFTER)],
                "{}",
            )
            .await;
            assert_eq!(
                dated.status, 428,
                "{placement} {method} with If-Unmodified-Since and no Last-Modified"
            );
            assert_eq!(
                docs.writes.get(),
                writes,
                "{placement} {method}: the handler ran"
            );
        }
        assert_eq!(
            docs.stored("a").await,
            Some((1, DOC_A.to_owned())),
            "{placement}"
        );

        let put = call(addr, "PUT", "/docs/a", &[("if-match", "\"v1\"")], DOC_A).await;
        assert_eq!(put.status, 204, "{placement}: PUT with If-Match");
        let patch = call(addr, "PATCH", "/docs/a", &[("if-match", "\"v2\"")], " ").await;
        assert_eq!(patch.status, 204, "{placement}: PATCH with If-Match");
        let created = call(addr, "PUT", "/docs/c", &[("if-none-match", "*")], DOC_A).await;
        assert_eq!(created.status, 201, "{placement}: create-only PUT");
        let deleted = call(addr, "DELETE", "/docs/c", &[("if-match", "\"v1\"")], "").await;
        assert_eq!(deleted.status, 204, "{placement}: DELETE with If-Match");

        // Missing: DELETE and PATCH get the handler's 404, PUT (which may create) the 428.
        for method in ["DELETE", "PATCH"] {
            let writes = docs.writes.get();
            let missing = call(addr, method, "/docs/nothing", &[], "{}").await;
            assert_eq!(
                missing.status, 404,
                "{placement} unconditional {method} of nothing"
            );
            assert_eq!(docs.writes.get(), writes + 1, "{placement} {method}");
        }
        let missing = call(addr, "PUT", "/docs/nothing", &[], "{}").await;
        assert_eq!(
            missing.status, 428,
            "{placement}: unconditional PUT of nothing"
        );
        assert_eq!(docs.stored("nothing").await, None, "{placement}");
    }

    // A source that knows the documents' modification date.
    let modified = UNIX_EPOCH + Duration::from_secs(MODIFIED_SECONDS);
    for (placement, addr, docs) in
        compressed_placements(Docs::seeded, routes, |docs| requiring(docs, Some(modified))).await
    {
        let read = get_doc(addr, "/docs/a", &[]).await;
        assert_eq!(read.header("last-modified"), Some(MODIFIED), "{placement}");

        let writes = docs.writes.get();
        let changed = call(
            addr,
            "PUT",
            "/docs/a",
            &[("if-unmodified-since", DAY_BEFORE)],
            "{}",
        )
        .await;
        assert_eq!(
            changed.status, 412,
            "{placement}: modified after If-Unmodified-Since"
        );
        assert_eq!(docs.writes.get(), writes, "{placement}: the handler ran");
        assert_eq!(
            docs.stored("a").await,
            Some((1, DOC_A.to_owned())),
            "{placement}"
        );

        let v2 = r#"{"title":"Document A","text":"written with If-Unmodified-Since"}"#;
        let unchanged = call(
            addr,
            "PUT",
            "/docs/a",
            &[("if-unmodified-since", DAY_AFTER)],
            v2,
        )
        .await;
        assert_eq!(unchanged.status, 204, "{placement}: not modified since");
        assert_eq!(
            docs.stored("a").await,
            Some((2, v2.to_owned())),
            "{placement}"
        );
        let unchanged = call(
            addr,
            "PATCH",
            "/docs/a",
            &[("if-unmodified-since", MODIFIED)],
            " ",
        )
        .await;
        assert_eq!(
            unchanged.status, 204,
            "{placement}: PATCH, modified exactly then"
        );
        let blind = call(addr, "DELETE", "/docs/a", &[], "").await;
        assert_eq!(blind.status, 428, "{placement}: unconditional DELETE");
    }
}

/// The value of a JSON member in a flat object of strings and numbers, by string matching
/// (serde_json is no dev-dependency): `"name":` then a string (with escapes) or a number.
fn member(json: &str, name: &str) -> Option<String> {
    let at = json.find(&format!("\"{name}\":"))? + name.len() + 3;
    let rest = &json[at..];
    if let Some(string) = rest.strip_prefix('"') {
        let mut value = String::new();
        let mut chars = string.chars();
        loop {
            match chars.next()? {
                '"' => return Some(value),
                '\\' => match chars.next()? {
                    'n' => value.push('\n'),
                    other => value.push(other),
                },
                other => value.push(other),
            }
        }
    }
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    Some(rest[..end].trim().to_owned())
}

/// Checks an RFC 9457 problem body is one JSON object with the members the layer documents.
fn assert_problem(placement: &str, reply: &Reply, status: u16, etag: Option<&str>) {
    let body = reply.text();
    assert_eq!(
        reply.header("content-type"),
        Some("application/problem+json"),
        "{placement}: {body}"
    );
    assert!(
        body.starts_with('{') && body.ends_with('}'),
        "{placement}: not a JSON object: {body}"
    );
    assert_eq!(
        member(&body, "type").as_deref(),
        Some("about:blank"),
        "{placement}: {body}"
    );
    assert_eq!(
        member(&body, "status"),
        Some(status.to_string()),
        "{placement}: {body}"
    );
    assert_eq!(
        member(&body, "title").as_deref(),
        StatusCode::from_u16(status).unwrap().canonical_reason(),
        "{placement}: {body}"
    );
    assert!(
        member(&body, "detail").is_some_and(|detail| !detail.is_empty()),
        "{placement}: {body}"
    );
    assert_eq!(
        member(&body, "precondition").as_deref(),
        Some("If-Match"),
        "{placement}: {body}"
    );
    assert_eq!(
        member(&body, "etag").as_deref(),
        etag,
        "{placement}: {body}"
    );
}

/// 5. `problem_details(true)`: the 412 and 428 the layer answers carry an RFC 9457
/// `application/problem+json` body naming the precondition and, on the 412, the current tag,
/// which the 412 also keeps as its `ETag` field; a 412 from `Preconditions::check` in a handler
/// behind the layer (no source here) carries the same body. Without `problem_details` a 412
/// has no body.
#[tokio::test]
async fn refusals_carry_problem_details_when_asked() {
    let detailed = |docs: &Docs| requiring(docs, None).problem_details(true);
    for (placement, addr, _docs) in compressed_placements(Docs::seeded, routes, detailed).await {
        for accept in [&[][..], &[GZIP][..]] {
            let stale = call(
                addr,
                "PUT",
                "/docs/a",
                &[accept, &[("if-match", "\"v0\"")]].concat(),
                "{}",
            )
            .await;
            assert_eq!(stale.status, 412, "{placement} {accept:?}");
            assert_eq!(
                stale.header("etag"),
                Some("\"v1\""),
                "{placement} {accept:?}"
            );
            assert_problem(placement, &stale, 412, Some("\"v1\""));

            let blind = call(addr, "DELETE", "/docs/a", accept, "").await;
            assert_eq!(blind.status, 428, "{placement} {accept:?}");
            assert_eq!(
                blind.header("cache-control"),
                Some("no-store"),
                "{placement}"
            );
            assert_problem(placement, &blind, 428, None);
            assert!(
                !blind.text().contains("\"etag\""),
                "{placement}: {}",
                blind.text()
            );
        }
    }

    // The handler's own 412 (no source: the stale write reaches it).
    let handler_only = |_: &Docs| ConditionalLayer::new().problem_details(true);
    for (placement, addr, docs) in compressed_placements(Docs::seeded, routes, handler_only).await {
        for accept in [&[][..], &[GZIP][..]] {
            let refused = docs.refused.get();
            let stale = call(
                addr,
                "PATCH",
                "/docs/a",
                &[accept, &[("if-match", "\"v0\"")]].concat(),
                "{}",
            )
            .await;
            assert_eq!(stale.status, 412, "{placement} {accept:?}");
            assert_eq!(
                docs.refused.get(),
                refused + 1,
                "{placement}: not the handler's 412"
            );
            assert_eq!(
                stale.header("etag"),
                Some("\"v1\""),
                "{placement} {accept:?}"
            );
            assert_problem(placement, &stale, 412, Some("\"v1\""));
        }
    }

    // Without problem details: no body.
    for (placement, addr, _docs) in compressed_placements(Docs::seeded, routes, with_source).await {
        let stale = call(
            addr,
            "PUT",
            "/docs/a",
            &[GZIP, ("if-match", "\"v0\"")],
            "{}",
        )
        .await;
        assert_eq!(stale.status, 412, "{placement}");
        assert_eq!(stale.header("etag"), Some("\"v1\""), "{placement}");
        assert!(stale.body.is_empty(), "{placement}: {:?}", stale.body);
        assert_eq!(stale.header("content-type"), None, "{placement}");
    }
}

/// The fields a 304 must not have (RFC 9110 §15.4.5: it has no content).
fn assert_no_content_fields(placement: &str, reply: &Reply) {
    for absent in CONTENT_FIELDS {
        assert_eq!(
            reply.header(absent),
            None,
            "{placement}: the 304 has {absent}"
        );
    }
    assert!(reply.body.is_empty(), "{placement}");
}

/// 6. The source's 304 carries what the 200 carries (RFC 9110 §15.4.5): the `Cache-Control`
/// and `Vary` the representation declares, once, for the source and the handler alike; the tag
/// the client holds (the coded one for a gzip client, which varies by coding); and no content
/// fields. The handler does not run.
#[tokio::test]
async fn the_sources_304_carries_what_the_200_carries() {
    for (placement, addr, docs) in compressed_placements(Docs::seeded, routes, with_source).await {
        for (client, accept, tag) in [
            ("gzip", &[GZIP][..], "\"v1-gzip\""),
            ("identity", &[][..], "\"v1\""),
        ] {
            let full = get_doc(addr, "/docs/a", accept).await;
            assert_eq!(full.status, 200, "{placement} {client}");
            assert_eq!(full.header("etag"), Some(tag), "{placement} {client}");
            assert_eq!(
                full.header("cache-control"),
                Some("no-cache"),
                "{placement} {client}"
            );
            assert_eq!(full.vary(), ["accept-encoding"], "{placement} {client}");

            let reads = docs.reads.get();
            let revalidated = get_doc(
                addr,
                "/docs/a",
                &[accept, &[("if-none-match", tag)]].concat(),
            )
            .await;
            assert_eq!(revalidated.status, 304, "{placement} {client}");
            assert_eq!(
                docs.reads.get(),
                reads,
                "{placement} {client}: the handler ran"
            );
            assert_eq!(
                revalidated.header("etag"),
                Some(tag),
                "{placement} {client}"
            );
            assert_eq!(
                revalidated.all("cache-control"),
                full.all("cache-control"),
                "{placement} {client}"
            );
            assert_eq!(revalidated.vary(), full.vary(), "{placement} {client}");
            assert_eq!(
                revalidated.all("vary"),
                full.all("vary"),
                "{placement} {client}: Vary lines"
            );
            assert_no_content_fields(&format!("{placement} {client}"), &revalidated);
        }
        // A gzip copy is no use to a client that refuses gzip (RFC 9110 §12.5.3): its coded
        // tag gets the identity 200, not a 304 telling it to use gzip bytes.
        let refused = get_doc(
            addr,
            "/docs/a",
            &[
                ("accept-encoding", "identity"),
                ("if-none-match", "\"v1-gzip\""),
            ],
        )
        .await;
        assert_eq!(refused.status, 200, "{placement}");
        assert_eq!(refused.header("etag"), Some("\"v1\""), "{placement}");
        assert_eq!(refused.header("content-encoding"), None, "{placement}");
    }
}

/// 7. HEAD around the router: axum answers HEAD by running GET and dropping the body, which
/// around the router happens before the layer sees it, so the HEAD response has no tag. A
/// response without a tag is not judged against a list of tags: `If-Match` naming GET's
/// (generated) tag is a 200, never a 412 (the layer does not know the current tag there, and
/// RFC 9110 §13.1.1 fails `If-Match` only when none of its tags is the current one), and a
/// stale `If-None-Match` is a 200 too. `/list` is no document: the source answers `Unknown`.
#[tokio::test]
async fn head_with_preconditions_naming_gets_tag_is_200() {
    for (placement, addr, _docs) in compressed_placements(Docs::seeded, routes, with_source).await {
        for (client, accept) in [("identity", &[][..]), ("gzip", &[GZIP][..])] {
            let full = get_doc(addr, "/list", accept).await;
            assert_eq!(full.status, 200, "{placement} {client}");
            assert_eq!(full.text(), LIST, "{placement} {client}");
            let tag = full.header("etag").expect("a generated tag").to_owned();

            let head = call(
                addr,
                "HEAD",
                "/list",
                &[accept, &[("if-match", &tag)]].concat(),
                "",
            )
            .await;
            assert_eq!(
                head.status, 200,
                "{placement} {client}: HEAD If-Match {tag}"
            );
            let head = call(
                addr,
                "HEAD",
                "/list",
                &[accept, &[("if-none-match", "\"stale\"")]].concat(),
                "",
            )
            .await;
            assert_eq!(
                head.status, 200,
                "{placement} {client}: HEAD with a stale If-None-Match"
            );
            let get = get_doc(addr, "/list", &[accept, &[("if-match", &tag)]].concat()).await;
            assert_eq!(get.status, 200, "{placement} {client}: GET If-Match {tag}");
        }
    }
}

/// 8. Deep ETags behind compression, no source: the GET handler's `Preconditions::check`
/// answers a gzip client's `If-None-Match: "v1-gzip"` early (it names version v1, RFC 9110
/// §8.8.3.3), and the 304 leaves the layer as a 304 should: the coded tag, `Cache-Control` and
/// `Vary` from the representation, no `Content-Encoding` although compression labelled it on
/// its way out. A write with the coded tag is judged by the handler's check alike.
#[tokio::test]
async fn a_handlers_early_304_behind_compression() {
    let without_source = |_: &Docs| ConditionalLayer::new();
    for (placement, addr, docs) in compressed_placements(Docs::seeded, routes, without_source).await
    {
        let full = get_doc(addr, "/docs/a", &[GZIP]).await;
        assert_eq!(full.status, 200, "{placement}");
        assert_eq!(full.header("content-encoding"), Some("gzip"), "{placement}");
        assert_eq!(full.header("etag"), Some("\"v1-gzip\""), "{placement}");
        assert_eq!(full.text(), DOC_A, "{placement}");

        let (reads, rendered) = (docs.reads.get(), docs.rendered.get());
        let revalidated = get_doc(addr, "/docs/a", &[GZIP, ("if-none-match", "\"v1-gzip\"")]).await;
        assert_eq!(revalidated.status, 304, "{placement}");
        assert_eq!(
            docs.reads.get(),
            reads + 1,
            "{placement}: the handler did not run"
        );
        assert_eq!(
            docs.rendered.get(),
            rendered,
            "{placement}: the handler did not answer early"
        );
        assert_eq!(
            revalidated.header("etag"),
            Some("\"v1-gzip\""),
            "{placement}"
        );
        assert_eq!(
            revalidated.header("cache-control"),
            Some("no-cache"),
            "{placement}"
        );
        assert_eq!(revalidated.vary(), ["accept-encoding"], "{placement}");
        assert_eq!(revalidated.vary(), full.vary(), "{placement}");
        assert_no_content_fields(placement, &revalidated);

        // Without a source the handler's compare-and-swap judges the coded tag too.
        let v2 = r#"{"title":"Document A","text":"written by a gzip client, no source"}"#;
        let put = call(
            addr,
            "PUT",
            "/docs/a",
            &[GZIP, ("if-match", "\"v1-gzip\"")],
            v2,
        )
        .await;
        assert_eq!(
            put.status, 204,
            "{placement}: PUT with the coded tag, no source"
        );
        let refused = docs.refused.get();
        let stale = call(
            addr,
            "PUT",
            "/docs/a",
            &[GZIP, ("if-match", "\"v1-gzip\"")],
            "{}",
        )
        .await;
        assert_eq!(
            stale.status, 412,
            "{placement}: PUT with the stale coded tag, no source"
        );
        assert_eq!(
            docs.refused.get(),
            refused + 1,
            "{placement}: not the handler's 412"
        );
        assert_eq!(
            docs.stored("a").await,
            Some((2, v2.to_owned())),
            "{placement}"
        );
    }
}
