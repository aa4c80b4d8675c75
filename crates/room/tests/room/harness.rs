//! A scenario runner: (time, input) steps in, one line per output, replay checked every time.

use lectern_room::{
    Action, ClientId, Fingerprint, Input, Output, Recorded, Reply, Role, Room, Timestamp, ViewerId,
};

/// A room under test with the log it wrote.
pub struct Script {
    pub room: Room,
    pub log: Vec<Recorded>,
    pub lines: Vec<String>,
}

impl Script {
    pub fn new() -> Script {
        Script {
            room: Room::new(),
            log: Vec::new(),
            lines: Vec::new(),
        }
    }

    /// Runs one step at `t` milliseconds and records its outputs as lines.
    pub fn at(&mut self, t: u64, input: Input) -> &mut Script {
        let out = self.room.handle(input, Timestamp(t));
        for o in out {
            self.lines.push(render(t, &o));
            if let Output::Event { record } = o {
                self.log.push(record);
            }
        }
        self
    }

    /// All lines so far, and checks that replaying the log reproduces the room's state.
    pub fn finish(&self) -> String {
        let replayed = Room::replay(&self.log);
        assert_eq!(replayed.state(), self.room.state(), "replay differs");
        let mut s = self.lines.join("\n");
        s.push('\n');
        s
    }
}

/// One output as a line, starting with the step's time (the script's own milliseconds); ids are
/// the room's counters. Lines never start with a space (expect-test trims common indentation).
pub fn render(t: u64, output: &Output) -> String {
    match output {
        Output::Event { record } => {
            let by = record.by.as_ref().map_or("room", |v| v.0.as_str());
            let cid = record
                .client_id
                .as_ref()
                .map(|c| format!(" [{}]", c.0))
                .unwrap_or_default();
            assert_eq!(record.at.0, t, "an event is stamped with the input's time");
            format!(
                "@{t} {by}{cid}: {}",
                serde_json::to_string(&record.event).unwrap()
            )
        }
        Output::Reply { to, reply } => match reply {
            Reply::Rejected {
                client_id, error, ..
            } => {
                let detail = serde_json::to_value(error).unwrap();
                let mut detail = detail.as_object().unwrap().clone();
                detail.remove("code");
                let detail = if detail.is_empty() {
                    String::new()
                } else {
                    format!(" {}", serde_json::Value::Object(detail))
                };
                let cid = client_id
                    .as_ref()
                    .map(|c| format!(" [{}]", c.0))
                    .unwrap_or_default();
                format!("@{t} -> {}{cid} rejected {}{detail}", to.0, error.code())
            }
            Reply::Duplicate { client_id } => {
                format!("@{t} -> {} duplicate [{}]", to.0, client_id.0)
            }
            Reply::Welcome { snapshot } => {
                format!(
                    "@{t} -> {} welcome name={:?} role={:?} chat={} pinned={:?} poll={} questions={:?} held={} flags={}",
                    to.0,
                    snapshot.you.name,
                    snapshot.you.role,
                    snapshot.chat.len(),
                    snapshot.pinned.as_ref().map(|m| m.id.0),
                    snapshot
                        .poll
                        .as_ref()
                        .map(|p| format!("{}:{:?}:{:?}", p.id.0, p.state, p.totals))
                        .unwrap_or_else(|| "none".into()),
                    snapshot
                        .questions
                        .iter()
                        .map(|q| (q.id.0, q.votes))
                        .collect::<Vec<_>>(),
                    snapshot.held.len(),
                    snapshot.flags.len(),
                ) + &offer_part(snapshot)
            }
        },
        Output::Voter { poll, viewer } => {
            format!("@{t} (kept apart) {} voted in {}", viewer.0, poll.0)
        }
    }
}

/// The offer part of a welcome line: only when there is something to show, so that lines of
/// rooms without offers stay as they were.
fn offer_part(snapshot: &lectern_room::Snapshot) -> String {
    let mut part = String::new();
    if let Some(card) = &snapshot.offer {
        part.push_str(&format!(
            " offer={}:{}{}{}",
            card.offer.0,
            card.variant_name,
            if card.exposed { " exposed" } else { "" },
            if card.clicked { " clicked" } else { "" },
        ));
    }
    for offer in &snapshot.offers {
        let counts: Vec<String> = offer
            .counts
            .iter()
            .map(|c| format!("{}/{}/{}/{}", c.shown, c.exposures, c.clicks, c.dismissals))
            .collect();
        part.push_str(&format!(
            " offers[{}:{:?}:{}]",
            offer.spec.id.0,
            offer.state,
            counts.join(",")
        ));
    }
    part
}

pub fn id(s: &str) -> ViewerId {
    ViewerId::from(s)
}

pub fn join(viewer: &str, role: Role, name: &str) -> Input {
    Input::Join {
        viewer: id(viewer),
        role,
        name: name.into(),
        fingerprint: None,
    }
}

pub fn join_from(viewer: &str, name: &str, fingerprint: &str) -> Input {
    Input::Join {
        viewer: id(viewer),
        role: Role::Viewer,
        name: name.into(),
        fingerprint: Some(Fingerprint::from(fingerprint)),
    }
}

pub fn act(viewer: &str, action: Action) -> Input {
    Input::Act {
        viewer: id(viewer),
        client_id: None,
        action,
    }
}

pub fn act_as(viewer: &str, client_id: &str, action: Action) -> Input {
    Input::Act {
        viewer: id(viewer),
        client_id: Some(ClientId::from(client_id)),
        action,
    }
}

pub fn chat(viewer: &str, text: &str) -> Input {
    act(
        viewer,
        Action::SendChat {
            text: text.into(),
            reply_to: None,
        },
    )
}

/// A class: instructor "Grace Hopper" (`prof`), TA "Alan" (`ta`), viewer "Ada" (`ada`).
pub fn class() -> Script {
    let mut s = Script::new();
    s.at(0, join("prof", Role::Instructor, "Grace Hopper"))
        .at(0, join("ta", Role::Ta, "Alan"))
        .at(0, join("ada", Role::Viewer, "Ada"));
    s.lines.clear();
    s
}
