// Package load is `ringside load`: it runs rooms of synthetic participants (a rep, a partner
// and coaches) against a Ringside server on this machine, through the real HTTP API and the
// real protocol (internal/client, real Pion peers), and measures what arrives: packets, loss
// (sequence gaps), jitter, one-way latency from send stamps carried in every payload, the time
// from joining to first media, and, given the server's pid or metrics endpoint, the server's
// CPU per forwarded packet and memory per participant.
//
// It loads this machine only: the server URL must resolve to loopback or one of this
// machine's addresses, and the clients' ICE agents refuse to send anywhere else. Every run is
// bounded in participants and in time and stops by itself. It knows the server through its
// API and protocol only.
package load

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"

	"ringside/internal/client"
	"ringside/internal/httpapi"
)

// Limits that keep a run bounded whatever it is asked.
const (
	MaxRooms    = 500
	MaxCoaches  = 6
	MaxDuration = time.Hour
)

// Config is one load run. Zero fields take the defaults of Defaults.
type Config struct {
	// URL is the server's HTTP base, e.g. http://127.0.0.1:8080; it must be this machine.
	URL string
	// AdminToken creates the sessions (RINGSIDE_ADMIN_TOKEN).
	AdminToken string
	// Rooms is how many sessions run at once, each with a rep and a partner.
	Rooms int
	// Coaches is how many coaches join each room (the server may issue fewer invites).
	Coaches int
	// CoachMedia makes coaches publish audio and video too (dropped by the server while
	// silent); without it they only watch.
	CoachMedia bool
	// ModeInterval is how often each coach moves on in silent → whisper → open → silent; 0
	// keeps coaches silent.
	ModeInterval time.Duration
	// Duration is the measured window, which starts Warmup after the last join.
	Duration time.Duration
	Warmup   time.Duration
	// JoinRate paces joins (participants per second); Storm joins everyone at once instead.
	JoinRate float64
	Storm    bool
	// JoinTimeout bounds each join (websocket, join, welcome).
	JoinTimeout time.Duration
	// Record asks the server to record the sessions.
	Record bool
	// Loopback carries the clients' media over 127.0.0.1 only (the server must offer loopback
	// candidates). Sending to an interface address costs the kernel about 20 % more than to
	// 127.0.0.1 here, so make bench, whose floor sends on 127.0.0.1, compares like with like.
	Loopback bool

	// The synthetic media: Opus packets of AudioPayload bytes every 20 ms; VP8 at
	// VideoBitrate bits/s and FPS frames/s with a keyframe every KeyframeInterval.
	AudioPayload     int
	VideoBitrate     int
	FPS              int
	KeyframeInterval time.Duration

	// ServerPID, when set, is read in /proc for the server's CPU time and RSS.
	ServerPID int
	// MetricsURL, when set, is scraped (with AdminToken) for CPU, RSS and forwarded packets.
	MetricsURL string

	// Progress receives a status line every ProgressEvery (nil: none).
	Progress      io.Writer
	ProgressEvery time.Duration
	// Logger receives the clients' logs (nil: discarded).
	Logger *slog.Logger
	// HTTPClient calls the API and the metrics endpoint (nil: one with a 30 s timeout).
	HTTPClient *http.Client
}

// Defaults are the values zero fields of Config take.
var Defaults = Config{
	Rooms:            1,
	ModeInterval:     5 * time.Second,
	Duration:         30 * time.Second,
	Warmup:           3 * time.Second,
	JoinRate:         20,
	JoinTimeout:      15 * time.Second,
	AudioPayload:     100,
	VideoBitrate:     500_000,
	FPS:              30,
	KeyframeInterval: 2 * time.Second,
	ProgressEvery:    2 * time.Second,
}

func (c *Config) withDefaults() error {
	d := Defaults
	setDefault(&c.Rooms, d.Rooms)
	setDefault(&c.Duration, d.Duration)
	setDefault(&c.JoinRate, d.JoinRate)
	setDefault(&c.JoinTimeout, d.JoinTimeout)
	setDefault(&c.AudioPayload, d.AudioPayload)
	setDefault(&c.VideoBitrate, d.VideoBitrate)
	setDefault(&c.FPS, d.FPS)
	setDefault(&c.KeyframeInterval, d.KeyframeInterval)
	setDefault(&c.ProgressEvery, d.ProgressEvery)
	switch {
	case c.URL == "":
		return fmt.Errorf("%w: a server URL is required", ErrConfig)
	case c.AdminToken == "":
		return fmt.Errorf("%w: an admin token is required (RINGSIDE_ADMIN_TOKEN)", ErrConfig)
	case c.Rooms < 1 || c.Rooms > MaxRooms:
		return fmt.Errorf("%w: rooms must be 1 to %d", ErrConfig, MaxRooms)
	case c.Coaches < 0 || c.Coaches > MaxCoaches:
		return fmt.Errorf("%w: coaches must be 0 to %d", ErrConfig, MaxCoaches)
	case c.Duration < 0 || c.Duration > MaxDuration || c.Warmup < 0 || c.Warmup > time.Minute:
		return fmt.Errorf("%w: duration must be at most %s and warmup at most 1m", ErrConfig, MaxDuration)
	case c.ModeInterval < 0:
		return fmt.Errorf("%w: mode interval must not be negative", ErrConfig)
	case c.JoinRate < 0 || c.JoinTimeout < 0:
		return fmt.Errorf("%w: join rate and join timeout must not be negative", ErrConfig)
	case c.AudioPayload < 1+stampSize || c.AudioPayload > 1000:
		return fmt.Errorf("%w: audio payload must be %d to 1000 bytes", ErrConfig, 1+stampSize)
	case c.VideoBitrate < 10_000 || c.VideoBitrate > 20_000_000 || c.FPS < 1 || c.FPS > 120:
		return fmt.Errorf("%w: video bitrate must be 10k to 20M and fps 1 to 120", ErrConfig)
	case c.KeyframeInterval < 100*time.Millisecond:
		return fmt.Errorf("%w: keyframe interval must be at least 100ms", ErrConfig)
	}
	return nil
}

func setDefault[T comparable](v *T, d T) {
	var zero T
	if *v == zero {
		*v = d
	}
}

// member is one synthetic participant.
type member struct {
	room    int
	role    string // rep, partner or coach
	coach   int    // which coach of the room
	token   string
	publish client.Kinds

	// Set by the join goroutine before joined.Done, read after.
	start time.Time
	c     *client.Client
	err   error
}

// run is the state of one Run.
type run struct {
	cfg   Config
	clk   clock
	meter *meter
	api   *webrtc.API
	shape mediaShape
	wsURL string
	probe serverProbe
	log   *slog.Logger

	members    []*member
	joinedN    atomic.Int64
	failedN    atomic.Int64
	modeChange atomic.Int64
	modeErrors atomic.Int64
	coaches    int // coaches per room the server let us have

	pubWG sync.WaitGroup
}

// Run performs one load run and returns its figures. It returns an error only when the run
// could not take place (bad configuration, server unreachable, nobody could join); failed
// joins of some participants are counted in the Result.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.withDefaults(); err != nil {
		return nil, err
	}
	local, err := newLocalAddrs()
	if err != nil {
		return nil, err
	}
	if err := local.checkURL(ctx, cfg.URL); err != nil {
		return nil, err
	}
	if cfg.MetricsURL != "" {
		if err := local.checkURL(ctx, cfg.MetricsURL); err != nil {
			return nil, err
		}
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &run{
		cfg: cfg,
		clk: clock{t0: time.Now()},
		shape: mediaShape{
			audioPayload:  cfg.AudioPayload,
			videoBitrate:  cfg.VideoBitrate,
			fps:           cfg.FPS,
			keyframeEvery: cfg.KeyframeInterval,
		},
		wsURL: "ws" + strings.TrimPrefix(strings.TrimRight(cfg.URL, "/"), "http") + "/ws",
		probe: serverProbe{pid: cfg.ServerPID, metricsURL: cfg.MetricsURL, token: cfg.AdminToken, http: hc},
		log:   log,
	}
	r.meter = newMeter(r.clk)
	if r.api, err = newAPI(local, r.meter, r.cfg.Loopback); err != nil {
		return nil, err
	}

	// Bound the whole run: joins, warmup, window and a margin to leave.
	participants := cfg.Rooms * (2 + cfg.Coaches)
	joinSpan := time.Duration(0)
	if !cfg.Storm {
		joinSpan = time.Duration(float64(participants) / cfg.JoinRate * float64(time.Second))
	}
	ctx, cancel := context.WithTimeout(ctx, joinSpan+cfg.JoinTimeout+cfg.Warmup+cfg.Duration+time.Minute)
	defer cancel()

	res := &Result{Rooms: cfg.Rooms, CoachesAsked: cfg.Coaches, Expected: participants}
	var baseline serverSample
	if r.probe.enabled() {
		if baseline, err = r.probe.sample(ctx); err != nil {
			return nil, err
		}
	}
	if err := r.createSessions(ctx, httpapi.NewClient(cfg.URL, cfg.AdminToken, hc)); err != nil {
		return nil, err
	}
	res.CoachesPerRoom = r.coaches
	res.Expected = len(r.members)

	pubCtx, stopMedia := context.WithCancel(ctx)
	stopProgress := r.progress(pubCtx, res.Expected)
	// finish stops the media and the coaches, then everyone leaves; it runs on every return
	// from here, so that no goroutine of the run outlives it.
	finish := func() {
		stopProgress()
		stopMedia()
		r.pubWG.Wait()
		r.leaveAll()
	}
	defer finish()

	joinStart := time.Now()
	r.joinAll(ctx, pubCtx)
	res.JoinSeconds = time.Since(joinStart).Seconds()
	res.Joined, res.Failed = int(r.joinedN.Load()), int(r.failedN.Load())
	res.JoinErrors = r.joinErrors()
	if res.Joined == 0 {
		return res, fmt.Errorf("%w: %s", ErrNoJoins, strings.Join(res.JoinErrors, "; "))
	}

	if err := sleep(ctx, cfg.Warmup); err != nil {
		return res, err
	}
	// The measured window.
	before := r.counts()
	var s0, s1 serverSample
	if r.probe.enabled() {
		s0, _ = r.probe.sample(ctx)
	}
	self0, _ := procCPU(os.Getpid())
	r.meter.startWindow()
	windowStart := time.Now()
	sleepErr := sleep(ctx, cfg.Duration)
	r.meter.stopWindow()
	window := time.Since(windowStart)
	after := r.counts()
	self1, _ := procCPU(os.Getpid())
	if r.probe.enabled() {
		s1, _ = r.probe.sample(context.WithoutCancel(ctx))
	}
	res.fill(r, before, after, window)
	res.fillServer(baseline, s0, s1, before, after)
	res.fillGenerator(self0, self1, window)
	res.JoinToMedia = r.joinToMedia()
	return res, sleepErr
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return fmt.Errorf("load: run cut short: %w", ctx.Err())
	case <-t.C:
		return nil
	}
}

// newAPI builds the webrtc.API every client of the run shares: Opus and VP8 as
// internal/client negotiates them, the interceptors a browser has (NACK, RTCP reports, TWCC
// sequence numbers) without Pion's stats interceptor, the meter, and a network that only
// reaches this machine.
func newAPI(local localAddrs, m *meter, loopback bool) (*webrtc.API, error) {
	me := &webrtc.MediaEngine{}
	if err := me.RegisterCodec(webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1",
		},
		PayloadType: 111,
	}, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, fmt.Errorf("load: opus: %w", err)
	}
	if err := me.RegisterCodec(webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeVP8, ClockRate: 90000,
			RTCPFeedback: []webrtc.RTCPFeedback{
				{Type: "goog-remb"}, {Type: "ccm", Parameter: "fir"}, {Type: "nack"}, {Type: "nack", Parameter: "pli"},
			},
		},
		PayloadType: 96,
	}, webrtc.RTPCodecTypeVideo); err != nil {
		return nil, fmt.Errorf("load: vp8: %w", err)
	}
	ir := &interceptor.Registry{}
	if err := webrtc.ConfigureNack(me, ir); err != nil {
		return nil, fmt.Errorf("load: nack: %w", err)
	}
	if err := webrtc.ConfigureRTCPReports(ir); err != nil {
		return nil, fmt.Errorf("load: rtcp reports: %w", err)
	}
	// Like a browser, number outgoing packets for transport-wide congestion control, so that
	// the server does its TWCC feedback work. The server numbers nothing it sends, so the
	// clients generate no feedback of their own.
	me.RegisterFeedback(webrtc.RTCPFeedback{Type: webrtc.TypeRTCPFBTransportCC}, webrtc.RTPCodecTypeVideo)
	if err := webrtc.ConfigureTWCCHeaderExtensionSender(me, ir); err != nil {
		return nil, fmt.Errorf("load: twcc: %w", err)
	}
	ir.Add(m)
	gn, err := newGuardedNet(local)
	if err != nil {
		return nil, err
	}
	var se webrtc.SettingEngine
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNet(gn)
	se.SetIPFilter(local.allowsNet)
	if loopback {
		se.SetIncludeLoopbackCandidate(true)
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
		se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir),
		webrtc.WithSettingEngine(se)), nil
}

// createSessions creates one session per room and lists the members who will join it.
func (r *run) createSessions(ctx context.Context, api *httpapi.Client) error {
	record := r.cfg.Record
	r.coaches = r.cfg.Coaches
	for room := range r.cfg.Rooms {
		req := httpapi.CreateSessionRequest{
			Title: fmt.Sprintf("load room %d", room+1), RepName: "Load Rep", PartnerName: "Load Partner",
			CoachName: "Load Coach", Record: &record,
		}
		if r.cfg.Coaches > 1 {
			req.Coaches = r.cfg.Coaches
		}
		resp, err := api.CreateSession(ctx, req)
		if err != nil {
			return fmt.Errorf("load: create session: %w", err)
		}
		coachInvites := coachLinks(resp.Invites)
		if len(coachInvites) < r.coaches {
			if room == 0 {
				r.log.Warn("the server issues fewer coach invites than asked; running with what it gives",
					"asked", r.coaches, "got", len(coachInvites))
			}
			r.coaches = len(coachInvites)
		}
		media := client.Audio | client.Video
		r.members = append(r.members,
			&member{room: room, role: "rep", token: inviteToken(resp.Invites.Rep), publish: media},
			&member{room: room, role: "partner", token: inviteToken(resp.Invites.Partner), publish: media})
		var coachMedia client.Kinds
		if r.cfg.CoachMedia {
			coachMedia = media
		}
		for i := range r.cfg.Coaches {
			if i < len(coachInvites) {
				r.members = append(r.members,
					&member{room: room, role: "coach", coach: i, token: inviteToken(coachInvites[i]), publish: coachMedia})
			}
		}
	}
	// A room created before the server's limit showed is trimmed to the same coaches.
	r.members = trimCoaches(r.members, r.coaches)
	return nil
}

// coachLinks lists a session's coach invite links.
func coachLinks(inv httpapi.Invites) []string {
	if len(inv.Coaches) > 0 {
		return inv.Coaches
	}
	if inv.Coach == "" {
		return nil
	}
	return []string{inv.Coach}
}

func trimCoaches(ms []*member, coaches int) []*member {
	out := ms[:0]
	for _, m := range ms {
		if m.role != "coach" || m.coach < coaches {
			out = append(out, m)
		}
	}
	return out
}

// inviteToken is the token of an invite link (its last path element).
func inviteToken(link string) string {
	if _, tok, ok := strings.Cut(link, "/join/"); ok {
		return tok
	}
	return link
}

// joinAll joins every member, paced at JoinRate (or all at once), and returns when every join
// has succeeded or failed. Media starts as each member joins.
func (r *run) joinAll(ctx, pubCtx context.Context) {
	var wg sync.WaitGroup
	var tick *time.Ticker
	if !r.cfg.Storm {
		tick = time.NewTicker(time.Duration(float64(time.Second) / r.cfg.JoinRate))
		defer tick.Stop()
	}
	for i, m := range r.members {
		if tick != nil && i > 0 {
			select {
			case <-ctx.Done():
			case <-tick.C:
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.join(ctx, pubCtx, m)
		}()
	}
	wg.Wait()
}

func (r *run) join(ctx, pubCtx context.Context, m *member) {
	m.start = time.Now()
	if err := ctx.Err(); err != nil {
		m.err = err
		r.failedN.Add(1)
		return
	}
	dctx, cancel := context.WithTimeout(ctx, r.cfg.JoinTimeout)
	defer cancel()
	c, err := client.Dial(dctx, client.Config{
		URL:     r.wsURL,
		Token:   m.token,
		Publish: m.publish,
		API:     r.api,
		Logger:  r.log.With("room", m.room, "role", m.role),
	})
	if err != nil {
		m.err = err
		r.failedN.Add(1)
		return
	}
	m.c = c
	r.joinedN.Add(1)
	if t := c.AudioTrack(); t != nil {
		r.pubWG.Go(func() { publishAudio(pubCtx, t, r.shape, r.clk) })
	}
	if t := c.VideoTrack(); t != nil {
		r.pubWG.Go(func() { publishVideo(pubCtx, t, r.shape, r.clk) })
	}
	if m.role == "coach" && r.cfg.ModeInterval > 0 {
		r.pubWG.Go(func() { r.cycleModes(pubCtx, m) })
	}
}

// cycleModes moves a coach through silent → whisper → open → silent every ModeInterval,
// phased by room and coach so that the rooms do not change modes in step.
func (r *run) cycleModes(ctx context.Context, m *member) {
	modes := [...]string{"silent", "whisper", "open"}
	phase := time.Duration(float64(r.cfg.ModeInterval) * float64((m.room*7+m.coach*3)%10) / 10)
	if sleep(ctx, phase) != nil {
		return
	}
	tick := time.NewTicker(r.cfg.ModeInterval)
	defer tick.Stop()
	for i := 1; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if err := m.c.SetMode(modes[i%len(modes)], ""); err != nil {
			r.modeErrors.Add(1)
			continue
		}
		r.modeChange.Add(1)
	}
}

// joinErrors lists the first five distinct reasons joins failed.
func (r *run) joinErrors() []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range r.members {
		if m.err == nil {
			continue
		}
		s := m.err.Error()
		if !seen[s] && len(out) < 5 {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// leaveAll sends leave for every joined member and closes the clients, all at once.
func (r *run) leaveAll() {
	var wg sync.WaitGroup
	for _, m := range r.members {
		if m.c == nil {
			continue
		}
		wg.Go(func() {
			_ = m.c.Leave()
			leaveCtx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			select {
			case <-m.c.Disconnected():
			case <-leaveCtx.Done():
			}
			_ = m.c.Close()
		})
	}
	wg.Wait()
}

// counts is what every client has received so far.
type counts struct {
	received, missing, late, duplicates uint64
	sent                                uint64
}

func (r *run) counts() counts {
	c := counts{sent: r.meter.sent.Load()}
	for _, m := range r.members {
		if m.c == nil {
			continue
		}
		for _, ts := range m.c.Tracks() {
			c.received += ts.Packets
			c.missing += ts.Missing
			c.late += ts.Late
			c.duplicates += ts.Duplicates
		}
	}
	return c
}

// joinToMedia times each joined member from the moment it could first receive media (the
// later of its own join and the first join of the room's other rep or partner) to its first
// packet received.
func (r *run) joinToMedia() Quantiles {
	earliest := map[int]map[string]time.Time{}
	for _, m := range r.members {
		if m.role == "coach" || m.c == nil {
			continue
		}
		if earliest[m.room] == nil {
			earliest[m.room] = map[string]time.Time{}
		}
		earliest[m.room][m.role] = m.start
	}
	var h histogram
	for _, m := range r.members {
		if m.c == nil {
			continue
		}
		var ref time.Time
		for role, t := range earliest[m.room] {
			if role != m.role && (ref.IsZero() || t.Before(ref)) {
				ref = t
			}
		}
		if ref.IsZero() {
			continue // nobody in the room publishes to it
		}
		ref = later(ref, m.start)
		var first time.Time
		for _, ts := range m.c.Tracks() {
			if ts.Packets > 0 && (first.IsZero() || ts.First.Before(first)) {
				first = ts.First
			}
		}
		if !first.IsZero() {
			h.add(first.Sub(ref))
		}
	}
	n, q := h.quantiles(0.5, 0.99)
	return Quantiles{Samples: n, P50: ms(q[0]), P99: ms(q[1])}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// progress prints a status line every ProgressEvery until stopped.
func (r *run) progress(ctx context.Context, expected int) (stop func()) {
	if r.cfg.Progress == nil {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(done)
		tick := time.NewTicker(r.cfg.ProgressEvery)
		defer tick.Stop()
		prev, prevAt := r.counts(), time.Now()
		var prevCPU serverSample
		if r.probe.pid > 0 {
			prevCPU, _ = r.probe.sample(ctx)
		}
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			now, at := r.counts(), time.Now()
			secs := at.Sub(prevAt).Seconds()
			line := fmt.Sprintf("load: %5.0fs joined %d/%d failed %d | sent %.0f pkt/s recv %.0f pkt/s | loss %.2f%%",
				time.Since(start).Seconds(), r.joinedN.Load(), expected, r.failedN.Load(),
				float64(now.sent-prev.sent)/secs, float64(now.received-prev.received)/secs,
				lossPercent(now.received-prev.received, now.missing-prev.missing))
			if n, q := r.meter.latency.quantiles(0.99); n > 0 {
				line += fmt.Sprintf(" | p99 %.1fms", ms(q[0]))
			}
			if r.probe.pid > 0 {
				if s, err := r.probe.sample(ctx); err == nil && prevCPU.haveCPU {
					line += fmt.Sprintf(" | server cpu %.0f%% rss %.0fMiB",
						100*(s.cpu-prevCPU.cpu).Seconds()/s.at.Sub(prevCPU.at).Seconds(), mib(s.rss))
					prevCPU = s
				}
			}
			fmt.Fprintln(r.cfg.Progress, line)
			prev, prevAt = now, at
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			cancel()
			<-done
		})
	}
}
