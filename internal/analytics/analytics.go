// Package analytics computes a session's talk analytics: how long the rep and the partner
// talk (the talk ratio), the longest monologue, and the overlaps with who interrupted whom. It
// reads nothing but the RFC 6464 audio level that publishers put in a header extension of
// every audio packet (sfu.AudioLevelURI, negotiated by the SFU): it is a Sink of the room, fed
// the rep's and the partner's audio as the SFU forwards it, and at the end of the session it
// writes one row of figures and talk intervals to the store (docs/coaching.md, "Talk
// analytics").
//
// It never decodes audio, never blocks or allocates per packet, and knows nothing of HTTP,
// signaling or the recorder. The computation itself (Summarize) is pure.
package analytics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"

	"ringside/internal/store"
	"ringside/sfu"
)

// Store is what the analyzer keeps its results in; *store.Store is one.
type Store interface {
	TalkAnalytics(ctx context.Context, sessionID string) (store.TalkAnalytics, error)
	SaveTalkAnalytics(ctx context.Context, t store.TalkAnalytics) error
}

// Config configures an Analyzer.
type Config struct {
	Store  Store
	Logger *slog.Logger
	// Params are the thresholds (zero fields: the defaults).
	Params Params
}

// Analyzer starts the analysis of each live session. It is safe for concurrent use.
type Analyzer struct {
	store  Store        // immutable after New
	log    *slog.Logger // immutable after New
	params Params       // immutable after New, with defaults
}

// New returns an Analyzer.
func New(cfg Config) *Analyzer {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Analyzer{store: cfg.Store, log: log, params: cfg.Params.withDefaults()}
}

// Start begins the analysis of a session whose timeline starts at start: the same start the
// recorder's manifest is measured from, so that talk intervals line up with the replay.
func (a *Analyzer) Start(sessionID string, start time.Time) *Session {
	return &Session{a: a, id: sessionID, start: start, log: a.log.With("session", sessionID)}
}

// Session is one live room's analysis: attach it to the room as one of its sinks
// (sfu.Room.SetSink) and call Finish once the room has closed.
type Session struct {
	a     *Analyzer    // immutable
	id    string       // immutable
	start time.Time    // immutable
	log   *slog.Logger // immutable

	mu       sync.Mutex // guards the following fields
	spans    []*span
	finished bool
}

// StartTrack implements sfu.Sink. The rep's and the partner's audio with negotiated audio
// levels is analysed; any other track (video, a coach's audio, a publisher that sends no
// levels) is declined (a nil writer), so it costs nothing per packet.
func (s *Session) StartTrack(info sfu.TrackInfo) (sfu.TrackWriter, error) {
	var side Side
	switch info.Role {
	case sfu.RoleRep:
		side = Rep
	case sfu.RolePartner:
		side = Partner
	}
	if side == Nobody || info.Kind != webrtc.RTPCodecTypeAudio || info.AudioLevelExtension == 0 || info.Whisper {
		return nil, nil // declined: the track stays out of the fan-out to the analysis
	}
	sp := &span{
		side:  side,
		ext:   info.AudioLevelExtension,
		start: s.start,
		d:     newDetector(s.a.params.VoiceLevel, s.a.params.MaxGap.Milliseconds(), info.Codec.ClockRate),
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.finished {
		return nil, nil
	}
	s.spans = append(s.spans, sp)
	return sp, nil
}

// Finish ends the analysis: it stops every span, summarises what they saw together with what
// an earlier room of the same session stored, and stores the result. A session in which
// neither side sent any audio level stores nothing. Finish is for once the room has closed;
// packets after it are ignored.
func (s *Session) Finish(ctx context.Context) error {
	s.mu.Lock()
	spans := s.spans
	s.finished = true
	s.mu.Unlock()

	var rep, partner []Interval
	var repMeasured, partnerMeasured bool
	var extentMs int64
	for _, sp := range spans {
		iv, levelled, lastMs := sp.finish()
		if levelled == 0 {
			continue
		}
		extentMs = max(extentMs, lastMs+defaultFrameMs)
		if sp.side == Rep {
			rep, repMeasured = append(rep, iv...), true
		} else {
			partner, partnerMeasured = append(partner, iv...), true
		}
	}
	if !repMeasured && !partnerMeasured {
		return nil
	}
	if s.a.store == nil {
		return nil
	}
	prev, err := s.a.store.TalkAnalytics(ctx, s.id)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return fmt.Errorf("analytics: session %s: %w", s.id, err)
	default:
		rep, partner = append(rep, fromStore(prev.Rep)...), append(partner, fromStore(prev.Partner)...)
		repMeasured, partnerMeasured = repMeasured || prev.RepMeasured, partnerMeasured || prev.PartnerMeasured
		extentMs = max(extentMs, prev.DurationMs)
	}
	sum := Summarize(rep, partner, s.a.params)
	row := toStore(s.id, sum)
	row.DurationMs, row.RepMeasured, row.PartnerMeasured = extentMs, repMeasured, partnerMeasured
	if err := s.a.store.SaveTalkAnalytics(ctx, row); err != nil {
		return fmt.Errorf("analytics: session %s: %w", s.id, err)
	}
	ratio, _ := sum.TalkRatio()
	s.log.Info("talk analytics stored", "rep_talk_ms", sum.RepTalkMs, "partner_talk_ms", sum.PartnerTalkMs,
		"talk_ratio", fmt.Sprintf("%.1f", ratio), "overlaps", len(sum.Overlaps),
		"longest_monologue_ms", sum.LongestMonologue().Len())
	return nil
}

func toStore(id string, s Summary) store.TalkAnalytics {
	row := store.TalkAnalytics{
		SessionID: id,
		RepTalkMs: s.RepTalkMs, PartnerTalkMs: s.PartnerTalkMs, OverlapMs: s.OverlapMs,
		RepInterruptions: s.RepInterruptions, PartnerInterruptions: s.PartnerInterruptions,
		RepMonologue:     store.TalkInterval{StartMs: s.RepMonologue.StartMs, EndMs: s.RepMonologue.EndMs},
		PartnerMonologue: store.TalkInterval{StartMs: s.PartnerMonologue.StartMs, EndMs: s.PartnerMonologue.EndMs},
		Rep:              toStoreIntervals(s.Rep),
		Partner:          toStoreIntervals(s.Partner),
		Overlaps:         make([]store.TalkOverlap, 0, len(s.Overlaps)),
	}
	for _, o := range s.Overlaps {
		row.Overlaps = append(row.Overlaps, store.TalkOverlap{StartMs: o.StartMs, EndMs: o.EndMs, By: string(o.By)})
	}
	return row
}

func toStoreIntervals(in []Interval) []store.TalkInterval {
	out := make([]store.TalkInterval, len(in))
	for i, iv := range in {
		out[i] = store.TalkInterval{StartMs: iv.StartMs, EndMs: iv.EndMs}
	}
	return out
}

func fromStore(in []store.TalkInterval) []Interval {
	out := make([]Interval, len(in))
	for i, iv := range in {
		out[i] = Interval{StartMs: iv.StartMs, EndMs: iv.EndMs}
	}
	return out
}
