//! Text as retrieval sees it: normalised, then cut into terms, the same way for known questions
//! and for what students ask.
//!
//! Normalisation is a small NFKC-like folding that needs no Unicode tables beyond the standard
//! library: full-width ASCII to half-width, the ideographic space to a space, lowercase,
//! apostrophes dropped inside words ("don't" -> "dont"), every other non-alphanumeric character
//! (ASCII and CJK punctuation, symbols, emoji) to a space, whitespace collapsed. Simplified and
//! traditional Chinese are not folded into each other.
//!
//! Terms: a run of Latin letters and digits is a word (English stop words dropped, a light
//! suffix stemmer applied); a run of CJK characters gives its characters and its character
//! bigrams, so no Chinese word list is needed.

/// The text, folded: lowercase, half-width, punctuation removed, whitespace collapsed.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.chars() {
        let c = fold_width(c);
        if matches!(c, '\'' | '\u{2019}' | '\u{2018}' | '\u{02bc}') {
            continue; // "don't" -> "dont", "what's" -> "whats"
        }
        if c.is_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.extend(c.to_lowercase());
        } else {
            pending_space = true;
        }
    }
    out
}

/// Full-width ASCII forms (U+FF01..U+FF5E) to ASCII, the ideographic space to a space.
fn fold_width(c: char) -> char {
    match c {
        '\u{ff01}'..='\u{ff5e}' => char::from_u32(u32::from(c) - 0xfee0).unwrap_or(c),
        '\u{3000}' => ' ',
        _ => c,
    }
}

/// Chinese, Japanese and Korean characters: each is a term, and so is each adjacent pair.
pub fn is_cjk(c: char) -> bool {
    matches!(c,
        '\u{4e00}'..='\u{9fff}'     // CJK unified ideographs
        | '\u{3400}'..='\u{4dbf}'   // extension A
        | '\u{f900}'..='\u{faff}'   // compatibility ideographs
        | '\u{20000}'..='\u{2ffff}' // extensions B and later
        | '\u{3040}'..='\u{30ff}'   // hiragana, katakana
        | '\u{ac00}'..='\u{d7af}'   // hangul syllables
    )
}

/// English words too common to tell one question from another. Question words are here too:
/// "when" and "how" in a paraphrase rarely match the ones in the known question.
const STOP_WORDS: &[&str] = &[
    "a", "about", "after", "again", "all", "also", "am", "an", "and", "any", "anything", "are",
    "as", "at", "be", "been", "before", "being", "but", "by", "can", "cant", "could", "did", "do",
    "does", "doing", "dont", "for", "from", "get", "got", "had", "has", "have", "having", "he",
    "her", "here", "him", "his", "how", "i", "id", "if", "im", "in", "into", "is", "it", "its",
    "ive", "just", "let", "me", "might", "more", "much", "my", "need", "no", "not", "now", "of",
    "on", "one", "only", "or", "our", "out", "please", "same", "shall", "she", "should", "so",
    "some", "still", "than", "that", "thats", "the", "their", "them", "then", "there", "these",
    "they", "this", "those", "to", "too", "up", "us", "very", "want", "was", "we", "were", "what",
    "whats", "when", "where", "which", "while", "who", "why", "will", "with", "would", "yes",
    "you", "your",
];

/// Chinese particles and pronouns that carry no topic on their own; dropped as single-character
/// terms (they still take part in bigrams).
const CJK_STOP_CHARS: &[char] = &[
    '的', '了', '吗', '呢', '吧', '啊', '呀', '么', '嘛', '哦', '嗯', '我', '你', '您', '他', '她',
    '是', '在', '也', '就', '都', '还', '和', '个', '这', '那', '能', '可', '以', '要', '会', '有',
    '没', '不',
];

/// Words that make a message a greeting or thanks rather than a question.
const GREETING_WORDS: &[&str] = &[
    "hi",
    "hello",
    "hey",
    "hiya",
    "yo",
    "everyone",
    "everybody",
    "guys",
    "folks",
    "all",
    "thanks",
    "thank",
    "thx",
    "ty",
    "good",
    "morning",
    "afternoon",
    "evening",
    "night",
    "bye",
    "goodbye",
    "ok",
    "okay",
    "lol",
    "haha",
    "great",
    "nice",
    "cool",
    "awesome",
    "teacher",
    "sir",
    "welcome",
    "cheers",
    "wow",
];

/// Chinese greetings and thanks, removed from a message before judging whether anything is left.
const GREETING_PHRASES: &[&str] = &[
    "大家好",
    "老师好",
    "同学们好",
    "你好",
    "您好",
    "谢谢",
    "感谢",
    "多谢",
    "好的",
    "再见",
    "哈哈",
    "早上好",
    "晚上好",
    "下午好",
    "收到",
    "明白",
    "老师",
    "大家",
    "辛苦",
];

/// A light English stemmer: plurals, then -ing or -ed. Enough to meet "refunds" with "refund"
/// and "recordings" with "recorded" without a dictionary. (Cutting words to their first 5-7
/// letters as well changed top-1 by at most one paraphrase in 80, so it is not done.)
fn stem(word: &str) -> &str {
    if !word.is_ascii() || word.len() <= 3 {
        return word;
    }
    let mut word = word;
    for suffixes in [&["es", "s"][..], &["ing", "ed"][..]] {
        for suffix in suffixes {
            if let Some(stem) = word.strip_suffix(suffix) {
                let keeps_enough = stem.len() >= 3;
                let not_a_plain_s = *suffix != "s" || !(stem.ends_with('s') || stem.ends_with('u'));
                if keeps_enough && not_a_plain_s {
                    word = stem;
                    break;
                }
            }
        }
    }
    word
}

/// What a text gives retrieval: its terms (with repeats) and how much content it has.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Terms {
    /// Terms in order, repeats kept (term frequencies count them).
    pub terms: Vec<String>,
}

/// Cuts normalised text into terms. Greetings and thanks are left out ("hello everyone, how do
/// I ..." is the question without them).
pub fn terms(normalized: &str) -> Terms {
    let mut out = Terms::default();
    let text = without_greeting_phrases(normalized);
    for word in text.split(' ') {
        let mut latin = String::new();
        let mut cjk: Vec<char> = Vec::new();
        for c in word.chars() {
            if is_cjk(c) {
                flush_latin(&mut latin, &mut out);
                cjk.push(c);
            } else {
                flush_cjk(&mut cjk, &mut out);
                latin.push(c);
            }
        }
        flush_latin(&mut latin, &mut out);
        flush_cjk(&mut cjk, &mut out);
    }
    out
}

fn without_greeting_phrases(normalized: &str) -> String {
    let mut text = normalized.to_owned();
    for phrase in GREETING_PHRASES {
        if text.contains(phrase) {
            text = text.replace(phrase, " ");
        }
    }
    text
}

fn flush_latin(word: &mut String, out: &mut Terms) {
    let skip = STOP_WORDS.contains(&word.as_str()) || GREETING_WORDS.contains(&word.as_str());
    if !word.is_empty() && !skip {
        out.terms.push(stem(word).to_owned());
    }
    word.clear();
}

fn flush_cjk(run: &mut Vec<char>, out: &mut Terms) {
    for (i, &c) in run.iter().enumerate() {
        if !CJK_STOP_CHARS.contains(&c) {
            out.terms.push(c.to_string());
        }
        if let Some(&next) = run.get(i + 1) {
            out.terms.push([c, next].iter().collect());
        }
    }
    run.clear();
}

/// Whether a message says enough to be a question once greetings, thanks, stop words and
/// particles are set aside: a content word and two more words ("how do I get a refund"), two
/// content words ("refund policy"), three Chinese characters that are not particles ("有没有学生价"),
/// or a content word and a character. "refund?", "退款吗", "hello everyone" and "谢谢老师" are not.
pub fn says_enough(normalized: &str) -> bool {
    let text = without_greeting_phrases(normalized);
    // Content: two per English content word, one per Chinese character that is not a particle.
    let (mut content, mut words) = (0, 0);
    for word in text.split(' ') {
        let mut latin = String::new();
        for c in word.chars() {
            if is_cjk(c) {
                count_latin(&latin, &mut content, &mut words);
                latin.clear();
                if !CJK_STOP_CHARS.contains(&c) {
                    content += 1;
                    words += 1;
                }
            } else {
                latin.push(c);
            }
        }
        count_latin(&latin, &mut content, &mut words);
    }
    content >= 3 || (content >= 2 && words >= 3)
}

fn count_latin(word: &str, content: &mut usize, words: &mut usize) {
    if word.is_empty() || GREETING_WORDS.contains(&word) {
        return;
    }
    *words += 1;
    if !STOP_WORDS.contains(&word) && !word.chars().all(|c| c.is_ascii_digit()) {
        *content += 2;
    }
}

/// English words that open a question ("can I ...", "is there ...", "what ...").
const QUESTION_OPENERS: &[&str] = &[
    "what", "whats", "how", "hows", "when", "where", "wheres", "why", "who", "whos", "whom",
    "which", "whose", "can", "cant", "could", "couldnt", "is", "isnt", "are", "arent", "am", "do",
    "dont", "does", "doesnt", "did", "didnt", "will", "wont", "would", "wouldnt", "should",
    "shouldnt", "shall", "may", "might", "has", "hasnt", "have", "havent", "was", "wasnt", "were",
    "anyone", "anybody", "any",
];

/// Words that may come before a question's opener ("so, how do I ...", "sorry, is it ...").
const QUESTION_PREAMBLE: &[&str] = &[
    "so", "and", "but", "also", "sorry", "um", "uh", "quick", "question", "please", "excuse", "me",
    "btw", "oh",
];

/// Chinese words that make a sentence a question: particles (吗, 呢), question words (什么,
/// 怎么, 哪, 谁, 几, 多少) and A-not-A forms (能不能, 有没有, 是不是).
const CJK_QUESTION_MARKERS: &[&str] = &[
    "吗",
    "么",
    "呢",
    "怎",
    "什么",
    "哪",
    "谁",
    "为何",
    "为什么",
    "几",
    "多少",
    "是否",
    "能不能",
    "可不可以",
    "有没有",
    "会不会",
    "是不是",
    "要不要",
    "如何",
    "请问",
];

/// Whether a chat message reads as a question: a question mark (ASCII or full-width), an English
/// question word or auxiliary opening it (after greetings: "hi, can I ..."), or a Chinese
/// question particle or word. Chat is mostly remarks; Q&A questions need no such test.
pub fn reads_as_question(text: &str) -> bool {
    if text.contains(['?', '\u{ff1f}']) {
        return true;
    }
    let normalized = normalize(text);
    if CJK_QUESTION_MARKERS.iter().any(|m| normalized.contains(m)) {
        return true;
    }
    normalized
        .split(' ')
        .find(|w| !GREETING_WORDS.contains(w) && !QUESTION_PREAMBLE.contains(w))
        .is_some_and(|first| QUESTION_OPENERS.contains(&first))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_width_case_and_punctuation() {
        assert_eq!(normalize("  Ｈｅｌｌｏ，　ＷＯＲＬＤ！！ "), "hello world");
        assert_eq!(normalize("怎么申请退款？（急）"), "怎么申请退款 急");
        assert_eq!(normalize("Don't—stop…  now"), "dont stop now");
    }

    #[test]
    fn cjk_gives_characters_and_bigrams() {
        let t = terms(&normalize("退款吗"));
        assert_eq!(t.terms, ["退", "退款", "款", "款吗"]);
    }

    #[test]
    fn english_drops_stop_words_and_stems() {
        let t = terms(&normalize("Where are the recorded classes?"));
        assert_eq!(t.terms, ["record", "class"]);
        let t = terms(&normalize("refunds, PDF版本"));
        assert_eq!(t.terms, ["refund", "pdf", "版", "版本", "本"]);
    }

    #[test]
    fn greetings_have_no_content() {
        for greeting in [
            "hi",
            "hello everyone",
            "谢谢老师",
            "大家好！",
            "thank you so much",
            "ok",
        ] {
            assert!(!says_enough(&normalize(greeting)), "{greeting}");
        }
        for short in ["refund?", "退款吗", "great explanation"] {
            assert!(!says_enough(&normalize(short)), "{short}");
        }
        for question in [
            "hello, how do I get a refund?",
            "怎么退款",
            "refund policy",
            "有没有学生价",
        ] {
            assert!(says_enough(&normalize(question)), "{question}");
        }
    }

    #[test]
    fn chat_questions_are_told_from_remarks() {
        for question in [
            "is the class recorded",
            "Hi, can I get a refund for this course",
            "so where are the slides",
            "Where are the slides?",
            "slides？",
            "这节课有回放吗",
            "怎么申请退款",
            "有没有学生价",
        ] {
            assert!(reads_as_question(question), "{question}");
        }
        for remark in [
            "great class today",
            "the slides are on the course page",
            "hello everyone",
            "我喜欢这节课",
            "thanks, that helps",
        ] {
            assert!(!reads_as_question(remark), "{remark}");
        }
    }
}
