package signaling

import (
	"errors"
	"strings"
	"testing"

	"ringside/sfu"
)

// FuzzCheckSDP: the SDP gate must never panic and must refuse with ErrTooLarge or ErrBadSDP.
func FuzzCheckSDP(f *testing.F) {
	l := Limits{}.withDefaults()
	f.Add("v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=fingerprint:sha-256 AB\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=ice-ufrag:x\r\n")
	f.Add("v=0\r\n" + strings.Repeat("m=audio 9 RTP/AVP 0\r\n", 20))
	f.Add("garbage")
	f.Fuzz(func(t *testing.T, s string) {
		err := l.checkSDP(s)
		if err != nil && !errors.Is(err, ErrTooLarge) && !errors.Is(err, sfu.ErrBadSDP) {
			t.Fatalf("checkSDP error of no known kind: %v", err)
		}
	})
}

func TestCheckSDP(t *testing.T) {
	l := Limits{MaxSDPBytes: 4096, MaxMLines: 4}.withDefaults()
	ok := "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=fingerprint:sha-256 AB:CD\r\n" +
		"m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=ice-ufrag:abcd\r\na=ice-pwd:efghefghefghefghefghefgh\r\n"
	if err := l.checkSDP(ok); err != nil {
		t.Fatalf("valid SDP refused: %v", err)
	}
	cases := map[string]struct {
		sdp  string
		want error
	}{
		"too large":      {ok + strings.Repeat("a=x:y\r\n", 1000), ErrTooLarge},
		"too many lines": {ok + strings.Repeat("m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=ice-ufrag:abcd\r\n", 5), sfu.ErrBadSDP},
		"no fingerprint": {strings.Replace(ok, "a=fingerprint:sha-256 AB:CD\r\n", "", 1), sfu.ErrBadSDP},
		"no ice":         {strings.Replace(ok, "a=ice-ufrag:abcd\r\n", "", 1), sfu.ErrBadSDP},
		"garbage":        {"hello world", sfu.ErrBadSDP},
	}
	for name, c := range cases {
		if err := l.checkSDP(c.sdp); !errors.Is(err, c.want) {
			t.Errorf("%s: checkSDP = %v, want %v", name, err, c.want)
		}
	}
}
