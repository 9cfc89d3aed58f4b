package recorder

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"ringside/sfu"
)

// fullDisk is a file system with room for budget bytes, shared by every file; past that,
// writes fail with ENOSPC as a full disk's do.
type fullDisk struct {
	mu     sync.Mutex
	budget int
}

func (d *fullDisk) open(name string) (io.WriteCloser, error) {
	f, err := createFile(name)
	if err != nil {
		return nil, err
	}
	return &fullFile{f: f.(*os.File), disk: d}, nil
}

type fullFile struct {
	f    *os.File
	disk *fullDisk
}

func (f *fullFile) Write(b []byte) (int, error) {
	f.disk.mu.Lock()
	n := min(len(b), f.disk.budget)
	f.disk.budget -= n
	f.disk.mu.Unlock()
	w, err := f.f.Write(b[:n])
	if err == nil && n < len(b) {
		err = &os.PathError{Op: "write", Path: f.f.Name(), Err: syscall.ENOSPC}
	}
	return w, err
}

func (f *fullFile) Sync() error  { return f.f.Sync() }
func (f *fullFile) Close() error { return f.f.Close() }

// failureWatch counts OnFailure calls.
type failureWatch struct {
	n    atomic.Int32
	mu   sync.Mutex
	last error
	sid  string
}

func (fw *failureWatch) onFailure(sid string, err error) {
	fw.n.Add(1)
	fw.mu.Lock()
	fw.last, fw.sid = err, sid
	fw.mu.Unlock()
}

// mediaPathStaysFast calls WriteRTP 10 000 times per writer on another goroutine and fails
// the test unless that is done quickly.
func mediaPathStaysFast(t *testing.T, ws []sfu.TrackWriter, pkts []sent) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 10000 {
			for _, w := range ws {
				p := pkts[i%len(pkts)]
				w.WriteRTP(p.p, p.arrival)
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("WriteRTP blocks after the recording failed")
	}
}

// TestDiskFullStopsRecordingLoudly: the disk fills up mid-recording. The session's recording
// stops once, loudly (OnFailure, Failed, Stats, the manifest), the media path does not notice,
// and what was written stays readable.
func TestDiskFullStopsRecordingLoudly(t *testing.T) {
	checkLeaks(t)
	disk := &fullDisk{budget: 60 << 10}
	var fw failureWatch
	dir := t.TempDir()
	rec := New(Config{Dir: dir, Logger: testLogger(t), OpenFile: disk.open, OnFailure: fw.onFailure,
		FlushInterval: 50 * time.Millisecond})
	start := time.Now()
	sess, err := rec.StartSession("full", start)
	if err != nil {
		t.Fatal(err)
	}
	wa, _ := sess.StartTrack(opusInfo("rep00001", sfu.RoleRep))
	wv, _ := sess.StartTrack(vp8Info("rep00001", sfu.RoleRep))
	as := newStream(loadOpus(t), 0, 0, start)
	vs := newStream(loadVP8(t), 0, 0, start)
	var apkts, vpkts []sent
	for i := 0; sess.Failed() == nil; i++ {
		if i > 2000 {
			t.Fatal("the recording never noticed the full disk")
		}
		a, v := as.frame(0), vs.frame(0)
		feed(t, wa, a)
		feed(t, wv, v)
		apkts, vpkts = append(apkts, a...), append(vpkts, v...)
		time.Sleep(time.Millisecond)
	}
	err = sess.Failed()
	if !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("Failed() = %v, want ENOSPC", err)
	}
	mediaPathStaysFast(t, []sfu.TrackWriter{wa, wv}, append(apkts, vpkts...))
	if _, err := sess.StartTrack(opusInfo("partner1", sfu.RolePartner)); !errors.Is(err, ErrClosed) {
		t.Errorf("StartTrack after the failure: %v, want ErrClosed", err)
	}
	waitUntil(t, func() bool { return fw.n.Load() > 0 })
	st := rec.Stats()
	if st.Failures != 1 || st.DroppedPackets < 20000 {
		t.Errorf("Stats() = %+v, want 1 failure and the 20 000 packets after it dropped", st)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := sess.Close(ctx); err == nil || errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Close on a full disk: %v, want the manifest write's error", err)
	}
	if n := fw.n.Load(); n != 1 {
		t.Errorf("OnFailure called %d times, want once", n)
	}
	fw.mu.Lock()
	if fw.sid != "full" || !errors.Is(fw.last, syscall.ENOSPC) {
		t.Errorf("OnFailure(%q, %v)", fw.sid, fw.last)
	}
	fw.mu.Unlock()

	// What reached the disk is a readable recording, up to the failure.
	files, _ := filepath.Glob(filepath.Join(dir, "full", "*.webm"))
	if len(files) == 0 {
		t.Fatal("no file left")
	}
	for _, f := range files {
		ffprobeCut(t, f).pts(t)
	}
	// The first manifest (written before the disk filled) is still whole.
	if m := readManifest(t, filepath.Join(dir, "full")); m.SessionID != "full" {
		t.Errorf("manifest: %+v", m)
	}
}

// stuckDisk blocks every write to a .webm file until released: a disk that stalls.
type stuckDisk struct {
	release chan struct{}
	once    sync.Once
}

func (d *stuckDisk) open(name string) (io.WriteCloser, error) {
	f, err := createFile(name)
	if err != nil || !strings.HasSuffix(name, ".webm") {
		return f, err
	}
	return &stuckFile{WriteCloser: f, d: d}, nil
}

func (d *stuckDisk) unstick() { d.once.Do(func() { close(d.release) }) }

type stuckFile struct {
	io.WriteCloser
	d *stuckDisk
}

func (f *stuckFile) Write(b []byte) (int, error) {
	<-f.d.release
	return f.WriteCloser.Write(b)
}

// TestStalledDiskOverflowsQueue: the disk stalls, the track's queue fills, the recording
// stops (ErrQueueFull) without WriteRTP ever blocking.
func TestStalledDiskOverflowsQueue(t *testing.T) {
	checkLeaks(t)
	disk := &stuckDisk{release: make(chan struct{})}
	defer disk.unstick()
	var fw failureWatch
	rec := New(Config{Dir: t.TempDir(), Logger: testLogger(t), OpenFile: disk.open, OnFailure: fw.onFailure,
		QueueLen: 16, FlushInterval: 20 * time.Millisecond})
	start := time.Now()
	sess, err := rec.StartSession("stall", start)
	if err != nil {
		t.Fatal(err)
	}
	wv, _ := sess.StartTrack(vp8Info("rep00001", sfu.RoleRep))
	vs := newStream(loadVP8(t), 0, 0, start)
	pkts := vs.framesFor(4*time.Second, 0)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; sess.Failed() == nil; i++ {
			p := pkts[i%len(pkts)]
			wv.WriteRTP(p.p, p.arrival)
			time.Sleep(100 * time.Microsecond)
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the recording did not stop although the disk stalled")
	}
	if err := sess.Failed(); !errors.Is(err, ErrQueueFull) {
		t.Errorf("Failed() = %v, want ErrQueueFull", err)
	}
	mediaPathStaysFast(t, []sfu.TrackWriter{wv}, pkts)
	disk.unstick()
	closeSession(t, sess)
	if n := fw.n.Load(); n != 1 {
		t.Errorf("OnFailure called %d times, want once", n)
	}
	m := readManifest(t, filepath.Join(rec.dir, "stall"))
	if m.Status != SessionFailed || !strings.Contains(m.Error, "queue full") || m.Tracks[0].Status != "failed" {
		t.Errorf("manifest after the failure: status %q error %q tracks %+v", m.Status, m.Error, m.Tracks)
	}
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition never met")
		}
		time.Sleep(time.Millisecond)
	}
}
