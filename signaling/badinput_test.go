package signaling_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"ringside/internal/proto"
	"ringside/signaling"
)

const validishSDP = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n" +
	"a=fingerprint:sha-256 AB:CD\r\na=ice-ufrag:abcd\r\na=ice-pwd:efghefghefghefghefghefgh\r\n"

func sdpMsg(typ, pc, sdp string) string {
	b, _ := json.Marshal(proto.SDP{Type: typ, PC: proto.PC(pc), SDP: sdp})
	return string(b)
}

func joinMsg(token string) string {
	return fmt.Sprintf(`{"type":"join","v":1,"token":%q}`, token)
}

// TestBadInputClosesOnlyThatConnection sends each kind of abuse on its own websocket, some
// before joining and some after joining the bystanders' own session as its coach, and checks
// the coded refusal, the close, and that the bystanders' call goes on.
func TestBadInputClosesOnlyThatConnection(t *testing.T) {
	e := newEnv(t)
	p := e.talkingPair(t)
	empty := e.session("Empty")

	manyMLines := validishSDP + strings.Repeat("m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n", 600)
	cases := []struct {
		name      string
		join      string // invite to join with first, if any
		frames    []string
		code      string
		closeCode int
	}{
		{"malformed JSON", "", []string{`{"type": "join", `}, proto.CodeBadMessage, websocket.ClosePolicyViolation},
		{"not an object", "", []string{`[1,2,3]`}, proto.CodeBadMessage, websocket.ClosePolicyViolation},
		{"wrong field type", "", []string{`{"type":"join","v":"one","token":5}`}, proto.CodeBadMessage, websocket.ClosePolicyViolation},
		{"unknown type", "", []string{`{"type":"hello"}`}, proto.CodeUnknownType, websocket.ClosePolicyViolation},
		{"server message type", "", []string{`{"type":"welcome"}`}, proto.CodeUnknownType, websocket.ClosePolicyViolation},
		{"oversized frame", "", []string{`{"type":"join","token":"` + strings.Repeat("x", 100<<10) + `"}`}, proto.CodeTooLarge, websocket.CloseMessageTooBig},
		{"megabytes of SDP", "", []string{sdpMsg("offer", "up", strings.Repeat("a=x\r\n", 1<<20))}, proto.CodeTooLarge, websocket.CloseMessageTooBig},
		{"candidate before join", "", []string{`{"type":"candidate","pc":"up","candidate":{"candidate":"candidate:1 1 udp 1 192.0.2.9 9 typ host"}}`}, proto.CodeBadState, websocket.ClosePolicyViolation},
		{"offer before join", "", []string{sdpMsg("offer", "up", validishSDP)}, proto.CodeBadState, websocket.ClosePolicyViolation},
		{"wrong version", "", []string{`{"type":"join","v":7,"token":"x"}`}, proto.CodeBadVersion, websocket.ClosePolicyViolation},
		{"double join", p.tk.coach, []string{joinMsg(p.tk.coach)}, proto.CodeBadState, websocket.ClosePolicyViolation},
		{"answer on up", p.tk.coach, []string{sdpMsg("answer", "up", validishSDP)}, proto.CodeBadState, websocket.ClosePolicyViolation},
		{"answer before offer", empty.coach, []string{sdpMsg("answer", "down", validishSDP)}, proto.CodeBadState, websocket.ClosePolicyViolation},
		{"offer on down", p.tk.coach, []string{sdpMsg("offer", "down", validishSDP)}, proto.CodeBadState, websocket.ClosePolicyViolation},
		{"garbage SDP", p.tk.coach, []string{sdpMsg("offer", "up", "this is not SDP")}, proto.CodeBadSDP, websocket.ClosePolicyViolation},
		{"hundreds of m-lines", p.tk.coach, []string{sdpMsg("offer", "up", manyMLines)}, proto.CodeBadSDP, websocket.ClosePolicyViolation},
		{"no fingerprint", p.tk.coach, []string{sdpMsg("offer", "up", strings.Replace(validishSDP, "a=fingerprint:sha-256 AB:CD\r\n", "", 1)+"m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n")}, proto.CodeBadSDP, websocket.ClosePolicyViolation},
		{"flood", p.tk.coach, repeat(`{"type":"mute","audio":true,"video":true}`, 400), proto.CodeRateLimited, websocket.ClosePolicyViolation},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ws := e.dialRaw(t)
			if c.join != "" {
				joinRaw(t, ws, c.join)
			}
			for _, f := range c.frames {
				if err := ws.WriteMessage(websocket.TextMessage, []byte(f)); err != nil {
					break // the server may close mid-flood
				}
			}
			code, closeCode := expectRefusal(t, ws)
			if code != c.code || closeCode != c.closeCode {
				t.Errorf("got error %q and close %d, want %q and %d", code, closeCode, c.code, c.closeCode)
			}
		})
	}

	t.Run("anything after leave", func(t *testing.T) {
		ws := e.dialRaw(t)
		joinRaw(t, ws, p.tk.coach)
		for _, f := range []string{`{"type":"leave"}`, `{"type":"mute","audio":true,"video":true}`} {
			_ = ws.WriteMessage(websocket.TextMessage, []byte(f))
		}
		var ended bool
		_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		for {
			_, data, err := ws.ReadMessage()
			if err != nil {
				if !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
					t.Errorf("close after leave: %v", err)
				}
				break
			}
			ended = ended || strings.Contains(string(data), `"reason":"left"`)
			if strings.Contains(string(data), `"type":"error"`) {
				t.Errorf("error after leave instead of a clean end: %s", data)
			}
		}
		if !ended {
			t.Errorf("no ended{left} after leave")
		}
	})

	t.Run("panic in a handler", func(t *testing.T) {
		signaling.PanicOn(e.srv, proto.TypeMark)
		defer signaling.PanicOn(e.srv, "")
		ws := e.dialRaw(t)
		joinRaw(t, ws, p.tk.coach)
		_ = ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"mark","note":"boom"}`))
		if code, closeCode := expectRefusal(t, ws); code != proto.CodeInternal || closeCode != websocket.CloseInternalServerErr {
			t.Errorf("after a panic: error %q, close %d", code, closeCode)
		}
	})

	p.undisturbed(t)
	// The server still serves new joins after all that.
	coach := e.dial(p.tk.coach, 0)
	flowing(t, coach, p.rep.ID(), audio, 10)
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

// joinRaw joins on a bare websocket and waits for the welcome.
func joinRaw(t *testing.T, ws *websocket.Conn, token string) {
	t.Helper()
	if err := ws.WriteMessage(websocket.TextMessage, []byte(joinMsg(token))); err != nil {
		t.Fatal(err)
	}
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("no welcome: %v", err)
		}
		if strings.Contains(string(data), `"type":"welcome"`) {
			return
		}
	}
}
