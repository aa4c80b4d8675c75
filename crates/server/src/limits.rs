//! Limits per client address: how fast one address may open connections (room sockets, WHIP
//! and WHEP sessions) and how many room sockets it may hold, plus the write deadline that frees
//! a connection whose client stopped reading.
//!
//! The defaults are sized for a school behind one NAT address: a whole class opening the page at
//! the start of a lesson (each student opens a room socket and a WHEP session) passes; a script
//! opening thousands of connections a second from one address does not. IPv6 clients are counted
//! per /64, the block one household or device gets. Loopback is not exempt.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use lectern_engine::{ApiError, ErrorCode};

/// The answer to a refused connection: 429 `too_many_connections` with `Retry-After`.
pub(crate) fn refusal_response(refusal: Refusal) -> Response {
    let (message, retry) = match refusal {
        Refusal::TooFast { retry_after_secs } => (
            "too many new connections from this address; retry later",
            retry_after_secs,
        ),
        Refusal::TooMany => ("too many open connections from this address", 15),
    };
    let err = ApiError::new(ErrorCode::TooManyConnections, message);
    let mut response = (crate::api::status_of(err.code), axum::Json(err)).into_response();
    if let Ok(value) = HeaderValue::from_str(&retry.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// Middleware for the routes that open a session (`POST /whip`, `POST /whep`): one token each.
pub(crate) async fn gate_sessions(
    State(gate): State<Arc<Gate>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
    next: Next,
) -> Response {
    match gate.admit(peer.ip(), Instant::now()) {
        Ok(()) => next.run(request).await,
        Err(refusal) => refusal_response(refusal),
    }
}

/// The server's limits (see `docs/protocol.md`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// A socket write that makes no progress for this long closes the connection: a client
    /// that never reads cannot hold a task, a socket and the room's buffers for ever.
    pub write_deadline: Duration,
    /// New connections one address may open per second, sustained...
    pub connections_per_second: u32,
    /// ...and at once.
    pub connection_burst: u32,
    /// Room sockets one address may hold open at once.
    pub sockets_per_address: u32,
    /// HTTP connections one address may hold open at once (a connection upgraded to a room
    /// socket counts under `sockets_per_address` instead); more are closed on accept.
    pub connections_per_address: u32,
    /// A connection must send a request's whole head within this time, and an idle keep-alive
    /// connection is closed after it: half-sent requests cannot be held open for ever.
    pub header_read_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            write_deadline: Duration::from_secs(10),
            connections_per_second: 50,
            connection_burst: 1_000,
            sockets_per_address: 2_000,
            connections_per_address: 256,
            header_read_timeout: Duration::from_secs(10),
        }
    }
}

/// Past this many tracked addresses, idle ones are forgotten first.
const MAX_TRACKED: usize = 50_000;

/// Why a connection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Too many new connections: retry after this many seconds.
    TooFast { retry_after_secs: u64 },
    /// Too many room sockets open from this address.
    TooMany,
}

#[derive(Debug, Clone, Copy)]
struct Address {
    /// Tokens left in the bucket...
    tokens: f64,
    /// ...as of this time.
    at: Instant,
    open_sockets: u32,
    open_connections: u32,
}

/// The addresses' counters. Pure apart from the lock: time is a parameter.
#[derive(Debug)]
pub(crate) struct Gate {
    limits: Limits,
    addresses: Mutex<HashMap<IpAddr, Address>>,
}

/// One room socket counted against its address until dropped.
#[derive(Debug)]
pub(crate) struct SocketPermit {
    gate: Arc<Gate>,
    address: IpAddr,
}

impl Drop for SocketPermit {
    fn drop(&mut self) {
        if let Some(a) = self.gate.addresses().get_mut(&self.address) {
            a.open_sockets = a.open_sockets.saturating_sub(1);
        }
    }
}

/// One open HTTP connection, counted until it closes (or is upgraded and its task ends).
pub(crate) struct ConnectionPermit {
    gate: Arc<Gate>,
    address: IpAddr,
}

impl Drop for ConnectionPermit {
    fn drop(&mut self) {
        if let Some(a) = self.gate.addresses().get_mut(&self.address) {
            a.open_connections = a.open_connections.saturating_sub(1);
        }
    }
}

/// The key an address is counted under: IPv4 as is, IPv6 by its /64.
fn key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut segments = v6.segments();
                segments[4..].fill(0);
                IpAddr::V6(segments.into())
            }
        },
    }
}

impl Gate {
    pub(crate) fn new(limits: Limits) -> Self {
        Gate {
            limits,
            addresses: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn limits(&self) -> Limits {
        self.limits
    }

    /// The table; a panic elsewhere while it was held leaves only counters behind, still usable.
    fn addresses(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, Address>> {
        self.addresses
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A place for one more HTTP connection from `ip` under the per-address cap (no token: the
    /// rate applies to the sessions and sockets it opens), or `None` when it is full.
    pub(crate) fn open_connection(self: &Arc<Self>, ip: IpAddr) -> Option<ConnectionPermit> {
        let mut addresses = self.addresses();
        let burst = f64::from(self.limits.connection_burst.max(1));
        if addresses.len() >= MAX_TRACKED {
            let rate = f64::from(self.limits.connections_per_second.max(1));
            forget_idle(&mut addresses, Instant::now(), burst, rate);
        }
        let a = addresses.entry(key(ip)).or_insert(Address {
            tokens: burst,
            at: Instant::now(),
            open_sockets: 0,
            open_connections: 0,
        });
        if a.open_connections >= self.limits.connections_per_address {
            return None;
        }
        a.open_connections += 1;
        Some(ConnectionPermit {
            gate: Arc::clone(self),
            address: key(ip),
        })
    }

    /// Take one token for a new connection from `ip` at `now`.
    pub(crate) fn admit(&self, ip: IpAddr, now: Instant) -> Result<(), Refusal> {
        self.take_token(&mut self.addresses(), ip, now).map(|_| ())
    }

    /// Admit a new room socket from `ip`: a token, and a place under the per-address cap.
    pub(crate) fn open_socket(
        self: &Arc<Self>,
        ip: IpAddr,
        now: Instant,
    ) -> Result<SocketPermit, Refusal> {
        let mut addresses = self.addresses();
        let a = self.take_token(&mut addresses, ip, now)?;
        if a.open_sockets >= self.limits.sockets_per_address {
            return Err(Refusal::TooMany);
        }
        a.open_sockets += 1;
        Ok(SocketPermit {
            gate: Arc::clone(self),
            address: key(ip),
        })
    }

    /// Refill `ip`'s bucket up to `now` and take a token from it: its entry, or why not.
    fn take_token<'a>(
        &self,
        addresses: &'a mut HashMap<IpAddr, Address>,
        ip: IpAddr,
        now: Instant,
    ) -> Result<&'a mut Address, Refusal> {
        let burst = f64::from(self.limits.connection_burst.max(1));
        let rate = f64::from(self.limits.connections_per_second.max(1));
        if addresses.len() >= MAX_TRACKED {
            forget_idle(addresses, now, burst, rate);
        }
        let a = addresses.entry(key(ip)).or_insert(Address {
            tokens: burst,
            at: now,
            open_sockets: 0,
            open_connections: 0,
        });
        let elapsed = now.saturating_duration_since(a.at).as_secs_f64();
        a.tokens = (a.tokens + elapsed * rate).min(burst);
        a.at = now;
        if a.tokens >= 1.0 {
            a.tokens -= 1.0;
            Ok(a)
        } else {
            let wait = ((1.0 - a.tokens) / rate).ceil().max(1.0);
            Err(Refusal::TooFast {
                retry_after_secs: wait as u64,
            })
        }
    }
}

/// Drop addresses with a full bucket and no open socket: they are indistinguishable from new.
fn forget_idle(addresses: &mut HashMap<IpAddr, Address>, now: Instant, burst: f64, rate: f64) {
    addresses.retain(|_, a| {
        let elapsed = now.saturating_duration_since(a.at).as_secs_f64();
        a.open_sockets > 0 || a.open_connections > 0 || a.tokens + elapsed * rate < burst
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate(rate: u32, burst: u32, sockets: u32) -> Arc<Gate> {
        Arc::new(Gate::new(Limits {
            write_deadline: Duration::from_secs(1),
            connections_per_second: rate,
            connection_burst: burst,
            sockets_per_address: sockets,
            ..Limits::default()
        }))
    }

    #[test]
    fn a_burst_passes_then_the_rate_holds_per_address() {
        let g = gate(2, 5, 100);
        let t0 = Instant::now();
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        for _ in 0..5 {
            assert_eq!(g.admit(a, t0), Ok(()));
        }
        assert_eq!(
            g.admit(a, t0),
            Err(Refusal::TooFast {
                retry_after_secs: 1
            })
        );
        // Another address has its own bucket.
        assert_eq!(g.admit(b, t0), Ok(()));
        // Half a second refills one token at 2/s.
        let t1 = t0 + Duration::from_millis(500);
        assert_eq!(g.admit(a, t1), Ok(()));
        assert!(g.admit(a, t1).is_err());
        // A long pause refills to the burst, not beyond.
        let t2 = t1 + Duration::from_secs(3600);
        for _ in 0..5 {
            assert_eq!(g.admit(a, t2), Ok(()));
        }
        assert!(g.admit(a, t2).is_err());
    }

    #[test]
    fn ipv6_counts_per_64_and_mapped_v4_as_v4() {
        let g = gate(1, 1, 100);
        let t = Instant::now();
        let one: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let same_64: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let other_64: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(g.admit(one, t), Ok(()));
        assert!(g.admit(same_64, t).is_err());
        assert_eq!(g.admit(other_64, t), Ok(()));
        let v4: IpAddr = "192.0.2.7".parse().unwrap();
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(g.admit(v4, t), Ok(()));
        assert!(g.admit(mapped, t).is_err());
    }

    #[test]
    fn sockets_are_capped_per_address_and_freed_on_drop() {
        let g = gate(1000, 1000, 2);
        let t = Instant::now();
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let first = g.open_socket(a, t).unwrap();
        let _second = g.open_socket(a, t).unwrap();
        assert_eq!(g.open_socket(a, t).unwrap_err(), Refusal::TooMany);
        drop(first);
        assert!(g.open_socket(a, t).is_ok());
    }

    #[test]
    fn idle_addresses_are_forgotten_when_the_table_is_full() {
        let g = gate(10, 1, 10);
        let t = Instant::now();
        let held: IpAddr = "10.0.0.0".parse().unwrap();
        let permit = g.open_socket(held, t).unwrap();
        for i in 1..MAX_TRACKED as u32 {
            let ip = IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + i));
            g.admit(ip, t).unwrap();
        }
        // A second later every bucket is full again: the next newcomer sweeps those addresses
        // away, but not the one that still holds a socket.
        let newcomer: IpAddr = "192.0.2.1".parse().unwrap();
        g.admit(newcomer, t + Duration::from_secs(1)).unwrap();
        let tracked: Vec<IpAddr> = g.addresses().keys().copied().collect();
        assert_eq!(tracked.len(), 2, "{tracked:?}");
        assert!(tracked.contains(&held));
        drop(permit);
    }
}
