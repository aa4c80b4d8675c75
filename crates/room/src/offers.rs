//! Offers: a follow-up course presented to the live audience as a card, with A/B variants.
//!
//! The instructor pushes an [`OfferSpec`] now or schedules it; each viewer sees one variant's
//! [`OfferCard`], with a checkout link that carries a reference code for the viewer and variant.
//!
//! # Assignment
//! [`assign_variant`] is pure and sticky: the same experiment and unit always give the same
//! variant, on every device and reconnect that shares the identity, and in every class that
//! runs the same experiment id. Text, price and discount variants are assigned per viewer (the
//! unit is the viewer id); timing variants per session (the unit is `session:<key>`), because a
//! card's timing is one fact for the whole class.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use ts_rs::TS;

use crate::error::RoomError;
use crate::model::{Timestamp, ViewerId};

/// An offer's id, chosen by the instructor's console: 1 to 40 of `A-Z a-z 0-9 _ -`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, TS)]
#[serde(transparent)]
pub struct OfferId(pub String);

impl From<&str> for OfferId {
    fn from(s: &str) -> Self {
        OfferId(s.to_owned())
    }
}

/// A variant's share of the audience, written on the wire as a number in (0, 1] and kept in
/// parts per million, so that a weight survives JSON and replay bit for bit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Weight {
    /// Parts per million; out-of-range values are kept so validation can name them.
    pub ppm: i64,
}

impl Weight {
    /// A weight from a fraction (0.25 is a quarter). Rounded to the nearest millionth.
    pub fn from_fraction(fraction: f64) -> Weight {
        // `as` saturates for huge values; JSON has no NaN, and NaN would become 0 (refused).
        Weight {
            ppm: (fraction * 1e6).round() as i64,
        }
    }

    /// The weight as a fraction.
    pub fn fraction(self) -> f64 {
        self.ppm as f64 / 1e6
    }
}

impl Serialize for Weight {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(self.fraction())
    }
}

impl<'de> Deserialize<'de> for Weight {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Weight, D::Error> {
        f64::deserialize(deserializer).map(Weight::from_fraction)
    }
}

/// One arm of an offer. Every override is optional; what is not overridden comes from the spec.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct VariantSpec {
    /// Its name, used in reports and in the reference code: 1 to 20 of `A-Z a-z 0-9 _ -`.
    pub name: String,
    /// Its share, in (0, 1]; the variants' weights sum to 1.
    #[ts(type = "number")]
    pub weight: Weight,
    /// Another title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Another call to action.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cta: Option<String>,
    /// Another price, in cents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_cents: Option<u64>,
    /// Another discount, in percent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discount_pct: Option<u32>,
    /// Timing: the minute of the class at which this variant's card appears. Either every
    /// variant has one (a timing experiment, assigned per session) or none has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minute: Option<u32>,
}

/// The one number an experiment decides on; the other is shown for information only.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum DecisionMetric {
    /// The share of viewers who buy.
    #[default]
    Conversion,
    /// What viewers pay, per viewer.
    Revenue,
}

impl DecisionMetric {
    /// The default: written only when another metric is chosen, so older logs read the same.
    pub fn is_conversion(&self) -> bool {
        *self == DecisionMetric::Conversion
    }
}

/// What the instructor asks for when pushing or scheduling an offer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct OfferSpec {
    /// Its id, unique in the room.
    pub id: OfferId,
    /// The catalog course it sells: 1 to 64 of `A-Z a-z 0-9 _ -`.
    pub course_id: String,
    /// The experiment it belongs to (defaults to the offer id): the same experiment id gives
    /// each viewer the same variant in every class.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experiment: Option<String>,
    /// What the experiment decides on, chosen before it starts (conversions by default): one
    /// primary metric, so that two readings are not two chances to find a winner.
    #[serde(default, skip_serializing_if = "DecisionMetric::is_conversion")]
    #[ts(as = "Option<DecisionMetric>", optional)]
    pub metric: DecisionMetric,
    /// The card's title, 1 to 80 graphemes.
    pub title: String,
    /// The call to action on its button, 1 to 40 graphemes.
    pub cta: String,
    /// The list price in cents (at most 100,000,000).
    pub price_cents: u64,
    /// ISO 4217 code: three upper-case letters.
    pub currency: String,
    /// 0 to 100.
    #[serde(default)]
    pub discount_pct: u32,
    /// The school's shop page: `https://` only, at most 512 bytes, no user info, no `ref`
    /// parameter (the room adds it).
    pub checkout_url: String,
    /// 1 to 4 arms with weights summing to 1.
    pub variants: Vec<VariantSpec>,
    /// The audience segment it is for (1 to 80 graphemes, a name from the school's segments):
    /// only its members see the card. Who they are is the host's to tell the room
    /// ([`crate::Room::set_segment_members`]), never in the log or on the wire.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub audience: Option<String>,
}

impl OfferSpec {
    /// The experiment id: `experiment`, or the offer id.
    pub fn experiment_id(&self) -> &str {
        self.experiment.as_deref().unwrap_or(&self.id.0)
    }

    /// Whether the variants differ in timing (assigned per session).
    pub fn is_timing_experiment(&self) -> bool {
        self.variants.iter().any(|v| v.minute.is_some())
    }

    /// The weights in parts per million, for [`assign_variant`].
    pub fn weights(&self) -> Vec<u32> {
        self.variants
            .iter()
            .map(|v| u32::try_from(v.weight.ppm.max(0)).unwrap_or(u32::MAX))
            .collect()
    }
}

/// Where an offer is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum OfferState {
    /// Waiting for its time.
    Scheduled,
    /// On viewers' screens (one offer at a time).
    Live,
    /// Withdrawn by the instructor, replaced by another offer, or ended with the class.
    Withdrawn,
}

/// Counts of one variant, for staff.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
pub struct VariantCounts {
    /// Viewers whose card was delivered (the assignment count, for sample-ratio checks).
    pub shown: u32,
    /// Viewers on whose screen the card was visible.
    pub exposures: u32,
    /// Viewers who clicked it.
    pub clicks: u32,
    /// Viewers who dismissed it.
    pub dismissals: u32,
}

/// An offer as staff see it: every variant and the live counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Offer {
    /// The cleaned specification.
    pub spec: OfferSpec,
    /// Where it is in its life.
    pub state: OfferState,
    /// When it goes (or went) live.
    pub at: Timestamp,
    /// For a timing experiment: the session's variant (everyone sees it).
    pub session_variant: Option<u8>,
    /// Per variant, in the spec's order.
    pub counts: Vec<VariantCounts>,
}

/// The card one viewer sees: their variant only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct OfferCard {
    /// Which offer.
    pub offer: OfferId,
    /// The course it sells.
    pub course_id: String,
    /// The viewer's variant index.
    pub variant: u8,
    /// Its name.
    pub variant_name: String,
    /// The title.
    pub title: String,
    /// The call to action.
    pub cta: String,
    /// The list price in cents.
    pub price_cents: u64,
    /// ISO 4217 code.
    pub currency: String,
    /// The discount in percent.
    pub discount_pct: u32,
    /// The price after the discount, in cents, rounded half up.
    pub final_price_cents: u64,
    /// The checkout link with `ref=<offer>.<variant>.<viewer>` added.
    pub checkout_url: String,
    /// This viewer's exposure was recorded.
    pub exposed: bool,
    /// This viewer's click was recorded.
    pub clicked: bool,
}

/// FNV-1a, 64 bits.
fn fnv1a64(parts: &[&[u8]]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for &byte in *part {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    hash
}

/// SplitMix64's finaliser: FNV-1a alone leaves the top bits of near-identical short ids (`v-1`,
/// `v-2`) too alike; this spreads every input bit over every output bit.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The variant of `unit` (a viewer id, or `session:<key>`) in `experiment`, given relative
/// `weights` (any positive scale; the room uses parts per million).
///
/// The hash is FNV-1a (64 bits) of the UTF-8 bytes `experiment:unit`, then SplitMix64's
/// finaliser; read as a fraction `u = hash / 2^64` in [0, 1), the variant is the first whose
/// cumulative weight share exceeds `u`. The arithmetic is in integers, so every platform and
/// every release agrees. Stable forever: changing it would move viewers between arms.
/// Weights that are all zero (or none) give 0.
pub fn assign_variant(experiment: &str, unit: &str, weights: &[u32]) -> usize {
    let total: u64 = weights.iter().map(|&w| u64::from(w)).sum();
    if total == 0 {
        return 0;
    }
    let hash = mix(fnv1a64(&[experiment.as_bytes(), b":", unit.as_bytes()]));
    // floor(u * total), exactly, in 128 bits.
    let point = ((u128::from(hash) * u128::from(total)) >> 64) as u64;
    let mut cumulative = 0u64;
    for (index, &w) in weights.iter().enumerate() {
        cumulative += u64::from(w);
        if point < cumulative {
            return index;
        }
    }
    weights.len() - 1
}

/// The unit of a timing experiment: one per session.
pub(crate) fn session_unit(session: &str) -> String {
    format!("session:{session}")
}

/// Limits of offers.
pub mod offer_limits {
    /// Offers per room (scheduled, live and withdrawn).
    pub const OFFERS: usize = 50;
    /// Variants per offer.
    pub const VARIANTS: std::ops::RangeInclusive<usize> = 1..=4;
    /// Offer, experiment and variant ids, bytes.
    pub const ID_BYTES: usize = 40;
    /// Variant names, bytes.
    pub const VARIANT_NAME_BYTES: usize = 20;
    /// Course ids, bytes.
    pub const COURSE_ID_BYTES: usize = 64;
    /// A title, graphemes.
    pub const TITLE_GRAPHEMES: usize = 80;
    /// An audience segment's name, graphemes.
    pub const AUDIENCE_GRAPHEMES: usize = 80;
    /// Segments whose members the host has told the room.
    pub const SEGMENTS: usize = 32;
    /// Members of one segment the room keeps.
    pub const SEGMENT_MEMBERS: usize = 200_000;
    /// A call to action, graphemes.
    pub const CTA_GRAPHEMES: usize = 40;
    /// The checkout URL, bytes.
    pub const CHECKOUT_URL_BYTES: usize = 512;
    /// The largest price, cents.
    pub const PRICE_CENTS_MAX: u64 = 100_000_000;
    /// A discount, percent.
    pub const DISCOUNT_PCT: std::ops::RangeInclusive<u32> = 0..=100;
    /// A scheduled minute of the class (12 hours).
    pub const MINUTE_MAX: u32 = 720;
    /// How far ahead `at_ms` may be (12 hours).
    pub const SCHEDULE_AHEAD_MS: u64 = 12 * 3600 * 1000;
    /// Weights sum to 1,000,000 ppm, give or take this much rounding.
    pub const WEIGHT_SLACK_PPM: i64 = 10;
}

use offer_limits as lim;

fn is_slug(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl OfferId {
    /// Whether this is an id an offer may have (1 to 40 of `A-Z a-z 0-9 _ -`).
    pub fn is_valid(&self) -> bool {
        is_slug(&self.0, lim::ID_BYTES)
    }
}

fn slug(s: &str, max: usize, what: &str) -> Result<(), RoomError> {
    if s.len() > max {
        return Err(RoomError::TooLong { limit: max });
    }
    if is_slug(s, max) {
        Ok(())
    } else {
        Err(RoomError::invalid(&format!(
            "{what}: 1 to {max} of A-Z a-z 0-9 _ -"
        )))
    }
}

fn bad_url(reason: &str) -> RoomError {
    RoomError::InvalidUrl {
        reason: reason.to_owned(),
    }
}

/// Checks a checkout URL: `https://`, a DNS host (optionally a port), printable ASCII only,
/// percent escapes well formed, no user info (`https://shop@evil.example`), no `ref` query
/// parameter. Returns it with the scheme and host in lower case.
pub fn checked_checkout_url(raw: &str) -> Result<String, RoomError> {
    if raw.len() > lim::CHECKOUT_URL_BYTES {
        return Err(RoomError::TooLong {
            limit: lim::CHECKOUT_URL_BYTES,
        });
    }
    const SCHEME: &str = "https://";
    let Some(prefix) = raw.get(..SCHEME.len()) else {
        return Err(bad_url("only https:// links"));
    };
    if !prefix.eq_ignore_ascii_case(SCHEME) {
        return Err(bad_url("only https:// links"));
    }
    let bytes = raw.as_bytes();
    let allowed = |b: u8| b.is_ascii_alphanumeric() || b"-._~:/?#[]@!$&'()*+,;=%".contains(&b);
    if let Some(&b) = bytes.iter().find(|&&b| !allowed(b)) {
        return Err(bad_url(&format!(
            "character {:?} is not allowed (spaces, quotes, brackets and non-ASCII must be percent-encoded)",
            char::from(b)
        )));
    }
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'%' {
            let hex = bytes.get(i + 1..i + 3);
            if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                return Err(bad_url("a % must start an escape like %20"));
            }
        }
    }
    let rest = &raw[SCHEME.len()..];
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    if authority.contains('@') {
        return Err(bad_url("no user name or password in the link"));
    }
    let (host, port) = match authority.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    };
    let labels_ok = !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    if !labels_ok {
        return Err(bad_url("the host must be a domain name"));
    }
    if let Some(port) = port
        && !(port.parse::<u16>().is_ok_and(|p| p > 0) && port.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(bad_url("the port must be 1 to 65535"));
    }
    let query = tail
        .split_once('?')
        .map(|(_, q)| q.split_once('#').map_or(q, |(q, _)| q));
    if let Some(query) = query
        && query
            .split('&')
            .any(|pair| pair.split_once('=').map_or(pair, |(k, _)| k) == "ref")
    {
        return Err(bad_url(
            "the link already has a ref parameter; the room adds it",
        ));
    }
    Ok(format!("https://{}{tail}", authority.to_ascii_lowercase()))
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
/// Percent-encodes everything but RFC 3986's unreserved characters (for a URL's query or
/// fragment value).
pub fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The checkout link for one viewer: `ref=<offer>.<variant name>.<viewer>` added to the query
/// (before any fragment), each part percent-encoded. The first two parts never contain a dot,
/// so the code splits unambiguously at its first two dots.
pub fn checkout_link(url: &str, offer: &OfferId, variant_name: &str, viewer: &ViewerId) -> String {
    let (base, fragment) = match url.split_once('#') {
        Some((base, fragment)) => (base, Some(fragment)),
        None => (url, None),
    };
    let separator = if !base.contains('?') {
        "?"
    } else if base.ends_with('?') || base.ends_with('&') {
        ""
    } else {
        "&"
    };
    let code = format!(
        "{}.{}.{}",
        encode_component(&offer.0),
        encode_component(variant_name),
        encode_component(&viewer.0)
    );
    let mut link = format!("{base}{separator}ref={code}");
    if let Some(fragment) = fragment {
        link.push('#');
        link.push_str(fragment);
    }
    link
}

/// A checkout reference code read back: which offer, variant and viewer it was made for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// The offer (its id has no dot).
    pub offer: String,
    /// The variant's name (it may contain dots).
    pub variant: String,
    /// The viewer (`v-<hex>`, no dot).
    pub viewer: ViewerId,
}

fn decode_component(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Reads a reference code made by [`checkout_link`] (`<offer>.<variant>.<viewer>`, as shops
/// export it): the offer ends at the first dot, the viewer starts after the last. `None` for
/// anything else (a shop's own codes, a truncated code).
pub fn parse_reference(code: &str) -> Option<Reference> {
    let code = code.trim();
    let (offer, rest) = code.split_once('.')?;
    let (variant, viewer) = rest.rsplit_once('.')?;
    let (offer, variant, viewer) = (
        decode_component(offer)?,
        decode_component(variant)?,
        decode_component(viewer)?,
    );
    if offer.is_empty() || variant.is_empty() || viewer.is_empty() {
        return None;
    }
    Some(Reference {
        offer,
        variant,
        viewer: ViewerId(viewer),
    })
}

fn checked_line(raw: &str, limit: usize) -> Result<String, RoomError> {
    if raw.len() > crate::protocol::MAX_FRAME_BYTES {
        return Err(RoomError::TooLong { limit });
    }
    let cleaned = crate::text::clean_name(raw);
    if cleaned.is_empty() {
        return Err(RoomError::Empty);
    }
    if crate::text::graphemes(&cleaned) > limit {
        return Err(RoomError::TooLong { limit });
    }
    Ok(cleaned)
}

fn checked_price(cents: u64) -> Result<(), RoomError> {
    if cents > lim::PRICE_CENTS_MAX {
        return Err(RoomError::OutOfRange {
            min: 0,
            max: lim::PRICE_CENTS_MAX,
        });
    }
    Ok(())
}

fn checked_discount(pct: u32) -> Result<(), RoomError> {
    if !lim::DISCOUNT_PCT.contains(&pct) {
        return Err(RoomError::OutOfRange {
            min: u64::from(*lim::DISCOUNT_PCT.start()),
            max: u64::from(*lim::DISCOUNT_PCT.end()),
        });
    }
    Ok(())
}

/// Validates and cleans a spec: every limit in [`offer_limits`].
pub(crate) fn checked_offer(spec: &OfferSpec) -> Result<OfferSpec, RoomError> {
    slug(&spec.id.0, lim::ID_BYTES, "offer id")?;
    slug(&spec.course_id, lim::COURSE_ID_BYTES, "course id")?;
    if let Some(experiment) = &spec.experiment {
        slug(experiment, lim::ID_BYTES, "experiment id")?;
    }
    let title = checked_line(&spec.title, lim::TITLE_GRAPHEMES)?;
    let cta = checked_line(&spec.cta, lim::CTA_GRAPHEMES)?;
    checked_price(spec.price_cents)?;
    if !(spec.currency.len() == 3 && spec.currency.bytes().all(|b| b.is_ascii_uppercase())) {
        return Err(RoomError::invalid(
            "currency: three upper-case letters (ISO 4217)",
        ));
    }
    checked_discount(spec.discount_pct)?;
    let checkout_url = checked_checkout_url(&spec.checkout_url)?;
    if !lim::VARIANTS.contains(&spec.variants.len()) {
        return Err(RoomError::invalid("an offer has 1 to 4 variants"));
    }
    let mut variants = Vec::with_capacity(spec.variants.len());
    for v in &spec.variants {
        slug(&v.name, lim::VARIANT_NAME_BYTES, "variant name")?;
        if variants
            .iter()
            .any(|seen: &VariantSpec| seen.name == v.name)
        {
            return Err(RoomError::invalid("two variants have the same name"));
        }
        if v.weight.ppm <= 0 || v.weight.ppm > 1_000_000 {
            return Err(RoomError::InvalidWeights {
                reason: format!("variant {}: a weight is above 0 and at most 1", v.name),
            });
        }
        if let Some(price) = v.price_cents {
            checked_price(price)?;
        }
        if let Some(pct) = v.discount_pct {
            checked_discount(pct)?;
        }
        if let Some(minute) = v.minute
            && minute > lim::MINUTE_MAX
        {
            return Err(RoomError::OutOfRange {
                min: 0,
                max: u64::from(lim::MINUTE_MAX),
            });
        }
        variants.push(VariantSpec {
            name: v.name.clone(),
            weight: v.weight,
            title: v
                .title
                .as_deref()
                .map(|t| checked_line(t, lim::TITLE_GRAPHEMES))
                .transpose()?,
            cta: v
                .cta
                .as_deref()
                .map(|t| checked_line(t, lim::CTA_GRAPHEMES))
                .transpose()?,
            price_cents: v.price_cents,
            discount_pct: v.discount_pct,
            minute: v.minute,
        });
    }
    let sum: i64 = variants.iter().map(|v| v.weight.ppm).sum();
    if (sum - 1_000_000).abs() > lim::WEIGHT_SLACK_PPM {
        return Err(RoomError::InvalidWeights {
            reason: format!("the weights sum to {}, not 1", sum as f64 / 1e6),
        });
    }
    let timed = variants.iter().filter(|v| v.minute.is_some()).count();
    if timed != 0 && timed != variants.len() {
        return Err(RoomError::invalid(
            "either every variant has a minute (a timing experiment) or none has",
        ));
    }
    Ok(OfferSpec {
        id: spec.id.clone(),
        course_id: spec.course_id.clone(),
        experiment: spec.experiment.clone(),
        metric: spec.metric,
        title,
        cta,
        price_cents: spec.price_cents,
        currency: spec.currency.clone(),
        discount_pct: spec.discount_pct,
        checkout_url,
        variants,
        audience: spec
            .audience
            .as_deref()
            .map(|a| checked_line(a, lim::AUDIENCE_GRAPHEMES))
            .transpose()?,
    })
}

/// Variant `index`'s card as a replay of the class shows it: no viewer's reference in its
/// checkout link, so a purchase made from a replay is never attributed to the live class's
/// experiment, and nothing marked exposed or clicked.
pub fn replay_card(spec: &OfferSpec, index: usize) -> Option<OfferCard> {
    let mut shown = card(spec, index, &ViewerId(String::new()), false, false)?;
    shown.checkout_url = spec.checkout_url.clone();
    Some(shown)
}

/// The card of variant `index` for `viewer`.
pub(crate) fn card(
    spec: &OfferSpec,
    index: usize,
    viewer: &ViewerId,
    exposed: bool,
    clicked: bool,
) -> Option<OfferCard> {
    let v = spec.variants.get(index)?;
    let price_cents = v.price_cents.unwrap_or(spec.price_cents);
    let discount_pct = v.discount_pct.unwrap_or(spec.discount_pct).min(100);
    // Half up; saturating, although validated prices are far from overflowing.
    let final_price_cents = price_cents
        .saturating_mul(u64::from(100 - discount_pct))
        .saturating_add(50)
        / 100;
    Some(OfferCard {
        offer: spec.id.clone(),
        course_id: spec.course_id.clone(),
        variant: u8::try_from(index).ok()?,
        variant_name: v.name.clone(),
        title: v.title.clone().unwrap_or_else(|| spec.title.clone()),
        cta: v.cta.clone().unwrap_or_else(|| spec.cta.clone()),
        price_cents,
        currency: spec.currency.clone(),
        discount_pct,
        final_price_cents,
        checkout_url: checkout_link(&spec.checkout_url, &spec.id, &v.name, viewer),
        exposed,
        clicked,
    })
}
