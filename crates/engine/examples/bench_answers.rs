//! The answer assistant in the studio, at the size of a big school: 10,000 answers staff wrote
//! in 50 past classes (half Q&A answers, half chat replies to a student's message; half English,
//! half Chinese, synthetic and seeded, Zipf-distributed words), written to the school's event log
//! through the pure room, plus the demo FAQ. Prints the first suggestion (the index built from
//! the FAQ and the whole log), then `Studio::suggest_answer` latency p50/p99/max over 2,000
//! messages (the engine's whole path: the incremental read of the log and the search), in Q&A
//! and in chat, and while the class on air adds a staff answer every 10 messages. The target is
//! a suggestion within 50 ms at 10,000 stored answers.
//!
//! `cargo xtask bench answers` (`cargo run --release -p lectern-engine --example bench_answers`)

#![allow(clippy::unwrap_used, reason = "a benchmark: fail loudly")]

use std::time::Instant;

use lectern_engine::answers::{ImportFaq, SuggestAnswer};
use lectern_engine::api::StartClass;
use lectern_engine::{SchoolSource, Studio, StudioOptions};
use lectern_room::{
    Action, Event, Input, MessageId, Output, QuestionId, Recorded, Role, Room, Timestamp, ViewerId,
};
use lectern_store::NewEvent;

const ANSWERS: usize = 10_000;
const CLASSES: usize = 50;
const STUDENTS: usize = 100;
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

/// A question (ending with a question mark, so chat takes it as one) and its answer.
fn pair(rng: &mut Rng, i: usize) -> (String, String) {
    if i.is_multiple_of(2) {
        let (q, a) = (4 + rng.below(9), 15 + rng.below(30));
        (format!("{}?", english_text(rng, q)), english_text(rng, a))
    } else {
        let (q, a) = (6 + rng.below(12), 20 + rng.below(50));
        (format!("{}？", chinese_text(rng, q)), chinese_text(rng, a))
    }
}

/// A known question with some words dropped and one added, or (one in five) fresh words.
fn message(rng: &mut Rng, questions: &[String], i: usize) -> String {
    if i % 5 == 4 {
        return if i.is_multiple_of(2) {
            format!("{}?", english_text(rng, 8))
        } else {
            format!("{}？", chinese_text(rng, 12))
        };
    }
    let q = &questions[rng.below(questions.len())];
    if q.is_ascii() {
        let mut words: Vec<String> = q
            .trim_end_matches('?')
            .split(' ')
            .filter(|_| rng.below(10) >= 3)
            .map(str::to_owned)
            .collect();
        words.push(english_word(rng.zipf(ENGLISH_WORDS)));
        format!("{}?", words.join(" "))
    } else {
        let mut chars: Vec<char> = q
            .trim_end_matches('？')
            .chars()
            .filter(|_| rng.below(10) >= 3)
            .collect();
        chars.push(chinese_char(rng.zipf(CHINESE_CHARS as usize)));
        chars.push('？');
        chars.into_iter().collect()
    }
}

/// Hands the room one input at `at`, keeping its events.
fn run(room: &mut Room, log: &mut Vec<Recorded>, input: Input, at: u64) {
    for output in room.handle(input, Timestamp(at)) {
        if let Output::Event { record } = output {
            log.push(record);
        }
    }
}

/// One class's log: students ask (in Q&A or in chat) and the TA answers each, through the room.
fn class_log(rng: &mut Rng, first: usize, count: usize, start_ms: u64) -> Vec<Recorded> {
    let mut room = Room::new();
    let mut log = Vec::new();
    let ta = ViewerId::from("ta-1");
    run(
        &mut room,
        &mut log,
        Input::Join {
            viewer: ta.clone(),
            role: Role::Ta,
            name: "Sam".into(),
            fingerprint: None,
        },
        start_ms,
    );
    for s in 0..STUDENTS {
        run(
            &mut room,
            &mut log,
            Input::Join {
                viewer: ViewerId(format!("v-{s}")),
                role: Role::Viewer,
                name: format!("Student {s}"),
                fingerprint: None,
            },
            start_ms,
        );
    }
    for k in 0..count {
        let i = first + k;
        let at = start_ms + 1_000 + k as u64 * 2_000;
        let student = ViewerId(format!("v-{}", k % STUDENTS));
        let (question, answer) = pair(rng, i);
        let act = |viewer: &ViewerId, action| Input::Act {
            viewer: viewer.clone(),
            client_id: None,
            action,
        };
        if i % 4 < 2 {
            let before = log.len();
            run(
                &mut room,
                &mut log,
                act(&student, Action::Ask { text: question }),
                at,
            );
            let asked = log[before..].iter().find_map(|r| match &r.event {
                Event::QuestionAsked { question } => Some(question.id),
                _ => None,
            });
            let answer = Action::AnswerQuestion {
                question: asked.unwrap_or(QuestionId(0)),
                answer: Some(answer),
            };
            run(&mut room, &mut log, act(&ta, answer), at + 1_000);
        } else {
            let before = log.len();
            run(
                &mut room,
                &mut log,
                act(
                    &student,
                    Action::SendChat {
                        text: question,
                        reply_to: None,
                    },
                ),
                at,
            );
            let asked = log[before..].iter().find_map(|r| match &r.event {
                Event::ChatSent { message } => Some(message.id),
                _ => None,
            });
            let reply = Action::SendChat {
                text: answer,
                reply_to: asked.or(Some(MessageId(0))),
            };
            run(&mut room, &mut log, act(&ta, reply), at + 1_000);
        }
    }
    log
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

async fn timed(studio: &Studio, messages: &[String], chat: bool) -> (Vec<f64>, usize) {
    let mut times = Vec::with_capacity(messages.len());
    let mut suggested = 0;
    for text in messages {
        let t = Instant::now();
        let s = studio
            .suggest_answer(SuggestAnswer {
                text: text.clone(),
                chat,
            })
            .await
            .unwrap();
        times.push(t.elapsed().as_secs_f64() * 1e3);
        suggested += usize::from(s.suggestion.is_some());
    }
    times.sort_by(f64::total_cmp);
    (times, suggested)
}

fn report(what: &str, (times, suggested): &(Vec<f64>, usize)) {
    println!(
        "{what}: {} messages, {suggested} suggestions; p50={:.2} ms p99={:.2} ms max={:.2} ms \
         (target p99 < 50 ms)",
        times.len(),
        percentile(times, 0.5),
        percentile(times, 0.99),
        times.last().copied().unwrap_or(0.0)
    );
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let studio = Studio::open(StudioOptions::new(
        dir.path(),
        SchoolSource::Path(dir.path().join("school.lectern")),
    ))
    .await
    .unwrap();
    let store = studio.store().await.unwrap();
    studio
        .import_faq(ImportFaq {
            text: lectern_insights::answers::DEMO_FAQ.to_owned(),
        })
        .await
        .unwrap();

    // 50 past classes, their logs written as the live room writes them.
    let mut rng = Rng(2026);
    let written = Instant::now();
    let per_class = ANSWERS / CLASSES;
    let mut events = 0;
    for c in 0..CLASSES {
        let start = 1_760_000_000_000 + c as u64 * 7 * 86_400_000;
        let session = store
            .create_session(&format!("Class {c}"), None, start as i64)
            .await
            .unwrap();
        let log = class_log(&mut rng, c * per_class, per_class, start);
        let batch: Vec<NewEvent> = log
            .iter()
            .enumerate()
            .map(|(i, record)| {
                let payload = serde_json::to_value(record).unwrap();
                NewEvent {
                    session_id: session,
                    kind: record.event.kind().name(),
                    actor: record.by.as_ref().map(|v| v.0.clone()),
                    at_ms: record.at.0 as i64,
                    payload,
                    client_id: format!("{session}/{i}"),
                }
            })
            .collect();
        events += batch.len();
        for chunk in batch.chunks(2_000) {
            store.append(chunk.to_vec()).await.unwrap();
        }
        store
            .end_session(session, (start + 3_600_000) as i64)
            .await
            .unwrap();
    }
    println!(
        "log: {ANSWERS} staff answers (half Q&A, half chat replies) in {CLASSES} classes, \
         {events} events, written in {:.1} s",
        written.elapsed().as_secs_f64()
    );

    // The same questions again, for the messages.
    let mut again = Rng(2026);
    let questions: Vec<String> = (0..ANSWERS).map(|i| pair(&mut again, i).0).collect();
    let messages: Vec<String> = (0..MESSAGES)
        .map(|i| message(&mut rng, &questions, i))
        .collect();

    let t = Instant::now();
    let first = studio
        .suggest_answer(SuggestAnswer {
            text: messages[0].clone(),
            chat: false,
        })
        .await
        .unwrap();
    println!(
        "first suggestion (the index built from the FAQ and the whole log): {:.0} ms, \
         {} known answers",
        t.elapsed().as_secs_f64() * 1e3,
        first.known
    );

    report(
        "suggest_answer (Q&A)",
        &timed(&studio, &messages, false).await,
    );
    report(
        "suggest_answer (chat)",
        &timed(&studio, &messages, true).await,
    );

    // The class on air: a student asks and the TA answers every 10 messages.
    studio
        .start_class(StartClass {
            title: "On air".into(),
            course_id: None,
            instructor: None,
            record: None,
        })
        .await
        .unwrap();
    let room = studio.live_room().await.unwrap();
    let (ta, student) = (ViewerId::from("ta-live"), ViewerId::from("v-live"));
    for (viewer, role) in [(&ta, Role::Ta), (&student, Role::Viewer)] {
        room.submit(Input::Join {
            viewer: viewer.clone(),
            role,
            name: String::new(),
            fingerprint: None,
        })
        .await
        .unwrap();
    }
    let mut times = Vec::with_capacity(MESSAGES);
    let mut suggested = 0;
    for (i, chunk) in messages.chunks(10).enumerate() {
        let (question, answer) = pair(&mut rng, i);
        room.submit(Input::Act {
            viewer: student.clone(),
            client_id: None,
            action: Action::Ask { text: question },
        })
        .await
        .unwrap();
        room.submit(Input::Act {
            viewer: ta.clone(),
            client_id: None,
            action: Action::AnswerQuestion {
                question: QuestionId(i as u64 + 1),
                answer: Some(answer),
            },
        })
        .await
        .unwrap();
        let (mut t, s) = timed(&studio, chunk, false).await;
        times.append(&mut t);
        suggested += s;
    }
    times.sort_by(f64::total_cmp);
    report(
        "suggest_answer while the class on air adds an answer every 10 messages",
        &(times, suggested),
    );
    let known = studio
        .suggest_answer(SuggestAnswer {
            text: String::new(),
            chat: false,
        })
        .await
        .unwrap()
        .known;
    println!("known answers at the end: {known}");
    studio.close().await.unwrap();
}
