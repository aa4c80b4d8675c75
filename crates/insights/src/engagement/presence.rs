//! One presence from three sources: the room's connection (`viewer_joined` / `viewer_left`),
//! the viewer's video (`media_presence`, from their WHEP session) and, for viewers who opted in,
//! whether the class's tab is in view (`tab_visibility`). A viewer is present while their chat or
//! their video is on and their tab is not hidden: someone who only watches is counted, someone
//! who closes the chat but keeps watching does not leave, and a hidden tab is not attention.
//!
//! Both the live aggregates and the recomputation read events through the same merge, so they
//! still agree exactly.

use std::collections::HashMap;

use super::event::{Activity, EngagementEvent};

#[derive(Debug, Clone, Default)]
struct Sources {
    room: bool,
    media: bool,
    hidden: bool,
    name: String,
    staff: bool,
}

impl Sources {
    fn present(&self) -> bool {
        (self.room || self.media) && !self.hidden
    }
}

/// The merge's state: which sources each viewer has on.
#[derive(Debug, Clone, Default)]
pub(crate) struct PresenceMerge {
    viewers: HashMap<String, Sources>,
}

impl PresenceMerge {
    /// What `event` means once the sources are merged: the event itself, a `Joined` or `Left`
    /// made from a change of source, or nothing when presence does not change.
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
                // Forwarded even when already present (a name may come with it; a second
                // `Joined` changes nothing else), but not while the tab is hidden.
                if !s.present() {
                    return None;
                }
                Activity::Joined {
                    viewer: viewer.clone(),
                    name: s.name.clone(),
                    staff: s.staff,
                }
            }
            Activity::Left { viewer } => {
                let s = self.viewers.entry(viewer.clone()).or_default();
                let before = s.present();
                s.room = false;
                return (before && !s.present()).then(|| left(event, viewer));
            }
            Activity::MediaPresence { viewer, watching } => {
                let s = self.viewers.entry(viewer.clone()).or_default();
                let before = s.present();
                s.media = *watching;
                return transition(event, viewer, s, before);
            }
            Activity::TabVisibility { viewer, visible } => {
                let s = self.viewers.entry(viewer.clone()).or_default();
                let before = s.present();
                s.hidden = !*visible;
                return transition(event, viewer, s, before);
            }
            _ => event.activity.clone(),
        };
        Some(EngagementEvent {
            at_ms: event.at_ms,
            activity,
        })
    }
}

fn left(event: &EngagementEvent, viewer: &str) -> EngagementEvent {
    EngagementEvent {
        at_ms: event.at_ms,
        activity: Activity::Left {
            viewer: viewer.to_owned(),
        },
    }
}

/// A `Joined` or `Left` when presence changed from `before`.
fn transition(
    event: &EngagementEvent,
    viewer: &str,
    s: &Sources,
    before: bool,
) -> Option<EngagementEvent> {
    match (before, s.present()) {
        (false, true) => Some(EngagementEvent {
            at_ms: event.at_ms,
            activity: Activity::Joined {
                viewer: viewer.to_owned(),
                name: s.name.clone(),
                staff: s.staff,
            },
        }),
        (true, false) => Some(left(event, viewer)),
        _ => None,
    }
}

/// A whole log through the merge.
pub(crate) fn merge_presence(events: &[EngagementEvent]) -> Vec<EngagementEvent> {
    let mut merge = PresenceMerge::default();
    events.iter().filter_map(|e| merge.map(e)).collect()
}
