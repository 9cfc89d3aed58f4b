package sfu

import (
	"slices"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// A room has any number of sinks, each under a name (Ringside's signaling attaches two: the
// recording and the talk analysis). They are the room's own, not one sink that copies to the
// others, because a span is the room's to define: the routing policy decides when a track is
// granted to the recorder and with which Whisper flag, and every sink gets its own span from
// that one decision, so the sinks' spans line up by construction. Each sink's writers sit in
// the up-track's fan-out beside the down-tracks (no extra hop or lock per packet), and each
// sink stands alone: detaching one (a recording that failed) closes only its writers, and a
// sink that refuses a track loses only that span.
//
// The API is one SetSink(name, s), nil detaching, rather than an add and a remove: like
// everything else in a room, its sinks are a state the room brings its spans in line with
// (applyAndUnlock), so a caller only says which sink is under a name, and attaching again,
// replacing or detaching a sink that is not there are not errors.

// TrackInfo describes a forwarded track handed to a Sink.
type TrackInfo struct {
	SessionID     SessionID
	ParticipantID ParticipantID
	Role          Role
	Name          string
	TrackID       string
	Kind          webrtc.RTPCodecType
	Codec         webrtc.RTPCodecCapability
	// Whisper is true when the track is a coach's audio while it whispers: the routing policy
	// lets only the whisper target (and other coaches) hear it.
	Whisper bool
	// RequestKeyframe asks the publisher for a keyframe (rate-limited by the SFU).
	RequestKeyframe func()
	// AudioLevelExtension is the RTP header extension id the publisher negotiated for RFC 6464
	// audio levels (AudioLevelURI) on this audio track, as of the span's start; 0 if none.
	// Packets handed to WriteRTP carry their extensions as received.
	AudioLevelExtension uint8
}

// Sink receives the tracks the routing policy grants to the recorder (RoleRecorder): every
// forwarded track, never a silent coach's; every sink of a room receives the same. A change of
// what the policy grants (a coach going from whisper to open, a track ending) closes the
// TrackWriter and, if still granted, starts a new one, so each writer covers one span with one
// Whisper value.
type Sink interface {
	// StartTrack runs under the room's lock: it must not block on I/O. An error is logged and
	// the sink is asked again at the room's next change; a nil TrackWriter with a nil error
	// declines the span.
	StartTrack(info TrackInfo) (TrackWriter, error)
}

// TrackWriter is one recorded span of one track. WriteRTP is called from the track's reader
// goroutine, SenderReport from its RTCP goroutine, and Close from the room once the writer is
// out of the fan-out, possibly while a last WriteRTP is still running. None may block, and
// WriteRTP must not keep p or its payload after returning. The room tells writers apart with
// ==, so a writer must be of a comparable type (a pointer, typically).
type TrackWriter interface {
	WriteRTP(p *rtp.Packet, arrival time.Time)
	// SenderReport passes on the publisher's RTCP sender report timing for this track.
	SenderReport(ntpTime uint64, rtpTime uint32, arrival time.Time)
	// Close ends the span; no call follows it.
	Close()
}

// roomSink is a sink attached to a room, with its open spans. Guarded by the room's mu.
type roomSink struct {
	name  string
	sink  Sink // nil: detached; the next reconcile ends its spans and drops it
	spans map[*UpTrack]sinkSpan
}

type sinkSpan struct {
	w       TrackWriter // nil: the sink declined the span
	whisper bool
}

// SetSink attaches s under name, in place of the sink already there; nil detaches it. The
// replaced or detached sink's spans end (their writers are closed) before SetSink returns,
// and the other sinks' are untouched. Spans that start together are fed in the order their
// sinks were attached.
func (r *Room) SetSink(name string, s Sink) {
	r.mu.Lock()
	for _, rs := range r.sinks {
		if rs.name == name {
			rs.sink = nil
		}
	}
	if s != nil {
		r.sinks = append(r.sinks, &roomSink{name: name, sink: s, spans: map[*UpTrack]sinkSpan{}})
	}
	r.applyAndUnlock()
}

// recorderGrantsLocked is what the policy grants the recorder, by track.
func (r *Room) recorderGrantsLocked() map[*UpTrack]Grant {
	recorder := Seat{Role: RoleRecorder}
	grants := map[*UpTrack]Grant{}
	for _, pub := range r.parts {
		g := Route(pub.seat, recorder)
		for kind, t := range pub.published {
			if (kind == webrtc.RTPCodecTypeAudio && g.Audio) || (kind == webrtc.RTPCodecTypeVideo && g.Video) {
				grants[t] = g
			}
		}
	}
	return grants
}

// reconcileSinksLocked ends the spans the policy no longer grants as they are (or whose sink
// was detached) and starts those it grants, for every sink; it returns the writers to close
// once the lock is released.
func (r *Room) reconcileSinksLocked() []TrackWriter {
	if len(r.sinks) == 0 {
		return nil
	}
	grants := r.recorderGrantsLocked()
	var closed []TrackWriter
	for _, rs := range r.sinks {
		for t, span := range rs.spans {
			if g, ok := grants[t]; ok && rs.sink != nil && g.Whisper == span.whisper {
				continue
			}
			if span.w != nil {
				t.removeSink(span.w)
				closed = append(closed, span.w)
			}
			delete(rs.spans, t)
		}
	}
	r.sinks = slices.DeleteFunc(r.sinks, func(rs *roomSink) bool { return rs.sink == nil })

	// In join order, audio before video, and the sinks in their order: deterministic.
	for _, pub := range r.parts {
		for _, t := range []*UpTrack{pub.published[webrtc.RTPCodecTypeAudio], pub.published[webrtc.RTPCodecTypeVideo]} {
			g, ok := grants[t]
			if t == nil || !ok {
				continue
			}
			var info *TrackInfo // made once, for the first sink that needs it
			for _, rs := range r.sinks {
				if _, open := rs.spans[t]; open {
					continue
				}
				if info == nil {
					info = r.trackInfoLocked(pub, t, g)
				}
				w, err := rs.sink.StartTrack(*info)
				if err != nil {
					r.log.Warn("a sink failed to start a track", "sink", rs.name,
						"participant", string(pub.id), "kind", t.kind.String(), "err", err)
					continue
				}
				rs.spans[t] = sinkSpan{w: w, whisper: g.Whisper}
				if w != nil {
					t.addSink(w)
				}
			}
		}
	}
	return closed
}

func (r *Room) trackInfoLocked(pub *Participant, t *UpTrack, g Grant) *TrackInfo {
	return &TrackInfo{
		SessionID:           r.id,
		ParticipantID:       pub.id,
		Role:                pub.role,
		Name:                pub.name,
		TrackID:             t.trackID,
		Kind:                t.kind,
		Codec:               t.codec,
		Whisper:             g.Whisper,
		RequestKeyframe:     func() { t.RequestKeyframe(true) },
		AudioLevelExtension: t.audioLevelExtension(),
	}
}
