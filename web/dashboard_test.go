package web_test

import (
	"strings"
	"testing"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"ringside/internal/app/apptest"
	"ringside/web"
)

// TestDashboard signs in, creates a session, hands out its links (copy, QR), and ends it.
func TestDashboard(t *testing.T) {
	srv := apptest.Start(t, apptest.WithWeb(web.Handler()))
	b := startBrowser(t, "dashboard", launch{})
	b.setPermission(srv.URL, "clipboard-read", cdpbrowser.PermissionSettingGranted)
	b.setPermission(srv.URL, "clipboard-write", cdpbrowser.PermissionSettingGranted)

	// Accept the "End this session?" confirmation, as the admin would.
	dialogs := chromedp.Events(b.ctx, page.JavascriptDialogOpening)
	go func() {
		for _, err := range dialogs {
			if err != nil {
				return
			}
			_, _ = chromedp.Call(b.ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()

	b.open(srv.URL + "/")
	b.waitUntil("the sign-in form shows", `probe.visible('#signin-form')`)
	b.accessible("sign-in")
	b.do(chromedp.SendKeys(chromedp.ID("token"), "not-the-admin-token-0123"))
	b.click("#signin-form button[type=submit]")
	b.waitUntil("a wrong token is refused", `probe.text('#signin-status').includes('not accepted') && !probe.visible('#app')`)

	b.do(chromedp.SetValue(chromedp.ID("token"), srv.AdminToken))
	b.click("#signin-form button[type=submit]")
	b.waitUntil("signed in", `probe.visible('#create-form') && probe.visible('#live-empty')`)

	b.do(chromedp.SendKeys(chromedp.ID("title"), "Pricing objections"),
		chromedp.SendKeys(chromedp.ID("rep-name"), "Ana"),
		chromedp.SendKeys(chromedp.ID("partner-name"), "Ben"))
	b.click("#create-form button[type=submit]")
	b.waitUntil("the invite links show", `probe.count('#invite-list .invite') === 3`)
	links := eval[map[string]string](b, `Object.fromEntries([...document.querySelectorAll('.invite')]
		.map((c) => [c.dataset.role, c.querySelector('input').value]))`)
	for _, role := range []string{"rep", "partner", "coach"} {
		if !strings.HasPrefix(links[role], srv.URL+"/join/") {
			t.Errorf("%s link %q is not an invite link of this server", role, links[role])
		}
	}
	b.waitUntil("every QR code is drawn", `[...document.querySelectorAll('.invite img')]
		.every((i) => i.complete && i.naturalWidth >= 200)`)
	b.waitUntil("the session is listed as upcoming", `probe.text('#live').includes('Pricing objections') &&
		probe.text('#live').includes('Ana with Ben')`)

	b.click(`.invite[data-role="rep"] button`)
	b.waitUntil("the rep's link is copied", `probe.text('#invite-status') === "Rep's link copied."`)
	if got := eval[string](b, `navigator.clipboard.readText()`); got != links["rep"] {
		t.Errorf("clipboard holds %q, want the rep's link %q", got, links["rep"])
	}
	b.fullScreenshot("dashboard")
	b.accessible("session created")
	b.keyboardReaches("title", "rep-name", "partner-name", "coach-name", "record", "link-rep", "refresh")

	// The token is remembered on this device.
	b.open(srv.URL + "/")
	b.waitUntil("still signed in after a reload", `probe.visible('#create-form') && probe.text('#live').includes('Pricing objections')`)

	// Ending it moves it to the past sessions.
	b.click(`#live li button.danger`)
	b.waitUntil("the session is ended", `probe.text('#past').includes('Pricing objections') &&
		probe.text('#past').includes('ended') && probe.visible('#live-empty')`)
	sessions, err := srv.API.ListSessions(t.Context(), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(sessions) != 1 || sessions[0].State != "ended" {
		t.Errorf("sessions after End: %+v", sessions)
	}

	// A session for a rep: chosen among the users, sent as repId, so that it is theirs.
	ana := invite(t, srv, "Ana", "rep", "Team North")
	b.open(srv.URL + "/")
	b.waitUntil("the reps are offered", `!!document.querySelector('#rep-id option[value="`+ana.User.ID+`"]')`)
	b.do(chromedp.SendKeys(chromedp.ID("title"), "Ana's discovery call"))
	choose(b, "#rep-id", ana.User.ID)
	b.click("#create-form button[type=submit]")
	b.waitUntil("the invite links show", `probe.text('#invites-heading').includes("Ana's discovery call") &&
		probe.text('.invite[data-role="rep"] .who') === 'Ana'`)
	sessions, err = srv.API.ListSessions(t.Context(), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(sessions) != 2 || sessions[0].RepID != ana.User.ID || sessions[1].RepID != "" {
		t.Errorf("sessions after creating one for Ana: %+v", sessions)
	}

	b.click("#signout")
	b.waitUntil("signed out", `probe.visible('#signin-form') && !localStorage.getItem('ringside.adminToken')`)
}
