//! Text rules for everything a person types: names, chat, questions, poll options.
//!
//! Cleaning happens before counting, so a limit is measured on what others will see.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;
use unicode_security::confusable_detection::skeleton;
use unicode_segmentation::UnicodeSegmentation;

/// At most this many combining marks are kept on one grapheme ("zalgo" is capped, Vietnamese's
/// two stacked diacritics survive).
pub const MAX_MARKS_PER_GRAPHEME: usize = 2;

/// Bidirectional controls that can reorder what follows them (Trojan Source, spoofed names).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// Controls other than newline and tab render as nothing or as garbage; they are removed.
fn is_stripped_control(c: char, keep_newlines: bool) -> bool {
    if keep_newlines && (c == '\n' || c == '\t') {
        return false;
    }
    c.is_control()
}

/// Cleans free text: bidi controls and other controls removed, combining marks capped per
/// grapheme (counted in NFD), surrounding whitespace trimmed, the result in NFC. `keep_newlines` is for chat and questions.
pub fn clean(input: &str, keep_newlines: bool) -> String {
    let filtered: String = input
        .nfd()
        .map(|c| match c {
            '\t' | '\n' | '\r' if !keep_newlines => ' ',
            c => c,
        })
        .filter(|&c| !is_bidi_control(c) && !is_stripped_control(c, keep_newlines))
        .collect();
    let mut out = String::with_capacity(filtered.len());
    for grapheme in filtered.graphemes(true) {
        let mut marks = 0;
        for c in grapheme.chars() {
            if is_combining_mark(c) {
                marks += 1;
                if marks > MAX_MARKS_PER_GRAPHEME {
                    continue;
                }
            }
            out.push(c);
        }
    }
    // Marks were counted decomposed (so a precomposed letter cannot smuggle one more); people
    // and skeletons get the composed form.
    out.trim().nfc().collect()
}

/// Cleans a display name: like [`clean`] without newlines, and with runs of white space folded
/// into one space.
pub fn clean_name(input: &str) -> String {
    clean(input, false)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The number of user-perceived characters (extended grapheme clusters).
pub fn graphemes(text: &str) -> usize {
    text.graphemes(true).count()
}

fn fold(s: &str) -> String {
    s.to_lowercase()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}

/// The UTS #39 skeleton of a text after lowercasing, without white space: for substring checks
/// (blocked terms).
pub fn name_skeleton(name: &str) -> String {
    skeleton(&fold(name)).collect()
}

/// True when two names are confusable, ignoring case and white space. Skeletons are
/// case-sensitive ("I" is a prototype of "l"), so both orders are tried: lowercase then
/// skeleton, and skeleton then lowercase.
pub fn names_confusable(a: &str, b: &str) -> bool {
    let late = |s: &str| fold(&skeleton(s).collect::<String>());
    name_skeleton(a) == name_skeleton(b) || late(a) == late(b)
}

/// True when `text` contains what looks like a link: a scheme, `www.`, or a dotted host ending in
/// a common top-level domain.
pub fn contains_link(text: &str) -> bool {
    const TLDS: &[&str] = &[
        "com", "net", "org", "io", "ly", "gg", "co", "me", "tv", "xyz", "info", "biz", "app",
        "dev", "link", "site", "online", "ru", "cn", "de", "uk", "fr", "be", "to", "sh", "us",
    ];
    let lower = text.to_lowercase();
    if lower.contains("://") || lower.contains("www.") {
        return true;
    }
    lower
        .split(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | '<' | '>' | '"' | '\''))
        .any(|token| {
            let host = token.split('/').next().unwrap_or(token);
            let host = host.trim_end_matches(['.', ',', '!', '?', ':', ';']);
            match host.rsplit_once('.') {
                Some((name, tld)) => !name.is_empty() && TLDS.contains(&tld),
                None => false,
            }
        })
}

/// True when `text` contains `term`, comparing skeletons so that look-alike letters do not
/// evade the blocked-terms list.
pub fn contains_term(text_skeleton: &str, term: &str) -> bool {
    let term = name_skeleton(term);
    !term.is_empty() && text_skeleton.contains(&term)
}
