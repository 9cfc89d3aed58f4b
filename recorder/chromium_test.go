package recorder

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"ringside/sfu"
)

func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("Chromium is required for this test and is not installed")
	return ""
}

// toLive rewrites a file's frames as the live writer writes them: the file as it is before
// finalizing.
func toLive(t *testing.T, src, dst string) {
	t.Helper()
	f, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	sc, err := scanWebM(f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	spec := trackSpec{video: sc.entry.TrackType == 1, uidSeed: "live", channels: 1}
	if sc.entry.Video != nil {
		spec.width, spec.height = int(sc.entry.Video.PixelWidth), int(sc.entry.Video.PixelHeight)
	}
	lw, err := newLiveWriter(out, spec)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range sc.blocks {
		data := make([]byte, b.n)
		if _, err := f.ReadAt(data, b.off); err != nil {
			t.Fatal(err)
		}
		if err := lw.writeFrame(b.ms, b.key, data); err != nil {
			t.Fatal(err)
		}
	}
	if err := lw.flush(); err != nil {
		t.Fatal(err)
	}
}

type chromeProbe struct {
	Src         string  `json:"src"`
	Duration    float64 `json:"duration"` // -1 for Infinity, -2 for NaN
	SeekableEnd float64 `json:"seekableEnd"`
	SeekedTo    float64 `json:"seekedTo"`
	Error       string  `json:"error"`
}

const probePage = `<!doctype html><body><script>
async function probe(src, target) {
  const v = document.createElement('video');
  v.muted = true; v.preload = 'auto'; v.src = src;
  document.body.appendChild(v);
  const fail = (what) => new Error(what + (v.error ? ' (media error ' + v.error.code + ': ' + v.error.message + ')' : ''));
  const wait = (ev, ms) => new Promise((res, rej) => {
    v.addEventListener(ev, res, {once: true});
    v.addEventListener('error', () => rej(fail('error')), {once: true});
    setTimeout(() => rej(fail(ev + ' timed out')), ms);
  });
  try {
    await wait('loadedmetadata', 10000);
    const d = v.duration;
    const duration = d === Infinity ? -1 : (Number.isNaN(d) ? -2 : d);
    const seekableEnd = v.seekable.length ? v.seekable.end(v.seekable.length - 1) : 0;
    v.currentTime = target;
    await wait('seeked', 10000);
    return {src, duration, seekableEnd, seekedTo: v.currentTime, error: ''};
  } catch (e) {
    return {src, duration: 0, seekableEnd: 0, seekedTo: 0, error: String(e)};
  }
}
</script></body>`

// TestChromiumSeeks plays the finalized files in real Chromium: it knows their duration and
// seeks into them. The live-style file (before finalizing) is probed too, for the record.
func TestChromiumSeeks(t *testing.T) {
	checkLeaks(t)
	bin := chromiumPath(t)
	start := time.Now()
	rec := New(Config{Dir: t.TempDir(), Logger: testLogger(t)})
	sess, err := rec.StartSession("chrome", start)
	if err != nil {
		t.Fatal(err)
	}
	audio, video := loadOpus(t), loadVP8(t)
	wa, _ := sess.StartTrack(opusInfo("rep00001", sfu.RoleRep))
	wv, _ := sess.StartTrack(vp8Info("rep00001", sfu.RoleRep))
	feed(t, wa, newStream(audio, 1, 1, start).framesFor(audio.duration(), 0))
	feed(t, wv, newStream(video, 1, 1, start).framesFor(video.duration(), 0))
	closeSession(t, sess)
	dir := filepath.Join(rec.dir, "chrome")
	m := readManifest(t, dir)
	var files []string
	for _, tr := range m.Tracks {
		files = append(files, tr.File)
	}
	toLive(t, filepath.Join(dir, m.Tracks[1].File), filepath.Join(dir, "live.webm"))

	mux := http.NewServeMux()
	mux.Handle("/files/", http.StripPrefix("/files/", http.FileServer(http.Dir(dir))))
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, probePage) })
	srv := httptest.NewServer(mux)
	defer srv.Close()

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(bin), chromedp.NoSandbox,
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/")); err != nil {
		t.Fatalf("Chromium: %v", err)
	}
	tctx, tcancel := context.WithTimeout(ctx, 60*time.Second)
	defer tcancel()
	var srcs []string
	for _, f := range append(files, "live.webm") {
		srcs = append(srcs, fmt.Sprintf("probe('/files/%s', 2.5)", f))
	}
	res, err := chromedp.Run(tctx, chromedp.Evaluate[[]chromeProbe](
		"Promise.all(["+strings.Join(srcs, ",")+"])", chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("probing in Chromium: %v", err)
	}
	for _, p := range res {
		t.Logf("Chromium: %+v", p)
		if strings.HasSuffix(p.Src, "live.webm") {
			continue // before finalizing: no duration to speak of; only logged
		}
		if p.Error != "" {
			t.Errorf("%s: %s", p.Src, p.Error)
			continue
		}
		if p.Duration < 3.8 || p.Duration > 4.2 {
			t.Errorf("%s: Chromium reports duration %v, want 4 s", p.Src, p.Duration)
		}
		if p.SeekableEnd < 3.8 {
			t.Errorf("%s: seekable to %v only", p.Src, p.SeekableEnd)
		}
		if d := p.SeekedTo - 2.5; d < -0.3 || d > 0.3 {
			t.Errorf("%s: seeking to 2.5 s landed at %v", p.Src, p.SeekedTo)
		}
	}
}
