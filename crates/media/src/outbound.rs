//! The rules for requests the studio makes to servers elsewhere (the relay's WHIP server, a
//! shop's feed): never to an address on the studio's own machine or network unless the
//! instructor said so for that server. A URL naming such an address is refused when it is set
//! (`private_address`); a name is checked when it resolves, at every connection, so a name that
//! later points inside (DNS rebinding) is refused too. Redirects stay on the same origin
//! ([`same_origin_redirects`]).

use std::net::{IpAddr, SocketAddr};

use crate::relay::same_origin_redirects;

/// Whether `ip` is on this machine or a private network: loopback, RFC 1918, shared address
/// space (100.64/10), link-local (cloud metadata lives at 169.254.169.254), unspecified,
/// broadcast, multicast, and their IPv6 counterparts (unique local, link-local, mapped IPv4).
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || (a == 100 && (64..128).contains(&b))
                || a == 0
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_private(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
        }
    }
}

/// Whether `url` names this machine or a private network by itself: an address in it, or
/// `localhost` (names are checked when they resolve).
pub fn names_private_host(url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else {
        return true;
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return is_private(ip);
    }
    let name = bare.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost" || name.ends_with(".localhost")
}

/// Resolves names to public addresses only; a name with none left is an error that says so.
#[derive(Debug, Clone, Copy, Default)]
pub struct PublicAddresses;

impl reqwest::dns::Resolve for PublicAddresses {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let all: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> = all.into_iter().filter(|a| !is_private(a.ip())).collect();
            if public.is_empty() {
                return Err(format!(
                    "{host} is on this machine or a private network (private_address): allow private addresses for this server to use it"
                )
                .into());
            }
            Ok(Box::new(public.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// An HTTP client for a server elsewhere: same-origin redirects, and public addresses only
/// unless `allow_private`.
pub fn client_builder(allow_private: bool) -> reqwest::ClientBuilder {
    let builder = reqwest::Client::builder().redirect(same_origin_redirects());
    if allow_private {
        builder
    } else {
        builder.dns_resolver(std::sync::Arc::new(PublicAddresses))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_public_addresses() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:192.168.1.1",
        ] {
            assert!(is_private(private.parse().unwrap()), "{private}");
        }
        for public in [
            "93.184.216.34",
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700::1111",
        ] {
            assert!(!is_private(public.parse().unwrap()), "{public}");
        }
        for (url, private) in [
            ("http://127.0.0.1:8080/whip", true),
            ("http://[::1]/whip", true),
            ("http://localhost/feed", true),
            ("http://api.localhost/feed", true),
            ("https://shop.example/feed", false),
            ("http://10.0.0.5/whip", true),
        ] {
            assert_eq!(
                names_private_host(&reqwest::Url::parse(url).unwrap()),
                private,
                "{url}"
            );
        }
    }

    /// A name that resolves inside is refused when the connection is made (the URL check alone
    /// would let a name through that later points at the studio's own machine).
    #[tokio::test]
    async fn a_name_that_resolves_inside_is_refused_at_connection() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let url = format!("http://localhost:{port}/feed");
        let refused = client_builder(false)
            .build()
            .unwrap()
            .get(&url)
            .send()
            .await;
        let err = refused.expect_err("a private address is refused");
        let chain = {
            let mut all = err.to_string();
            let mut source = std::error::Error::source(&err);
            while let Some(s) = source {
                all.push_str(&format!(": {s}"));
                source = s.source();
            }
            all
        };
        assert!(chain.contains("private_address"), "{chain}");
        // Allowed for this server, it connects (nothing answers HTTP here, but the socket opens).
        let allowed = client_builder(true)
            .timeout(std::time::Duration::from_millis(300))
            .build()
            .unwrap()
            .get(&url)
            .send();
        let (accepted, _) = tokio::join!(listener.accept(), allowed);
        assert!(accepted.is_ok());
    }
}
