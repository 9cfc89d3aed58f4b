package app

import "runtime/debug"

// Version describes the running binary: the module version and, when built from a VCS
// checkout, the commit (with "+dirty" for uncommitted changes).
func Version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "ringside (unknown version)"
	}
	v := info.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = "+dirty"
			}
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	out := "ringside " + v
	if rev != "" {
		out += " " + rev + modified
	}
	return out + " " + info.GoVersion
}
