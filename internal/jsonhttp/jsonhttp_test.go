package jsonhttp

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestDecode(t *testing.T) {
	type body struct {
		Name string    `json:"name"`
		N    int       `json:"n"`
		At   time.Time `json:"at"`
	}
	cases := []struct {
		in, want string // want: "" for success, else a part of the message
		tooLarge bool
	}{
		{`{"name":"a","n":1}`, "", false},
		{``, "empty", false},
		{`{"name":`, "truncated", false},
		{`{"name" 1}`, "malformed JSON at byte", false},
		{`{"n":"x"}`, `field "n" must be a JSON number`, false},
		{`[1]`, "must be a JSON object", false},
		{`{"at":"yesterday"}`, "RFC 3339", false},
		{`{"other":1}`, `unknown field "other"`, false},
		{`{} {}`, "single JSON object", false},
		{`{"name":"` + strings.Repeat("x", 200) + `"}`, "exceeds 100 bytes", true},
	}
	for _, c := range cases {
		r := httptest.NewRequest("POST", "/", strings.NewReader(c.in))
		var b body
		err := Decode(httptest.NewRecorder(), r, &b, 100)
		if c.want == "" {
			if err != nil {
				t.Errorf("Decode(%s): %v", c.in, err)
			}
			continue
		}
		je, ok := errors.AsType[*Error](err)
		if !ok || !strings.Contains(je.Msg, c.want) || je.TooLarge != c.tooLarge {
			t.Errorf("Decode(%.40s) = %v, want an *Error with %q (too large %v)", c.in, err, c.want, c.tooLarge)
		}
	}
}
