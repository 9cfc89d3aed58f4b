package app_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pion/webrtc/v4"

	"ringside/internal/app"
	"ringside/internal/app/apptest"
	"ringside/internal/client"
)

const chromiumPath = "/usr/bin/chromium"

// relayPage speaks just enough of the protocol (docs/protocol.md) to publish the fake camera
// and microphone on up and receive on down, both with iceTransportPolicy "relay" and the
// welcome's iceServers (those of ?transport= only). stats() reports each connection's
// selected candidate pair and bytes.
const relayPage = `<!doctype html><meta charset="utf-8"><title>relay</title><body><script>
const params = new URLSearchParams(location.search);
const token = params.get('token'), transport = params.get('transport');
const ws = new WebSocket('ws://' + location.host + '/ws');
const pcs = {};
const pending = {up: [], down: []};
window.failures = [];
let queue = Promise.resolve();
const send = (m) => ws.send(JSON.stringify(m));
ws.onopen = () => send({type: 'join', v: 1, token: token, resume: ''});
ws.onmessage = (ev) => { const m = JSON.parse(ev.data); queue = queue.then(() => handle(m)).catch((e) => failures.push(String(e))); };
async function flush(name) {
  for (const c of pending[name].splice(0)) await pcs[name].addIceCandidate(c);
}
async function handle(m) {
  switch (m.type) {
  case 'welcome': {
    const iceServers = m.iceServers.map((s) => ({...s, urls: s.urls.filter((u) => u.endsWith('?transport=' + transport))}));
    const cfg = {iceServers: iceServers, iceTransportPolicy: 'relay'};
    for (const name of ['up', 'down']) {
      const pc = new RTCPeerConnection(cfg);
      pc.onicecandidate = (e) => send({type: 'candidate', pc: name, candidate: e.candidate ? e.candidate.toJSON() : null});
      pcs[name] = pc;
    }
    pcs.down.ontrack = (e) => { const v = document.createElement('video'); v.muted = true; v.autoplay = true; v.srcObject = e.streams[0]; document.body.appendChild(v); };
    const stream = await navigator.mediaDevices.getUserMedia({audio: true, video: {width: 320, height: 240}});
    for (const t of stream.getTracks()) pcs.up.addTransceiver(t, {direction: 'sendonly', streams: [stream]});
    await pcs.up.setLocalDescription();
    send({type: 'offer', pc: 'up', sdp: pcs.up.localDescription.sdp});
    break;
  }
  case 'answer':
    await pcs.up.setRemoteDescription({type: 'answer', sdp: m.sdp});
    await flush('up');
    break;
  case 'offer':
    await pcs.down.setRemoteDescription({type: 'offer', sdp: m.sdp});
    await flush('down');
    await pcs.down.setLocalDescription();
    send({type: 'answer', pc: 'down', sdp: pcs.down.localDescription.sdp});
    break;
  case 'candidate':
    if (!m.candidate) break;
    if (pcs[m.pc].remoteDescription) await pcs[m.pc].addIceCandidate(m.candidate);
    else pending[m.pc].push(m.candidate);
    break;
  case 'error':
    failures.push(m.code + ': ' + m.message);
    break;
  }
}
async function stats() {
  const out = {};
  for (const name of ['up', 'down']) {
    const pc = pcs[name];
    const r = {state: pc ? pc.connectionState : 'none', localType: '', relayProtocol: '', remoteType: '', bytesSent: 0, bytesReceived: 0};
    if (pc) {
      const report = await pc.getStats();
      let pairID = '';
      report.forEach((s) => {
        if (s.type === 'transport' && s.selectedCandidatePairId) pairID = s.selectedCandidatePairId;
        if (s.type === 'outbound-rtp') r.bytesSent += s.bytesSent || 0;
        if (s.type === 'inbound-rtp') r.bytesReceived += s.bytesReceived || 0;
      });
      const pair = pairID && report.get(pairID);
      if (pair) {
        const local = report.get(pair.localCandidateId), remote = report.get(pair.remoteCandidateId);
        r.localType = local.candidateType; r.relayProtocol = local.relayProtocol || ''; r.remoteType = remote.candidateType;
      }
    }
    out[name] = r;
  }
  out.failures = failures;
  return out;
}
</script></body>`

type pcStats struct {
	State         string `json:"state"`
	LocalType     string `json:"localType"`
	RelayProtocol string `json:"relayProtocol"`
	RemoteType    string `json:"remoteType"`
	BytesSent     int64  `json:"bytesSent"`
	BytesReceived int64  `json:"bytesReceived"`
}

type pageStats struct {
	Up       pcStats  `json:"up"`
	Down     pcStats  `json:"down"`
	Failures []string `json:"failures"`
}

// TestChromiumRelayOnly: real Chromium, allowed relay candidates only, joins through the
// embedded TURN server with the welcome's credentials, over UDP and over TCP; its media
// reaches a Go peer and the Go peer's media reaches it, and both of its connections run on a
// relay candidate of that transport. The server runs as on a cloud VM, with --public-ip.
func TestChromiumRelayOnly(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("this test needs Chromium at %s (make test installs the Debian package chromium): %v", chromiumPath, err)
	}
	for _, transport := range []string{"udp", "tcp"} {
		t.Run(transport, func(t *testing.T) { chromiumRelay(t, transport) })
	}
}

func chromiumRelay(t *testing.T, transport string) {
	checkGoroutines(t)
	page := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, relayPage)
	})
	s := apptest.Start(t, apptest.WithWeb(page), func(c *app.Config) {
		c.TURNPort, c.PublicIP, c.IncludeLoopback = freePort(t), hostAddr(t).String(), false
	})
	_, _, tokens := s.CreateSession(t, "chromium relay "+transport)
	partner := join(t, s, tokens["partner"], client.Config{Publish: client.Audio | client.Video, ICEServers: []webrtc.ICEServer{}})

	ctx := startChromium(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(s.URL+"/?transport="+transport+"&token="+tokens["rep"])); err != nil {
		t.Fatalf("Chromium: %v", err)
	}
	var st pageStats
	deadline := time.Now().Add(30 * time.Second)
	for {
		var err error
		st, err = chromedp.Run(ctx, chromedp.Evaluate[pageStats]("stats()", chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("stats: %v", err)
		}
		if len(st.Failures) > 0 {
			t.Fatalf("the page failed: %v", st.Failures)
		}
		if st.Up.BytesSent > 20000 && st.Down.BytesReceived > 20000 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no media through the relay after 30 s: %+v", st)
		}
		time.Sleep(250 * time.Millisecond)
	}
	for name, pc := range map[string]pcStats{"up": st.Up, "down": st.Down} {
		if pc.State != "connected" || pc.LocalType != "relay" || pc.RelayProtocol != transport {
			t.Errorf("Chromium's %s connection: %+v, want connected on a %s relay candidate", name, pc, transport)
		}
	}

	var repID string
	for _, m := range partner.Roster() {
		if m.Role == "rep" {
			repID = m.ID
		}
	}
	if repID == "" {
		t.Fatalf("the partner's roster has no rep: %+v", partner.Roster())
	}
	apptest.Flowing(t, partner, repID, audio, packets(audio))
	apptest.Flowing(t, partner, repID, video, packets(video))
	ts := s.App.TURN().Stats()
	if ts.AllocationsMade == 0 || ts.PacketsRelayed < 200 || ts.PacketsReturned < 200 {
		t.Errorf("TURN stats %+v: Chromium's media did not go through the embedded server", ts)
	}
	if (transport == "tcp") != (ts.MadeOverTCP == ts.AllocationsMade) {
		t.Errorf("TURN stats %+v: allocations not over %s", ts, transport)
	}
	t.Logf("Chromium up %+v, down %+v; TURN %+v", st.Up, st.Down, ts)
}

// startChromium runs a headless Chromium with a fresh profile and fake media devices until
// the test ends.
func startChromium(t *testing.T) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	tctx, tcancel := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(tcancel)
	return tctx
}
