package web_test

import (
	"bytes"
	"image/png"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"ringside/web"
)

func get(t *testing.T, h http.Handler, target string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	req.Host = "ringside.example:8443"
	h.ServeHTTP(rec, req)
	return rec
}

func TestRoutes(t *testing.T) {
	h := web.Handler()
	for _, tc := range []struct {
		path        string
		status      int
		contentType string
		contains    string
	}{
		{"/", 200, "text/html", `src="/static/js/dashboard.js"`},
		{"/join/zVvvKWVebnJJVPl2vT-jIBbJb90IowT-PYYaH8e3_7M", 200, "text/html", `src="/static/js/join.js"`},
		{"/static/js/session.js", 200, "text/javascript", "export class Session"},
		{"/static/css/app.css", 200, "text/css", ":focus-visible"},
		{"/static/", 404, "", ""},
		{"/static/js/", 404, "", ""},
		{"/web.go", 404, "", ""},
		{"/static/web.go", 404, "", ""},
		{"/static/nope.js", 404, "", ""},
		{"/join/", 404, "", ""},
		{"/favicon.ico", 404, "", ""},
	} {
		rec := get(t, h, tc.path)
		if rec.Code != tc.status {
			t.Errorf("GET %s: status %d, want %d", tc.path, rec.Code, tc.status)
			continue
		}
		if tc.contentType != "" && !strings.HasPrefix(rec.Header().Get("Content-Type"), tc.contentType) {
			t.Errorf("GET %s: Content-Type %q, want %s", tc.path, rec.Header().Get("Content-Type"), tc.contentType)
		}
		if !strings.Contains(rec.Body.String(), tc.contains) {
			t.Errorf("GET %s: body lacks %q", tc.path, tc.contains)
		}
	}
}

func TestHeaders(t *testing.T) {
	h := web.Handler()
	rec := get(t, h, "/join/zVvvKWVebnJJVPl2vT-jIBbJb90IowT-PYYaH8e3_7M")
	want := map[string]string{
		"Cache-Control":          "no-store",
		"Referrer-Policy":        "no-referrer",
		"X-Content-Type-Options": "nosniff",
	}
	for k, v := range want {
		if got := rec.Header().Get(k); got != v {
			t.Errorf("%s: %q, want %q", k, got, v)
		}
	}
	csp := rec.Header().Get("Content-Security-Policy")
	for _, part := range []string{"default-src 'self'", "script-src 'self'", "frame-ancestors 'none'",
		"connect-src 'self' ws://ringside.example:8443 wss://ringside.example:8443"} {
		if !strings.Contains(csp, part) {
			t.Errorf("CSP %q lacks %q", csp, part)
		}
	}
	if got := get(t, h, "/static/js/join.js").Header().Get("Cache-Control"); got != "no-cache" {
		t.Errorf("asset Cache-Control %q, want no-cache", got)
	}
}

func TestQR(t *testing.T) {
	h := web.Handler()
	link := "https://ringside.example/join/zVvvKWVebnJJVPl2vT-jIBbJb90IowT-PYYaH8e3_7M"
	rec := get(t, h, "/qr?data="+url.QueryEscape(link))
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "image/png" {
		t.Fatalf("QR of an invite link: %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	if rec.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("a QR code holds a live token and must not be cached")
	}
	img, err := png.Decode(bytes.NewReader(rec.Body.Bytes()))
	if err != nil || img.Bounds().Dx() < 200 {
		t.Fatalf("QR image: %v %v", err, img)
	}
	for _, bad := range []string{
		"",
		"hello",
		"https://evil.example/phish",
		"javascript:alert(1)//join/zVvvKWVebnJJVPl2vT-jIBbJb90IowT-PYYaH8e3_7M",
		"ftp://ringside.example/join/zVvvKWVebnJJVPl2vT-jIBbJb90IowT-PYYaH8e3_7M",
		"https://user:pw@ringside.example/join/zVvvKWVebnJJVPl2vT-jIBbJb90IowT-PYYaH8e3_7M",
		"https://ringside.example/join/zVvvKWVebnJJVPl2vT-jIBbJb90IowT-PYYaH8e3_7M?x=1",
		"https://ringside.example/join/zVvvKWVebnJJVPl2vT-jIBbJb90IowT-PYYaH8e3_7M#x",
		"https://ringside.example/join/short",
		"https://ringside.example/join/" + strings.Repeat("a", 600),
		"https://ringside.example/api/auth/me/zVvvKWVebnJJVPl2vT-jIBbJb90IowT-PYYaH8e3_7M",
		"https://ringside.example/api/auth/link/zVvvKWVebnJJVPl2vT-jIBbJb90IowT-PYYaH8e3_7M?next=/x",
	} {
		if rec := get(t, h, "/qr?data="+url.QueryEscape(bad)); rec.Code != http.StatusBadRequest {
			t.Errorf("QR of %q: %d, want 400", bad, rec.Code)
		}
	}
	if rec := get(t, h, "/qr?data="+url.QueryEscape("http://10.0.0.5:8080/ringside/join/zVvvKWVebnJJVPl2vT-jIBbJb90IowT-PYYaH8e3_7M")); rec.Code != http.StatusOK {
		t.Errorf("QR of an invite link under a sub-path: %d", rec.Code)
	}
	// The team page shows a person's one-time sign-in link as a QR code too, for their phone.
	if rec := get(t, h, "/qr?data="+url.QueryEscape("https://ringside.example/api/auth/link/zVvvKWVebnJJVPl2vT-jIBbJb90IowT-PYYaH8e3_7M")); rec.Code != http.StatusOK {
		t.Errorf("QR of a sign-in link: %d", rec.Code)
	}
}

// TestModulesResolve checks that every module a page or module imports is in the build, and
// that no page loads anything from another origin (there is no network on a phone's LAN).
func TestModulesResolve(t *testing.T) {
	root := filepath.Join("static")
	imports := regexp.MustCompile(`(?m)^import [^'"]*['"]([^'"]+)['"]|src="([^"]+)"|href="([^"]+)"`)
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range imports.FindAllStringSubmatch(string(body), -1) {
			ref := m[1] + m[2] + m[3]
			if strings.HasPrefix(ref, "data:") {
				continue
			}
			if strings.Contains(ref, "//") {
				t.Errorf("%s loads %s from another origin", path, ref)
				continue
			}
			var target string
			if strings.HasPrefix(ref, "/static/") {
				target = filepath.Join(root, strings.TrimPrefix(ref, "/static/"))
			} else {
				target = filepath.Join(filepath.Dir(path), ref)
			}
			if _, err := os.Stat(target); err != nil {
				t.Errorf("%s refers to %s, which is missing", path, ref)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
