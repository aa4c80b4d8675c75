//! One presence from three sources: the room's connection (`viewer_joined` / `viewer_left`),
//! the viewer's video (`media_presence`, from their WHEP session) and, for viewers who opted in,
//! whether the class's tab is in view (`tab_visibility`). A viewer is present while their chat or
//! their video is on and their tab is not hidden: someone who only watches is counted, someone
//! who closes the chat but keeps watching does not leave, and a hidden tab is not attention.
//!
//! Both the live aggregates and the recomputation read events through the same merge, so they
//! still agree exactly. Events that are not about presence pass through untouched (no copy).

use std::borrow::Cow;
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

/// What one event is once presence is merged: the event as it is (borrowed), a `Joined` or
/// `Left` made from a change of source (owned), or nothing when presence did not change.
pub(crate) type Merged<'a> = Option<Cow<'a, EngagementEvent>>;

/// The merge's state: which sources each viewer has on.
#[derive(Debug, Clone, Default)]
pub(crate) struct PresenceMerge {
    viewers: HashMap<String, Sources>,
}

impl PresenceMerge {
    fn sources(&mut self, viewer: &str) -> &mut Sources {
        // Looked up without allocating; a key is made once per viewer.
        if !self.viewers.contains_key(viewer) {
            self.viewers.insert(viewer.to_owned(), Sources::default());
        }
        self.viewers
            .get_mut(viewer)
            .unwrap_or_else(|| unreachable!("inserted above"))
    }

    /// What `event` means once the sources are merged.
    pub(crate) fn map<'a>(&mut self, event: &'a EngagementEvent) -> Merged<'a> {
        match &event.activity {
            Activity::Joined {
                viewer,
                name,
                staff,
            } => {
                let s = self.sources(viewer);
                s.room = true;
                s.staff = *staff;
                if !name.is_empty() && s.name != *name {
                    s.name.clone_from(name);
                }
                // Forwarded even when already present (a name may come with it; a second
                // `Joined` changes nothing else), but not while the tab is hidden. A `Joined`
                // without a name gets the one the viewer gave before.
                if !s.present() {
                    None
                } else if name.is_empty() && !s.name.is_empty() {
                    Some(Cow::Owned(joined(event, viewer, s)))
                } else {
                    Some(Cow::Borrowed(event))
                }
            }
            Activity::Left { viewer } => {
                let s = self.sources(viewer);
                let before = s.present();
                s.room = false;
                if before && !s.present() {
                    Some(Cow::Borrowed(event))
                } else {
                    None
                }
            }
            Activity::MediaPresence { viewer, watching } => {
                let s = self.sources(viewer);
                let before = s.present();
                s.media = *watching;
                transition(event, viewer, s, before)
            }
            Activity::TabVisibility { viewer, visible } => {
                let s = self.sources(viewer);
                let before = s.present();
                s.hidden = !*visible;
                transition(event, viewer, s, before)
            }
            _ => Some(Cow::Borrowed(event)),
        }
    }
}

fn joined(event: &EngagementEvent, viewer: &str, s: &Sources) -> EngagementEvent {
    EngagementEvent {
        at_ms: event.at_ms,
        activity: Activity::Joined {
            viewer: viewer.to_owned(),
            name: s.name.clone(),
            staff: s.staff,
        },
    }
}

/// A `Joined` or `Left` when presence changed from `before`.
fn transition<'a>(
    event: &'a EngagementEvent,
    viewer: &str,
    s: &Sources,
    before: bool,
) -> Merged<'a> {
    match (before, s.present()) {
        (false, true) => Some(Cow::Owned(joined(event, viewer, s))),
        (true, false) => Some(Cow::Owned(EngagementEvent {
            at_ms: event.at_ms,
            activity: Activity::Left {
                viewer: viewer.to_owned(),
            },
        })),
        _ => None,
    }
}
