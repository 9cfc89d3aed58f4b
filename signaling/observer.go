package signaling

import (
	"time"

	"ringside/sfu"
)

// Coach actions, as the audit log names them.
const (
	ActionMonitor = "monitor" // joined silently, or went back to silent
	ActionWhisper = "whisper"
	ActionOpen    = "open"
	ActionLeave   = "leave"
)

// CoachAction is one thing a coach did that the audit log keeps.
type CoachAction struct {
	SessionID            string
	CoachID, CoachName   string
	Action               string
	TargetID, TargetName string // whom a whisper goes to
	At                   time.Time
}

// Observer hears what the live plane does, for the audit log and integrations (webhooks). It is
// called from connection goroutines, never on the media path, and must return promptly.
type Observer interface {
	SessionStarted(sessionID string, at time.Time)
	SessionEnded(sessionID string, at time.Time)
	RecordingReady(sessionID string, at time.Time)
	CoachActed(a CoachAction)
}

// coachAction reports a coach's action to the observer, if there is one.
func (lr *liveRoom) coachAction(m *member, action, targetID string) {
	obs := lr.srv.observer
	if obs == nil || m.sfuRole() != sfu.RoleCoach {
		return
	}
	a := CoachAction{SessionID: lr.session.ID, CoachID: string(m.id), CoachName: m.name, Action: action,
		TargetID: targetID, At: time.Now()}
	if t := lr.member(sfu.ParticipantID(targetID)); t != nil {
		a.TargetName = t.name
	}
	obs.CoachActed(a)
}

func modeAction(mode string) string {
	switch mode {
	case ActionWhisper, ActionOpen:
		return mode
	}
	return ActionMonitor
}
