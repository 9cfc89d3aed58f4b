package recorder

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtp"

	"ringside/sfu"
)

type discardFile struct{}

func (discardFile) Write(b []byte) (int, error) { return len(b), nil }
func (discardFile) Close() error                { return nil }

// discardDisk throws recordings away (the benchmark is about the media path, not the disk)
// and keeps manifests.
func discardDisk(name string) (io.WriteCloser, error) {
	if strings.HasSuffix(name, ".webm") || strings.HasSuffix(name, ".webm.tmp") {
		return discardFile{}, nil
	}
	return createFile(name)
}

// benchWriter is an Opus span recording to a disk that discards.
func benchWriter(tb testing.TB) (*Session, *trackWriter) {
	tb.Helper()
	rec := New(Config{Dir: tb.TempDir(), OpenFile: discardDisk})
	sess, err := rec.StartSession("bench", time.Now())
	if err != nil {
		tb.Fatal(err)
	}
	w, err := sess.StartTrack(opusInfo("rep00001", sfu.RoleRep))
	if err != nil {
		tb.Fatal(err)
	}
	return sess, w.(*trackWriter)
}

func opusPacket() *rtp.Packet {
	p := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SSRC: 1}, Payload: make([]byte, 160)}
	p.Payload[0] = 0x78 // CELT 20 ms, mono
	return p
}

// BenchmarkWriteRTP measures the media path: copying one packet into the span's queue. The
// writer goroutine drains the queue between batches, outside the timer.
func BenchmarkWriteRTP(b *testing.B) {
	sess, w := benchWriter(b)
	b.Cleanup(func() { closeSessionTB(b, sess) })
	p := opusPacket()
	now := time.Now()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		p.SequenceNumber++
		p.Timestamp += 960
		w.WriteRTP(p, now)
		if i%256 == 255 {
			b.StopTimer()
			for len(w.queue) > 0 {
				time.Sleep(10 * time.Microsecond)
			}
			b.StartTimer()
		}
	}
	b.StopTimer()
	if err := sess.Failed(); err != nil {
		b.Fatalf("the recording failed: %v", err)
	}
}

// BenchmarkWriteRTPStopped measures WriteRTP once the recording has stopped.
func BenchmarkWriteRTPStopped(b *testing.B) {
	sess, w := benchWriter(b)
	b.Cleanup(func() { closeSessionTB(b, sess) })
	sess.fail(errTestStop)
	p := opusPacket()
	now := time.Now()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		w.WriteRTP(p, now)
	}
}

// TestWriteRTPDoesNotAllocate holds the media path to zero allocations per packet. The
// session and the writer are not started, so that nothing else allocates meanwhile; the
// queue has room.
func TestWriteRTPDoesNotAllocate(t *testing.T) {
	checkLeaks(t)
	rec := New(Config{Dir: t.TempDir()})
	sess := &Session{rec: rec, log: rec.log, dir: t.TempDir()}
	w := sess.newTrackWriter(opusInfo("rep00002", sfu.RoleRep), "id", "f.webm", 48000)
	p := opusPacket()
	now := time.Now()
	allocs := testing.AllocsPerRun(400, func() {
		p.SequenceNumber++
		p.Timestamp += 960
		w.WriteRTP(p, now)
	})
	if allocs != 0 {
		t.Errorf("WriteRTP allocates %v times per packet", allocs)
	}
	if len(w.queue) != 401 {
		t.Errorf("%d packets queued, want 401", len(w.queue))
	}
	if err := sess.Failed(); err != nil {
		t.Fatal(err)
	}
}

func closeSessionTB(tb testing.TB, s *Session) {
	tb.Helper()
	if t, ok := tb.(*testing.T); ok {
		closeSession(t, s)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Close(ctx); err != nil {
		tb.Error(err)
	}
}
