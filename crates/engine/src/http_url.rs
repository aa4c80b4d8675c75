//! The one check of a URL the studio stores for a server elsewhere (a shop's feed, a relay
//! server's WHEP endpoint): `http` or `https`, at most 2,000 characters, no credentials in it.

use crate::{ApiError, ErrorCode};

/// The longest URL the studio keeps.
pub(crate) const MAX_URL_CHARS: usize = 2_000;

/// `url` (trimmed) parsed, or `invalid_input` naming `what` ("the feed URL").
pub(crate) fn checked(url: &str, what: &str) -> Result<reqwest::Url, ApiError> {
    let url = url.trim();
    let invalid = |why: &str| ApiError::new(ErrorCode::InvalidInput, format!("{what} {why}"));
    let parsed = reqwest::Url::parse(url).map_err(|e| invalid(&format!("is not a URL ({e})")))?;
    if !matches!(parsed.scheme(), "http" | "https") || url.len() > MAX_URL_CHARS {
        return Err(invalid("must be http or https, at most 2,000 characters"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(invalid(
            "must not carry a user name or password (a token goes in its own field)",
        ));
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_urls_without_credentials_pass() {
        assert_eq!(
            checked(" https://shop.example/feed.json ", "the feed URL")
                .unwrap()
                .as_str(),
            "https://shop.example/feed.json"
        );
        for bad in [
            "not a url",
            "ftp://shop.example/x",
            "javascript:alert(1)",
            "https://user:pw@shop.example/",
            &format!("https://shop.example/{}", "a".repeat(MAX_URL_CHARS)),
        ] {
            let err = checked(bad, "the feed URL").unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidInput, "{bad}");
            assert!(err.message.starts_with("the feed URL "), "{}", err.message);
        }
    }
}
