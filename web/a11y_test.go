package web_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// badPage breaks each rule probe.a11y enforces once.
const badPage = `<!doctype html><html lang="en"><body style="background:#fff">
<button id="unnamed"></button>
<div id="fake" tabindex="0" onclick="void 0">Fake button</div>
<input id="unlabelled">
<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
<p style="color:#999">low contrast</p>
<button aria-label="Named">ok</button>
<label for="ok-input">Named field</label><input id="ok-input">
<p style="color:#222">readable</p>
</body></html>`

// TestAccessibilityProbe proves the page checks the other tests rely on: they find each
// kind of problem, and nothing on a page without them.
func TestAccessibilityProbe(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if r.URL.Path == "/good" {
			_, _ = w.Write([]byte(`<!doctype html><html lang="en"><body style="background:#0f1419;color:#f2f5f8">
				<button>Fine</button><label>Name <input></label></body></html>`))
			return
		}
		_, _ = w.Write([]byte(badPage))
	}))
	defer srv.Close()
	b := startBrowser(t, "probe", launch{})
	b.open(srv.URL + "/bad")
	got := strings.Join(eval[[]string](b, `probe.a11y()`), "\n")
	for _, want := range []string{`id="unnamed"`, `not a native control: <div id="fake"`, `id="unlabelled"`,
		"image without alt", `for "low contrast"`} {
		if !strings.Contains(got, want) {
			t.Errorf("probe.a11y missed %s; it found:\n%s", want, got)
		}
	}
	for _, wrong := range []string{"Named", "readable", `id="ok-input"`} {
		if strings.Contains(got, wrong) {
			t.Errorf("probe.a11y flags %s, which is fine; it found:\n%s", wrong, got)
		}
	}
	b.open(srv.URL + "/good")
	if problems := eval[[]string](b, `probe.a11y()`); len(problems) != 0 {
		t.Errorf("probe.a11y flags a page without problems: %v", problems)
	}
}
