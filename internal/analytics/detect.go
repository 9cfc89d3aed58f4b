package analytics

// Voice activity of one track, packet by packet. A detector is fed from one goroutine (the
// track's reader, under its span's lock); the work per packet is a few comparisons and
// additions, and it allocates only when a stretch of voice ends (to keep it).

// Timing of the detector's timeline.
const (
	// defaultFrameMs is a packet's duration until two packets have shown it (Opus in WebRTC
	// sends 20 ms packets).
	defaultFrameMs = 20
	// maxFrameMs bounds the duration taken from the timestamps of two packets: a longer step
	// is a gap (lost packets, a pause in sending), not one long packet.
	maxFrameMs = 120
	// resyncMs: when RTP time and arrival time disagree by more than this, the track follows
	// the arrival time from there on (the recorder's rule, docs/recording.md "Timing": a
	// publisher that paused without advancing its timestamps, or timestamps that jumped).
	resyncMs = 1000
	// keptIntervals is how many ended stretches of voice a detector has room for before it
	// must grow (about five minutes of lively talk).
	keptIntervals = 128
)

// noLevel is the level of a packet that carries none.
const noLevel = -1

// detector turns a track's packets into the stretches in which it carries voice, on the
// session's timeline: a packet's time is its RTP timestamp mapped through the arrival time of
// the track's first packet (resynchronised as above), so that it does not jitter with the
// network, and a voiced packet covers its own duration. Voice stretches closer than maxGapMs
// are joined here already; Summarize smooths again across spans.
type detector struct {
	voiceLevel int
	maxGapMs   int64
	clockRate  int64 // RTP ticks per second

	started  bool
	lastTS   uint32 // the previous packet's RTP timestamp
	ts       int64  // its unwrapped value
	baseTS   int64  // unwrapped timestamp of the anchor
	anchorMs int64  // session time of baseTS
	lastMs   int64  // session time of the previous packet
	frameMs  int64  // duration of a packet, from the last step between two

	open bool     // cur is a stretch of voice still growing
	cur  Interval // ends where its last voiced packet ended
	done []Interval

	packets, levelled, voiced uint64
}

func newDetector(voiceLevel uint8, maxGapMs int64, clockRate uint32) detector {
	if clockRate == 0 {
		clockRate = 48000
	}
	return detector{
		voiceLevel: int(voiceLevel), maxGapMs: maxGapMs, clockRate: int64(clockRate),
		frameMs: defaultFrameMs, done: make([]Interval, 0, keptIntervals),
	}
}

// feed takes one packet: its RTP timestamp, its arrival in milliseconds of session time and
// its audio level (0-127, or noLevel).
func (d *detector) feed(ts uint32, arrivalMs int64, level int) {
	d.packets++
	if !d.started {
		d.started = true
		d.lastTS, d.ts, d.baseTS = ts, int64(ts), int64(ts)
		d.anchorMs, d.lastMs = arrivalMs, arrivalMs
	} else {
		d.ts += int64(int32(ts - d.lastTS)) // unwraps the 32-bit timestamp; reordering steps back
		d.lastTS = ts
	}
	t := d.anchorMs + (d.ts-d.baseTS)*1000/d.clockRate
	if skew := t - arrivalMs; skew > resyncMs || skew < -resyncMs {
		d.anchorMs, d.baseTS, t = arrivalMs, d.ts, arrivalMs
	}
	if step := t - d.lastMs; step > 0 && step <= maxFrameMs {
		d.frameMs = step
	}
	d.lastMs = max(d.lastMs, t)
	if level < 0 {
		return
	}
	d.levelled++
	if level > d.voiceLevel {
		return
	}
	d.voiced++
	end := t + d.frameMs
	if d.open && t-d.cur.EndMs <= d.maxGapMs {
		d.cur.EndMs = max(d.cur.EndMs, end)
		return
	}
	d.flush()
	d.cur, d.open = Interval{StartMs: t, EndMs: end}, true
}

// flush keeps the stretch of voice in progress, if any.
func (d *detector) flush() {
	if d.open {
		d.done = append(d.done, d.cur)
		d.open = false
	}
}
