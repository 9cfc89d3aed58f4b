// Package recorder writes the tracks the SFU grants it (sfu.Sink) to disk: one WebM file per
// recorded span of a track (Opus audio, VP8 video) in Dir/<session-id>/, with a manifest.json
// that places every span, coach mode change and marker on the session's timeline.
//
// It owns the files and the manifest, the tracks' catalog rows as they start and end, and the
// repair of recordings cut by a crash (Recorder.Recover). It must not block or allocate on the
// media path: TrackWriter.WriteRTP copies the packet into a bounded, preallocated per-track
// queue and returns; one goroutine per span depacketizes and writes, and one goroutine per
// session writes the manifest, calls the catalog and fsyncs. If the disk falls behind or fails,
// the session's recording stops loudly (log, Config.OnFailure, Stats) and the call goes on.
//
// It knows nothing of signaling, HTTP or SQL: the catalog is the small Catalog interface, and
// the files are written incrementally as live-style WebM (unknown sizes), then remuxed into a
// seekable file (Duration, Cues, SeekHead) at the end of each span; see docs/recording.md.
package recorder
