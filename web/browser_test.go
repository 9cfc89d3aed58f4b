package web_test

import (
	"context"
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// chromium is the browser the tests drive: Debian's package, which `make test` installs.
const chromium = "/usr/bin/chromium"

// mobileUA is Chrome on an Android phone.
const mobileUA = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) " +
	"Chrome/156.0.0.0 Mobile Safari/537.36"

// Bounds of the browser tests' waits.
const (
	evalTimeout = 20 * time.Second
	waitTimeout = 20 * time.Second
	pollEvery   = 150 * time.Millisecond
)

// probeJS is injected into every page: DOM and media probes and the accessibility checks.
//
//go:embed testdata/probe.js
var probeJS string

// chrome is one headless Chromium process with one tab.
type chrome struct {
	t    *testing.T
	name string
	ctx  context.Context // the tab

	mu   sync.Mutex // guards logs
	logs []string
}

type launch struct {
	// fakeUI accepts camera and microphone prompts without asking
	// (--use-fake-ui-for-media-stream); without it, permissions come from setPermission.
	fakeUI bool
	// phone emulates a 390×844 touch screen with a mobile user agent.
	phone bool
}

// startBrowser runs a Chromium of its own (fresh profile, fake camera and microphone) and
// kills it when the test ends. A missing Chromium fails the test: it is a prerequisite.
func startBrowser(t *testing.T, name string, l launch) *chrome {
	t.Helper()
	if _, err := os.Stat(chromium); err != nil {
		t.Fatalf("the browser tests need Chromium at %s (make test installs the Debian package chromium): %v", chromium, err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.WindowSize(1280, 800),
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.Flag("disable-backgrounding-occluded-windows", true),
		chromedp.Flag("disable-features", "WebRtcHideLocalIpsWithMdns,Translate"),
	}
	if l.fakeUI {
		opts = append(opts, chromedp.Flag("use-fake-ui-for-media-stream", true))
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	b := &chrome{t: t, name: name, ctx: ctx}
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
		if t.Failed() {
			b.mu.Lock()
			for _, line := range b.logs {
				t.Logf("%s console: %s", name, line)
			}
			b.mu.Unlock()
		}
	})
	if err := chromedp.Do(ctx); err != nil { // starts the browser, bound to ctx
		t.Fatalf("%s: start chromium: %v", name, err)
	}
	console := chromedp.Console(ctx)
	go func() {
		for m, err := range console {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.logs = append(b.logs, m.String())
			b.mu.Unlock()
		}
	}()
	b.do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument,
			page.AddScriptToEvaluateOnNewDocumentParams{Source: probeJS})
		return err
	}))
	if !l.phone {
		b.do(chromedp.EmulateViewport(1280, 800))
	} else {
		b.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch,
			chromedp.EmulatePortrait, chromedp.EmulateScale(2)))
		b.do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetUserAgentOverride,
				emulation.SetUserAgentOverrideParams{UserAgent: mobileUA, Platform: "Linux armv8l"})
			return err
		}))
	}
	return b
}

// do runs actions with a bound on their time.
func (b *chrome) do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, evalTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", b.name, err)
	}
}

func (b *chrome) open(url string) {
	b.t.Helper()
	b.do(chromedp.Navigate(url))
}

// eval evaluates a JavaScript expression (awaiting a promise) and decodes its value.
func eval[T any](b *chrome, js string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, evalTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("%s: evaluate %s: %v", b.name, short(js), err)
	}
	return v
}

// waitUntil polls js until it is true.
func (b *chrome) waitUntil(what, js string) {
	b.t.Helper()
	b.waitUntilFor(what, js, waitTimeout)
}

func (b *chrome) waitUntilFor(what, js string, timeout time.Duration) {
	b.t.Helper()
	deadline := time.Now().Add(timeout)
	for !eval[bool](b, js) {
		if time.Now().After(deadline) {
			b.t.Logf("%s: state when the wait ended: %s", b.name, b.diagnostics())
			b.t.Fatalf("%s: waited %v until %s, in vain (%s)", b.name, timeout, what, short(js))
		}
		time.Sleep(pollEvery)
	}
}

// diagnostics describes the call as the page holds it, for failure messages.
func (b *chrome) diagnostics() string {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(async () => !window.ringside ? 'no session' : JSON.stringify({
		state: ringside.state, connection: ringside.connection, you: ringside.you, mode: ringside.mode,
		roster: ringside.roster, remote: ringside.remote(), receivers: ringside.receivers(),
		senders: ringside.senders(), counters: ringside.counters, inbound: await ringside.inbound(),
	}))()`, chromedp.EvalAwaitPromise))
	if err != nil {
		return err.Error()
	}
	return v
}

// holds checks that js stays true for d (sampled).
func (b *chrome) holds(what, js string, d time.Duration) {
	b.t.Helper()
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		if !eval[bool](b, js) {
			b.t.Fatalf("%s: expected %s to hold (%s)", b.name, what, short(js))
		}
		time.Sleep(pollEvery * 2)
	}
}

func (b *chrome) click(sel string) {
	b.t.Helper()
	b.do(chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
}

func (b *chrome) tap(sel string) {
	b.t.Helper()
	b.do(chromedp.Tap(chromedp.CSS(sel), chromedp.NodeVisible))
}

// screenshot writes the viewport to test-artifacts/screenshots/<name>.png.
func (b *chrome) screenshot(name string) {
	b.t.Helper()
	b.saveScreenshot(name, chromedp.CaptureScreenshot())
}

// fullScreenshot is screenshot of the whole page, scrolled or not.
func (b *chrome) fullScreenshot(name string) {
	b.t.Helper()
	b.saveScreenshot(name, chromedp.FullScreenshot(100))
}

func (b *chrome) saveScreenshot(name string, shot chromedp.Action[[]byte]) {
	b.t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "test-artifacts", "screenshots"))
	if err != nil {
		b.t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(b.ctx, evalTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, shot)
	if err != nil {
		b.t.Fatalf("%s: screenshot %s: %v", b.name, name, err)
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot: %s", path)
}

// accessible fails the test on every accessibility problem probe.a11y finds on the page as
// it is now: unnamed controls, fake buttons, low contrast.
func (b *chrome) accessible(state string) {
	b.t.Helper()
	for _, p := range eval[[]string](b, `probe.a11y()`) {
		b.t.Errorf("%s (%s): %s", b.name, state, p)
	}
}

// keyboardReaches tabs through the page and checks that every control in want gets the
// focus, visibly, and that everything focused is a control with a name.
func (b *chrome) keyboardReaches(want ...string) {
	b.t.Helper()
	type focus struct {
		Tag          string `json:"tag"`
		ID           string `json:"id"`
		Name         string `json:"name"`
		FocusVisible bool   `json:"focusVisible"`
		Outline      bool   `json:"outline"`
	}
	eval[bool](b, `(document.activeElement && document.activeElement.blur(), true)`)
	reached := map[string]bool{}
	for range 40 {
		b.do(chromedp.KeyEvent("\t"))
		f := eval[*focus](b, `probe.focused()`)
		if f == nil {
			continue
		}
		if !f.FocusVisible || !f.Outline {
			b.t.Errorf("%s: focus on %s#%s is not visible", b.name, f.Tag, f.ID)
		}
		if f.Name == "" {
			b.t.Errorf("%s: focused %s#%s has no accessible name", b.name, f.Tag, f.ID)
		}
		reached[f.ID] = true
	}
	for _, id := range want {
		if !reached[id] {
			b.t.Errorf("%s: the keyboard never reaches #%s (reached %v)", b.name, id, reached)
		}
	}
}

func short(js string) string {
	js = strings.Join(strings.Fields(js), " ")
	if len(js) > 160 {
		return js[:160] + "…"
	}
	return js
}

// js quotes a Go string as a JavaScript string literal.
func js(s string) string { return fmt.Sprintf("%q", s) }
