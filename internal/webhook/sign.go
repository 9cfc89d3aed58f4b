package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Headers of every delivery.
const (
	// HeaderSignature is "t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed with
	// the webhook's secret>". Receivers recompute it, compare in constant time, and reject a
	// t too far from their clock (a replay).
	HeaderSignature = "Ringside-Signature"
	// HeaderEvent is the event type, e.g. feedback.posted.
	HeaderEvent = "Ringside-Event"
	// HeaderDelivery is the delivery's id: the same on every retry of it, so a receiver can
	// drop duplicates.
	HeaderDelivery = "Ringside-Delivery"
)

// Sign returns the HeaderSignature value for body sent at t.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + mac(secret, ts, body)
}

func mac(secret, ts string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// ErrBadSignature is what Verify returns for a signature that does not check out.
var ErrBadSignature = errors.New("webhook: bad signature")

// Verify checks a HeaderSignature value against body and secret, and that its time is within
// tolerance of now. Receivers written in Go may use it; it documents the scheme for others.
func Verify(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	var ts, sig string
	for part := range strings.SplitSeq(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sig = v
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || sig == "" {
		return fmt.Errorf("%w: malformed header", ErrBadSignature)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("%w: timestamp %s is outside the tolerance", ErrBadSignature, ts)
	}
	if !hmac.Equal([]byte(sig), []byte(mac(secret, ts, body))) {
		return fmt.Errorf("%w: mismatch", ErrBadSignature)
	}
	return nil
}
