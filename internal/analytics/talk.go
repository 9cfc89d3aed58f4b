package analytics

import (
	"cmp"
	"slices"
	"time"
)

// Side is one party of the role-play: the rep or the partner.
type Side string

// The two sides that are analysed. A coach's audio (whispered or open) is not talk of the
// role-play and is never counted.
const (
	Rep     Side = "rep"
	Partner Side = "partner"
	// Nobody is the side of a simultaneous start (neither interrupted) and of the longest
	// monologue of a session in which nobody talked.
	Nobody Side = ""
)

// Interval is a stretch of the session's timeline, in milliseconds from the session's start,
// from StartMs (included) to EndMs (excluded).
type Interval struct {
	StartMs, EndMs int64
}

// Len is the interval's length in milliseconds.
func (i Interval) Len() int64 { return i.EndMs - i.StartMs }

// Overlap is a stretch in which both sides talk, at least Params.MinOverlap long. By is the
// side that started talking while the other was already talking (the interrupter), or Nobody
// when both started within Params.Simultaneous of each other.
type Overlap struct {
	Interval
	By Side
}

// Monologue is a stretch in which one side talks and the other does not (By is Nobody for
// the zero Monologue: no such stretch).
type Monologue struct {
	Interval
	By Side
}

// Summary is the talk analysis of a session.
type Summary struct {
	// Rep and Partner are each side's talk, smoothed, sorted and disjoint.
	Rep, Partner []Interval
	// RepTalkMs and PartnerTalkMs are the sums of their lengths.
	RepTalkMs, PartnerTalkMs int64
	// Overlaps are the stretches in which both talk, in time order; OverlapMs their total.
	Overlaps  []Overlap
	OverlapMs int64
	// RepInterruptions and PartnerInterruptions count the overlaps each side started.
	RepInterruptions, PartnerInterruptions int
	// RepMonologue and PartnerMonologue are each side's longest one-sided stretch (zero if
	// that side never talked alone).
	RepMonologue, PartnerMonologue Monologue
}

// LongestMonologue is the longer of the two sides' longest monologues (the rep's on a tie;
// zero if nobody talked alone).
func (s Summary) LongestMonologue() Monologue {
	if s.PartnerMonologue.Len() > s.RepMonologue.Len() {
		return s.PartnerMonologue
	}
	return s.RepMonologue
}

// TalkRatio is the rep's share of the talk, in percent of the rep's and the partner's talk
// together; ok is false when neither talked.
func (s Summary) TalkRatio() (pct float64, ok bool) {
	total := s.RepTalkMs + s.PartnerTalkMs
	if total <= 0 {
		return 0, false
	}
	return 100 * float64(s.RepTalkMs) / float64(total), true
}

// Params are the thresholds of the analysis. Zero fields take the defaults (docs/coaching.md,
// "Talk analytics").
type Params struct {
	// VoiceLevel: a packet whose RFC 6464 level (0 to 127, in -dBov: 0 is the loudest) is at
	// most this is voice (default 40, i.e. louder than -40 dBov).
	VoiceLevel uint8
	// MaxGap: a pause in one side's voice up to this long does not end its talk (default
	// 400 ms), so that a quiet packet or the gap between two words does not split a turn.
	MaxGap time.Duration
	// MinTalk: talk shorter than this, after MaxGap has joined what it joins, is dropped as a
	// click, a cough or a stray loud packet (default 200 ms).
	MinTalk time.Duration
	// MinOverlap: both sides talking for less than this is turn-taking, not an overlap
	// (default 300 ms).
	MinOverlap time.Duration
	// Simultaneous: sides that start talking within this of each other both started; neither
	// interrupted (default 100 ms).
	Simultaneous time.Duration
	// MonologuePause: a monologue goes on across its speaker's pauses shorter than this, as
	// long as the other side stays quiet (default 2 s).
	MonologuePause time.Duration
}

// Defaults of Params' zero fields.
const (
	DefaultVoiceLevel     = 40
	DefaultMaxGap         = 400 * time.Millisecond
	DefaultMinTalk        = 200 * time.Millisecond
	DefaultMinOverlap     = 300 * time.Millisecond
	DefaultSimultaneous   = 100 * time.Millisecond
	DefaultMonologuePause = 2 * time.Second
)

// withDefaults fills in p's zero fields.
func (p Params) withDefaults() Params {
	if p.VoiceLevel == 0 {
		p.VoiceLevel = DefaultVoiceLevel
	}
	p.MaxGap = cmp.Or(p.MaxGap, DefaultMaxGap)
	p.MinTalk = cmp.Or(p.MinTalk, DefaultMinTalk)
	p.MinOverlap = cmp.Or(p.MinOverlap, DefaultMinOverlap)
	p.Simultaneous = cmp.Or(p.Simultaneous, DefaultSimultaneous)
	p.MonologuePause = cmp.Or(p.MonologuePause, DefaultMonologuePause)
	return p
}

// Summarize analyses the two sides' voice intervals, which may be unsorted and may overlap
// (several spans of one side, from different tracks or rooms of the session). It is pure.
func Summarize(rep, partner []Interval, p Params) Summary {
	p = p.withDefaults()
	s := Summary{Rep: smooth(rep, p), Partner: smooth(partner, p)}
	s.RepTalkMs, s.PartnerTalkMs = total(s.Rep), total(s.Partner)
	s.Overlaps = overlaps(s.Rep, s.Partner, p)
	for _, o := range s.Overlaps {
		s.OverlapMs += o.Len()
		switch o.By {
		case Rep:
			s.RepInterruptions++
		case Partner:
			s.PartnerInterruptions++
		}
	}
	s.RepMonologue, s.PartnerMonologue = longestMonologues(s.Rep, s.Partner, p)
	return s
}

// smooth sorts intervals, joins those less than MaxGap apart (or overlapping) and drops what
// is shorter than MinTalk.
func smooth(in []Interval, p Params) []Interval {
	joined := join(in, p.MaxGap.Milliseconds())
	minTalk := p.MinTalk.Milliseconds()
	return slices.DeleteFunc(joined, func(i Interval) bool { return i.Len() < minTalk })
}

// join returns the intervals sorted, with those at most gapMs apart made one.
func join(in []Interval, gapMs int64) []Interval {
	out := make([]Interval, 0, len(in))
	for _, i := range in {
		if i.EndMs > i.StartMs {
			out = append(out, i)
		}
	}
	slices.SortFunc(out, func(a, b Interval) int { return cmp.Compare(a.StartMs, b.StartMs) })
	n := 0
	for _, i := range out {
		if n > 0 && i.StartMs-out[n-1].EndMs <= gapMs {
			out[n-1].EndMs = max(out[n-1].EndMs, i.EndMs)
			continue
		}
		out[n] = i
		n++
	}
	return out[:n]
}

func total(in []Interval) int64 {
	var t int64
	for _, i := range in {
		t += i.Len()
	}
	return t
}

// overlaps intersects the two sides' sorted disjoint intervals, keeping what is at least
// MinOverlap long, each attributed to the side that started later.
func overlaps(rep, partner []Interval, p Params) []Overlap {
	out := []Overlap{}
	minLen, simul := p.MinOverlap.Milliseconds(), p.Simultaneous.Milliseconds()
	for i, j := 0, 0; i < len(rep) && j < len(partner); {
		r, q := rep[i], partner[j]
		if iv := (Interval{max(r.StartMs, q.StartMs), min(r.EndMs, q.EndMs)}); iv.Len() >= minLen {
			by := Nobody
			switch d := r.StartMs - q.StartMs; {
			case d >= simul:
				by = Rep
			case -d >= simul:
				by = Partner
			}
			out = append(out, Overlap{Interval: iv, By: by})
		}
		if r.EndMs < q.EndMs {
			i++
		} else {
			j++
		}
	}
	return out
}

// subtract returns what of a (sorted, disjoint) b (sorted, disjoint) does not cover.
func subtract(a, b []Interval) []Interval {
	var out []Interval
	j := 0
	for _, i := range a {
		start := i.StartMs
		for j < len(b) && b[j].EndMs <= start {
			j++
		}
		for k := j; k < len(b) && b[k].StartMs < i.EndMs; k++ {
			if b[k].StartMs > start {
				out = append(out, Interval{start, b[k].StartMs})
			}
			start = max(start, b[k].EndMs)
		}
		if start < i.EndMs {
			out = append(out, Interval{start, i.EndMs})
		}
	}
	return out
}

// touches reports whether any of the sorted intervals in intersects (from, to).
func touches(in []Interval, from, to int64) bool {
	k, _ := slices.BinarySearchFunc(in, from, func(i Interval, t int64) int { return cmp.Compare(i.EndMs, t+1) })
	return k < len(in) && in[k].StartMs < to
}

// longestMonologues finds each side's longest stretch in which it talks and the other does
// not: its talk with the other's taken out, joined across its pauses shorter than
// MonologuePause in which the other side says nothing.
func longestMonologues(rep, partner []Interval, p Params) (repBest, partnerBest Monologue) {
	type seg struct {
		Interval
		by Side
	}
	var solo []seg
	for _, i := range subtract(rep, partner) {
		solo = append(solo, seg{i, Rep})
	}
	for _, i := range subtract(partner, rep) {
		solo = append(solo, seg{i, Partner})
	}
	slices.SortFunc(solo, func(a, b seg) int { return cmp.Compare(a.StartMs, b.StartMs) })
	pause := p.MonologuePause.Milliseconds()
	var cur seg
	consider := func() {
		best := &repBest
		if cur.by == Partner {
			best = &partnerBest
		}
		if cur.Len() > best.Len() {
			*best = Monologue{Interval: cur.Interval, By: cur.by}
		}
	}
	for k, g := range solo {
		other := partner
		if g.by == Partner {
			other = rep
		}
		if k > 0 && g.by == cur.by && g.StartMs-cur.EndMs < pause && !touches(other, cur.EndMs, g.StartMs) {
			cur.EndMs = g.EndMs
			continue
		}
		if k > 0 {
			consider()
		}
		cur = g
	}
	if len(solo) > 0 {
		consider()
	}
	return repBest, partnerBest
}
