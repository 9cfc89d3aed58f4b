package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"ringside/internal/app/apptest"
	"ringside/internal/client"
	"ringside/internal/store"
	"ringside/web"
)

// TestLiveAssignmentCall: a live assignment done from the pages alone. The coach sets up the
// call from the team page and gets the rep's, the partner's and their own link (QR codes of the
// first two); the rep, on a phone, finds "Join the call" on /me and joins as the rep; a partner
// joins; the coach ends the call from the team page; the assignment is then handed in with the
// call: "Waiting for feedback" on /me, and in the coach's review queue.
func TestLiveAssignmentCall(t *testing.T) {
	srv := apptest.Start(t, apptest.WithWeb(web.Handler()))
	coach := invite(t, srv, "Cleo", "coach", "Team North")
	rep := invite(t, srv, "Ana", "rep", "Team North")
	var scen struct {
		ID string `json:"id"`
	}
	call(t, srv, srv.AdminToken, "POST", "/api/scenarios", map[string]any{"title": "Price objection", "persona": "A CFO"}, http.StatusCreated, &scen)
	id := assignScenario(t, srv, scen.ID, rep.User.ID, "live", 72*time.Hour)
	item := fmt.Sprintf(`[data-assignment-id=%s]`, js(id))

	// The rep's page before the call is set up: the live assignment, no way to join yet.
	rb := startBrowser(t, "rep", launch{phone: true, fakeUI: true})
	rb.open(srv.URL + "/signin#" + linkToken(t, rep.SignInURL))
	rb.tap("#signin-go")
	rb.waitUntil("the rep's practice page shows", `location.pathname === '/me' && document.body?.dataset.state === 'page'`)
	if eval[bool](rb, fmt.Sprintf(`!!document.querySelector('#open-list %s [data-join]')`, item)) {
		t.Error("/me offers to join a call nobody set up")
	}

	// The coach sets up the call.
	cb := startBrowser(t, "coach", launch{})
	cb.setPermission(srv.URL, "clipboard-read", cdpbrowser.PermissionSettingGranted)
	cb.setPermission(srv.URL, "clipboard-write", cdpbrowser.PermissionSettingGranted)
	dialogs := chromedp.Events(cb.ctx, page.JavascriptDialogOpening)
	go func() {
		for _, err := range dialogs {
			if err != nil {
				return
			}
			_, _ = chromedp.Call(cb.ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
	cb.open(srv.URL + "/signin#" + linkToken(t, coach.SignInURL))
	cb.tap("#signin-go")
	cb.waitUntil("the team page shows", `location.pathname === '/team' && document.body?.dataset.state === 'page'`)
	callItem := "#calls " + item
	cb.waitUntil("the live assignment is listed", fmt.Sprintf(`probe.text(%s).includes('Ana: Price objection')`, js(callItem)))
	center(cb, callItem)
	cb.click(callItem + " [data-setup]")
	cb.waitUntil("the call's links show", fmt.Sprintf(`document.querySelectorAll(%s).length === 3`, js(callItem+" .call-link input")))
	links := eval[map[string]string](cb, fmt.Sprintf(`Object.fromEntries([...document.querySelectorAll(%s)]
		.map((c) => [c.dataset.role, c.querySelector('input').value]))`, js(callItem+" .call-link")))
	for _, role := range []string{store.RoleRep, store.RolePartner, store.RoleCoach} {
		inv, err := srv.App.Store().InviteByTokenHash(t.Context(), store.HashToken(tokenAt(t, links[role])))
		if err != nil || inv.Role != role || !strings.HasPrefix(links[role], srv.URL+"/join/") {
			t.Errorf("the %s link %q admits as %q (%v)", role, links[role], inv.Role, err)
		}
	}
	cb.waitUntil("the rep's and the partner's QR codes are drawn", fmt.Sprintf(`(() => {
		const imgs = [...document.querySelectorAll(%s)];
		return imgs.length === 2 && imgs.every((i) => i.complete && i.naturalWidth >= 200);
	})()`, js(callItem+" .call-link img")))
	cb.click(callItem + ` .call-link[data-role="partner"] button`)
	cb.waitUntil("the partner's link is copied", `probe.text('#calls-status') === "Partner's link copied."`)
	if got := eval[string](cb, `navigator.clipboard.readText()`); got != links["partner"] {
		t.Errorf("clipboard holds %q, want the partner's link", got)
	}
	cb.accessible("team page with a live call's links")
	center(cb, callItem)
	cb.screenshot("team-live-call")
	cb.fullScreenshot("team-live-call-full")

	// The rep: "Join the call" on /me opens the rep's own link, and joins as the rep.
	rb.open(srv.URL + "/me")
	rb.waitUntil("/me offers to join the call", fmt.Sprintf(`probe.visible('#open-list %s [data-join]')`, item))
	if text := eval[string](rb, fmt.Sprintf(`probe.text('#open-list %s')`, item)); !strings.Contains(text, "Call set up") {
		t.Errorf("the set-up assignment reads %q", text)
	}
	rb.accessible("rep's practice with a call to join")
	center(rb, "#open-list "+item)
	rb.screenshot("me-phone-live-call")
	rb.tap(fmt.Sprintf(`#open-list %s [data-join]`, item))
	rb.waitUntil("the join page's lobby shows", `location.pathname.startsWith('/join/') && probe.visible('#join')`)
	repLink := eval[string](rb, `location.href`)
	inv, err := srv.App.Store().InviteByTokenHash(t.Context(), store.HashToken(tokenAt(t, repLink)))
	if err != nil || inv.Role != store.RoleRep {
		t.Fatalf("/me's link %q admits as %q (%v), want the rep", repLink, inv.Role, err)
	}
	rb.tap("#join")
	rb.waitUntil("joined as the rep", `!!(window.ringside && ringside.you && ringside.state === 'connected') && ringside.you.role === 'rep'`)
	rb.waitUntil("the rep's sound goes out", `ringside.outbound().then((o) => o.some((x) => x.kind === 'audio' && x.bytesSent > 0))`)

	// A partner joins with the link the coach sent.
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	partner, err := client.Dial(ctx, client.Config{URL: srv.WSURL, Token: tokenAt(t, links["partner"]), Publish: client.Audio})
	if err != nil {
		t.Fatalf("the partner joins: %v", err)
	}
	t.Cleanup(func() { partner.Close() })
	rb.waitUntil("the rep sees the partner", `ringside.roster.some((m) => m.role === 'partner')`)
	if err := partner.WaitFor(ctx, func(c *client.Client) bool {
		for _, f := range c.Frames() {
			if strings.Contains(string(f), `"type":"answer"`) && strings.Contains(string(f), `"pc":"up"`) {
				return true
			}
		}
		return false
	}); err != nil {
		t.Fatalf("the partner's up offer is not answered: %v", err)
	}

	// The coach ends the call from the team page: everyone is told, and it is handed in.
	cb.waitUntil("the team page offers to end the call", fmt.Sprintf(`probe.visible(%s)`, js(callItem+" [data-end]")))
	cb.click(callItem + " [data-end]")
	rb.waitUntil("the rep's call ended", `ringside.state === 'ended' && probe.visible('#ended')`)
	cb.waitUntil("the call is handed in and waits for review", fmt.Sprintf(`!document.querySelector(%s) &&
		!!document.querySelector('#queue %s')`, js(callItem), item))
	if text := eval[string](cb, fmt.Sprintf(`probe.text('#queue %s')`, item)); !strings.Contains(text, "Ana: Price objection") || !strings.Contains(text, "Live call") {
		t.Errorf("the queued review reads %q", text)
	}
	cb.accessible("team page after the call")

	rb.open(srv.URL + "/me")
	rb.waitUntil("/me lists it as handed in", fmt.Sprintf(`document.body?.dataset.state === 'page' && !!document.querySelector('#past-list %s')`, item))
	if text := eval[string](rb, fmt.Sprintf(`probe.text('#past-list %s')`, item)); !strings.Contains(text, "Waiting for feedback") {
		t.Errorf("the handed-in call reads %q", text)
	}
	if eval[bool](rb, fmt.Sprintf(`!!document.querySelector('#open-list %s')`, item)) {
		t.Error("the handed-in call is still to do")
	}
	rb.accessible("rep's practice after the call")
	rb.fullScreenshot("me-phone-live-call-handed-in")
}
