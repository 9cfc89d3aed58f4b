// Package audit keeps the audit log of coaching oversight: who monitored a session silently,
// whispered to whom, or joined openly, and when. Signaling writes the entries through
// Trail.Log; admins read them through the API (internal/coachapi).
//
// It also owns the organisation's disclosure setting: whether reps and partners are told that
// sessions may be observed, and the banner text they are shown. The banner never says who
// observes or when.
//
// It stores through internal/store and knows nothing of websockets or HTTP.
package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"ringside/internal/store"
)

// Actions of audit entries.
const (
	// ActionMonitor: a coach joined silently, or switched back to silent.
	ActionMonitor = "monitor"
	// ActionWhisper: a coach started whispering to Entry.Target.
	ActionWhisper = "whisper"
	// ActionOpen: a coach joined the conversation openly.
	ActionOpen = "open"
	// ActionLeave: a coach left the session.
	ActionLeave = "leave"
)

// ErrInvalid is an entry or a setting that breaks a rule; its message says which.
var ErrInvalid = errors.New("audit: invalid")

// Entry is one audit log line. At zero means now.
type Entry struct {
	At         time.Time
	SessionID  string
	ActorID    string // the coach's participant id
	ActorName  string
	Action     string // one of the Action constants
	TargetID   string // the participant whispered to; "" for other actions
	TargetName string
	Detail     string
}

// Trail writes and reads the audit log. It is safe for concurrent use.
type Trail struct {
	store *store.Store
	log   *slog.Logger
	now   func() time.Time
}

// New returns a Trail on st; log may be nil, now nil means time.Now.
func New(st *store.Store, log *slog.Logger, now func() time.Time) *Trail {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if now == nil {
		now = time.Now
	}
	return &Trail{store: st, log: log, now: now}
}

// Log appends e to the audit log. It is a single small insert; callers on a live path should
// bound ctx (signaling uses its store timeout).
func (t *Trail) Log(ctx context.Context, e Entry) error {
	switch e.Action {
	case ActionMonitor, ActionWhisper, ActionOpen, ActionLeave:
	default:
		return fmt.Errorf("%w: unknown action %q", ErrInvalid, e.Action)
	}
	if e.SessionID == "" || e.ActorID == "" {
		return fmt.Errorf("%w: an entry needs a session and an actor", ErrInvalid)
	}
	if e.At.IsZero() {
		e.At = t.now()
	}
	err := t.store.AddAuditEntry(ctx, store.AuditEntry{
		At: e.At, SessionID: e.SessionID, ActorID: e.ActorID, ActorName: e.ActorName, Action: e.Action,
		TargetID: e.TargetID, TargetName: e.TargetName, Detail: e.Detail,
	})
	if err != nil {
		t.log.Error("audit log write failed", "session", e.SessionID, "actor", e.ActorID, "action", e.Action, "err", err)
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

// Entries returns the entries f selects, newest first.
func (t *Trail) Entries(ctx context.Context, f store.AuditFilter) ([]store.AuditEntry, error) {
	list, err := t.store.AuditEntries(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	return list, nil
}

// DefaultBanner is the disclosure text when the setting is on but no text was given.
const DefaultBanner = "Sessions may be observed by a coach for training purposes."

// maxBannerRunes bounds the banner text.
const maxBannerRunes = 500

// Disclosure is the organisation's setting: whether reps and partners are told that sessions
// may be observed, and what they are told.
type Disclosure struct {
	Enabled bool   `json:"enabled"`
	Text    string `json:"text"`
}

// Disclosure returns the setting; until an admin sets it, it is off.
func (t *Trail) Disclosure(ctx context.Context) (Disclosure, error) {
	raw, ok, err := t.store.Setting(ctx, store.KeyDisclosure)
	if err != nil {
		return Disclosure{}, fmt.Errorf("audit: disclosure: %w", err)
	}
	if !ok {
		return Disclosure{}, nil
	}
	var d Disclosure
	if err := json.Unmarshal([]byte(raw), &d); err != nil {
		return Disclosure{}, fmt.Errorf("audit: disclosure setting: %w", err)
	}
	return d, nil
}

// SetDisclosure stores the setting. An enabled one without text gets DefaultBanner.
func (t *Trail) SetDisclosure(ctx context.Context, d Disclosure) (Disclosure, error) {
	d.Text = strings.TrimSpace(d.Text)
	if utf8.RuneCountInString(d.Text) > maxBannerRunes {
		return Disclosure{}, fmt.Errorf("%w: text is longer than %d characters", ErrInvalid, maxBannerRunes)
	}
	if d.Enabled && d.Text == "" {
		d.Text = DefaultBanner
	}
	raw, err := json.Marshal(d)
	if err != nil {
		return Disclosure{}, fmt.Errorf("audit: disclosure: %w", err)
	}
	if err := t.store.SetSetting(ctx, store.KeyDisclosure, string(raw)); err != nil {
		return Disclosure{}, fmt.Errorf("audit: disclosure: %w", err)
	}
	return d, nil
}
