//! Static files tagged by their bytes (feature `fs`).
//!
//! tower-http's `ServeDir` tags a file with its modification time and size. Where every
//! modification time is the same (the Nix store sets each one to 1 s after the epoch), a file
//! changed to new bytes of the same size keeps its tag, and caches are told `304 Not Modified`
//! for the old copy forever; replicas that copied the same files at different times disagree on
//! every tag. [`FileTags`] is a [`ValidatorSource`] that gives each file the tag of its bytes
//! instead: [`TagHash::CollisionResistant`](crate::TagHash::CollisionResistant) over the file's
//! content, the tag the layer would generate for the same body, identical on every machine
//! whatever the file's modification time, inode or copy time.
//!
//! Put the layer with the source in front of `ServeDir`, nothing between them:
//!
//! ```
//! use axum::Router;
//! use tower_conditional::ConditionalLayer;
//! use tower_conditional::files::FileTags;
//! use tower_http::services::ServeDir;
//!
//! let root = std::env::temp_dir();
//! let app: Router = Router::new()
//!     .fallback_service(ServeDir::new(&root))
//!     .layer(ConditionalLayer::new().validator_source(FileTags::new(&root)));
//! # let _ = app;
//! ```
//!
//! # What it costs
//!
//! A file is read and hashed once per version, on the first request that needs its tag, on
//! tokio's blocking threads: BLAKE3 hashes at several GiB/s, so the read dominates (an 8 MiB
//! file took about 12 ms from the page cache, request included, in `tests/files.rs`). A
//! version is the file's size, modification time, change time (`ctime`, which no user can set
//! back) and inode: any change to one of them hashes the file again. Every later request,
//! revalidations included, costs the `stat` calls `ServeDir` makes too (the path, then its
//! `index.html` or precompressed variants), one hop to a blocking thread, and a lookup in a
//! bounded cache ([`FileTags::max_entries`], default
//! [`DEFAULT_MAX_ENTRIES`](FileTags::DEFAULT_MAX_ENTRIES)); the file is not opened. Files larger than
//! [`FileTags::max_file_size`] (default [`DEFAULT_MAX_FILE_SIZE`](FileTags::DEFAULT_MAX_FILE_SIZE)) are not hashed: the source
//! answers [`Current::Unknown`] for them, and the layer uses `ServeDir`'s own metadata
//! validators, as without a source.
//!
//! A file whose change time is less than [`SETTLE_TIME`] old is hashed for the request but its
//! tag is not kept: a write in the same tick of the file system's clock as the hash would not
//! change the metadata, and the kept tag would name bytes the file no longer has (git's "racily
//! clean" files). Such a file is read once per request until it has settled.
//!
//! # Path mapping
//!
//! The request path is mapped to a file exactly as `ServeDir::new(root)` does it (tower-http
//! 0.7): percent-decoded (as UTF-8), `.` segments skipped, and any `..`, root or prefix segment
//! refuses the request, so no path leaves `root`. A directory path ending in `/` serves its
//! `index.html`; one without the slash is a redirect, for which the source does not answer.
//! Symbolic links are followed, as `ServeDir` follows them. Whatever `ServeDir` would not answer
//! with a file (a missing file, a redirect, a directory, an I/O error, a method other than GET
//! and HEAD) gets [`Current::Unknown`], so `ServeDir` gives its own 404 or 405 and the layer
//! evaluates that response as without a source.
//!
//! The source sees the URI the layer sees. Inside `Router::nest_service("/static", …)`, a
//! layer wrapped around `ServeDir` sees the nested path (`/app.js`), as `ServeDir` does; a layer
//! added with `Router::layer`, or around the whole router, sees the full path
//! (`/static/app.js`): set [`FileTags::strip_prefix`] there. Under `Router::fallback_service`
//! every placement sees the full path, as `ServeDir` does.
//!
//! # Which validators clients see
//!
//! The layer puts the source's `ETag` (and `Last-Modified`) on the 200 and 206 in place of
//! `ServeDir`'s, answers revalidations with a 304 before `ServeDir` runs, and evaluates `If-Range`
//! against the source's tag. Once it has evaluated a GET's or HEAD's preconditions against the
//! source's validators, it removes them from the request it hands `ServeDir`, so `ServeDir`
//! never evaluates them again against its metadata tag: a `GET` whose `If-Match` names the content
//! tag gets the file, and an old `If-None-Match` naming the metadata tag gets the current bytes,
//! not a 304. For a file the source does not know ([`Current::Unknown`]) `ServeDir` evaluates them
//! itself, and the layer evaluates its answer, as without a source.
//!
//! `Last-Modified` is the file's modification time, truncated to seconds. One at or before 1 s
//! after the epoch (the Nix store's, for every file) is no validator to the layer: it sends no
//! `Last-Modified` for it (neither the source's nor `ServeDir`'s, on 200 and 304 alike), and
//! ignores an `If-Modified-Since` or `If-Unmodified-Since` of that date where it evaluates the
//! preconditions against the source's validators.
//!
//! # Precompressed files
//!
//! Configure the same variants as on `ServeDir` ([`FileTags::precompressed_gzip`], …): the
//! source negotiates `Accept-Encoding` as `ServeDir` does and gives a variant the tag of its
//! own bytes, which the layer sends as the coded tag of that version (`"…-gzip"`, RFC 9110
//! §8.8.3.3), and every answer `Vary: accept-encoding`. Without them the layer still never puts
//! the identity bytes' strong tag on gzip bytes: a strong tag on a content-coded response
//! becomes the coded tag of its version, as it does for a compression layer between it and
//! `ServeDir`, and a revalidation of that tag gets a 304 that carries it.

use std::collections::HashMap;
use std::ffi::OsString;
use std::fs::{File, Metadata};
use std::io::{ErrorKind, Read};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::header::{ACCEPT_ENCODING, VARY};
use http::{HeaderMap, HeaderName, HeaderValue, Method, request};

use crate::EntityTag;
use crate::Representation;
use crate::rfc::fields::weighted_members;
use crate::rfc::hash::IncrementalTag;
use crate::source::{Current, SourceFuture, ValidatorSource};

/// The default [`FileTags::max_file_size`].
const DEFAULT_MAX_FILE_SIZE: u64 = 64 * 1024 * 1024;

/// The default [`FileTags::max_entries`].
const DEFAULT_MAX_ENTRIES: usize = 4096;

/// How long after its last change a file's tag is recomputed for every request instead of
/// kept: longer than the timestamp granularity of common file systems (2 s on FAT, 1 s on
/// ext3 and HFS+, a clock tick on ext4), so that a write the metadata cannot show has happened
/// before the tag is kept.
///
/// ```
/// use std::time::Duration;
///
/// assert_eq!(tower_conditional::files::SETTLE_TIME, Duration::from_secs(2));
/// ```
pub const SETTLE_TIME: Duration = Duration::from_secs(2);

/// Bytes read per `read` call while hashing.
const READ_CHUNK: usize = 64 * 1024;

/// A [`ValidatorSource`] for the files tower-http's `ServeDir::new(root)` serves: a strong
/// entity tag of each file's bytes, the same on every machine. See the [module docs](self).
///
/// Cloning is cheap; clones share the cache of tags.
///
/// ```
/// use axum::Router;
/// use tower_conditional::ConditionalLayer;
/// use tower_conditional::files::FileTags;
/// use tower_http::services::ServeDir;
///
/// let root = std::env::temp_dir();
/// // `Router::layer` wraps the nest's prefix stripping: the layer sees `/static/app.js`.
/// let app: Router = Router::new()
///     .nest_service("/static", ServeDir::new(&root))
///     .layer(
///         ConditionalLayer::new()
///             .validator_source(FileTags::new(&root).strip_prefix("/static")),
///     );
/// # let _ = app;
/// ```
#[derive(Clone, Debug)]
pub struct FileTags {
    config: Arc<Config>,
    cache: Arc<Cache>,
}

#[derive(Clone, Debug)]
struct Config {
    /// `./root`, as `ServeDir::new` builds it (an absolute root replaces the `.`).
    root: PathBuf,
    prefix: String,
    append_index_html_on_directories: bool,
    html_as_default_extension: bool,
    max_file_size: u64,
    /// Precompressed variants, as `ServeDir` tries them.
    variants: Variants,
    headers: HeaderMap,
}

#[derive(Clone, Copy, Debug, Default)]
struct Variants {
    gzip: bool,
    deflate: bool,
    br: bool,
    zstd: bool,
}

impl Variants {
    fn any(self) -> bool {
        self.gzip || self.deflate || self.br || self.zstd
    }
}

impl FileTags {
    /// The default [`max_file_size`](Self::max_file_size): 64 MiB.
    ///
    /// ```
    /// use tower_conditional::files::FileTags;
    ///
    /// assert_eq!(FileTags::DEFAULT_MAX_FILE_SIZE, 64 << 20);
    /// ```
    pub const DEFAULT_MAX_FILE_SIZE: u64 = DEFAULT_MAX_FILE_SIZE;

    /// The default [`max_entries`](Self::max_entries): tags of 4096 file versions (a few
    /// hundred bytes each, path included: about 1 MiB).
    ///
    /// ```
    /// use tower_conditional::files::FileTags;
    ///
    /// assert_eq!(FileTags::DEFAULT_MAX_ENTRIES, 4096);
    /// ```
    pub const DEFAULT_MAX_ENTRIES: usize = DEFAULT_MAX_ENTRIES;

    /// Tags for the files under `root`, mapped from request paths as `ServeDir::new(root)`
    /// maps them (a relative `root` is relative to the working directory).
    ///
    /// ```
    /// use tower_conditional::files::FileTags;
    /// use tower_conditional::TagHash;
    /// use tower_conditional::source::{Current, ValidatorSource};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    /// let root = std::env::temp_dir().join(format!("file-tags-doc-{}", std::process::id()));
    /// std::fs::create_dir_all(&root)?;
    /// std::fs::write(root.join("app.js"), "console.log(1);")?;
    ///
    /// let tags = FileTags::new(&root);
    /// let (request, ()) = http::Request::get("/app.js").body(())?.into_parts();
    /// let Current::Exists(representation) = tags.current(&request).await? else {
    ///     panic!("app.js exists");
    /// };
    /// // The tag the layer would generate for the same bytes, on any machine.
    /// let expected = TagHash::CollisionResistant.entity_tag(&[b"console.log(1);"], false);
    /// assert_eq!(representation.etag(), Some(&expected));
    ///
    /// // What ServeDir answers itself (404, 405): the source does not say.
    /// let (missing, ()) = http::Request::get("/gone.js").body(())?.into_parts();
    /// assert!(matches!(tags.current(&missing).await?, Current::Unknown));
    /// std::fs::remove_dir_all(&root)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn new(root: impl AsRef<Path>) -> Self {
        let mut base = PathBuf::from(".");
        base.push(root.as_ref());
        Self {
            config: Arc::new(Config {
                root: base,
                prefix: String::new(),
                append_index_html_on_directories: true,
                html_as_default_extension: false,
                max_file_size: DEFAULT_MAX_FILE_SIZE,
                variants: Variants::default(),
                headers: HeaderMap::new(),
            }),
            cache: Arc::new(Cache::new(DEFAULT_MAX_ENTRIES)),
        }
    }

    /// A path prefix to remove before mapping (default: none), for a layer that sees more of
    /// the path than `ServeDir` does: around a whole router that has
    /// `nest_service("/static", ServeDir::new(root))`, `strip_prefix("/static")`. Requests
    /// outside the prefix get [`Current::Unknown`].
    ///
    /// ```
    /// use axum::Router;
    /// use tower::ServiceBuilder;
    /// use tower_conditional::ConditionalLayer;
    /// use tower_conditional::files::FileTags;
    /// use tower_http::services::ServeDir;
    ///
    /// let root = std::env::temp_dir();
    /// let router: Router = Router::new().nest_service("/static", ServeDir::new(&root));
    /// // Around the router the layer sees `/static/app.js`.
    /// let app = ServiceBuilder::new()
    ///     .layer(
    ///         ConditionalLayer::new()
    ///             .validator_source(FileTags::new(&root).strip_prefix("/static")),
    ///     )
    ///     .service(router);
    /// # let _ = app;
    /// ```
    pub fn strip_prefix(mut self, prefix: impl Into<String>) -> Self {
        let prefix = prefix.into();
        Arc::make_mut(&mut self.config).prefix = prefix.trim_end_matches('/').to_owned();
        self
    }

    /// Whether a directory path ending in `/` maps to its `index.html` (default `true`), as
    /// `ServeDir::append_index_html_on_directories`; set both the same.
    ///
    /// ```
    /// use tower_conditional::files::FileTags;
    ///
    /// let tags = FileTags::new("assets").append_index_html_on_directories(false);
    /// # let _ = tags;
    /// ```
    pub fn append_index_html_on_directories(mut self, append: bool) -> Self {
        Arc::make_mut(&mut self.config).append_index_html_on_directories = append;
        self
    }

    /// Whether a missing path without an extension maps to the same path with `.html`
    /// (default `false`), as `ServeDir::html_as_default_extension`; set both the same.
    ///
    /// ```
    /// use tower_conditional::files::FileTags;
    ///
    /// let tags = FileTags::new("site").html_as_default_extension(true);
    /// # let _ = tags;
    /// ```
    pub fn html_as_default_extension(mut self, append: bool) -> Self {
        Arc::make_mut(&mut self.config).html_as_default_extension = append;
        self
    }

    /// Files larger than this many bytes are not hashed (default [`DEFAULT_MAX_FILE_SIZE`](Self::DEFAULT_MAX_FILE_SIZE)):
    /// the source answers [`Current::Unknown`] for them, so `ServeDir`'s own validators
    /// (modification time and size) are used.
    ///
    /// ```
    /// use tower_conditional::files::FileTags;
    ///
    /// let tags = FileTags::new("assets").max_file_size(8 * 1024 * 1024);
    /// # let _ = tags;
    /// ```
    pub fn max_file_size(mut self, bytes: u64) -> Self {
        Arc::make_mut(&mut self.config).max_file_size = bytes;
        self
    }

    /// The most file versions whose tags are kept (default [`DEFAULT_MAX_ENTRIES`](Self::DEFAULT_MAX_ENTRIES)); beyond
    /// it the least recently used is forgotten, and hashed again when asked for. With `0`
    /// nothing is kept and every request reads its file.
    ///
    /// Starts a new, empty cache: call it before cloning.
    ///
    /// ```
    /// use tower_conditional::files::FileTags;
    ///
    /// let tags = FileTags::new("assets").max_entries(100_000);
    /// # let _ = tags;
    /// ```
    pub fn max_entries(mut self, entries: usize) -> Self {
        self.cache = Arc::new(Cache::new(entries));
        self
    }

    /// Serve `file.gz` to clients that accept gzip, as `ServeDir::precompressed_gzip`; set
    /// both the same. The variant gets the tag of its own bytes, sent as a coded tag (`"…-gzip"`).
    ///
    /// ```
    /// use tower_conditional::files::FileTags;
    ///
    /// let tags = FileTags::new("assets").precompressed_gzip().precompressed_br();
    /// # let _ = tags;
    /// ```
    pub fn precompressed_gzip(mut self) -> Self {
        Arc::make_mut(&mut self.config).variants.gzip = true;
        self
    }

    /// Serve `file.br` to clients that accept brotli, as `ServeDir::precompressed_br`.
    ///
    /// ```
    /// use tower_conditional::files::FileTags;
    ///
    /// let tags = FileTags::new("assets").precompressed_br();
    /// # let _ = tags;
    /// ```
    pub fn precompressed_br(mut self) -> Self {
        Arc::make_mut(&mut self.config).variants.br = true;
        self
    }

    /// Serve `file.zz` to clients that accept deflate, as `ServeDir::precompressed_deflate`.
    ///
    /// ```
    /// use tower_conditional::files::FileTags;
    ///
    /// let tags = FileTags::new("assets").precompressed_deflate();
    /// # let _ = tags;
    /// ```
    pub fn precompressed_deflate(mut self) -> Self {
        Arc::make_mut(&mut self.config).variants.deflate = true;
        self
    }

    /// Serve `file.zst` to clients that accept zstd, as `ServeDir::precompressed_zstd`.
    ///
    /// ```
    /// use tower_conditional::files::FileTags;
    ///
    /// let tags = FileTags::new("assets").precompressed_zstd();
    /// # let _ = tags;
    /// ```
    pub fn precompressed_zstd(mut self) -> Self {
        Arc::make_mut(&mut self.config).variants.zstd = true;
        self
    }

    /// Adds a header every file's 200 carries and its 304 must repeat (RFC 9110 §15.4.5), such
    /// as `Cache-Control`, or `Vary: accept-encoding` when a compression layer sits inside the
    /// conditional layer.
    ///
    /// ```
    /// use http::{HeaderValue, header::CACHE_CONTROL};
    /// use tower_conditional::files::FileTags;
    ///
    /// let tags = FileTags::new("assets")
    ///     .header(CACHE_CONTROL, HeaderValue::from_static("public, max-age=60"));
    /// # let _ = tags;
    /// ```
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        Arc::make_mut(&mut self.config).headers.append(name, value);
        self
    }

    /// How many times a file was read to hash it, since this source (or the one it was
    /// cloned from) was made: a measure of how well the cache works.
    ///
    /// ```
    /// use tower_conditional::files::FileTags;
    ///
    /// assert_eq!(FileTags::new("assets").files_hashed(), 0);
    /// ```
    pub fn files_hashed(&self) -> u64 {
        self.cache.hashed.load(Ordering::Relaxed)
    }

    /// How many file versions have their tag kept now.
    ///
    /// ```
    /// use tower_conditional::files::FileTags;
    ///
    /// assert_eq!(FileTags::new("assets").cached_entries(), 0);
    /// ```
    pub fn cached_entries(&self) -> usize {
        self.cache.lock().map.len()
    }
}

impl ValidatorSource for FileTags {
    fn current(&self, request: &request::Parts) -> SourceFuture {
        // ServeDir answers GET and HEAD only; for other methods the layer behaves as without
        // a source (and ServeDir answers 405).
        let target = if request.method == Method::GET || request.method == Method::HEAD {
            self.config.map_path(request.uri.path())
        } else {
            None
        };
        let Some(target) = target else {
            return Box::pin(std::future::ready(Ok(Current::Unknown)));
        };
        let lookup = Lookup {
            config: Arc::clone(&self.config),
            cache: Arc::clone(&self.cache),
            target,
            encodings: self.config.negotiate(&request.headers),
        };
        Box::pin(async move {
            // Metadata, and the file's bytes when it must be hashed, are read with blocking
            // calls on tokio's blocking threads: one hop instead of one per call, as tokio::fs
            // would make. Outside a runtime the lookup runs here.
            let current = match tokio::runtime::Handle::try_current() {
                Ok(runtime) => runtime
                    .spawn_blocking(move || lookup.run())
                    .await
                    .unwrap_or(Current::Unknown),
                Err(_) => lookup.run(),
            };
            Ok(current)
        })
    }
}

/// A request path mapped to a path under the root.
#[derive(Debug)]
struct Target {
    path: PathBuf,
    /// The request path (after the prefix) ends in `/`.
    trailing_slash: bool,
    /// The request path (after the prefix) is `/`.
    is_root: bool,
}

impl Config {
    /// `ServeDir`'s `build_and_validate_path`: `None` where it refuses the path (it answers
    /// 404 or calls its fallback).
    fn map_path(&self, path: &str) -> Option<Target> {
        let path = if self.prefix.is_empty() {
            path
        } else {
            let rest = path.strip_prefix(self.prefix.as_str())?;
            if rest.is_empty() {
                "/"
            } else if rest.starts_with('/') {
                rest
            } else {
                // `/static2` is not under `/static`.
                return None;
            }
        };
        let relative = path.trim_start_matches('/');
        let decoded = percent_encoding::percent_decode(relative.as_bytes())
            .decode_utf8()
            .ok()?;
        let mut mapped = self.root.clone();
        for component in Path::new(&*decoded).components() {
            match component {
                // A component that is itself more than one (`c:` on Windows) is refused, as
                // ServeDir refuses it (tower-http #204).
                Component::Normal(name)
                    if Path::new(name)
                        .components()
                        .all(|inner| matches!(inner, Component::Normal(_))) =>
                {
                    mapped.push(name);
                }
                Component::CurDir => {}
                // `..`, `/` (from `//` or `%2F/`), `C:`: never leave the root.
                _ => return None,
            }
        }
        Some(Target {
            path: mapped,
            trailing_slash: path.ends_with('/'),
            is_root: path == "/",
        })
    }

    /// The precompressed variants the client accepts, most preferred first, as `ServeDir`
    /// tries them: the highest q-value, ties broken zstd, br, gzip, deflate; `q=0` refuses.
    fn negotiate(&self, headers: &HeaderMap) -> Vec<Encoding> {
        if !self.variants.any() {
            return Vec::new();
        }
        let mut accepted: Vec<(u16, Encoding)> =
            weighted_members(headers.get_all(ACCEPT_ENCODING).iter())
                .filter_map(|(name, q)| Some((q, Encoding::parse(name, self.variants)?)))
                .collect();
        // ServeDir picks the maximum of (q, encoding) among those with q > 0 and, when that
        // variant is missing, removes every entry of that encoding and picks again.
        let mut order = Vec::new();
        // Each round removes the encoding it picked: at most one round per member.
        while let Some(&(_, best)) = accepted
            .iter()
            .filter(|(q, _)| *q > 0)
            .max_by_key(|&&(q, encoding)| (q, encoding))
        {
            // Identity ends ServeDir's search: it opens the plain file.
            if best == Encoding::Identity {
                break;
            }
            order.push(best);
            accepted.retain(|&(_, encoding)| encoding != best);
        }
        order
    }
}

/// A content coding of a precompressed variant, ordered as tower-http orders them (least
/// preferred first).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Encoding {
    Identity,
    Deflate,
    Gzip,
    Brotli,
    Zstd,
}

impl Encoding {
    fn parse(name: &str, variants: Variants) -> Option<Self> {
        if (name.eq_ignore_ascii_case("gzip") || name.eq_ignore_ascii_case("x-gzip"))
            && variants.gzip
        {
            Some(Self::Gzip)
        } else if name.eq_ignore_ascii_case("deflate") && variants.deflate {
            Some(Self::Deflate)
        } else if name.eq_ignore_ascii_case("br") && variants.br {
            Some(Self::Brotli)
        } else if name.eq_ignore_ascii_case("zstd") && variants.zstd {
            Some(Self::Zstd)
        } else if name.eq_ignore_ascii_case("identity") {
            Some(Self::Identity)
        } else {
            None
        }
    }

    fn extension(self) -> &'static str {
        match self {
            Self::Identity => "",
            Self::Deflate => ".zz",
            Self::Gzip => ".gz",
            Self::Brotli => ".br",
            Self::Zstd => ".zst",
        }
    }
}

/// One request's lookup, run on a blocking thread.
struct Lookup {
    config: Arc<Config>,
    cache: Arc<Cache>,
    target: Target,
    encodings: Vec<Encoding>,
}

impl Lookup {
    fn run(self) -> Current {
        let Some((path, metadata)) = self.resolve() else {
            return Current::Unknown;
        };
        if metadata.len() > self.config.max_file_size {
            return Current::Unknown;
        }
        let version = Version::of(&metadata);
        let Some(tag) = self.cache.tag(&path, version) else {
            return Current::Unknown;
        };
        // A precompressed variant is other bytes than the identity file: it gets the tag of
        // its own bytes, which the layer sends as the coded tag of that version.
        let mut representation = Representation::new().with_etag(tag);
        // The layer sends it in whole seconds, and treats one at or before 1 s after the epoch
        // (the Nix store's, for every file) as no validator.
        if let Some(modified) = version.modified {
            representation = representation.with_last_modified(modified);
        }
        for (name, value) in &self.config.headers {
            representation = representation.with_header(name.clone(), value.clone());
        }
        if self.config.variants.any() && !self.config.headers.contains_key(VARY) {
            // ServeDir sends it whenever variants are configured; a 304 must repeat it.
            representation =
                representation.with_header(VARY, HeaderValue::from_static("accept-encoding"));
        }
        Current::Exists(representation)
    }

    /// The file `ServeDir` would serve for the target (a variant for an accepted coding) and its
    /// metadata; `None` where `ServeDir` would not answer with a file. Mirrors tower-http 0.7's
    /// `maybe_redirect_or_append_path` and `open_file_with_fallback`.
    fn resolve(&self) -> Option<(PathBuf, Metadata)> {
        let target = &self.target;
        let mut path = target.path.clone();
        let is_directory = match std::fs::metadata(&path) {
            Ok(metadata) => Some(metadata.is_dir()),
            Err(error) if is_missing(&error) => None,
            Err(_) => return None,
        };
        if target.trailing_slash && !target.is_root && is_directory != Some(true) {
            return None; // ServeDir: 404
        }
        if self.config.html_as_default_extension
            && is_directory.is_none()
            && path.extension().is_none()
        {
            path.set_extension("html");
        } else if is_directory == Some(true) {
            if !self.config.append_index_html_on_directories || !target.trailing_slash {
                return None; // ServeDir: 404, or a redirect to the path with a slash
            }
            path.push("index.html");
        }
        for &encoding in &self.encodings {
            let mut name = path.file_name().map(OsString::from).unwrap_or_default();
            name.push(encoding.extension());
            let variant = path.with_file_name(name);
            match std::fs::metadata(&variant) {
                Ok(metadata) => return metadata.is_file().then_some((variant, metadata)),
                Err(error) if error.kind() == ErrorKind::NotFound => {}
                Err(_) => return None,
            }
        }
        let metadata = std::fs::metadata(&path).ok()?;
        // A directory (`index.html/`) or a device is not a file ServeDir streams.
        metadata.is_file().then_some((path, metadata))
    }
}

/// `ServeDir` treats these as "no such file" when it looks for a directory.
fn is_missing(error: &std::io::Error) -> bool {
    // 20 is ENOTDIR ("a/b" where "a" is a file), as tower-http checks it.
    matches!(error.kind(), ErrorKind::NotFound | ErrorKind::InvalidInput)
        || error.raw_os_error() == Some(20)
}

/// What tells one version of a file from another without reading it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Version {
    len: u64,
    modified: Option<SystemTime>,
    /// Change time (seconds, nanoseconds), inode and device, where the platform has them.
    #[cfg(unix)]
    changed: (i64, i64),
    #[cfg(unix)]
    inode: (u64, u64),
    #[cfg(not(unix))]
    created: Option<SystemTime>,
}

impl Version {
    fn of(metadata: &Metadata) -> Self {
        #[cfg(unix)]
        use std::os::unix::fs::MetadataExt;
        Self {
            len: metadata.len(),
            modified: metadata.modified().ok(),
            #[cfg(unix)]
            changed: (metadata.ctime(), metadata.ctime_nsec()),
            #[cfg(unix)]
            inode: (metadata.dev(), metadata.ino()),
            #[cfg(not(unix))]
            created: metadata.created().ok(),
        }
    }

    /// The last change the metadata shows, to tell whether the file has settled.
    fn changed_at(&self) -> Option<SystemTime> {
        #[cfg(unix)]
        {
            let (seconds, nanos) = self.changed;
            let seconds = u64::try_from(seconds).ok()?;
            let nanos = u32::try_from(nanos).ok()?;
            UNIX_EPOCH.checked_add(Duration::new(seconds, nanos))
        }
        #[cfg(not(unix))]
        {
            self.modified
        }
    }

    /// Whether a write could still follow unseen: changed less than [`SETTLE_TIME`] ago (or in
    /// the future, by this machine's clock).
    fn unsettled(&self) -> bool {
        self.changed_at()
            .and_then(|changed| SystemTime::now().duration_since(changed).ok())
            .is_none_or(|age| age < SETTLE_TIME)
    }
}

/// The tags of file versions, bounded, shared by clones of a [`FileTags`].
#[derive(Debug)]
struct Cache {
    entries: Mutex<Entries>,
    max_entries: usize,
    hashed: AtomicU64,
}

#[derive(Debug, Default)]
struct Entries {
    map: HashMap<PathBuf, Entry>,
    /// A logical clock for least-recently-used eviction.
    clock: u64,
}

/// The tag of one version of a file. The cell is filled by the first request that needs it;
/// others wait for that one instead of reading the file again.
#[derive(Debug)]
struct Entry {
    version: Version,
    tag: Arc<OnceLock<Option<EntityTag>>>,
    used: u64,
}

impl Cache {
    fn new(max_entries: usize) -> Self {
        Self {
            entries: Mutex::default(),
            max_entries,
            hashed: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        // A panic elsewhere while holding the lock leaves the map consistent (every change is
        // one insert or remove), so a poisoned lock is still used.
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The tag of `path` at `version`, hashing the file if no request has yet. The lock is
    /// held only to find or insert the entry, never while reading or hashing.
    fn tag(&self, path: &Path, version: Version) -> Option<EntityTag> {
        let cell = self.cell(path, version);
        let tag = cell
            .get_or_init(|| {
                self.hashed.fetch_add(1, Ordering::Relaxed);
                hash_file(path, version)
            })
            .clone();
        // A failed read is not kept (the next request tries again), nor is the tag of a file
        // that has not settled.
        if tag.is_none() || version.unsettled() {
            let mut entries = self.lock();
            if entries
                .map
                .get(path)
                .is_some_and(|entry| Arc::ptr_eq(&entry.tag, &cell))
            {
                entries.map.remove(path);
            }
        }
        tag
    }

    fn cell(&self, path: &Path, version: Version) -> Arc<OnceLock<Option<EntityTag>>> {
        let fresh = || Arc::new(OnceLock::new());
        if self.max_entries == 0 {
            return fresh();
        }
        let mut entries = self.lock();
        entries.clock += 1;
        let now = entries.clock;
        if let Some(entry) = entries.map.get_mut(path)
            && entry.version == version
        {
            entry.used = now;
            return Arc::clone(&entry.tag);
        }
        // A new version replaces the old one's entry; a new path may push out the least
        // recently used one. A linear scan, on misses only, which read a file anyway.
        if !entries.map.contains_key(path)
            && entries.map.len() >= self.max_entries
            && let Some(oldest) = entries
                .map
                .iter()
                .min_by_key(|(_, entry)| entry.used)
                .map(|(path, _)| path.clone())
        {
            entries.map.remove(&oldest);
        }
        let tag = fresh();
        entries.map.insert(
            path.to_path_buf(),
            Entry {
                version,
                tag: Arc::clone(&tag),
                used: now,
            },
        );
        tag
    }
}

/// Reads the file and returns the tag of its bytes, or `None` if it cannot be read or is not
/// the `version` asked for, before or after the read (a file being rewritten: its bytes may be
/// a mix of two versions, so they get no tag).
fn hash_file(path: &Path, version: Version) -> Option<EntityTag> {
    let mut file = File::open(path).ok()?;
    if Version::of(&file.metadata().ok()?) != version {
        return None;
    }
    let mut tag = IncrementalTag::new();
    let mut buffer = vec![0u8; READ_CHUNK];
    let mut total = 0u64;
    loop {
        match file.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => {
                tag.update(buffer.get(..read)?);
                total += read as u64;
                if total > version.len {
                    return None; // grew while being read
                }
            }
            Err(error) if error.kind() == ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
    (total == version.len && Version::of(&file.metadata().ok()?) == version)
        .then(|| tag.finish(false))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(config: &Config, path: &str) -> Option<PathBuf> {
        config
            .map_path(path)
            .map(|target| target.path.strip_prefix(&config.root).unwrap().to_owned())
    }

    #[test]
    fn paths_map_as_serve_dir_maps_them() {
        let tags = FileTags::new("root");
        let config = &tags.config;
        assert_eq!(config.root, Path::new("./root"));
        assert_eq!(map(config, "/a/b.txt"), Some("a/b.txt".into()));
        assert_eq!(map(config, "/a%20b.txt"), Some("a b.txt".into()));
        assert_eq!(map(config, "/./a/./b"), Some("a/b".into()));
        assert_eq!(map(config, "/"), Some("".into()));
        // An encoded slash separates components, as in ServeDir.
        assert_eq!(map(config, "/a%2Fb"), Some("a/b".into()));
        for escape in [
            "/../secret",
            "/a/../../secret",
            "/%2e%2e/secret",
            "/%2E%2E%2Fsecret",
            "/a/%2e%2e/%2e%2e/secret",
            "/%2Fetc/passwd",
            "/a%2F%2F..%2Fb",
            "/..",
            "/%ff",
        ] {
            assert_eq!(map(config, escape), None, "{escape}");
        }
    }

    #[test]
    fn prefix_is_stripped_on_segment_boundaries() {
        let tags = FileTags::new("root").strip_prefix("/static/");
        let config = &tags.config;
        assert_eq!(map(config, "/static/app.js"), Some("app.js".into()));
        assert!(config.map_path("/static").unwrap().is_root);
        assert_eq!(map(config, "/staticx/app.js"), None);
        assert_eq!(map(config, "/app.js"), None);
        assert_eq!(map(config, "/static/../x"), None);
    }

    #[test]
    fn negotiation_follows_serve_dir() {
        let tags = FileTags::new("r").precompressed_gzip().precompressed_br();
        let negotiate = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(ACCEPT_ENCODING, HeaderValue::from_str(value).unwrap());
            tags.config.negotiate(&headers)
        };
        use Encoding::*;
        assert_eq!(negotiate("gzip, deflate, br"), vec![Brotli, Gzip]);
        assert_eq!(negotiate("gzip;q=1, br;q=0.5"), vec![Gzip, Brotli]);
        assert_eq!(negotiate("br;q=0, gzip"), vec![Gzip]);
        assert_eq!(negotiate("identity, gzip;q=0.5"), Vec::<Encoding>::new());
        assert_eq!(negotiate("zstd, x-gzip"), vec![Gzip]);
        assert_eq!(negotiate("gzip;q=2"), Vec::<Encoding>::new());
        assert_eq!(negotiate("gzip;q=0.001"), vec![Gzip]);
        assert!(
            FileTags::new("r")
                .config
                .negotiate(&HeaderMap::new())
                .is_empty()
        );
    }

    #[test]
    fn tags_of_unsettled_files_are_not_kept() {
        let dir =
            std::env::temp_dir().join(format!("tower-conditional-settle-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("fresh.txt");
        std::fs::write(&path, b"just written").unwrap();
        let version = Version::of(&std::fs::metadata(&path).unwrap());
        assert!(version.unsettled());
        let cache = Cache::new(10);
        let expected = crate::TagHash::CollisionResistant.entity_tag(&[b"just written"], false);
        assert_eq!(cache.tag(&path, version), Some(expected.clone()));
        assert_eq!(cache.tag(&path, version), Some(expected));
        // Read twice, kept never: a write in the same clock tick would not show.
        assert_eq!(cache.hashed.load(Ordering::Relaxed), 2);
        assert!(cache.lock().map.is_empty());
        // A version that is not the file's gets no tag.
        let other = Version { len: 3, ..version };
        assert_eq!(cache.tag(&path, other), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
