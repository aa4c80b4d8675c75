//! The built UI (`ui/dist`), embedded in release builds and read from disk in debug builds.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "../../ui/dist"]
#[allow_missing = true]
struct Dist;

/// A page or asset of the built UI, or 404.
pub(crate) fn serve(path: &str) -> Response {
    let Some(file) = Dist::get(path) else {
        if path.ends_with(".html") {
            // The UI is built by `cargo xtask run|test` (npm); a bare `cargo build` does not.
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                "The Lectern UI is not built. Run `cargo xtask run` (or `npm --prefix ui run build`).",
            )
                .into_response();
        }
        return StatusCode::NOT_FOUND.into_response();
    };
    let mime = file.metadata.mimetype();
    let cache = if path.starts_with("assets/") {
        // Vite puts a content hash in every asset name.
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let mut response = (StatusCode::OK, file.data.into_owned()).into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(mime) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    response
}
