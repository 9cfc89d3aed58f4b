package web_test

import (
	"context"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/pion/webrtc/v4"

	"ringside/internal/app/apptest"
	"ringside/internal/client"
	"ringside/web"
)

// setPermission answers the site's camera or microphone prompt in advance, as a person
// tapping Allow or Block would.
func (b *chrome) setPermission(origin, name string, setting cdpbrowser.PermissionSetting) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, evalTimeout)
	defer cancel()
	if _, err := chromedp.CallBrowser(ctx, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
		Permission: &cdpbrowser.PermissionDescriptor{Name: name},
		Setting:    setting,
		Origin:     origin,
	}); err != nil {
		b.t.Fatalf("%s: set permission %s %s: %v", b.name, name, setting, err)
	}
}

// TestCameraDenied: a rep who blocks the camera still joins, with sound only and a plain
// explanation; one who blocks the microphone is told what to do and does not join.
func TestCameraDenied(t *testing.T) {
	srv := apptest.Start(t, apptest.WithWeb(web.Handler()))
	_, invites, tokens := srv.CreateSession(t, "Objection handling")

	// The partner is a Go client of the protocol, so that the test sees exactly what the
	// server forwards of the rep.
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	partner, err := client.Dial(ctx, client.Config{URL: srv.WSURL, Token: tokens["partner"]})
	if err != nil {
		t.Fatalf("partner: %v", err)
	}
	defer partner.Close()

	b := startBrowser(t, "rep", launch{phone: true}) // no fake UI: the permissions decide
	b.setPermission(srv.URL, "camera", cdpbrowser.PermissionSettingDenied)
	b.setPermission(srv.URL, "microphone", cdpbrowser.PermissionSettingGranted)
	rep := join(t, b, invites["rep"], true)

	b.waitUntil("the camera explanation shows", `probe.visible('#call-notice') &&
		probe.text('#call-notice-text').includes('camera is blocked') &&
		probe.text('#call-notice-text').includes('sound only')`)
	b.waitUntil("the self-view says the camera is off", `probe.visible('#call-self-off')`)
	b.waitUntil("the rep sends audio", `probe.sentRising('audio')`)
	if got := eval[[]sender](b, `ringside.senders()`); !sends(got, "audio") || sends(got, "video") {
		t.Errorf("an audio-only rep sends %+v", got)
	}
	if label := eval[string](b, `document.querySelector('#call-cam').getAttribute('aria-label')`); label != "Turn camera on" {
		t.Errorf("camera button label %q, want %q", label, "Turn camera on")
	}
	b.screenshot("join-camera-denied-phone")
	b.accessible("camera denied")

	// On the wire: the partner receives the rep's audio and no video.
	deadline := time.Now().Add(waitTimeout)
	for {
		st, ok := partner.Track(rep.id, webrtc.RTPCodecTypeAudio)
		if ok && st.Packets > 20 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the partner received no audio from the audio-only rep (%+v)", partner.Tracks())
		}
		time.Sleep(pollEvery)
	}
	if _, ok := partner.Track(rep.id, webrtc.RTPCodecTypeVideo); ok {
		t.Errorf("the partner received video from a rep whose camera is blocked")
	}

	// The microphone blocked as well: nothing to join with; the page says what to do.
	b.setPermission(srv.URL, "microphone", cdpbrowser.PermissionSettingDenied)
	b.open(invites["rep"])
	b.waitUntil("the lobby shows", `probe.visible('#join')`)
	b.tap("#join")
	b.waitUntil("the microphone explanation shows", `probe.visible('#problem') &&
		probe.text('#problem-title').includes('microphone') && probe.visible('#problem-steps') &&
		probe.visible('#retry')`)
	if joined := eval[bool](b, `!!window.ringside`); joined {
		t.Errorf("the page joined without a microphone")
	}
	b.screenshot("join-mic-denied-phone")
	b.accessible("microphone denied")

	// Allowing it and tapping Try again joins.
	b.setPermission(srv.URL, "microphone", cdpbrowser.PermissionSettingGranted)
	b.tap("#retry")
	b.waitUntil("joined after Try again", `!!(window.ringside && ringside.state === 'connected') && probe.visible('#call')`)
}
