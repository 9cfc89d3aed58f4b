package proto

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestDecode(t *testing.T) {
	cases := []struct {
		in      string
		want    any
		wantErr error
	}{
		{`{"type":"join","v":1,"token":"abc"}`, &Join{Type: "join", Version: 1, Token: "abc"}, nil},
		{`{"type":"offer","pc":"up","sdp":"v=0"}`, &SDP{Type: "offer", PC: PCUp, SDP: "v=0"}, nil},
		{`{"type":"answer","pc":"down","sdp":"v=0"}`, &SDP{Type: "answer", PC: PCDown, SDP: "v=0"}, nil},
		{`{"type":"mode","mode":"whisper","target":"p1"}`, &Mode{Type: "mode", Mode: "whisper", Target: "p1"}, nil},
		{`{"type":"leave"}`, &Leave{Type: "leave"}, nil},
		{`{"type":"leave","role":"coach","Role":"coach","id":"someone"}`, &Leave{Type: "leave"}, nil},
		{`{"type":"offer","pc":"sideways","sdp":"v=0"}`, nil, ErrMalformed},
		{`{"type":"candidate","pc":"","candidate":null}`, nil, ErrMalformed},
		{`{"type":"welcome"}`, nil, ErrUnknownType},
		{`{"type":"nope"}`, nil, ErrUnknownType},
		{`{}`, nil, ErrMalformed},
		{`[1,2]`, nil, ErrMalformed},
		{`{"type":"join","v":"1"}`, nil, ErrMalformed},
		{`not json`, nil, ErrMalformed},
	}
	for _, c := range cases {
		got, err := Decode([]byte(c.in))
		if c.wantErr != nil {
			if !errors.Is(err, c.wantErr) {
				t.Errorf("Decode(%s) error = %v, want %v", c.in, err, c.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("Decode(%s): %v", c.in, err)
			continue
		}
		if gs, ws := strings.TrimSpace(sprint(got)), strings.TrimSpace(sprint(c.want)); gs != ws {
			t.Errorf("Decode(%s) = %s, want %s", c.in, gs, ws)
		}
	}
}

// FuzzDecode feeds arbitrary frames to the decoder: it must never panic, and whatever it
// accepts is one of the client message types with a valid connection name.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		`{"type":"join","v":1,"token":"abc","resume":"x"}`,
		`{"type":"offer","pc":"up","sdp":"v=0\r\n"}`,
		`{"type":"candidate","pc":"down","candidate":{"candidate":"candidate:1 1 udp 1 1.2.3.4 5 typ host","sdpMLineIndex":0}}`,
		`{"type":"mode","mode":"open"}`,
		`{"type":"mark","note":"good"}`,
		`{"type":"mute","audio":true,"video":false}`,
		`{"type":"x"}`, `{`, `null`, `{"type":null}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		msg, err := Decode(data)
		if err != nil {
			if msg != nil {
				t.Fatalf("error %v with a message %#v", err, msg)
			}
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnknownType) {
				t.Fatalf("error of no known kind: %v", err)
			}
			return
		}
		switch m := msg.(type) {
		case *Join, *Mode, *Mark, *Mute, *Leave:
		case *SDP:
			if !m.PC.Valid() {
				t.Fatalf("accepted SDP for pc %q", m.PC)
			}
		case *Candidate:
			if !m.PC.Valid() {
				t.Fatalf("accepted candidate for pc %q", m.PC)
			}
		default:
			t.Fatalf("unexpected message type %T", msg)
		}
	})
}

func sprint(v any) string { return fmt.Sprintf("%#v", v) }
