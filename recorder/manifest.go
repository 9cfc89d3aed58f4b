package recorder

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// ManifestName is the manifest's file name in a session's recording directory.
const ManifestName = "manifest.json"

// Session statuses in a manifest.
const (
	SessionRecording   = "recording"
	SessionComplete    = "complete"
	SessionFailed      = "failed"
	SessionInterrupted = "interrupted"
)

// Manifest describes a session's recording: every recorded span of every track, the coaches'
// mode changes and the markers, all placed in milliseconds from the session's start. It is
// written atomically beside the files whenever a span starts or ends, on every mode change and
// marker, and at the end.
type Manifest struct {
	Version   int        `json:"version"`
	SessionID string     `json:"sessionId"`
	StartedAt time.Time  `json:"startedAt"`
	EndedAt   *time.Time `json:"endedAt,omitempty"`
	// Status is SessionRecording, SessionComplete, SessionFailed or SessionInterrupted.
	Status string `json:"status"`
	// Error says why the recording failed.
	Error       string           `json:"error,omitempty"`
	Tracks      []ManifestTrack  `json:"tracks"`
	ModeChanges []ManifestMode   `json:"modeChanges"`
	Markers     []ManifestMarker `json:"markers"`
}

// ManifestTrack is one recorded span of one track.
type ManifestTrack struct {
	ID            string `json:"id"` // the catalog's track id
	ParticipantID string `json:"participantId"`
	Role          string `json:"role"`
	Name          string `json:"name"`
	Kind          string `json:"kind"`  // "audio" or "video"
	Codec         string `json:"codec"` // "opus", "vp8", or the unrecorded codec's name
	// File is the WebM file's name in the session directory; "" if nothing was written.
	File string `json:"file"`
	// StartOffsetMs is when the file's first frame was captured, from the session's start.
	StartOffsetMs int64 `json:"startOffsetMs"`
	DurationMs    int64 `json:"durationMs"`
	Whisper       bool  `json:"whisper"`
	// Status is store.TrackRecording, TrackComplete, TrackInterrupted, TrackFailed,
	// TrackNotRecorded or TrackEmpty.
	Status string `json:"status"`
	// Reason explains a status other than recording or complete.
	Reason string `json:"reason,omitempty"`
}

// ManifestMode is a coach's change of mode.
type ManifestMode struct {
	ParticipantID string `json:"participantId"`
	Mode          string `json:"mode"`
	Target        string `json:"target,omitempty"`
	OffsetMs      int64  `json:"offsetMs"`
}

// ManifestMarker is a coach's live marker.
type ManifestMarker struct {
	ID            string `json:"id"`
	ParticipantID string `json:"participantId"`
	Note          string `json:"note"`
	OffsetMs      int64  `json:"offsetMs"`
}

const manifestVersion = 1

// ReadManifest reads the manifest in a session's recording directory.
func ReadManifest(dir string) (*Manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("recorder: manifest %s: %w", dir, err)
	}
	return &m, nil
}

// encode renders m for writing; empty lists stay lists.
func (m *Manifest) encode() ([]byte, error) {
	c := *m
	if c.Tracks == nil {
		c.Tracks = []ManifestTrack{}
	}
	if c.ModeChanges == nil {
		c.ModeChanges = []ManifestMode{}
	}
	if c.Markers == nil {
		c.Markers = []ManifestMarker{}
	}
	b, err := json.MarshalIndent(&c, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

func (m *Manifest) track(id string) *ManifestTrack {
	for i := range m.Tracks {
		if m.Tracks[i].ID == id {
			return &m.Tracks[i]
		}
	}
	return nil
}
