//! Browser keys the school issues: a student's pseudonymous id comes from a key this studio
//! signed, never from one the client made up.
//!
//! A key is `bk1-<nonce>-<sig>`: 16 random bytes and the first 16 bytes of an HMAC of them with
//! the school's install secret (both hex). The room issues one in the welcome to a student who
//! has none it signed, and `/whep` issues one to a player that starts watching without one;
//! the page keeps it. Making identities is therefore bounded per network address: a fresh key
//! costs a token from the address's bucket ([`KeyRate`]), and a ban can extend to the address
//! the banned student joined from, for the rest of the class, so a private window from the
//! same place gets no new key. Addresses live in memory only, for the class on air; the log
//! never holds one.
//!
//! The decisions are pure, with time as a parameter ([`KeyGate`]); [`BrowserKeys`] holds the
//! gate for the studio.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::Mutex;

use lectern_room::ViewerId;

use crate::ApiError;
use crate::studio::{keyed_hex, same_secret};

/// What every issued key starts with.
pub const KEY_PREFIX: &str = "bk1-";
const LABEL: &[u8] = b"lectern-browser-key-v1:";
/// Addresses the gate remembers before it forgets the ones whose buckets are full again.
const MAX_TRACKED: usize = 20_000;

/// How many fresh keys one network address may be issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyRate {
    /// At once (a classroom behind one address arrives together).
    pub burst: u32,
    /// Then per minute.
    pub per_minute: u32,
}

impl Default for KeyRate {
    /// 60 at once, then 30 a minute: a class of 60 behind one school router joins in one go;
    /// a script minting identities gets one every 2 seconds.
    fn default() -> Self {
        KeyRate {
            burst: 60,
            per_minute: 30,
        }
    }
}

/// Why no fresh key was issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyRefusal {
    /// This address has been issued too many keys lately.
    TooMany {
        /// When the next one would be issued.
        retry_after_ms: u64,
    },
    /// A student banned from this class joined from this address.
    AddressBanned,
}

impl KeyRefusal {
    /// The refusal in words, for the student.
    pub fn message(&self) -> String {
        match self {
            KeyRefusal::TooMany { retry_after_ms } => format!(
                "too many new visitors from your network address; try again in {} s",
                retry_after_ms.div_ceil(1000).max(1)
            ),
            KeyRefusal::AddressBanned => {
                "new visitors from your network address are refused for the rest of this class"
                    .into()
            }
        }
    }
}

/// A new key from 16 random bytes (`nonce`).
pub(crate) fn mint(secret: &[u8; 32], nonce: &[u8; 16]) -> Result<String, ApiError> {
    let nonce: String = nonce.iter().map(|b| format!("{b:02x}")).collect();
    let sig = keyed_hex(secret, LABEL, nonce.as_bytes(), 16)?;
    Ok(format!("{KEY_PREFIX}{nonce}-{sig}"))
}

/// The page's own random nonce (32 hex), which the school signs into its key: the room's
/// welcome and the video's WHEP answer both sign the same nonce, so a first visit that does
/// both at once gets one identity, not two. Anything else is no nonce.
pub(crate) fn nonce_of(given: &str) -> Option<[u8; 16]> {
    let given = given.trim();
    if given.len() != 32 || !given.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut nonce = [0u8; 16];
    for (i, byte) in nonce.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&given[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(nonce)
}

/// Whether this school issued `key`.
pub(crate) fn verify(secret: &[u8; 32], key: &str) -> bool {
    let Some(rest) = key.strip_prefix(KEY_PREFIX) else {
        return false;
    };
    let Some((nonce, sig)) = rest.split_once('-') else {
        return false;
    };
    if nonce.len() != 32 || !nonce.bytes().all(|b| b.is_ascii_hexdigit()) {
        return false;
    }
    keyed_hex(secret, LABEL, nonce.as_bytes(), 16)
        .is_ok_and(|expected| same_secret(sig.as_bytes(), expected.as_bytes()))
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at_ms: i64,
}

/// Fresh keys per address and the address bans of the class on air: pure, time a parameter.
#[derive(Debug)]
pub struct KeyGate {
    rate: KeyRate,
    buckets: HashMap<IpAddr, Bucket>,
    /// The class these addresses belong to.
    session: Option<i64>,
    /// Where each student of the class joined from (the last address).
    addresses: HashMap<ViewerId, IpAddr>,
    /// Addresses refused fresh keys for the rest of the class.
    banned: HashSet<IpAddr>,
}

impl KeyGate {
    /// A gate with this rate.
    pub fn new(rate: KeyRate) -> KeyGate {
        KeyGate {
            rate,
            buckets: HashMap::new(),
            session: None,
            addresses: HashMap::new(),
            banned: HashSet::new(),
        }
    }

    /// Addresses and bans belong to one class: a new class starts with none.
    fn in_class(&mut self, session: i64) {
        if self.session != Some(session) {
            self.session = Some(session);
            self.addresses.clear();
            self.banned.clear();
        }
    }

    fn refill(&self, bucket: Bucket, now_ms: i64) -> f64 {
        let per_ms = f64::from(self.rate.per_minute) / 60_000.0;
        let elapsed = (now_ms - bucket.at_ms).max(0) as f64;
        (bucket.tokens + elapsed * per_ms).min(f64::from(self.rate.burst))
    }

    /// May `address` be issued a fresh key now, in `session` (when a class is on air)? Takes a
    /// token when it may.
    pub fn admit(
        &mut self,
        address: IpAddr,
        session: Option<i64>,
        now_ms: i64,
    ) -> Result<(), KeyRefusal> {
        if let Some(session) = session {
            self.in_class(session);
            if self.banned.contains(&address) {
                return Err(KeyRefusal::AddressBanned);
            }
        }
        if self.buckets.len() >= MAX_TRACKED && !self.buckets.contains_key(&address) {
            let full = f64::from(self.rate.burst);
            let now = now_ms;
            let rate = self.rate;
            self.buckets.retain(|_, b| {
                let per_ms = f64::from(rate.per_minute) / 60_000.0;
                b.tokens + (now - b.at_ms).max(0) as f64 * per_ms < full
            });
        }
        let bucket = self.buckets.get(&address).copied().unwrap_or(Bucket {
            tokens: f64::from(self.rate.burst),
            at_ms: now_ms,
        });
        let tokens = self.refill(bucket, now_ms);
        if tokens < 1.0 {
            let per_ms = f64::from(self.rate.per_minute.max(1)) / 60_000.0;
            let retry_after_ms = ((1.0 - tokens) / per_ms).ceil() as u64;
            self.buckets.insert(
                address,
                Bucket {
                    tokens,
                    at_ms: now_ms,
                },
            );
            return Err(KeyRefusal::TooMany { retry_after_ms });
        }
        self.buckets.insert(
            address,
            Bucket {
                tokens: tokens - 1.0,
                at_ms: now_ms,
            },
        );
        Ok(())
    }

    /// `viewer` joined `session` from `address`.
    pub fn joined(&mut self, session: i64, viewer: &ViewerId, address: IpAddr) {
        self.in_class(session);
        if self.addresses.len() < MAX_TRACKED || self.addresses.contains_key(viewer) {
            self.addresses.insert(viewer.clone(), address);
        }
    }

    /// Refuse fresh keys, for the rest of `session`, to the address `viewer` joined from.
    /// Returns whether an address was known.
    pub fn ban_address_of(&mut self, session: i64, viewer: &ViewerId) -> bool {
        self.in_class(session);
        match self.addresses.get(viewer).copied() {
            Some(address) => {
                self.banned.insert(address);
                true
            }
            None => false,
        }
    }
}

/// The studio's gate, shared by its room sessions and `/whep`.
#[derive(Debug)]
pub(crate) struct BrowserKeys {
    gate: Mutex<KeyGate>,
}

impl BrowserKeys {
    pub(crate) fn new(rate: KeyRate) -> BrowserKeys {
        BrowserKeys {
            gate: Mutex::new(KeyGate::new(rate)),
        }
    }

    pub(crate) fn gate(&self) -> std::sync::MutexGuard<'_, KeyGate> {
        self.gate.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: [u8; 32] = [7; 32];

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([10, 0, 0, last])
    }

    #[test]
    fn a_key_verifies_only_with_the_secret_that_signed_it() {
        let key = mint(&SECRET, &[1; 16]).unwrap();
        assert!(key.starts_with(KEY_PREFIX) && key.len() == 4 + 32 + 1 + 32);
        assert!(verify(&SECRET, &key));
        assert!(!verify(&[8; 32], &key));
        let mut forged = key.clone();
        forged.replace_range(10..11, if &key[10..11] == "0" { "1" } else { "0" });
        assert!(!verify(&SECRET, &forged));
        assert!(!verify(&SECRET, "browser-key-ann-0001"));
        assert!(!verify(&SECRET, "bk1-short-00"));
    }

    #[test]
    fn a_pages_nonce_is_signed_into_the_same_key_each_time() {
        let nonce = nonce_of("00112233445566778899AABBCCDDEEFF").unwrap();
        let key = mint(&SECRET, &nonce).unwrap();
        assert_eq!(key, mint(&SECRET, &nonce).unwrap());
        assert!(key.starts_with("bk1-00112233445566778899aabbccddeeff-"));
        assert!(nonce_of("browser-key-ann-0001").is_none());
        assert!(nonce_of(&"g".repeat(32)).is_none());
        assert!(nonce_of(&key).is_none());
    }

    #[test]
    fn an_address_gets_its_burst_then_the_rate() {
        let mut gate = KeyGate::new(KeyRate {
            burst: 3,
            per_minute: 6,
        });
        for _ in 0..3 {
            assert_eq!(gate.admit(ip(1), None, 0), Ok(()));
        }
        assert_eq!(
            gate.admit(ip(1), None, 0),
            Err(KeyRefusal::TooMany {
                retry_after_ms: 10_000
            })
        );
        // Another address is not affected.
        assert_eq!(gate.admit(ip(2), None, 0), Ok(()));
        assert!(gate.admit(ip(1), None, 9_000).is_err());
        assert_eq!(gate.admit(ip(1), None, 10_000), Ok(()));
    }

    #[test]
    fn an_address_ban_lasts_for_its_class() {
        let mut gate = KeyGate::new(KeyRate::default());
        let troll = ViewerId::from("v-troll");
        gate.joined(1, &troll, ip(9));
        assert!(gate.ban_address_of(1, &troll));
        assert_eq!(
            gate.admit(ip(9), Some(1), 0),
            Err(KeyRefusal::AddressBanned)
        );
        assert_eq!(gate.admit(ip(8), Some(1), 0), Ok(()));
        // The next class starts with no bans.
        assert_eq!(gate.admit(ip(9), Some(2), 0), Ok(()));
        assert!(!gate.ban_address_of(2, &troll));
    }
}
