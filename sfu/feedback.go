package sfu

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/interceptor/pkg/report"
	"github.com/pion/interceptor/pkg/twcc"
	"github.com/pion/rtcp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// twccInterval is how often transport-wide congestion feedback goes to a publisher: Pion's
// and libwebrtc's default.
const twccInterval = 100 * time.Millisecond

// feedback is what an up connection tells its publisher about the packets it receives:
// NACKs for lost video packets and receiver reports (Pion's interceptors, run by the
// up-track's reader instead of inside Pion, so that packets the direct receiver takes off the
// socket are seen too), and transport-wide congestion feedback for the publisher's bandwidth
// estimation. Pion's TWCC interceptor hands every packet to its own goroutine through a
// channel; the recorder is fed here, under a lock, and read every twccInterval.
type feedback struct {
	ic    interceptor.Interceptor
	write func([]rtcp.Packet) error
	log   *slog.Logger
	start time.Time

	mu      sync.Mutex // guards twcc and ticking
	twcc    *twcc.Recorder
	ticking bool

	done chan struct{}
	once sync.Once
}

func newFeedback(id string, write func([]rtcp.Packet) error, log *slog.Logger) (*feedback, error) {
	gen, err := nack.NewGeneratorInterceptor()
	if err != nil {
		return nil, fmt.Errorf("sfu: nack generator: %w", err)
	}
	rr, err := report.NewReceiverInterceptor()
	if err != nil {
		return nil, fmt.Errorf("sfu: receiver reports: %w", err)
	}
	reg := &interceptor.Registry{}
	reg.Add(gen)
	reg.Add(rr)
	ic, err := reg.Build(id)
	if err != nil {
		return nil, fmt.Errorf("sfu: feedback interceptors: %w", err)
	}
	f := &feedback{ic: ic, write: write, log: log, start: time.Now(), done: make(chan struct{})}
	ic.BindRTCPWriter(interceptor.RTCPWriterFunc(
		func(pkts []rtcp.Packet, _ interceptor.Attributes) (int, error) {
			return 0, f.send(pkts)
		}))
	return f, nil
}

func (f *feedback) send(pkts []rtcp.Packet) error {
	err := f.write(pkts)
	if err != nil && !errors.Is(err, io.ErrClosedPipe) {
		f.log.Debug("feedback to publisher failed", "err", err)
	}
	return err
}

// streamFeedback is one track's share of feedback: its reader feeds every packet and every
// RTCP packet of the publisher's through it. Only that reader (under UpTrack.rmu) uses it.
type streamFeedback struct {
	f       *feedback
	info    *interceptor.StreamInfo
	rtp     interceptor.RTPReader
	rtcp    interceptor.RTCPReader
	attrs   interceptor.Attributes
	cur     []byte
	twccExt uint8
}

// bind starts feedback for a track with the codec and header extensions its receiver
// negotiated.
func (f *feedback) bind(ssrc uint32, codec webrtc.RTPCodecParameters, exts []webrtc.RTPHeaderExtensionParameter) *streamFeedback {
	s := &streamFeedback{f: f, attrs: interceptor.Attributes{}}
	s.info = &interceptor.StreamInfo{
		SSRC: ssrc, PayloadType: uint8(codec.PayloadType), MimeType: codec.MimeType,
		ClockRate: codec.ClockRate, Channels: codec.Channels, SDPFmtpLine: codec.SDPFmtpLine,
		Attributes: interceptor.Attributes{},
	}
	for _, e := range exts {
		s.info.RTPHeaderExtensions = append(s.info.RTPHeaderExtensions,
			interceptor.RTPHeaderExtension{URI: e.URI, ID: e.ID})
		if e.URI == sdp.TransportCCURI && e.ID > 0 && e.ID < 15 {
			s.twccExt = uint8(e.ID)
		}
	}
	for _, fb := range codec.RTCPFeedback {
		s.info.RTCPFeedback = append(s.info.RTCPFeedback,
			interceptor.RTCPFeedback{Type: fb.Type, Parameter: fb.Parameter})
	}
	given := func(_ []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
		return len(s.cur), a, nil
	}
	s.rtp = f.ic.BindRemoteStream(s.info, interceptor.RTPReaderFunc(given))
	s.rtcp = f.ic.BindRTCPReader(interceptor.RTCPReaderFunc(given))
	if s.twccExt != 0 {
		f.startTWCC(ssrc)
	}
	return s
}

// packet runs one received packet, already in pkt (unmarshalled from raw), through the
// feedback.
func (s *streamFeedback) packet(raw []byte, twccSeq uint16, hasTWCC bool) {
	s.cur = raw
	clear(s.attrs)
	_, _, _ = s.rtp.Read(raw, s.attrs)
	if hasTWCC {
		arrival := time.Since(s.f.start).Microseconds()
		s.f.mu.Lock()
		s.f.twcc.Record(s.info.SSRC, twccSeq, arrival)
		s.f.mu.Unlock()
	}
}

// control runs one RTCP packet of the publisher's through the feedback (receiver reports
// need its sender reports).
func (s *streamFeedback) control(raw []byte) {
	s.cur = raw
	clear(s.attrs)
	_, _, _ = s.rtcp.Read(raw, s.attrs)
}

func (s *streamFeedback) unbind() { s.f.ic.UnbindRemoteStream(s.info) }

func (f *feedback) startTWCC(ssrc uint32) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ticking {
		return
	}
	f.ticking = true
	f.twcc = twcc.NewRecorder(ssrc ^ 0x5eed)
	go f.runTWCC()
}

func (f *feedback) runTWCC() {
	tick := time.NewTicker(twccInterval)
	defer tick.Stop()
	for {
		select {
		case <-f.done:
			return
		case <-tick.C:
		}
		f.mu.Lock()
		pkts := f.twcc.BuildFeedbackPacket()
		f.mu.Unlock()
		if len(pkts) > 0 {
			_ = f.send(pkts)
		}
	}
}

func (f *feedback) close() {
	f.once.Do(func() {
		close(f.done)
		_ = f.ic.Close()
	})
}
