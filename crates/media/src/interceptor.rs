//! The interceptor that lets viewers' RTCP reach the engine.
//!
//! In `webrtc` 0.21 inbound RTCP ends at the interceptor chain: a PLI, FIR, NACK or receiver
//! report from a viewer is never surfaced through `TrackLocal::poll` unless an interceptor
//! marks it with `Attribute::DeliverToApplication`. The engine answers keyframe requests (by
//! asking the publisher) and NACKs (from its history), and reads receiver reports for its
//! stats, so this tap marks exactly those and nothing else.

use rtc::interceptor::{Attribute, Interceptor, Packet, StreamInfo, TaggedPacket};
use rtc::rtcp::payload_feedbacks::full_intra_request::FullIntraRequest;
use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use rtc::rtcp::receiver_report::ReceiverReport;
use rtc::rtcp::transport_feedbacks::transport_layer_nack::TransportLayerNack;
use rtc::sansio::Protocol;
use rtc::shared::error::Error;
use std::collections::VecDeque;
use std::time::Instant;

/// Where the tap sits in the chain: after the built-in interceptors (which sit below this
/// slot), so reports and NACKs have been consumed by them before it narrows the packet down.
pub const KEYFRAME_TAP_SLOT: usize = 14_000;

/// Marks inbound PLI, FIR, NACK and receiver reports for delivery to the application
/// (`TrackLocal::poll`); drops the rest of inbound RTCP here, as the end of the chain would. Register it with
/// `registry.with(Slot::from(KEYFRAME_TAP_SLOT), KeyframeRequestTap::default())` on any peer
/// connection that sends video and must answer keyframe requests.
#[derive(Default)]
pub struct KeyframeRequestTap {
    inbound: VecDeque<TaggedPacket>,
    outbound: VecDeque<TaggedPacket>,
}

pub(crate) fn is_keyframe_request(packet: &dyn rtc::rtcp::Packet) -> bool {
    let any = packet.as_any();
    any.is::<PictureLossIndication>() || any.is::<FullIntraRequest>()
}

/// What the engine acts on: keyframe requests, NACKs (answered from the engine's own
/// retransmission history) and receiver reports (per-viewer loss and round-trip time).
pub(crate) fn is_delivered(packet: &dyn rtc::rtcp::Packet) -> bool {
    let any = packet.as_any();
    is_keyframe_request(packet) || any.is::<TransportLayerNack>() || any.is::<ReceiverReport>()
}

impl Protocol<TaggedPacket, TaggedPacket, ()> for KeyframeRequestTap {
    type Rout = TaggedPacket;
    type Wout = TaggedPacket;
    type Eout = ();
    type Error = Error;
    type Time = Instant;

    fn handle_read(&mut self, mut msg: TaggedPacket) -> Result<(), Self::Error> {
        if let Packet::Rtcp(packets) = &msg.message.packet {
            let requests: Vec<Box<dyn rtc::rtcp::Packet>> = packets
                .iter()
                .filter(|p| is_delivered(p.as_ref()))
                .cloned()
                .collect();
            if requests.is_empty() {
                return Ok(());
            }
            msg.message.packet = Packet::Rtcp(requests);
            msg.message.add(Attribute::DeliverToApplication);
        }
        self.inbound.push_back(msg);
        Ok(())
    }

    fn poll_read(&mut self) -> Option<Self::Rout> {
        self.inbound.pop_front()
    }

    fn handle_write(&mut self, msg: TaggedPacket) -> Result<(), Self::Error> {
        self.outbound.push_back(msg);
        Ok(())
    }

    fn poll_write(&mut self) -> Option<Self::Wout> {
        self.outbound.pop_front()
    }
}

impl Interceptor for KeyframeRequestTap {
    fn bind_local_stream(&mut self, _info: &StreamInfo) {}
    fn unbind_local_stream(&mut self, _info: &StreamInfo) {}
    fn bind_remote_stream(&mut self, _info: &StreamInfo) {}
    fn unbind_remote_stream(&mut self, _info: &StreamInfo) {}
}
