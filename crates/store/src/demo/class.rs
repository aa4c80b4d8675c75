//! One demo class, driven through the real room (`lectern_room::Room::handle`) with time as a
//! parameter: what people do is planned as timed steps, the room decides what becomes a fact,
//! and only its records are kept. A step the room refuses (a chat after leaving, a click with no
//! card) leaves nothing, as it would live.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

use lectern_room::{
    Action, Event, Input, OfferId, OfferSpec, Output, PollId, PollSpec, QuestionId, Reaction,
    Recorded, Role, Room, Timestamp, ViewerId,
};
use serde_json::json;

use super::{Catalog, MINUTE, Rng};
use crate::error::StoreError;

/// The engine's viewer id of the instructor (`lectern_engine::room_session::INSTRUCTOR`).
pub(super) const INSTRUCTOR: &str = "instructor";

/// What the demo asks (the recipe has no questions; these fit any course).
const QUESTIONS: [&str; 8] = [
    "Could you go over the last step again?",
    "Will the slides be shared after the class?",
    "Does this work the same on Windows?",
    "What is the difference between the two approaches?",
    "Is there a recording for those who joined late?",
    "How would this scale to a bigger project?",
    "Which course should I take after this one?",
    "Can you show a real-world example?",
];

/// The room reaction closest to one of the recipe's emoji.
fn reaction_of(emoji: &str) -> Reaction {
    match emoji {
        "👍" | "💡" => Reaction::ThumbsUp,
        "❤️" | "🔥" => Reaction::Heart,
        "😂" => Reaction::Laugh,
        "👏" | "🎉" => Reaction::Clap,
        "🤯" | "😮" => Reaction::Surprised,
        "🤔" => Reaction::Confused,
        _ => Reaction::ThumbsUp,
    }
}

/// How a viewer tells the room who they are in the shop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Link {
    /// Nothing: an anonymous viewer.
    Anonymous,
    /// Their personal join link, which the host checks and hands to the room on every join.
    Personal(String),
    /// Their email, typed once with consent (the first class they link it in).
    Email(String),
}

/// One person in one class.
pub(super) struct Attendee {
    pub viewer: ViewerId,
    pub name: String,
    pub link: Link,
    /// They already own the offered course (they click far less).
    pub owns_offered: bool,
}

/// One arm of the class's offer, and how it moves people.
pub(super) struct Arm {
    pub name: &'static str,
    pub title: String,
    pub cta: &'static str,
    pub discount_pct: u32,
    /// Multiplies the chance of a click.
    pub click_lift: f64,
    /// The chance that a click ends in a purchase.
    pub buy_after_click: f64,
}

/// The offer pushed near the end of the class.
pub(super) struct OfferPlan {
    pub id: String,
    pub experiment: String,
    pub course_id: String,
    pub price_cents: u64,
    pub currency: String,
    pub checkout_url: String,
    pub arms: Vec<Arm>,
}

/// A class to run.
pub(super) struct ClassSpec<'a> {
    pub session: i64,
    pub start: i64,
    pub end: i64,
    pub instructor: &'static str,
    /// 0.2 (dull) to 1.8 (lively).
    pub lively: f64,
    pub offer: OfferPlan,
    pub catalog: &'a Catalog,
}

/// What one attendee did, as the room recorded it.
#[derive(Default, Clone)]
pub(super) struct Doings {
    /// Milliseconds in the room.
    pub present_ms: i64,
    pub chats: u32,
    pub votes: u32,
    pub questions: u32,
    /// The variant of the card whose exposure was recorded.
    pub exposed: Option<u8>,
    /// The click: when, the card's reference code and its variant.
    pub clicked: Option<(i64, String, u8)>,
    /// Their email link was recorded.
    pub email_linked: bool,
}

/// The class's records, and what each attendee did (in the order given).
pub(super) struct ClassLog {
    pub records: Vec<Recorded>,
    pub doings: Vec<Doings>,
}

enum Step {
    Join(usize),
    Leave(usize),
    Watch(usize, bool),
    LinkLearner(usize),
    LinkEmail(usize),
    Chat(usize, String),
    React(usize, Reaction),
    OpenPoll { key: usize, spec: usize },
    Vote { who: usize, key: usize, option: u8 },
    ClosePoll(usize),
    Ask { who: usize, key: usize },
    Approve(usize),
    Upvote { who: usize, key: usize },
    Answer(usize),
    PushOffer,
    Expose(usize),
    Click(usize),
    End,
}

/// The room, the steps still to take in time order, and what came of those taken.
struct Driver<'a> {
    spec: &'a ClassSpec<'a>,
    attendees: &'a [Attendee],
    room: Room,
    records: Vec<Recorded>,
    queue: BinaryHeap<Reverse<(i64, u64)>>,
    steps: Vec<Option<Step>>,
    polls: BTreeMap<usize, PollId>,
    questions: BTreeMap<usize, QuestionId>,
    doings: Vec<Doings>,
    /// Each attendee's presence intervals, to know when a click can still happen.
    intervals: Vec<Vec<(i64, i64)>>,
    norm: f64,
}

/// Runs one class through the room.
pub(super) fn run(
    spec: &ClassSpec<'_>,
    attendees: &[Attendee],
    rng: &mut Rng,
) -> Result<ClassLog, StoreError> {
    let mut room = Room::new();
    room.set_class(&spec.session.to_string(), Timestamp(ms(spec.start)));
    let mut d = Driver {
        spec,
        attendees,
        room,
        records: Vec::new(),
        queue: BinaryHeap::new(),
        steps: Vec::new(),
        polls: BTreeMap::new(),
        questions: BTreeMap::new(),
        doings: vec![Doings::default(); attendees.len()],
        intervals: Vec::new(),
        norm: ((spec.lively - 0.2) / 1.6).clamp(0.0, 1.0),
    };
    d.input(
        Input::Join {
            viewer: ViewerId::from(INSTRUCTOR),
            role: Role::Instructor,
            name: spec.instructor.to_owned(),
            fingerprint: None,
        },
        spec.start - 5 * MINUTE,
    );
    d.plan(rng);
    while let Some(Reverse((at, seq))) = d.queue.pop() {
        let Some(step) = d.steps.get_mut(seq as usize).and_then(Option::take) else {
            continue;
        };
        // The room accepts nothing after the end.
        if at >= spec.end && !matches!(step, Step::End) {
            continue;
        }
        d.take(step, at, rng)?;
    }
    Ok(ClassLog {
        records: d.records,
        doings: d.doings,
    })
}

fn ms(at: i64) -> u64 {
    u64::try_from(at).unwrap_or(0)
}

impl Driver<'_> {
    fn schedule(&mut self, at: i64, step: Step) {
        let seq = self.steps.len() as u64;
        self.steps.push(Some(step));
        self.queue.push(Reverse((at, seq)));
    }

    /// Hands one input to the room at `at`, after the timers due by then (the reactions of a
    /// second that is over, a poll's deadline), and keeps the records.
    fn input(&mut self, input: Input, at: i64) -> Vec<Output> {
        let mut guard = 0;
        while let Some(due) = self.room.next_deadline() {
            if due.0 > ms(at) || guard > 1_000 {
                break;
            }
            guard += 1;
            let out = self.room.handle(Input::Tick, due);
            self.keep(&out);
        }
        let out = self.room.handle(input, Timestamp(ms(at)));
        self.keep(&out);
        out
    }

    fn keep(&mut self, out: &[Output]) {
        for o in out {
            if let Output::Event { record } = o {
                self.records.push(record.clone());
            }
        }
    }

    fn act(&mut self, who: Option<usize>, action: Action, at: i64) -> Vec<Output> {
        let viewer = match who {
            Some(i) => self.attendees[i].viewer.clone(),
            None => ViewerId::from(INSTRUCTOR),
        };
        self.input(
            Input::Act {
                viewer,
                client_id: None,
                action,
            },
            at,
        )
    }

    /// Plans what everyone will try to do (the room decides what happens).
    fn plan(&mut self, rng: &mut Rng) {
        let s = self.spec;
        let catalog = s.catalog;
        let (norm, lively) = (self.norm, s.lively);
        let duration = s.end - s.start;
        // Presence: arrivals around the start or late, drop-off, some rejoin.
        let stay_to_end = 0.25 + 0.35 * norm;
        for who in 0..self.attendees.len() {
            let mut intervals = Vec::new();
            let mut join = if rng.chance(0.72) {
                s.start + rng.between(-2 * MINUTE, 5 * MINUTE)
            } else {
                s.start + rng.between(5 * MINUTE, duration * 6 / 10)
            };
            loop {
                let leave = if rng.chance(stay_to_end) {
                    s.end + rng.between(0, 90_000)
                } else {
                    let u = rng.unit();
                    join + MINUTE + ((s.end - join - MINUTE).max(0) as f64 * u * u.sqrt()) as i64
                };
                intervals.push((join, leave.min(s.end)));
                if leave >= s.end || !rng.chance(0.15) {
                    break;
                }
                join = leave + rng.between(MINUTE, 5 * MINUTE);
                if join >= s.end - 2 * MINUTE {
                    break;
                }
            }
            let watches = rng.chance(0.9);
            for &(j, l) in &intervals {
                self.schedule(j, Step::Join(who));
                if matches!(self.attendees[who].link, Link::Personal(_)) {
                    self.schedule(j, Step::LinkLearner(who));
                }
                if watches {
                    self.schedule(j + rng.between(800, 4_000), Step::Watch(who, true));
                }
                if l < s.end {
                    if watches {
                        self.schedule(l, Step::Watch(who, false));
                    }
                    self.schedule(l, Step::Leave(who));
                }
            }
            if matches!(self.attendees[who].link, Link::Email(_)) {
                let (j, l) = intervals[0];
                self.schedule(j + (l - j) / 4, Step::LinkEmail(who));
            }
            self.doings[who].present_ms = intervals.iter().map(|(j, l)| l - j).sum();
            self.intervals.push(intervals);
        }

        // Chat: some viewers chat, more in lively classes; greetings early, goodbyes late.
        for who in 0..self.attendees.len() {
            if !rng.chance(0.30 + 0.30 * norm) {
                continue;
            }
            let rate = 0.025 * lively * (0.5 + rng.unit() * 1.5); // messages per minute
            for &(j, l) in &self.intervals[who].clone() {
                let minutes = (l - j) as f64 / MINUTE as f64;
                let n = (minutes * rate + rng.unit()) as usize;
                for _ in 0..n {
                    let t = j + rng.between(1_000, (l - j - 1_000).max(1_000));
                    let lines = if t < s.start + 8 * MINUTE && rng.chance(0.6) {
                        &catalog.chat.opening
                    } else if t > s.end - 10 * MINUTE && rng.chance(0.5) {
                        &catalog.chat.closing
                    } else {
                        &catalog.chat.middle
                    };
                    let text = rng.pick(lines).clone();
                    self.schedule(t, Step::Chat(who, text));
                }
            }
        }

        // Reaction bursts around highlights.
        let bursts = (1.0 + lively * 5.0 * rng.unit() + lively * 2.0) as usize;
        for _ in 0..bursts {
            let t0 = s.start + rng.between(3 * MINUTE, duration - 3 * MINUTE);
            let main = rng.pick(&catalog.reactions).clone();
            for who in 0..self.attendees.len() {
                if !self.present(who, t0) || !rng.chance(0.12 * lively) {
                    continue;
                }
                for _ in 0..rng.between(1, 3) {
                    let reaction = if rng.chance(0.7) {
                        reaction_of(&main)
                    } else {
                        reaction_of(rng.pick(&catalog.reactions).as_str())
                    };
                    self.schedule(t0 + rng.between(0, 20_000), Step::React(who, reaction));
                }
            }
        }

        // Polls: none to three, answered by those present.
        let polls = match norm {
            n if n < 0.2 => rng.between(0, 1),
            n if n < 0.6 => rng.between(1, 2),
            _ => rng.between(2, 3),
        } as usize;
        for key in 0..polls {
            let spec = rng.below(catalog.polls.len());
            let slot = duration * (10 + 65 * key as i64 / polls.max(1) as i64) / 100;
            let t = s.start + slot + rng.between(0, 4 * MINUTE);
            self.schedule(t, Step::OpenPoll { key, spec });
            let options = catalog.polls[spec].options.len();
            let weights: Vec<f64> = (0..options).map(|_| 0.3 + rng.unit()).collect();
            for who in 0..self.attendees.len() {
                let at = t + rng.between(4_000, 100_000);
                if self.present(who, at) && rng.chance(0.35 + 0.45 * norm) {
                    let option = u8::try_from(rng.weighted(&weights)).unwrap_or(0);
                    self.schedule(at, Step::Vote { who, key, option });
                }
            }
            self.schedule(t + rng.between(120_000, 180_000), Step::ClosePoll(key));
        }

        // The offer, near the end; each viewer whose tab is in view sees their card.
        let shown_at = s.end - rng.between(8, 15) * MINUTE;
        self.schedule(shown_at, Step::PushOffer);
        for who in 0..self.attendees.len() {
            if rng.chance(0.9) {
                self.schedule(shown_at + rng.between(1_000, 30_000), Step::Expose(who));
            }
        }

        // Q&A: a few questions (more in lively classes), approved by staff a little later,
        // upvoted by others present, most answered.
        let asks = (norm * 6.0 + rng.unit() * 3.0) as usize;
        for key in 0..asks.min(self.attendees.len()) {
            let who = rng.below(self.attendees.len());
            let intervals = &self.intervals[who];
            let (j, l) = intervals[rng.below(intervals.len())];
            let at = j + rng.between(30_000, (l - j - 30_000).max(30_000));
            if !self.present(who, at) || at > s.end - 5 * MINUTE {
                continue;
            }
            self.schedule(at, Step::Ask { who, key });
            let approved = at + rng.between(20_000, 90_000);
            self.schedule(approved, Step::Approve(key));
            for other in 0..self.attendees.len() {
                let t = approved + rng.between(5_000, 120_000);
                if other != who && self.present(other, t) && rng.chance(0.05 + 0.20 * norm) {
                    self.schedule(t, Step::Upvote { who: other, key });
                }
            }
            if rng.chance(0.8) {
                self.schedule(approved + rng.between(125_000, 300_000), Step::Answer(key));
            }
        }
        self.schedule(s.end, Step::End);
    }

    fn present(&self, who: usize, t: i64) -> bool {
        self.intervals[who].iter().any(|&(j, l)| j <= t && t < l)
    }

    /// Takes one step through the room.
    fn take(&mut self, step: Step, at: i64, rng: &mut Rng) -> Result<(), StoreError> {
        let viewer = |d: &Self, who: usize| d.attendees[who].viewer.clone();
        match step {
            Step::Join(who) => {
                let input = Input::Join {
                    viewer: viewer(self, who),
                    role: Role::Viewer,
                    name: self.attendees[who].name.clone(),
                    fingerprint: None,
                };
                self.input(input, at);
            }
            Step::Leave(who) => {
                self.input(
                    Input::Leave {
                        viewer: viewer(self, who),
                    },
                    at,
                );
            }
            Step::Watch(who, watching) => {
                let input = Input::Media {
                    viewer: viewer(self, who),
                    watching,
                };
                self.input(input, at);
            }
            Step::LinkLearner(who) => {
                if let Link::Personal(learner) = &self.attendees[who].link {
                    let input = Input::LinkLearner {
                        viewer: viewer(self, who),
                        learner: learner.clone(),
                    };
                    self.input(input, at);
                }
            }
            Step::LinkEmail(who) => {
                if let Link::Email(email) = &self.attendees[who].link {
                    let action = Action::LinkEmail {
                        email: email.clone(),
                        consent: true,
                    };
                    let out = self.act(Some(who), action, at);
                    self.doings[who].email_linked |=
                        recorded(&out, |e| matches!(e, Event::EmailLinked { .. }));
                }
            }
            Step::Chat(who, text) => {
                let out = self.act(
                    Some(who),
                    Action::SendChat {
                        text,
                        reply_to: None,
                    },
                    at,
                );
                if recorded(&out, |e| {
                    matches!(e, Event::ChatSent { .. } | Event::ChatHeld { .. })
                }) {
                    self.doings[who].chats += 1;
                }
            }
            Step::React(who, reaction) => {
                self.act(Some(who), Action::React { reaction }, at);
            }
            Step::OpenPoll { key, spec } => {
                let p = &self.spec.catalog.polls[spec];
                let spec = PollSpec {
                    question: p.question.clone(),
                    options: p.options.clone(),
                    multiple: false,
                    anonymous: false,
                    correct: None,
                    duration_secs: None,
                    skill: None,
                };
                let out = self.act(None, Action::CreatePoll { spec }, at);
                let created = out.iter().find_map(|o| match o {
                    Output::Event { record } => match &record.event {
                        Event::PollCreated { poll } => Some(poll.id),
                        _ => None,
                    },
                    _ => None,
                });
                if let Some(poll) = created {
                    self.polls.insert(key, poll);
                    self.act(None, Action::OpenPoll { poll }, at);
                }
            }
            Step::Vote { who, key, option } => {
                if let Some(&poll) = self.polls.get(&key) {
                    let action = Action::Vote {
                        poll,
                        choices: vec![option],
                    };
                    let out = self.act(Some(who), action, at);
                    if recorded(&out, |e| matches!(e, Event::BallotCast { .. })) {
                        self.doings[who].votes += 1;
                    }
                }
            }
            Step::ClosePoll(key) => {
                if let Some(&poll) = self.polls.get(&key) {
                    self.act(None, Action::ClosePoll { poll }, at);
                }
            }
            Step::Ask { who, key } => {
                let text = QUESTIONS[rng.below(QUESTIONS.len())].to_owned();
                let out = self.act(Some(who), Action::Ask { text }, at);
                let asked = out.iter().find_map(|o| match o {
                    Output::Event { record } => match &record.event {
                        Event::QuestionAsked { question } => Some(question.id),
                        _ => None,
                    },
                    _ => None,
                });
                if let Some(question) = asked {
                    self.questions.insert(key, question);
                    self.doings[who].questions += 1;
                }
            }
            Step::Approve(key) => {
                if let Some(&question) = self.questions.get(&key) {
                    self.act(None, Action::ApproveQuestion { question }, at);
                }
            }
            Step::Upvote { who, key } => {
                if let Some(&question) = self.questions.get(&key) {
                    self.act(Some(who), Action::Upvote { question }, at);
                }
            }
            Step::Answer(key) => {
                if let Some(&question) = self.questions.get(&key) {
                    let action = Action::AnswerQuestion {
                        question,
                        answer: None,
                    };
                    self.act(None, action, at);
                }
            }
            Step::PushOffer => {
                let spec = offer_spec(&self.spec.offer)?;
                self.act(None, Action::PushOffer { spec }, at);
            }
            Step::Expose(who) => {
                let Some(card) = self.room.offer_card(&viewer(self, who)) else {
                    return Ok(());
                };
                let action = Action::OfferExposed {
                    offer: card.offer.clone(),
                    variant: card.variant,
                };
                let out = self.act(Some(who), action, at);
                if recorded(&out, |e| matches!(e, Event::OfferExposed(_))) {
                    self.doings[who].exposed = Some(card.variant);
                    let lift = self
                        .spec
                        .offer
                        .arms
                        .get(usize::from(card.variant))
                        .map_or(1.0, |a| a.click_lift);
                    let owns = if self.attendees[who].owns_offered {
                        0.2
                    } else {
                        1.0
                    };
                    if rng.chance((0.05 + 0.10 * self.norm) * lift * owns) {
                        let leave = self.intervals[who]
                            .iter()
                            .find(|&&(j, l)| j <= at && at < l)
                            .map_or(at + MINUTE, |&(_, l)| l);
                        let click_at = at
                            + 2_000
                            + ((leave - at - 2_000).clamp(0, 300_000) as f64 * rng.unit()) as i64;
                        self.schedule(click_at, Step::Click(who));
                    }
                }
            }
            Step::Click(who) => {
                let Some(card) = self.room.offer_card(&viewer(self, who)) else {
                    return Ok(());
                };
                let action = Action::OfferClicked {
                    offer: card.offer.clone(),
                    variant: card.variant,
                };
                let out = self.act(Some(who), action, at);
                if recorded(&out, |e| matches!(e, Event::OfferClicked(_))) {
                    // The shop receives the reference code the room put on the card's link.
                    let code = reference_code(&card.checkout_url).ok_or_else(|| {
                        StoreError::storage("the room's checkout link has no reference code")
                    })?;
                    self.doings[who].clicked = Some((at, code, card.variant));
                }
            }
            Step::End => {
                self.input(Input::End, at);
            }
        }
        Ok(())
    }
}

/// Whether the room recorded an event that `matches`.
fn recorded(out: &[Output], matches: impl Fn(&Event) -> bool) -> bool {
    out.iter()
        .any(|o| matches!(o, Output::Event { record } if matches(&record.event)))
}

/// The `ref` parameter of a checkout link the room made (`lectern_room::checkout_link`).
fn reference_code(link: &str) -> Option<String> {
    let query = link.split_once('?')?.1;
    let query = query.split('#').next()?;
    query
        .split('&')
        .find_map(|kv| kv.strip_prefix("ref="))
        .map(str::to_owned)
}

fn offer_spec(plan: &OfferPlan) -> Result<Box<OfferSpec>, StoreError> {
    let weight = 1.0 / plan.arms.len().max(1) as f64;
    let variants: Vec<serde_json::Value> = plan
        .arms
        .iter()
        .map(|arm| {
            let mut v =
                json!({ "name": arm.name, "weight": weight, "title": arm.title, "cta": arm.cta });
            if arm.discount_pct > 0 {
                v["discount_pct"] = json!(arm.discount_pct);
            }
            v
        })
        .collect();
    let spec = json!({
        "id": plan.id,
        "course_id": plan.course_id,
        "experiment": plan.experiment,
        "title": plan.arms.first().map_or("", |a| a.title.as_str()),
        "cta": plan.arms.first().map_or("Enroll now", |a| a.cta),
        "price_cents": plan.price_cents,
        "currency": plan.currency,
        "discount_pct": 0,
        "checkout_url": plan.checkout_url,
        "variants": variants,
    });
    serde_json::from_value::<OfferSpec>(spec)
        .map(Box::new)
        .map_err(|e| StoreError::storage(format!("the demo's offer is not an offer ({e})")))
}

/// The offer id of a class.
pub(super) fn offer_id(session: i64) -> OfferId {
    OfferId(format!("offer-{session}"))
}
