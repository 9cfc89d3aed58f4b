package signaling

import (
	"strings"

	"github.com/pion/sdp/v3"

	"ringside/sfu"
)

func (l Limits) withDefaults() Limits {
	if l.MaxFrameBytes <= 0 {
		l.MaxFrameBytes = 64 << 10
	}
	if l.MaxSDPBytes <= 0 {
		l.MaxSDPBytes = 32 << 10
	}
	if l.MaxMLines <= 0 {
		l.MaxMLines = 16
	}
	if l.MessagesPerSecond <= 0 {
		l.MessagesPerSecond = 50
	}
	if l.MessageBurst <= 0 {
		l.MessageBurst = 100
	}
	if l.ParticipantsPerSession <= 0 {
		l.ParticipantsPerSession = 8
	}
	if l.SessionsPerServer <= 0 {
		l.SessionsPerServer = 200
	}
	return l
}

// maxNoteRunes bounds a marker's note.
const maxNoteRunes = 500

// maxMarksPerSession bounds how many markers one session stores.
const maxMarksPerSession = 1000

// checkSDP refuses SDP before Pion parses it for real: over the size limit, too many m-lines,
// or missing what every WebRTC description must carry.
func (l Limits) checkSDP(s string) error {
	if len(s) > l.MaxSDPBytes {
		return wrap(ErrTooLarge, "SDP of %d bytes is over the %d byte limit", len(s), l.MaxSDPBytes)
	}
	if n := strings.Count(s, "\nm="); n > l.MaxMLines {
		return wrap(sfu.ErrBadSDP, "%d m-lines is over the limit of %d", n, l.MaxMLines)
	}
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(s); err != nil {
		return wrap(sfu.ErrBadSDP, "does not parse: %v", err)
	}
	if len(sd.MediaDescriptions) > l.MaxMLines {
		return wrap(sfu.ErrBadSDP, "%d m-lines is over the limit of %d", len(sd.MediaDescriptions), l.MaxMLines)
	}
	_, sessionFP := sd.Attribute("fingerprint")
	for i, m := range sd.MediaDescriptions {
		if _, ok := m.Attribute("fingerprint"); !ok && !sessionFP {
			return wrap(sfu.ErrBadSDP, "m-line %d has no DTLS fingerprint", i)
		}
		if _, ok := m.Attribute("ice-ufrag"); !ok {
			if _, ok := sd.Attribute("ice-ufrag"); !ok {
				return wrap(sfu.ErrBadSDP, "m-line %d has no ICE credentials", i)
			}
		}
	}
	return nil
}
