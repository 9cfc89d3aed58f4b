package sfu

import (
	"fmt"
	"testing"
)

// TestRouteTable checks Route for every publisher role and mode against every receiver role
// and mode, including a publisher seeing itself. The expected table is ARCHITECTURE.md's.
func TestRouteTable(t *testing.T) {
	const rep, partner, coach, coach2 = "rep1", "partner1", "coach1", "coach2"
	pubs := map[string]Seat{
		"rep":               {ID: rep, Role: RoleRep},
		"partner":           {ID: partner, Role: RolePartner},
		"coach silent":      {ID: coach, Role: RoleCoach, Mode: ModeSilent},
		"coach whisper→rep": {ID: coach, Role: RoleCoach, Mode: ModeWhisper, Target: rep},
		"coach whisper→ptn": {ID: coach, Role: RoleCoach, Mode: ModeWhisper, Target: partner},
		"coach open":        {ID: coach, Role: RoleCoach, Mode: ModeOpen},
		"coach bad mode":    {ID: coach, Role: RoleCoach, Mode: "loud"},
	}
	recvs := map[string]Seat{
		"rep":            {ID: rep, Role: RoleRep},
		"partner":        {ID: partner, Role: RolePartner},
		"coach2 silent":  {ID: coach2, Role: RoleCoach, Mode: ModeSilent},
		"coach2 whisper": {ID: coach2, Role: RoleCoach, Mode: ModeWhisper, Target: rep},
		"coach2 open":    {ID: coach2, Role: RoleCoach, Mode: ModeOpen},
		"recorder":       {Role: RoleRecorder},
	}
	av := Grant{Audio: true, Video: true, Roster: Visible}
	none := Grant{}
	watch := Grant{Roster: Watching}
	whisper := Grant{Audio: true, Roster: Whispering, Whisper: true}
	open := Grant{Audio: true, Video: true, Roster: Open}
	recWhisper := Grant{Audio: true, Whisper: true}

	type row struct{ rep, partner, coach2, recorder Grant }
	want := map[string]row{
		"rep":               {none, av, av, av},
		"partner":           {av, none, av, av},
		"coach silent":      {none, none, watch, none},
		"coach whisper→rep": {whisper, none, whisper, recWhisper},
		"coach whisper→ptn": {none, whisper, whisper, recWhisper},
		"coach open":        {open, open, open, open},
		"coach bad mode":    {none, none, watch, none},
	}
	for pname, pub := range pubs {
		for rname, recv := range recvs {
			w := want[pname]
			var exp Grant
			switch {
			case pub.ID == recv.ID:
				exp = none
			case recv.Role == RoleRep:
				exp = w.rep
			case recv.Role == RolePartner:
				exp = w.partner
			case recv.Role == RoleCoach:
				exp = w.coach2
			case recv.Role == RoleRecorder:
				exp = w.recorder
			}
			if got := Route(pub, recv); got != exp {
				t.Errorf("Route(%s → %s) = %+v, want %+v", pname, rname, got, exp)
			}
		}
		// Nobody receives anything of themselves.
		if got := Route(pub, pub); got != none {
			t.Errorf("Route(%s → itself) = %+v, want nothing", pname, got)
		}
	}
}

// TestRouteSilentCoachNeverReachesRepOrPartner sweeps every target a silent or whispering
// coach could carry: a stale target must not leak media to anyone but that target.
func TestRouteSilentCoachNeverReachesRepOrPartner(t *testing.T) {
	targets := []ParticipantID{"", "rep1", "partner1", "coach1", "nobody"}
	for _, target := range targets {
		for _, mode := range []Mode{ModeSilent, ModeWhisper} {
			pub := Seat{ID: "coach1", Role: RoleCoach, Mode: mode, Target: target}
			for _, recv := range []Seat{{ID: "rep1", Role: RoleRep}, {ID: "partner1", Role: RolePartner}} {
				g := Route(pub, recv)
				reaches := g.Audio || g.Video || g.Roster != Hidden
				if reaches != (mode == ModeWhisper && recv.ID == target) {
					t.Errorf("%s coach with target %q → %s: %+v", mode, target, recv.ID, g)
				}
				if g.Video {
					t.Errorf("%s coach sends video to %s", mode, recv.ID)
				}
			}
		}
	}
}

func TestRouteUnknownRoles(t *testing.T) {
	for _, role := range []Role{"", "admin", RoleRecorder} {
		pub := Seat{ID: "x", Role: role}
		for _, recv := range []Seat{{ID: "rep1", Role: RoleRep}, {Role: RoleRecorder}} {
			if g := Route(pub, recv); g != (Grant{}) {
				t.Errorf("publisher role %q → %s: %+v", role, recv.Role, g)
			}
		}
	}
}

func ExampleRoute() {
	coach := Seat{ID: "c", Role: RoleCoach, Mode: ModeWhisper, Target: "r"}
	fmt.Println(Route(coach, Seat{ID: "r", Role: RoleRep}).Audio,
		Route(coach, Seat{ID: "p", Role: RolePartner}).Audio)
	// Output: true false
}
