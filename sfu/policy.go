package sfu

// Role is what a participant is in a session. It comes from the invite only.
type Role string

const (
	RoleRep     Role = "rep"
	RolePartner Role = "partner"
	RoleCoach   Role = "coach"
	// RoleRecorder is the recorder's seat in the routing policy; no participant has it.
	RoleRecorder Role = "recorder"
)

// Valid reports whether r is a participant role.
func (r Role) Valid() bool { return r == RoleRep || r == RolePartner || r == RoleCoach }

// Mode is a coach's live mode. Other roles have no mode (the empty Mode).
type Mode string

const (
	ModeSilent  Mode = "silent"
	ModeWhisper Mode = "whisper"
	ModeOpen    Mode = "open"
)

// Valid reports whether m is a coach mode.
func (m Mode) Valid() bool { return m == ModeSilent || m == ModeWhisper || m == ModeOpen }

// Seat is what the routing policy needs to know of a participant.
type Seat struct {
	ID   ParticipantID
	Role Role
	Mode Mode // coaches only
	// Target is the whispering coach's listener.
	Target ParticipantID
}

// Visibility is how a receiver sees a publisher in its roster.
type Visibility int

const (
	Hidden Visibility = iota
	Visible
	// Watching is a silent coach as another coach sees it.
	Watching
	// Whispering is a whispering coach as its target (or another coach) sees it.
	Whispering
	// Open is an open coach.
	Open
)

// Grant is what one receiver gets of one publisher.
type Grant struct {
	Audio, Video bool
	Roster       Visibility
	// Whisper marks audio that is a coach's whisper.
	Whisper bool
}

// Route is the routing policy: what receiver gets of publisher's media and roster entry. It is
// the one place that decides who hears and sees whom; everything else applies its answer.
func Route(pub, recv Seat) Grant {
	if pub.ID == recv.ID {
		return Grant{}
	}
	if pub.Role != RoleCoach {
		if pub.Role == RoleRecorder || !pub.Role.Valid() {
			return Grant{}
		}
		return Grant{Audio: true, Video: true, Roster: Visible}
	}
	switch pub.Mode {
	case ModeOpen:
		return Grant{Audio: true, Video: true, Roster: Open}
	case ModeWhisper:
		switch {
		case recv.Role == RoleRecorder:
			return Grant{Audio: true, Whisper: true}
		case recv.Role == RoleCoach:
			return Grant{Audio: true, Roster: Whispering, Whisper: true}
		case recv.ID == pub.Target:
			return Grant{Audio: true, Roster: Whispering, Whisper: true}
		}
		return Grant{}
	default: // silent, and any mode a coach should not have
		if recv.Role == RoleCoach {
			return Grant{Roster: Watching}
		}
		return Grant{}
	}
}
