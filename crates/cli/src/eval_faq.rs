//! `lectern eval faq`: how well the TA's answer assistant finds the FAQ entry a held-out
//! paraphrase means, and how often it stays silent when it should.
//!
//! The index is the demo school's embedded FAQ (`assets/faq/demo-faq.csv`); a school's own FAQ
//! is not stored yet. Answers given in past classes are not indexed either: the log's
//! `question_answered` events name the question but carry no answer text, and staff chat replies
//! do not say which question they answer. The school file is read only to count them.

use std::path::Path;

use anyhow::{Context, Result, bail};
use lectern_insights::answers::{
    Accuracy, DEFAULT_THRESHOLD, DEMO_PARAPHRASES_EN, DEMO_PARAPHRASES_ZH, DEMO_UNRELATED,
    Paraphrase, demo_index, evaluate, parse_paraphrases,
};

/// Prints `faq en|zh top1=X top3=Y`, `faq top1=X top3=Y` overall, then the refusals and false
/// answers at the threshold (the assistant's default unless given) and the confidence's
/// reliability.
pub async fn eval_faq(db: &Path, paraphrases: Option<&Path>, threshold: Option<f64>) -> Result<()> {
    let threshold = threshold.unwrap_or(DEFAULT_THRESHOLD);
    if !(0.0..=1.0).contains(&threshold) {
        bail!("the threshold is a confidence, between 0 and 1");
    }
    let store = lectern_store::Store::open_existing(db)
        .with_context(|| format!("opening {}", db.display()))?;
    let answered: i64 = store
        .read(|conn| {
            Ok(conn.query_row(
                "SELECT COUNT(*) FROM events WHERE kind = ?1",
                [lectern_room::EventKind::QuestionAnswered.name()],
                |row| row.get(0),
            )?)
        })
        .await
        .context("counting the answered questions in the log")?;
    store.close().await.context("closing the school")?;

    let set = match paraphrases {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            parse_paraphrases(&text).with_context(|| format!("reading {}", path.display()))?
        }
        None => {
            let mut all: Vec<Paraphrase> = Vec::new();
            for (name, text) in [
                ("paraphrases-en.csv", DEMO_PARAPHRASES_EN),
                ("paraphrases-zh.csv", DEMO_PARAPHRASES_ZH),
                ("unrelated.csv", DEMO_UNRELATED),
            ] {
                all.extend(parse_paraphrases(text).with_context(|| format!("reading {name}"))?);
            }
            all
        }
    };
    let index = demo_index(0);
    if index.is_empty() {
        bail!("the demo FAQ could not be read");
    }
    let e = evaluate(&index, &set, threshold).context("evaluating the paraphrases")?;

    println!(
        "index: {} known answers from the demo FAQ; {answered} answered Q&A questions in the log \
         not indexed (their events carry no answer text)",
        index.len()
    );
    let line = |label: &str, a: &Accuracy| {
        if a.n > 0 {
            println!(
                "faq {label}top1={:.3} top3={:.3} (n={})",
                a.top1_rate(),
                a.top3_rate(),
                a.n
            );
        }
    };
    line("en ", &e.english);
    line("zh ", &e.chinese);
    line("", &e.overall);
    println!(
        "at threshold {:.2}: answered={:.3} false_answers={:.3} ({} of {} paraphrases answered, {} wrongly)",
        e.threshold,
        e.overall.answered_rate(),
        e.overall.false_answer_rate(),
        e.overall.answered,
        e.overall.n,
        e.overall.answered_wrong
    );
    if e.unrelated > 0 {
        println!(
            "unrelated refused={:.3} ({} of {})",
            e.refusal_rate(),
            e.refused,
            e.unrelated
        );
    }
    println!("confidence  paraphrases  best answer right");
    for bin in &e.calibration {
        let right = if bin.n == 0 {
            "-".to_owned()
        } else {
            format!("{:.2}", bin.right as f64 / bin.n as f64)
        };
        println!(
            "{:.1}-{:.1}     {:>5}        {right}",
            bin.low, bin.high, bin.n
        );
    }
    Ok(())
}
