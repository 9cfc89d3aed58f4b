package sfu

import (
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

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
// forwarded track, never a silent coach's. A change of what the policy grants (a coach going
// from whisper to open, a track ending) closes the TrackWriter and, if still granted, starts a
// new one, so each writer covers one span with one Whisper value.
type Sink interface {
	// StartTrack must not block on I/O.
	StartTrack(info TrackInfo) (TrackWriter, error)
}

// TrackWriter is one recorded span of one track. WriteRTP is called from the track's reader
// goroutine, SenderReport from its RTCP goroutine, and Close from the room once the writer is
// out of the fan-out, possibly while a last WriteRTP is still running. None may block, and
// WriteRTP must not keep p or its payload after returning.
type TrackWriter interface {
	WriteRTP(p *rtp.Packet, arrival time.Time)
	// SenderReport passes on the publisher's RTCP sender report timing for this track.
	SenderReport(ntpTime uint64, rtpTime uint32, arrival time.Time)
	// Close ends the span; no call follows it.
	Close()
}
