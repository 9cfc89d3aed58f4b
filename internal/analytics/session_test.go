package analytics

import (
	"context"
	"errors"
	"math/rand/v2"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"ringside/internal/store"
	"ringside/sfu"
)

const (
	testExt   = 3  // the audio level's extension id in these tests
	loud      = 30 // a voiced level (-30 dBov)
	quiet     = 90 // room noise
	frameMs   = 20
	tsPerMs   = 48 // Opus' 48 kHz RTP clock
	testStart = 1_000_000
)

// voiced reports whether ms falls in one of the script's intervals.
func voiced(script []Interval, ms int64) bool {
	for _, i := range script {
		if ms >= i.StartMs && ms < i.EndMs {
			return true
		}
	}
	return false
}

// packet is an Opus packet with the audio level at the test's extension id.
func packet(ts uint32, level uint8) *rtp.Packet {
	p := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, Timestamp: ts}, Payload: make([]byte, 60)}
	if err := p.Header.SetExtension(testExt, []byte{level}); err != nil {
		panic(err)
	}
	return p
}

// play writes 20 ms packets from 0 to endMs of session time to w, loud inside the script and
// quiet outside, the RTP timestamps starting at ts0, arrivals after the first jittered by up
// to jitterMs.
func play(w sfu.TrackWriter, start time.Time, ts0 uint32, endMs int64, script []Interval, jitterMs int64) {
	r := rand.New(rand.NewPCG(1, 2))
	for ms := int64(0); ms < endMs; ms += frameMs {
		level := uint8(quiet)
		if voiced(script, ms) {
			level = loud
		}
		jitter := int64(0)
		if jitterMs > 0 && ms > 0 { // the first packet's arrival anchors the track's timeline
			jitter = r.Int64N(jitterMs)
		}
		w.WriteRTP(packet(ts0+uint32(ms*tsPerMs), level), start.Add(time.Duration(ms+jitter)*time.Millisecond))
	}
}

// memStore is a Store in memory.
type memStore struct {
	mu   sync.Mutex
	rows map[string]store.TalkAnalytics
	err  error
}

func (m *memStore) TalkAnalytics(_ context.Context, id string) (store.TalkAnalytics, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r, ok := m.rows[id]; ok {
		return r, nil
	}
	return store.TalkAnalytics{}, store.ErrNotFound
}

func (m *memStore) SaveTalkAnalytics(_ context.Context, t store.TalkAnalytics) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return m.err
	}
	if m.rows == nil {
		m.rows = map[string]store.TalkAnalytics{}
	}
	m.rows[t.SessionID] = t
	return nil
}

func storeIntervals(in ...Interval) []store.TalkInterval { return toStoreIntervals(in) }

func audioInfo(role sfu.Role) sfu.TrackInfo {
	return sfu.TrackInfo{SessionID: "s1", ParticipantID: sfu.ParticipantID(role + "-1"), Role: role,
		Kind: webrtc.RTPCodecTypeAudio, Codec: sfu.OpusCodec.RTPCodecCapability, AudioLevelExtension: testExt}
}

func mustStart(t *testing.T, s *Session, info sfu.TrackInfo) sfu.TrackWriter {
	t.Helper()
	w, err := s.StartTrack(info)
	if err != nil || w == nil {
		t.Fatalf("StartTrack(%+v) = %v, %v", info, w, err)
	}
	return w
}

// TestSessionFromPackets plays the known conversation as packets (jittered arrivals, the
// rep's timestamps wrapping around) and checks what Finish stores.
func TestSessionFromPackets(t *testing.T) {
	st := &memStore{}
	a := New(Config{Store: st})
	start := time.Now()
	s := a.Start("s1", start)
	rep, partner := mustStart(t, s, audioInfo(sfu.RoleRep)), mustStart(t, s, audioInfo(sfu.RolePartner))
	repScript := []Interval{iv(500, 4000), iv(7000, 8000), iv(8200, 10000), iv(12000, 13000)}
	partnerScript := []Interval{iv(3000, 6000), iv(7500, 7520), iv(9000, 9600), iv(11000, 14000)}
	play(rep, start, 1<<32-48*5000, 15000, repScript, 15)
	play(partner, start, 12345, 15000, partnerScript, 15)
	rep.Close()
	partner.Close()
	if err := s.Finish(t.Context()); err != nil {
		t.Fatal(err)
	}
	got, err := st.TalkAnalytics(t.Context(), "s1")
	if err != nil {
		t.Fatal(err)
	}
	want := store.TalkAnalytics{
		SessionID: "s1", DurationMs: 15000, RepMeasured: true, PartnerMeasured: true,
		RepTalkMs: 7500, PartnerTalkMs: 6600, OverlapMs: 2600, RepInterruptions: 1, PartnerInterruptions: 2,
		RepMonologue:     store.TalkInterval{StartMs: 500, EndMs: 3000},
		PartnerMonologue: store.TalkInterval{StartMs: 4000, EndMs: 6000},
		Rep:              storeIntervals(iv(500, 4000), iv(7000, 10000), iv(12000, 13000)),
		Partner:          storeIntervals(iv(3000, 6000), iv(9000, 9600), iv(11000, 14000)),
		Overlaps: []store.TalkOverlap{{StartMs: 3000, EndMs: 4000, By: "partner"}, {StartMs: 9000, EndMs: 9600, By: "partner"},
			{StartMs: 12000, EndMs: 13000, By: "rep"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("stored\n%+v\nwant\n%+v", got, want)
	}
}

// TestSessionTracksAnalysed: only the rep's and the partner's audio with levels is analysed;
// a session where nobody sent levels stores nothing.
func TestSessionTracksAnalysed(t *testing.T) {
	st := &memStore{}
	s := New(Config{Store: st}).Start("s1", time.Now())
	video := audioInfo(sfu.RoleRep)
	video.Kind = webrtc.RTPCodecTypeVideo
	coach := audioInfo(sfu.RoleCoach)
	whisper := audioInfo(sfu.RoleCoach)
	whisper.Whisper = true
	noLevels := audioInfo(sfu.RolePartner)
	noLevels.AudioLevelExtension = 0
	for _, info := range []sfu.TrackInfo{video, coach, whisper, noLevels} {
		if w, err := s.StartTrack(info); w != nil || err != nil {
			t.Errorf("%s %s (extension %d) is analysed", info.Role, info.Kind, info.AudioLevelExtension)
		}
	}
	// The rep's track is analysed but carries no level at its id (another extension only).
	w := mustStart(t, s, audioInfo(sfu.RoleRep))
	p := &rtp.Packet{Header: rtp.Header{Version: 2, Timestamp: 1}}
	_ = p.Header.SetExtension(testExt+1, []byte{loud})
	w.WriteRTP(p, time.Now())
	if err := s.Finish(t.Context()); err != nil {
		t.Fatal(err)
	}
	if len(st.rows) != 0 {
		t.Fatalf("stored %+v for a session without levels", st.rows)
	}
	if w, err := s.StartTrack(audioInfo(sfu.RoleRep)); w != nil || err != nil {
		t.Error("a track started after Finish is analysed")
	}
}

// TestSessionMergesRooms: a session whose room closed and opened again (everyone left and
// came back) is analysed as one: the second Finish adds to what the first stored.
func TestSessionMergesRooms(t *testing.T) {
	st := &memStore{}
	a := New(Config{Store: st})
	start := time.Now()
	first := a.Start("s1", start)
	w := mustStart(t, first, audioInfo(sfu.RoleRep))
	play(w, start, 0, 3000, []Interval{iv(0, 2000)}, 0)
	w.Close()
	if err := first.Finish(t.Context()); err != nil {
		t.Fatal(err)
	}
	second := a.Start("s1", start)
	w = mustStart(t, second, audioInfo(sfu.RolePartner))
	// The partner's packets arrive from 60 s on: a new track, anchored at its first arrival.
	for ms := int64(0); ms < 2000; ms += frameMs {
		w.WriteRTP(packet(uint32(ms*tsPerMs), loud), start.Add(time.Duration(60000+ms)*time.Millisecond))
	}
	w.Close()
	if err := second.Finish(t.Context()); err != nil {
		t.Fatal(err)
	}
	got := st.rows["s1"]
	if !got.RepMeasured || !got.PartnerMeasured || got.RepTalkMs != 2000 || got.PartnerTalkMs != 2000 ||
		got.DurationMs != 62000 || !reflect.DeepEqual(got.Partner, storeIntervals(iv(60000, 62000))) {
		t.Fatalf("merged = %+v", got)
	}

	st.err = errors.New("disk full")
	third := a.Start("s1", start)
	w = mustStart(t, third, audioInfo(sfu.RoleRep))
	w.WriteRTP(packet(0, loud), start)
	if err := third.Finish(t.Context()); err == nil {
		t.Fatal("a failed save is not reported")
	}
}

// TestDetectorTiming: packet times follow the RTP clock, not the arrival jitter; a publisher
// that stops advancing its timestamps is followed by arrival time; packets without a level
// are not voice.
func TestDetectorTiming(t *testing.T) {
	d := newDetector(DefaultVoiceLevel, DefaultMaxGap.Milliseconds(), 48000)
	// 1 s of voice arriving in bursts of five packets every 100 ms.
	for n := int64(0); n < 50; n++ {
		d.feed(uint32(n*frameMs*tsPerMs), testStart+(n/5)*100+80, loud)
	}
	// The publisher pauses 5 s without advancing its timestamps, then talks 1 s more.
	for n := int64(50); n < 100; n++ {
		d.feed(uint32(n*frameMs*tsPerMs), testStart+6000+(n-50)*frameMs, loud)
	}
	// Then 1 s of packets without a level.
	for n := int64(100); n < 150; n++ {
		d.feed(uint32(n*frameMs*tsPerMs), testStart+7000+(n-100)*frameMs, noLevel)
	}
	d.flush()
	want := []Interval{iv(testStart+80, testStart+1080), iv(testStart+6000, testStart+7000)}
	if !reflect.DeepEqual(d.done, want) || d.levelled != 100 || d.voiced != 100 || d.packets != 150 {
		t.Fatalf("intervals %v (levelled %d voiced %d packets %d), want %v", d.done, d.levelled, d.voiced, d.packets, want)
	}
}

// TestWriteRTPDoesNotAllocate: the packet path allocates nothing, talking or not.
func TestWriteRTPDoesNotAllocate(t *testing.T) {
	s := New(Config{Store: &memStore{}}).Start("s1", time.Now())
	w := mustStart(t, s, audioInfo(sfu.RoleRep))
	talk, silence := packet(0, loud), packet(0, quiet)
	arrival := time.Now()
	n := 0
	allocs := testing.AllocsPerRun(2000, func() {
		p := silence
		if n%100 < 50 { // 1 s of talk, 1 s of silence
			p = talk
		}
		p.Timestamp = uint32(n * frameMs * tsPerMs)
		w.WriteRTP(p, arrival.Add(time.Duration(n*frameMs)*time.Millisecond))
		n++
	})
	if allocs != 0 {
		t.Fatalf("WriteRTP allocates %.2f times per packet", allocs)
	}
}

// TestWriteRTPRacesFinish: a reader still writing while the room closes and the session
// finishes (go test -race).
func TestWriteRTPRacesFinish(t *testing.T) {
	s := New(Config{Store: &memStore{}}).Start("s1", time.Now())
	var wg sync.WaitGroup
	for _, role := range []sfu.Role{sfu.RoleRep, sfu.RolePartner} {
		w := mustStart(t, s, audioInfo(role))
		wg.Go(func() {
			p := packet(0, loud)
			for n := range 5000 {
				p.Timestamp = uint32(n * frameMs * tsPerMs)
				w.WriteRTP(p, time.Now())
			}
		})
		wg.Go(func() {
			time.Sleep(time.Millisecond)
			w.Close()
		})
	}
	if err := s.Finish(context.Background()); err != nil {
		t.Error(err)
	}
	wg.Wait()
}
