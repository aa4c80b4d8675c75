//! The TA's answer assistant at the size of a big school: 10,000 known answers (half English,
//! half Chinese, synthetic and seeded, with Zipf-distributed words so common terms have long
//! postings) plus the demo FAQ, then 2,000 messages (known questions with words dropped and
//! added, and unrelated ones); prints the index build time and `suggest` latency p50/p99/max.
//! The target is a suggestion within 50 ms at 10,000 answers.
//!
//! `cargo xtask bench faq` (`cargo run --release -p lectern-insights --example bench_faq`)

#![allow(clippy::unwrap_used, reason = "a benchmark: fail loudly")]

use std::hint::black_box;
use std::time::Instant;

use lectern_insights::answers::{
    AnswerSource, DEFAULT_THRESHOLD, KnownAnswer, demo_index, suggest,
};

const ANSWERS: usize = 10_000;
const MESSAGES: usize = 2_000;
const ENGLISH_WORDS: usize = 5_000;
const CHINESE_CHARS: u32 = 3_500;

/// SplitMix64: the same data on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// A rank in 0..n, Zipf-like (probability about 1/(rank+1)).
    fn zipf(&mut self, n: usize) -> usize {
        let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        (((n as f64 + 1.0).powf(u)) as usize)
            .saturating_sub(1)
            .min(n - 1)
    }
}

fn english_word(rank: usize) -> String {
    const SYLLABLES: [&str; 16] = [
        "ka", "lo", "mi", "ren", "tus", "ve", "dor", "pa", "si", "gle", "nu", "tra", "bo", "em",
        "fi", "qua",
    ];
    let mut word = String::new();
    let mut r = rank + 16;
    while r > 0 {
        word.push_str(SYLLABLES[r % 16]);
        r /= 16;
    }
    word
}

fn chinese_char(rank: usize) -> char {
    char::from_u32(0x4e00 + (rank as u32 * 11) % CHINESE_CHARS * 5).unwrap_or('学')
}

fn english_text(rng: &mut Rng, words: usize) -> String {
    (0..words)
        .map(|_| english_word(rng.zipf(ENGLISH_WORDS)))
        .collect::<Vec<_>>()
        .join(" ")
}

fn chinese_text(rng: &mut Rng, chars: usize) -> String {
    (0..chars)
        .map(|_| chinese_char(rng.zipf(CHINESE_CHARS as usize)))
        .collect()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn main() {
    let mut rng = Rng(2026);
    let mut known = Vec::with_capacity(ANSWERS);
    for i in 0..ANSWERS {
        let (question, answer) = if i % 2 == 0 {
            let q = 4 + rng.below(9);
            let a = 15 + rng.below(30);
            (english_text(&mut rng, q), english_text(&mut rng, a))
        } else {
            let q = 6 + rng.below(12);
            let a = 20 + rng.below(50);
            (chinese_text(&mut rng, q), chinese_text(&mut rng, a))
        };
        known.push(KnownAnswer {
            question,
            answer,
            source: AnswerSource::StaffReply {
                session: (i / 100) as i64,
                message: i as u64,
            },
            at_ms: i as i64,
        });
    }
    let messages: Vec<String> = (0..MESSAGES)
        .map(|i| {
            if i % 5 == 4 {
                // Unrelated: fresh words.
                return if i % 2 == 0 {
                    english_text(&mut rng, 8)
                } else {
                    chinese_text(&mut rng, 12)
                };
            }
            let q = &known[rng.below(ANSWERS)].question;
            if q.is_ascii() {
                let mut words: Vec<String> = q
                    .split(' ')
                    .filter(|_| rng.below(10) >= 3)
                    .map(str::to_owned)
                    .collect();
                words.push(english_word(rng.zipf(ENGLISH_WORDS)));
                words.join(" ")
            } else {
                let mut chars: Vec<char> = q.chars().filter(|_| rng.below(10) >= 3).collect();
                chars.push(chinese_char(rng.zipf(CHINESE_CHARS as usize)));
                chars.into_iter().collect()
            }
        })
        .collect();

    let started = Instant::now();
    let mut index = demo_index(0);
    let added = index.insert_all(known).unwrap();
    let build = started.elapsed();
    println!(
        "index: {} known answers ({added} synthetic + the demo FAQ), built in {:.0} ms \
         ({:.1} us per insert)",
        index.len(),
        build.as_secs_f64() * 1e3,
        build.as_secs_f64() * 1e6 / index.len() as f64
    );

    // Warm up, then time each message.
    for m in messages.iter().take(100) {
        black_box(suggest(&index, m, DEFAULT_THRESHOLD));
    }
    let mut times_ms = Vec::with_capacity(MESSAGES);
    let mut suggested = 0;
    for m in &messages {
        let t = Instant::now();
        let s = black_box(suggest(&index, m, DEFAULT_THRESHOLD));
        times_ms.push(t.elapsed().as_secs_f64() * 1e3);
        suggested += usize::from(s.is_some());
    }
    times_ms.sort_by(f64::total_cmp);
    println!(
        "suggest: {MESSAGES} messages, {suggested} suggestions; p50={:.2} ms p99={:.2} ms \
         max={:.2} ms (target p99 < 50 ms)",
        percentile(&times_ms, 0.5),
        percentile(&times_ms, 0.99),
        times_ms.last().copied().unwrap_or(0.0)
    );

    // A new answer joins while the index is large.
    let t = Instant::now();
    index
        .insert(KnownAnswer {
            question: "Will the final project be graded by the instructor?".to_owned(),
            answer: "Yes, within a week of the deadline.".to_owned(),
            source: AnswerSource::QandA {
                session: 1,
                question: 1,
            },
            at_ms: 0,
        })
        .unwrap();
    println!(
        "insert into {} answers: {:.3} ms",
        index.len() - 1,
        t.elapsed().as_secs_f64() * 1e3
    );
}
