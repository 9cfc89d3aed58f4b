package e2e

import (
	"context"
	"math"
	"path/filepath"
	"testing"
	"time"

	"ringside/internal/app"
	"ringside/internal/app/apptest"
	"ringside/internal/client"
	"ringside/internal/media"
	"ringside/internal/proto"
	"ringside/recorder"
)

// talkScript is when each party of the known conversation speaks, from the script's start.
// The expected figures follow by hand (and internal/analytics' unit test checks them exactly):
//
//   - the rep talks 0.5–4 s, 7–10 s (with a 200 ms dip at 8 s, bridged) and 12–13 s: 7.5 s;
//   - the partner talks 3–6 s, 9–9.6 s and 11–14 s: 6.6 s, plus one loud packet at 7.5 s,
//     too short to be talk;
//   - so the rep's talk ratio is 7.5 / 14.1 = 53.2 %;
//   - they overlap three times: 3–4 s and 9–9.6 s (the partner interrupts) and 12–13 s (the
//     rep interrupts);
//   - the rep's longest monologue is 0.5–3 s, the partner's 4–6 s.
//
// Each peer's audio levels follow its script (media.LevelScript) on the wall clock from one
// common start.
var talkScript = map[string][]media.Voice{
	"rep":     {voice(500, 4000), voice(7000, 8000), voice(8200, 10000), voice(12000, 13000)},
	"partner": {voice(3000, 6000), voice(7500, 7520), voice(9000, 9600), voice(11000, 14000)},
	// The coach joins openly and talks throughout: a coach's talk is not the role-play's.
	"coach": {voice(0, 15000)},
}

func voice(fromMs, toMs int64) media.Voice {
	return media.Voice{From: time.Duration(fromMs) * time.Millisecond, To: time.Duration(toMs) * time.Millisecond}
}

// span is a stretch of the session's timeline, in milliseconds.
type span struct{ from, to int64 }

const (
	scriptMs               = 15000
	wantRatio              = 100 * 7500.0 / 14100
	wantOverlaps           = 3
	wantMonologueMs        = 2500
	wantPartnerMonologueMs = 2000
)

// TestTalkAnalyticsOfKnownConversation is the talk analytics' end-to-end test: Pion peers in
// a recorded session send Opus with audio levels following a known script, the session ends,
// and the stored analysis has the known talk ratio (within 2 percentage points), the known
// overlaps exactly, and talk intervals on the recording's timeline.
func TestTalkAnalyticsOfKnownConversation(t *testing.T) {
	srv := apptest.Start(t)
	id, _, tokens := srv.CreateSession(t, "Talk analytics")
	var scripts []*media.LevelScript
	join := func(role string) *client.Client {
		t.Helper()
		script := media.NewLevelScript(talkScript[role]...)
		scripts = append(scripts, script)
		api, err := script.API()
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		c, err := client.Dial(ctx, client.Config{URL: srv.WSURL, Token: tokens[role], Publish: client.Audio, API: api})
		if err != nil {
			t.Fatalf("%s: dial: %v", role, err)
		}
		stop := media.LoopFixtures(c.AudioTrack(), nil)
		t.Cleanup(func() {
			stop()
			_ = c.Close()
		})
		return c
	}
	rep, partner, coach := join("rep"), join("partner"), join("coach")
	if err := coach.SetMode(proto.ModeOpen, ""); err != nil {
		t.Fatal(err)
	}
	flowing(t, partner, rep.ID(), audio, 10)
	flowing(t, rep, partner.ID(), audio, 10)
	flowing(t, rep, coach.ID(), audio, 10) // the coach is open: the recorder (and analysis) get its audio

	scriptStart := time.Now()
	for _, s := range scripts {
		s.Start(scriptStart)
	}
	time.Sleep(scriptMs*time.Millisecond + 500*time.Millisecond)
	srv.EndSession(t, id) // stores the analysis before it returns

	got, err := srv.App.Store().TalkAnalytics(t.Context(), id)
	if err != nil {
		t.Fatalf("no talk analytics stored: %v", err)
	}
	t.Logf("stored: %+v", got)
	if !got.RepMeasured || !got.PartnerMeasured {
		t.Fatalf("measured: rep %v, partner %v", got.RepMeasured, got.PartnerMeasured)
	}
	ratio := 100 * float64(got.RepTalkMs) / float64(got.RepTalkMs+got.PartnerTalkMs)
	if math.Abs(ratio-wantRatio) > 2 {
		t.Errorf("talk ratio %.2f%%, want %.2f%% ± 2 (rep %d ms, partner %d ms)", ratio, wantRatio, got.RepTalkMs, got.PartnerTalkMs)
	}
	if len(got.Overlaps) != wantOverlaps || got.RepInterruptions != 1 || got.PartnerInterruptions != 2 {
		t.Errorf("%d overlaps (rep interrupted %d times, partner %d), want %d (1, 2): %+v",
			len(got.Overlaps), got.RepInterruptions, got.PartnerInterruptions, wantOverlaps, got.Overlaps)
	}
	repMono := got.RepMonologue.EndMs - got.RepMonologue.StartMs
	if partnerMono := got.PartnerMonologue.EndMs - got.PartnerMonologue.StartMs; abs(repMono-wantMonologueMs) > 200 ||
		abs(partnerMono-wantPartnerMonologueMs) > 200 {
		t.Errorf("longest monologues: the rep's %d ms, the partner's %d ms; want %d and %d",
			repMono, partnerMono, wantMonologueMs, wantPartnerMonologueMs)
	}

	// The intervals are on the recording's timeline: from the manifest's start.
	m, err := recorder.ReadManifest(filepath.Join(srv.DataDir, app.RecordingsDir, id))
	if err != nil {
		t.Fatal(err)
	}
	base := scriptStart.Sub(m.StartedAt).Milliseconds()
	for side, want := range map[string][]span{
		"rep":     {{500, 4000}, {7000, 10000}, {12000, 13000}},
		"partner": {{3000, 6000}, {9000, 9600}, {11000, 14000}},
	} {
		ivs := got.Rep
		if side == "partner" {
			ivs = got.Partner
		}
		if len(ivs) != len(want) {
			t.Errorf("%s talks %d times, want %d: %+v", side, len(ivs), len(want), ivs)
			continue
		}
		for i, w := range want {
			if d := ivs[i].StartMs - (base + w.from); abs(d) > 150 {
				t.Errorf("%s's talk %d starts at %d ms of the recording, want %d (off by %d ms)", side, i, ivs[i].StartMs, base+w.from, d)
			}
			if d := ivs[i].EndMs - (base + w.to); abs(d) > 150 {
				t.Errorf("%s's talk %d ends at %d ms of the recording, want %d (off by %d ms)", side, i, ivs[i].EndMs, base+w.to, d)
			}
		}
	}
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// TestTalkAnalyticsSurviveRecordingFailure: the recording fills a tiny disk and stops; the
// talk analysis of the same tracks goes on, and has the talk that followed the failure.
func TestTalkAnalyticsSurviveRecordingFailure(t *testing.T) {
	dataDir := t.TempDir()
	smallDisk(t, filepath.Join(dataDir, app.RecordingsDir), "256k")
	srv := apptest.Start(t, apptest.WithDataDir(dataDir))
	id, _, tokens := srv.CreateSession(t, "Full disk, still analysed")
	repScript := media.NewLevelScript(voice(0, 2000))
	partnerScript := media.NewLevelScript(voice(2500, 4000))
	join := func(role string, script *media.LevelScript) *client.Client {
		t.Helper()
		api, err := script.API()
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		c, err := client.Dial(ctx, client.Config{URL: srv.WSURL, Token: tokens[role], Publish: client.Audio | client.Video, API: api})
		if err != nil {
			t.Fatalf("%s: dial: %v", role, err)
		}
		stop := media.LoopFixtures(c.AudioTrack(), c.VideoTrack())
		t.Cleanup(func() {
			stop()
			_ = c.Close()
		})
		return c
	}
	rep, partner := join("rep", repScript), join("partner", partnerScript)
	for _, c := range []*client.Client{rep, partner} {
		waitFor(t, "the recording to fail on the full disk", 60*time.Second, func() bool {
			r, ok := c.Recording()
			return ok && r.State == "failed"
		})
	}
	failedAt := time.Now()
	repScript.Start(failedAt)
	partnerScript.Start(failedAt)
	time.Sleep(4500 * time.Millisecond)
	srv.EndSession(t, id)

	got, err := srv.App.Store().TalkAnalytics(t.Context(), id)
	if err != nil {
		t.Fatalf("no talk analytics stored after the recording failed: %v", err)
	}
	if abs(got.RepTalkMs-2000) > 150 || abs(got.PartnerTalkMs-1500) > 150 || len(got.Rep) != 1 || len(got.Partner) != 1 {
		t.Fatalf("after the failure: rep talked %d ms in %v, partner %d ms in %v; want 2000 and 1500 ms, once each",
			got.RepTalkMs, got.Rep, got.PartnerTalkMs, got.Partner)
	}
}
