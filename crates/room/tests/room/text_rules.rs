//! The text rules as a table: input, cleaned output.

use lectern_room::text::{clean, clean_name, contains_link, graphemes, names_confusable};

#[test]
fn names_are_cleaned() {
    let cases: &[(&str, &str)] = &[
        ("  Ada   Lovelace ", "Ada Lovelace"),
        ("\u{202E}gnp.exe\u{202C}", "gnp.exe"),
        ("a\u{2066}b\u{2069}c\u{200F}", "abc"),
        ("tab\there\nnew", "tab here new"),
        ("Z\u{0301}\u{0302}\u{0303}\u{0304}", "\u{179}\u{0302}"), // Ź + one more
        ("e\u{0301}", "\u{e9}"),                                  // NFC
        ("\u{0000}nul\u{0007}bell", "nulbell"),
    ];
    for (input, want) in cases {
        assert_eq!(&clean_name(input), want, "input {input:?}");
    }
}

#[test]
fn chat_keeps_newlines() {
    assert_eq!(clean("one\ntwo\u{202E}", true), "one\ntwo");
}

#[test]
fn graphemes_count_what_people_see() {
    let cases: &[(&str, usize)] = &[
        ("abc", 3),
        ("👨‍👩‍👧‍👦", 1),
        ("🇫🇷🇩🇪", 2),
        ("e\u{0301}", 1),
        ("", 0),
    ];
    for (input, want) in cases {
        assert_eq!(graphemes(input), *want, "input {input:?}");
    }
}

#[test]
fn skeletons_match_confusables() {
    let same: &[(&str, &str)] = &[
        ("Instructor", "Instructоr"),
        ("Grace Hopper", "GRACE H0PPER"),
        ("paypal", "pаypаl"),
        ("Alan", "ΑIan"),
    ];
    for (a, b) in same {
        assert!(names_confusable(a, b), "{a:?} vs {b:?}");
    }
    assert!(names_confusable("INSTRUCTOR", "instructor"));
    assert!(!names_confusable("Ada", "Alan"));
    assert!(!names_confusable("Bob", "Rob"));
}

#[test]
fn links_are_detected() {
    let cases: &[(&str, bool)] = &[
        ("https://x.y", true),
        ("go to www.site", true),
        ("free-stuff.com now", true),
        ("see (bit.ly/abc)", true),
        ("version 1.2 is out", false),
        ("end of sentence. Next", false),
        ("e.g. this", false),
    ];
    for (input, want) in cases {
        assert_eq!(contains_link(input), *want, "input {input:?}");
    }
}
