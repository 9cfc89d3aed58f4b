package analytics

import (
	"math"
	"reflect"
	"testing"
	"time"
)

func iv(s, e int64) Interval { return Interval{StartMs: s, EndMs: e} }

func ov(s, e int64, by Side) Overlap { return Overlap{Interval: iv(s, e), By: by} }

// TestSummarizeKnownConversation is the conversation the end-to-end test plays
// (internal/e2e/analytics_test.go), given as exact intervals: every figure is known.
func TestSummarizeKnownConversation(t *testing.T) {
	rep := []Interval{iv(500, 4000), iv(7000, 8000), iv(8200, 10000), iv(12000, 13000)}
	partner := []Interval{iv(3000, 6000), iv(7500, 7520), iv(9000, 9600), iv(11000, 14000)}
	s := Summarize(rep, partner, Params{})

	want := Summary{
		Rep:           []Interval{iv(500, 4000), iv(7000, 10000), iv(12000, 13000)}, // the 200 ms dip is bridged
		Partner:       []Interval{iv(3000, 6000), iv(9000, 9600), iv(11000, 14000)}, // the 20 ms blip is dropped
		RepTalkMs:     7500,
		PartnerTalkMs: 6600,
		Overlaps:      []Overlap{ov(3000, 4000, Partner), ov(9000, 9600, Partner), ov(12000, 13000, Rep)},
		OverlapMs:     2600,
		// Partner interrupted twice, the rep once.
		RepInterruptions: 1, PartnerInterruptions: 2,
		// The rep alone from 0.5 s until the partner starts at 3 s; the partner alone from when
		// the rep stops at 4 s until 6 s.
		RepMonologue:     Monologue{Interval: iv(500, 3000), By: Rep},
		PartnerMonologue: Monologue{Interval: iv(4000, 6000), By: Partner},
	}
	if !reflect.DeepEqual(s, want) {
		t.Fatalf("Summarize =\n%+v\nwant\n%+v", s, want)
	}
	if s.LongestMonologue() != s.RepMonologue {
		t.Errorf("LongestMonologue = %+v", s.LongestMonologue())
	}
	if r, ok := s.TalkRatio(); !ok || math.Abs(r-100*7500.0/14100) > 1e-9 {
		t.Errorf("TalkRatio = %v, %v", r, ok)
	}
}

func TestSummarizeRules(t *testing.T) {
	for _, c := range []struct {
		name           string
		rep, partner   []Interval
		wantRep        []Interval
		wantOverlaps   []Overlap
		wantMonologue  Monologue
		wantRepTalkMs  int64
		wantPartnerTMs int64
	}{{
		name: "nobody talks", wantRep: []Interval{}, wantOverlaps: []Overlap{},
	}, {
		name:    "pauses up to MaxGap are bridged, longer ones are not; inputs may be unsorted and overlap",
		rep:     []Interval{iv(2000, 3000), iv(0, 1000), iv(1400, 1500), iv(500, 1200), iv(3401, 4000)},
		wantRep: []Interval{iv(0, 1500), iv(2000, 3000), iv(3401, 4000)}, wantOverlaps: []Overlap{},
		wantMonologue: Monologue{Interval: iv(0, 4000), By: Rep}, wantRepTalkMs: 3099,
	}, {
		name:    "talk shorter than MinTalk is dropped after bridging",
		rep:     []Interval{iv(0, 100), iv(300, 399), iv(1000, 1199), iv(2000, 2200)},
		wantRep: []Interval{iv(0, 399), iv(2000, 2200)}, wantOverlaps: []Overlap{},
		wantMonologue: Monologue{Interval: iv(0, 2200), By: Rep}, wantRepTalkMs: 599,
	}, {
		name: "starting together is nobody's interruption; a short overlap is turn-taking",
		rep:  []Interval{iv(0, 2000), iv(5000, 7000)}, partner: []Interval{iv(50, 1000), iv(6800, 9000)},
		wantRep: []Interval{iv(0, 2000), iv(5000, 7000)}, wantOverlaps: []Overlap{ov(50, 1000, Nobody)},
		wantMonologue: Monologue{Interval: iv(7000, 9000), By: Partner}, wantRepTalkMs: 4000, wantPartnerTMs: 3150,
	}, {
		name: "two interruptions inside one turn",
		rep:  []Interval{iv(0, 10000)}, partner: []Interval{iv(2000, 3000), iv(6000, 6500)},
		wantRep: []Interval{iv(0, 10000)}, wantOverlaps: []Overlap{ov(2000, 3000, Partner), ov(6000, 6500, Partner)},
		wantMonologue: Monologue{Interval: iv(6500, 10000), By: Rep}, wantRepTalkMs: 10000, wantPartnerTMs: 1500,
	}, {
		name:    "a pause of MonologuePause or more ends a monologue",
		rep:     []Interval{iv(0, 1000), iv(2999, 4000), iv(6000, 6500)},
		wantRep: []Interval{iv(0, 1000), iv(2999, 4000), iv(6000, 6500)}, wantOverlaps: []Overlap{},
		wantMonologue: Monologue{Interval: iv(0, 4000), By: Rep}, wantRepTalkMs: 2501,
	}, {
		name: "the other side's talk in the pause ends a monologue",
		rep:  []Interval{iv(0, 1000), iv(1500, 2500)}, partner: []Interval{iv(1100, 1400)},
		wantRep: []Interval{iv(0, 1000), iv(1500, 2500)}, wantOverlaps: []Overlap{},
		wantMonologue: Monologue{Interval: iv(0, 1000), By: Rep}, wantRepTalkMs: 2000, wantPartnerTMs: 300,
	}} {
		t.Run(c.name, func(t *testing.T) {
			s := Summarize(c.rep, c.partner, Params{})
			if !reflect.DeepEqual(s.Rep, c.wantRep) || !reflect.DeepEqual(s.Overlaps, c.wantOverlaps) ||
				s.LongestMonologue() != c.wantMonologue || s.RepTalkMs != c.wantRepTalkMs || s.PartnerTalkMs != c.wantPartnerTMs {
				t.Fatalf("Summarize = %+v", s)
			}
			_, ok := s.TalkRatio()
			if ok != (c.wantRepTalkMs+c.wantPartnerTMs > 0) {
				t.Errorf("TalkRatio ok = %v", ok)
			}
		})
	}
}

func TestParamsOverrideDefaults(t *testing.T) {
	p := Params{MaxGap: 50 * time.Millisecond, MinTalk: time.Millisecond}.withDefaults()
	if p.MaxGap != 50*time.Millisecond || p.MinTalk != time.Millisecond || p.VoiceLevel != DefaultVoiceLevel ||
		p.MonologuePause != DefaultMonologuePause {
		t.Fatalf("withDefaults = %+v", p)
	}
	s := Summarize([]Interval{iv(0, 100), iv(200, 300)}, nil, Params{MaxGap: 50 * time.Millisecond, MinTalk: time.Millisecond})
	if len(s.Rep) != 2 {
		t.Fatalf("with a 50 ms MaxGap, %v", s.Rep)
	}
}

func TestSubtract(t *testing.T) {
	got := subtract([]Interval{iv(0, 10), iv(20, 30), iv(40, 50)}, []Interval{iv(-5, 2), iv(4, 6), iv(8, 22), iv(45, 60)})
	want := []Interval{iv(2, 4), iv(6, 8), iv(22, 30), iv(40, 45)}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("subtract = %v, want %v", got, want)
	}
}
