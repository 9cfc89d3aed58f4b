package recorder

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"io"

	"github.com/at-wat/ebml-go"
	"github.com/at-wat/ebml-go/webm"
)

// EBML element IDs this package writes or reads back by hand (the header elements go through
// ebml-go's marshaller).
const (
	idEBML        = 0x1A45DFA3
	idSegment     = 0x18538067
	idSeekHead    = 0x114D9B74
	idSeek        = 0x4DBB
	idSeekID      = 0x53AB
	idSeekPos     = 0x53AC
	idInfo        = 0x1549A966
	idTracks      = 0x1654AE6B
	idCluster     = 0x1F43B675
	idTimecode    = 0xE7
	idSimpleBlock = 0xA3
	idCues        = 0x1C53BB6B
	idTags        = 0x1254C367
	idChapters    = 0x1043A770
	idAttachments = 0x1941A469
	idVoid        = 0xEC
)

// sizeUnknown is the 8-byte EBML "unknown size" (all value bits set), used for the Segment and
// Clusters of a file being written live.
var sizeUnknown = []byte{0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}

// Cluster layout, shared by the live writer and the remux so both produce the same clusters: a
// new cluster at a keyframe once the current one is minClusterMs long (every Opus frame is a
// keyframe, so audio clusters are about a second), and always once it reaches maxClusterMs or
// maxClusterBytes. maxClusterMs also keeps block timecodes (int16, relative to the cluster)
// in range across any gap.
const (
	minClusterMs    = 1000
	maxClusterMs    = 5000
	maxClusterBytes = 4 << 20
)

func startsCluster(open bool, clusterMs int64, clusterBytes int, ms int64, key bool) bool {
	if !open {
		return true
	}
	d := ms - clusterMs
	return d >= maxClusterMs || d < 0 || clusterBytes >= maxClusterBytes || (key && d >= minClusterMs)
}

// ebmlHeader is the EBML header of every file written.
var ebmlHeader = webm.EBMLHeader{
	EBMLVersion:        1,
	EBMLReadVersion:    1,
	EBMLMaxIDLength:    4,
	EBMLMaxSizeLength:  8,
	DocType:            "webm",
	DocTypeVersion:     4,
	DocTypeReadVersion: 2,
}

const appName = "ringside recorder"

// trackSpec describes the one track of a file.
type trackSpec struct {
	video    bool
	name     string
	uidSeed  string
	channels int // Opus
	width    int // VP8
	height   int
}

// entry builds the file's TrackEntry.
func (t trackSpec) entry() webm.TrackEntry {
	h := fnv.New64a()
	h.Write([]byte(t.uidSeed))
	uid := h.Sum64() | 1
	e := webm.TrackEntry{Name: t.name, TrackNumber: 1, TrackUID: uid}
	if t.video {
		e.CodecID = "V_VP8"
		e.TrackType = 1
		e.Video = &webm.Video{PixelWidth: uint64(t.width), PixelHeight: uint64(t.height)}
		return e
	}
	e.CodecID = "A_OPUS"
	e.TrackType = 2
	e.CodecPrivate = opusHead(t.channels)
	e.SeekPreRoll = 80_000_000 // 80 ms, as the WebM Opus mapping recommends
	e.Audio = &webm.Audio{SamplingFrequency: 48000, Channels: uint64(t.channels)}
	return e
}

// opusHead is the Opus identification header (RFC 7845 §5.1) that WebM carries as
// CodecPrivate. Pre-skip is 0: a WebRTC stream is joined mid-flight, there is no encoder
// start-up delay to trim.
func opusHead(channels int) []byte {
	b := make([]byte, 19)
	copy(b, "OpusHead")
	b[8] = 1
	b[9] = byte(channels)
	binary.LittleEndian.PutUint32(b[12:], 48000)
	return b
}

// marshalHeaderElements encodes the EBML header, or the Segment's Info or Tracks, with
// ebml-go.
func marshalElement(v any) ([]byte, error) {
	var buf bytes.Buffer
	if err := ebml.Marshal(v, &buf); err != nil {
		return nil, fmt.Errorf("recorder: encode webm header: %w", err)
	}
	return buf.Bytes(), nil
}

func encodeEBMLHeader() ([]byte, error) {
	return marshalElement(&struct {
		Header webm.EBMLHeader `ebml:"EBML"`
	}{ebmlHeader})
}

func encodeInfo(durationMs float64) ([]byte, error) {
	return marshalElement(&struct {
		Info webm.Info `ebml:"Info"`
	}{webm.Info{TimecodeScale: 1_000_000, MuxingApp: appName, WritingApp: appName, Duration: durationMs}})
}

func encodeTracks(e webm.TrackEntry) ([]byte, error) {
	return marshalElement(&struct {
		Tracks webm.Tracks `ebml:"Tracks"`
	}{webm.Tracks{TrackEntry: []webm.TrackEntry{e}}})
}

// putID appends an element ID (IDs carry their own length marker).
func putID(b []byte, id uint32) []byte {
	switch {
	case id >= 1<<24:
		return append(b, byte(id>>24), byte(id>>16), byte(id>>8), byte(id))
	case id >= 1<<16:
		return append(b, byte(id>>16), byte(id>>8), byte(id))
	case id >= 1<<8:
		return append(b, byte(id>>8), byte(id))
	}
	return append(b, byte(id))
}

// sizeLen is how many bytes the shortest EBML size encoding of n takes.
func sizeLen(n uint64) int {
	l := 1
	for n >= (uint64(1)<<(7*l))-1 && l < 8 {
		l++
	}
	return l
}

// putSize appends n as an EBML size of exactly l bytes.
func putSize(b []byte, n uint64, l int) []byte {
	n |= uint64(1) << (7 * l)
	for i := l - 1; i >= 0; i-- {
		b = append(b, byte(n>>(8*i)))
	}
	return b
}

// putUintElement appends an unsigned integer element in as few bytes as the value needs.
func putUintElement(b []byte, id uint32, v uint64) []byte {
	n := 1
	for n < 8 && v>>(8*n) != 0 {
		n++
	}
	b = putID(b, id)
	b = putSize(b, uint64(n), 1)
	for i := n - 1; i >= 0; i-- {
		b = append(b, byte(v>>(8*i)))
	}
	return b
}

// simpleBlockHeader appends a SimpleBlock's element header and block header for a frame of
// size n on track 1; the frame bytes follow.
func simpleBlockHeader(b []byte, rel int16, key bool, n int) []byte {
	payload := uint64(4 + n)
	b = putID(b, idSimpleBlock)
	b = putSize(b, payload, sizeLen(payload))
	var flags byte
	if key {
		flags = 0x80
	}
	return append(b, 0x81, byte(uint16(rel)>>8), byte(rel), flags)
}

func simpleBlockLen(n int) int64 {
	payload := uint64(4 + n)
	return int64(1 + sizeLen(payload) + int(payload))
}

// liveWriter writes a live-style WebM: Segment and Clusters of unknown size, SimpleBlocks.
// Cut at any byte, the file stays readable up to its last whole block. It is owned by one
// span's writer goroutine.
type liveWriter struct {
	bw *bufio.Writer

	clusterOpen  bool
	clusterMs    int64
	clusterBytes int
	hdr          []byte // scratch for element headers
}

// newLiveWriter writes the file header for spec to w (buffered; nothing reaches w until the
// buffer fills or flush is called).
func newLiveWriter(w io.Writer, spec trackSpec) (*liveWriter, error) {
	head, err := encodeEBMLHeader()
	if err != nil {
		return nil, err
	}
	info, err := encodeInfo(0)
	if err != nil {
		return nil, err
	}
	tracks, err := encodeTracks(spec.entry())
	if err != nil {
		return nil, err
	}
	lw := &liveWriter{bw: bufio.NewWriterSize(w, 64<<10), hdr: make([]byte, 0, 32)}
	lw.bw.Write(head)
	lw.bw.Write(putID(nil, idSegment))
	lw.bw.Write(sizeUnknown)
	lw.bw.Write(info)
	if _, err := lw.bw.Write(tracks); err != nil {
		return nil, err
	}
	return lw, nil
}

// writeFrame appends one frame at ms (file time, strictly increasing).
func (lw *liveWriter) writeFrame(ms int64, key bool, data []byte) error {
	if startsCluster(lw.clusterOpen, lw.clusterMs, lw.clusterBytes, ms, key) {
		lw.hdr = putID(lw.hdr[:0], idCluster)
		lw.hdr = append(lw.hdr, sizeUnknown...)
		lw.hdr = putUintElement(lw.hdr, idTimecode, uint64(ms))
		if _, err := lw.bw.Write(lw.hdr); err != nil {
			return err
		}
		lw.clusterOpen, lw.clusterMs, lw.clusterBytes = true, ms, 0
	}
	lw.hdr = simpleBlockHeader(lw.hdr[:0], int16(ms-lw.clusterMs), key, len(data))
	lw.bw.Write(lw.hdr)
	if _, err := lw.bw.Write(data); err != nil {
		return err
	}
	lw.clusterBytes += len(lw.hdr) + len(data)
	return nil
}

func (lw *liveWriter) flush() error { return lw.bw.Flush() }
