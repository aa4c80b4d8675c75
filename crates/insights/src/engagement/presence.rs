//! One presence from two sources: the room's connection (`viewer_joined` / `viewer_left`) and
//! the viewer's video (`media_presence`, from their WHEP session). A viewer is present while
//! either is on, so someone who watches without opening the chat is counted, and someone who
//! closes the chat but keeps watching is not counted as leaving.
//!
//! Both the live aggregates and the recomputation read events through the same merge, so they
//! still agree exactly.

use std::collections::HashMap;

use super::event::{Activity, EngagementEvent};

#[derive(Debug, Clone, Default)]
struct Sources {
    room: bool,
    media: bool,
    name: String,
    staff: bool,
}

/// The merge's state: which sources each viewer has on.
#[derive(Debug, Clone, Default)]
pub(crate) struct PresenceMerge {
    viewers: HashMap<String, Sources>,
}

impl PresenceMerge {
    /// What `event` means once the sources are merged: the event itself, a `Joined` or `Left`
    /// made from a media change, or nothing when presence does not change.
    pub(crate) fn map(&mut self, event: &EngagementEvent) -> Option<EngagementEvent> {
        let activity = match &event.activity {
            Activity::Joined {
                viewer,
                name,
                staff,
            } => {
                let s = self.viewers.entry(viewer.clone()).or_default();
                s.room = true;
                s.staff = *staff;
                if !name.is_empty() {
                    s.name.clone_from(name);
                }
                // Forwarded even when the video already made them present: a name may come
                // with it (a second `Joined` changes nothing else).
                event.activity.clone()
            }
            Activity::Left { viewer } => {
                let s = self.viewers.entry(viewer.clone()).or_default();
                s.room = false;
                if s.media {
                    return None;
                }
                event.activity.clone()
            }
            Activity::MediaPresence { viewer, watching } => {
                let s = self.viewers.entry(viewer.clone()).or_default();
                if s.media == *watching {
                    return None;
                }
                s.media = *watching;
                if s.room {
                    return None;
                }
                if *watching {
                    Activity::Joined {
                        viewer: viewer.clone(),
                        name: s.name.clone(),
                        staff: s.staff,
                    }
                } else {
                    Activity::Left {
                        viewer: viewer.clone(),
                    }
                }
            }
            _ => event.activity.clone(),
        };
        Some(EngagementEvent {
            at_ms: event.at_ms,
            activity,
        })
    }
}

/// A whole log through the merge.
pub(crate) fn merge_presence(events: &[EngagementEvent]) -> Vec<EngagementEvent> {
    let mut merge = PresenceMerge::default();
    events.iter().filter_map(|e| merge.map(e)).collect()
}
