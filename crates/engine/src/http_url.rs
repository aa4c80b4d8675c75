//! The one check of a URL the studio stores for a server elsewhere (a shop's feed, a relay
//! server's WHEP endpoint): `http` or `https`, at most 2,000 characters, no credentials in it,
//! and, for a server the studio itself asks, not on this machine or a private network unless
//! the instructor allows it (`private_address`; see `lectern_media::outbound`).

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

/// [`checked`], for a server the studio itself will ask: also refused when it names this
/// machine or a private network, unless `allow_private`.
pub(crate) fn checked_outbound(
    url: &str,
    what: &str,
    allow_private: bool,
) -> Result<reqwest::Url, ApiError> {
    let parsed = checked(url, what)?;
    if !allow_private && lectern_media::outbound::names_private_host(&parsed) {
        return Err(ApiError::new(
            ErrorCode::PrivateAddress,
            format!(
                "{what} is on this machine or a private network: allow private addresses for it if you mean it"
            ),
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
