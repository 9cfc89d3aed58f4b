package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"ringside/internal/app/apptest"
	"ringside/web"
)

// typeInto replaces the value of the field sel with text, as typing does.
func typeInto(b *chrome, sel, text string) {
	b.t.Helper()
	eval[bool](b, fmt.Sprintf(`(document.querySelector(%s).value = '', true)`, js(sel)))
	b.do(chromedp.SendKeys(chromedp.CSS(sel), text))
}

// choose picks the option value of the select sel.
func choose(b *chrome, sel, value string) {
	b.t.Helper()
	b.do(chromedp.SetValue(chromedp.CSS(sel), value))
}

// submitAndWait taps the submit button sel and waits until its request is answered (the
// button is enabled again).
func submitAndWait(b *chrome, sel string) {
	b.t.Helper()
	center(b, sel)
	b.tap(sel)
	b.waitUntil("the request is answered", fmt.Sprintf(`!document.querySelector(%s).disabled`, js(sel)))
}

// TestTeamAdmin: on a phone, an admin signs in, invites a rep from the team page (mistakes
// are explained under the form, in the API's words) and gets the one-time link; the rep opens
// that link in a browser of their own and signs in; the admin writes a scenario and assigns it
// to the rep, weekly and solo; the rep's practice page lists it. A coach sees the assign form
// with only their teams' reps, and no invitation form.
func TestTeamAdmin(t *testing.T) {
	srv := apptest.Start(t, apptest.WithWeb(web.Handler()))
	admin := invite(t, srv, "Ada", "admin", "")
	coach := invite(t, srv, "Cleo", "coach", "Team North")
	other := invite(t, srv, "Olaf", "rep", "Team South")

	b := startBrowser(t, "admin", launch{phone: true})
	b.open(srv.URL + "/signin#" + linkToken(t, admin.SignInURL))
	b.tap("#signin-go")
	b.waitUntil("the team page shows", `location.pathname === '/team' && document.body?.dataset.state === 'page'`)
	if !eval[bool](b, `probe.visible('#invite-form') && probe.visible('#assign-form')`) {
		t.Fatal("the admin's team page lacks the invite or the assign form")
	}
	if text := eval[string](b, `probe.text('#assign-no-scenarios')`); !strings.Contains(text, "No scenarios yet") {
		t.Errorf("with no scenario the assign form says %q", text)
	}
	b.accessible("team page with forms")
	b.keyboardReaches("invite-email", "invite-role", "invite-team", "invite-submit", "scenario-toggle", "assign-due", "assign-submit")

	// Mistakes: no email (said by the page), a taken one (said by the API).
	center(b, "#invite-form")
	submitAndWait(b, "#invite-submit")
	if got := eval[string](b, `probe.text('#invite-error')`); got != "Enter their email address." {
		t.Errorf("an invitation without email says %q", got)
	}
	typeInto(b, "#invite-email", "ada@example.com")
	submitAndWait(b, "#invite-submit")
	b.waitUntil("the API's refusal shows", `probe.text('#invite-error').startsWith('Not invited: ')`)
	if got := eval[string](b, `probe.text('#invite-error')`); !strings.Contains(got, "ada@example.com") && !strings.Contains(got, "taken") && !strings.Contains(got, "exists") {
		t.Errorf("a taken email says %q", got)
	}

	// The invitation.
	typeInto(b, "#invite-email", "ana@example.com")
	typeInto(b, "#invite-name", "Ana")
	choose(b, "#invite-role", "rep")
	typeInto(b, "#invite-team", "Team North")
	submitAndWait(b, "#invite-submit")
	b.waitUntil("the sign-in link shows", `probe.visible('#invite-result') && document.getElementById('invite-link').value !== ''`)
	if msg := eval[string](b, `probe.text('#invite-error')`); msg != "" {
		t.Fatalf("the invitation failed: %s", msg)
	}
	link := eval[string](b, `document.getElementById('invite-link').value`)
	if !strings.Contains(link, "/api/auth/link/") {
		t.Fatalf("the page shows %q as the sign-in link", link)
	}
	if text := eval[string](b, `probe.text('#invite-result')`); !strings.Contains(text, "Sign-in link for Ana") || !strings.Contains(text, "ana@example.com") {
		t.Errorf("the invitation result reads %q", text)
	}
	b.waitUntil("the link's QR code shows, for the rep's phone to scan",
		`probe.visible('#invite-qr') && document.getElementById('invite-qr').complete && document.getElementById('invite-qr').naturalWidth >= 200`)
	b.accessible("invitation link shown")
	center(b, "#invite-result")
	b.screenshot("team-invite-phone")

	// The rep opens the link in a browser of their own.
	rb := startBrowser(t, "rep", launch{phone: true})
	rb.open(link)
	rb.waitUntil("the link's page asks to sign in", `!!document.querySelector('form button[type=submit]')`)
	rb.tap("form button[type=submit]")
	rb.waitUntil("signed in", `location.pathname === '/signin' && probe.visible('#signed-in-home')`)
	rb.tap("#signed-in-home")
	rb.waitUntil("the rep's practice page shows", `location.pathname === '/me' && document.body?.dataset.state === 'page'`)
	if !eval[bool](rb, `probe.visible('#open-empty')`) {
		t.Errorf("the new rep already has something to do: %s", eval[string](rb, `probe.text('#open-list')`))
	}

	// The admin writes a scenario (an empty title is refused on the page) and assigns it.
	center(b, "#scenario-toggle")
	b.tap("#scenario-toggle")
	b.waitUntil("the scenario form opens", `probe.visible('#scenario-form')`)
	submitAndWait(b, "#scenario-submit")
	if got := eval[string](b, `probe.text('#scenario-error')`); got != "Give the scenario a title." {
		t.Errorf("a scenario without title says %q", got)
	}
	typeInto(b, "#scenario-title", "Discovery call")
	typeInto(b, "#scenario-persona", "An operations lead who is happy with spreadsheets")
	typeInto(b, "#scenario-objections", "We have no budget\nSpreadsheets work fine")
	submitAndWait(b, "#scenario-submit")
	b.waitUntil("the scenario is saved and chosen", `!probe.visible('#scenario-form') &&
		document.querySelector('#assign-scenario option:checked')?.textContent === 'Discovery call'`)
	b.accessible("scenario saved")

	reps := eval[[]string](b, `[...document.querySelectorAll('#assign-reps .pick-name')].map((n) => n.textContent)`)
	if strings.Join(reps, ",") != "Ana,Olaf" {
		t.Errorf("the admin can assign to %v, want Ana and Olaf", reps)
	}
	anaID := eval[string](b, `[...document.querySelectorAll('#assign-reps .pick')].find((l) => l.textContent.includes('Ana')).dataset.repId`)
	anaBox := "#assign-rep-" + anaID

	// No rep chosen: said by the page. A time in the past: said by the API.
	submitAndWait(b, "#assign-submit")
	if got := eval[string](b, `probe.text('#assign-error')`); got != "Choose at least one rep." {
		t.Errorf("an assignment without reps says %q", got)
	}
	center(b, anaBox)
	b.tap(anaBox)
	due := eval[string](b, `document.getElementById('assign-due').value`)
	eval[bool](b, `(document.getElementById('assign-due').value = '2020-01-01T09:00', true)`)
	submitAndWait(b, "#assign-submit")
	b.waitUntil("the API's refusal shows", `probe.text('#assign-error').startsWith('Not assigned: ')`)
	if got := eval[string](b, `probe.text('#assign-error')`); !strings.Contains(got, "future") {
		t.Errorf("an assignment due in the past says %q", got)
	}
	b.accessible("assignment refused")
	center(b, "#assign-error")
	b.screenshot("team-assign-refused-phone")
	eval[bool](b, fmt.Sprintf(`(document.getElementById('assign-due').value = %s, true)`, js(due)))
	choose(b, "#assign-recurrence", "weekly")
	b.click(`input[name=assign-mode][value=solo]`)
	submitAndWait(b, "#assign-submit")
	b.waitUntil("the assignment is made", `probe.text('#assign-status').startsWith('Assigned ')`)
	if got := eval[string](b, `probe.text('#assign-status')`); !strings.Contains(got, `"Discovery call" to Ana`) {
		t.Errorf("after assigning the page says %q", got)
	}
	if eval[string](b, `probe.text('#assign-error')`) != "" || eval[bool](b, fmt.Sprintf(`document.querySelector(%s).checked`, js(anaBox))) {
		t.Error("after assigning, the error or the chosen rep stays")
	}
	b.waitUntil("the rep's row counts it", fmt.Sprintf(`!!document.querySelector('#reps tr[data-rep-id=%s]')`, js(anaID)))
	b.accessible("assignment made")
	center(b, "#assign")
	b.screenshot("team-assign-phone")
	b.fullScreenshot("team-admin-phone")

	// The rep's queue lists it.
	rb.open(srv.URL + "/me")
	rb.waitUntil("the rep's practice page shows", `document.body?.dataset.state === 'page'`)
	item := eval[string](rb, `probe.text('#open-list')`)
	for _, want := range []string{"Discovery call", "Solo pitch", "Every week", "Record pitch"} {
		if !strings.Contains(item, want) {
			t.Errorf("the rep's queue lacks %q: %q", want, item)
		}
	}
	var queue struct {
		Assignments []struct {
			RepID, Mode, Recurrence string
		} `json:"assignments"`
	}
	call(t, srv, srv.AdminToken, "GET", "/api/assignments?rep="+anaID, nil, http.StatusOK, &queue)
	if len(queue.Assignments) != 1 || queue.Assignments[0].Mode != "solo" || queue.Assignments[0].Recurrence != "weekly" {
		t.Errorf("the rep's assignments: %+v", queue.Assignments)
	}

	// A coach: the assign form with the reps of their team only, no invitations.
	rb.open(srv.URL + "/signin#" + linkToken(t, coach.SignInURL))
	rb.tap("#signin-go")
	rb.waitUntil("the coach's team page shows", `location.pathname === '/team' && document.body?.dataset.state === 'page'`)
	if eval[bool](rb, `probe.visible('#invite')`) || !eval[bool](rb, `probe.visible('#assign-form')`) {
		t.Error("a coach sees the invitation form, or not the assign form")
	}
	if got := eval[[]string](rb, `[...document.querySelectorAll('#assign-reps .pick-name')].map((n) => n.textContent)`); strings.Join(got, ",") != "Ana" {
		t.Errorf("the coach of Team North can assign to %v, want Ana alone (not %s of Team South)", got, other.User.Name)
	}
	rb.accessible("coach's team page with the assign form")
}
