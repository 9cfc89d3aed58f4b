package signaling

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/pion/rtp"

	"ringside/internal/proto"
	"ringside/internal/store"
	"ringside/sfu"
)

// Recorder starts recordings; app adapts *recorder.Recorder to it.
type Recorder interface {
	StartRecording(sessionID string, start time.Time) (Recording, error)
}

// Recording is one session's recording: a Sink the room feeds, plus the timeline events that
// signaling sees.
type Recording interface {
	sfu.Sink
	ModeChange(participantID, mode, target string, at time.Time)
	Marker(id, participantID, note string, at time.Time)
	// Close finalizes the files; it may take a moment.
	Close(ctx context.Context) error
}

// finalizeTimeout bounds how long closing a room waits for its recording to be finalized.
const finalizeTimeout = 30 * time.Second

// The room's sinks (sfu.Room.SetSink), fed in this order: the recording, or the track log of
// an unrecorded session, and the talk analysis. Each is attached and detached on its own.
const (
	recordingSink = "recording"
	analysisSink  = "analysis"
)

// startRecording attaches the session's recording to the room, or a track log when the
// session is not recorded, so that its published tracks are in the store either way; then the
// talk analysis beside it when sessions are analysed.
func (lr *liveRoom) startRecording() {
	s := lr.srv
	if !lr.session.Recorded || s.recorder == nil {
		lr.room.SetSink(recordingSink, &trackLog{store: s.store, session: lr.session.ID, start: lr.start})
	} else if rec, err := s.recorder.StartRecording(lr.session.ID, lr.start); err != nil {
		lr.log.Error("recording failed to start; the call goes on unrecorded", "err", err)
		lr.recState, lr.recReason = "failed", "could not start: "+err.Error()
	} else {
		lr.rec = rec
		lr.recState = "on"
		lr.room.SetSink(recordingSink, rec)
	}
	lr.startAnalysis()
}

// recording reports the recording state for a welcome.
func (lr *liveRoom) recording() (on bool) {
	lr.mu.Lock()
	defer lr.mu.Unlock()
	return lr.recState == "on"
}

// recordingFailed stops feeding the recorder and tells everyone in the room, loudly.
func (lr *liveRoom) recordingFailed(err error) {
	lr.mu.Lock()
	if lr.recState == "failed" {
		lr.mu.Unlock()
		return
	}
	lr.recState, lr.recReason = "failed", err.Error()
	members := lr.membersLocked()
	lr.mu.Unlock()
	lr.log.Error("recording stopped; the call goes on", "err", err)
	lr.srv.metrics.recordingFailures.Inc()
	lr.room.SetSink(recordingSink, nil) // closes the recording's spans; the analysis goes on
	msg := proto.Recording{Type: proto.TypeRecording, State: "failed", Reason: err.Error()}
	for _, m := range members {
		m.emit(msg)
	}
}

// finishRecording stores the talk analysis (first: it is quick, and must not wait for the
// files) and finalizes the recording, once the room has closed.
func (lr *liveRoom) finishRecording() {
	lr.finishAnalysis()
	if lr.rec == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), finalizeTimeout)
	defer cancel()
	if err := lr.rec.Close(ctx); err != nil {
		lr.log.Error("finalizing the recording", "err", err)
		return
	}
	if obs := lr.srv.observer; obs != nil && lr.recording() {
		obs.RecordingReady(lr.session.ID, time.Now())
	}
}

// RecordingFailed is for the recorder to report that a session's recording stopped.
func (s *Server) RecordingFailed(sessionID string, err error) {
	if lr := s.liveRoom(sessionID); lr != nil {
		go lr.recordingFailed(err) // off the recorder's goroutine, which may be what the room waits on
	}
}

// trackLog is the sink of an unrecorded session: it stores each forwarded track's span in the
// catalog and drops the packets.
type trackLog struct {
	store   *store.Store
	session string
	start   time.Time
}

type loggedTrack struct {
	log   *trackLog
	row   store.Track
	added chan struct{}
}

// StartTrack implements sfu.Sink; the store write happens off the caller's lock.
func (l *trackLog) StartTrack(info sfu.TrackInfo) (sfu.TrackWriter, error) {
	now := time.Now()
	t := &loggedTrack{log: l, added: make(chan struct{}), row: store.Track{
		ID: uuid.NewString(), SessionID: l.session, ParticipantID: string(info.ParticipantID),
		Role: string(info.Role), Kind: info.Kind.String(), Codec: info.Codec.MimeType,
		Whisper: info.Whisper, StartedAt: now, OffsetMs: now.Sub(l.start).Milliseconds(),
		Status: "unrecorded",
	}}
	go func() {
		defer close(t.added)
		ctx, cancel := storeCtx()
		defer cancel()
		_ = l.store.AddTrack(ctx, t.row)
	}()
	return t, nil
}

func (t *loggedTrack) WriteRTP(*rtp.Packet, time.Time)        {}
func (t *loggedTrack) SenderReport(uint64, uint32, time.Time) {}

func (t *loggedTrack) Close() {
	end := time.Now()
	go func() {
		<-t.added
		row := t.row
		row.EndedAt = &end
		row.DurationMs = end.Sub(row.StartedAt).Milliseconds()
		ctx, cancel := storeCtx()
		defer cancel()
		_ = t.log.store.UpdateTrack(ctx, row)
	}()
}
