package recorder

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/at-wat/ebml-go"
	"github.com/at-wat/ebml-go/webm"
)

// blockRef locates one frame of a scanned file.
type blockRef struct {
	off int64 // of the frame bytes in the file
	n   int32
	key bool
	ms  int64 // absolute file time
}

// scanned is what a file holds: its track and every whole frame, in file order.
type scanned struct {
	entry     webm.TrackEntry
	tracksRaw []byte // the Tracks element, as found
	blocks    []blockRef
	truncated bool // the file ended inside an element
}

// errTruncated ends a scan at the first element that runs past the end of the file.
var errTruncated = errors.New("truncated")

// ebmlScanner reads element headers off a stream, tracking its position.
type ebmlScanner struct {
	r    *bufio.Reader
	pos  int64
	size int64
}

func (s *ebmlScanner) byte() (byte, error) {
	c, err := s.r.ReadByte()
	if err != nil {
		return 0, errTruncated
	}
	s.pos++
	return c, nil
}

// id reads an element ID, marker bits included.
func (s *ebmlScanner) id() (uint32, error) {
	c, err := s.byte()
	if err != nil {
		return 0, err
	}
	l := 1
	for mask := byte(0x80); l <= 4 && c&mask == 0; mask >>= 1 {
		l++
	}
	if l > 4 {
		return 0, fmt.Errorf("%w: bad element id at %d", ErrNotWebM, s.pos-1)
	}
	v := uint32(c)
	for range l - 1 {
		if c, err = s.byte(); err != nil {
			return 0, err
		}
		v = v<<8 | uint32(c)
	}
	return v, nil
}

// peekID returns the next element ID without consuming it (0 if it cannot be read).
func (s *ebmlScanner) peekID() uint32 {
	b, _ := s.r.Peek(4)
	if len(b) == 0 {
		return 0
	}
	l := 1
	for mask := byte(0x80); l <= 4 && b[0]&mask == 0; mask >>= 1 {
		l++
	}
	if l > 4 || l > len(b) {
		return 0
	}
	var v uint32
	for i := range l {
		v = v<<8 | uint32(b[i])
	}
	return v
}

// vsize reads an EBML size; unknown reports the reserved all-ones value.
func (s *ebmlScanner) vsize() (n int64, unknown bool, err error) {
	c, err := s.byte()
	if err != nil {
		return 0, false, err
	}
	l := 1
	for mask := byte(0x80); l <= 8 && c&mask == 0; mask >>= 1 {
		l++
	}
	if l > 8 {
		return 0, false, fmt.Errorf("%w: bad element size at %d", ErrNotWebM, s.pos-1)
	}
	v := uint64(c) & (0xFF >> l)
	all := v == 0xFF>>l
	for range l - 1 {
		if c, err = s.byte(); err != nil {
			return 0, false, err
		}
		v = v<<8 | uint64(c)
		all = all && c == 0xFF
	}
	if all {
		return 0, true, nil
	}
	if v > uint64(s.size) {
		return 0, false, errTruncated
	}
	return int64(v), false, nil
}

func (s *ebmlScanner) skip(n int64) error {
	if s.pos+n > s.size {
		return errTruncated
	}
	for n > 0 {
		k := int(min(n, 1<<30))
		d, err := s.r.Discard(k)
		s.pos += int64(d)
		if err != nil {
			return errTruncated
		}
		n -= int64(d)
	}
	return nil
}

func (s *ebmlScanner) read(n int64) ([]byte, error) {
	if s.pos+n > s.size {
		return nil, errTruncated
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(s.r, b); err != nil {
		return nil, errTruncated
	}
	s.pos += n
	return b, nil
}

// endsUnknownCluster reports whether id is an element that may follow a Cluster in a
// Segment, so that it ends a Cluster of unknown size.
func endsUnknownCluster(id uint32) bool {
	switch id {
	case idCluster, idCues, idTags, idSeekHead, idInfo, idTracks, idChapters, idAttachments, idEBML:
		return true
	}
	return false
}

// scanWebM reads a file this package wrote, live or finalized, whole or cut anywhere, and
// returns its track and every complete frame. It stops quietly at the first element that is
// cut short (truncated is set) and fails only if the file has no readable header.
func scanWebM(r io.Reader, size int64) (*scanned, error) {
	s := &ebmlScanner{r: bufio.NewReaderSize(r, 64<<10), size: size}
	out := &scanned{}
	err := s.scanFile(out)
	if errors.Is(err, errTruncated) {
		out.truncated = true
		err = nil
	}
	if err != nil && len(out.blocks) == 0 {
		return nil, err
	}
	if out.tracksRaw == nil {
		return nil, fmt.Errorf("%w: no track header", ErrNotWebM)
	}
	return out, nil
}

func (s *ebmlScanner) scanFile(out *scanned) error {
	id, err := s.id()
	if err != nil {
		return err
	}
	if id != idEBML {
		return fmt.Errorf("%w: no EBML header", ErrNotWebM)
	}
	n, unknown, err := s.vsize()
	if err != nil {
		return err
	}
	if unknown {
		return fmt.Errorf("%w: EBML header of unknown size", ErrNotWebM)
	}
	if err := s.skip(n); err != nil {
		return err
	}
	if id, err = s.id(); err != nil {
		return err
	}
	if id != idSegment {
		return fmt.Errorf("%w: no Segment", ErrNotWebM)
	}
	n, unknown, err = s.vsize()
	if err != nil {
		return err
	}
	end := s.size
	if !unknown {
		end = min(end, s.pos+n)
	}
	for s.pos < end {
		id, err := s.id()
		if err != nil {
			return err
		}
		n, unknown, err := s.vsize()
		if err != nil {
			return err
		}
		switch {
		case id == idCluster:
			cend := end
			if !unknown {
				cend = min(cend, s.pos+n)
			}
			if err := s.scanCluster(out, cend, unknown); err != nil {
				return err
			}
		case unknown:
			return fmt.Errorf("%w: element %x of unknown size", ErrNotWebM, id)
		case id == idTracks:
			body, err := s.read(n)
			if err != nil {
				return err
			}
			if err := out.parseTracks(body); err != nil {
				return err
			}
		default: // SeekHead, Info, Cues, Void, Tags...
			if err := s.skip(n); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *ebmlScanner) scanCluster(out *scanned, end int64, unknown bool) error {
	if out.tracksRaw == nil {
		return fmt.Errorf("%w: cluster before tracks", ErrNotWebM)
	}
	var tc int64
	for s.pos < end {
		if unknown && endsUnknownCluster(s.peekID()) {
			return nil
		}
		id, err := s.id()
		if err != nil {
			return err
		}
		n, unk, err := s.vsize()
		if err != nil {
			return err
		}
		if unk {
			return fmt.Errorf("%w: cluster child %x of unknown size", ErrNotWebM, id)
		}
		if s.pos+n > s.size {
			return errTruncated
		}
		switch id {
		case idTimecode:
			b, err := s.read(n)
			if err != nil {
				return err
			}
			if len(b) > 8 {
				return fmt.Errorf("%w: bad cluster timecode", ErrNotWebM)
			}
			var v uint64
			for _, c := range b {
				v = v<<8 | uint64(c)
			}
			tc = int64(v & (1<<62 - 1))
		case idSimpleBlock:
			if err := s.block(out, tc, n); err != nil {
				return err
			}
		default:
			if err := s.skip(n); err != nil {
				return err
			}
		}
	}
	return nil
}

// block reads a SimpleBlock's header and records its frame; the frame bytes are skipped.
func (s *ebmlScanner) block(out *scanned, tc, n int64) error {
	start := s.pos
	track, err := s.byte()
	if err != nil {
		return err
	}
	var h [3]byte
	for i := range h {
		if h[i], err = s.byte(); err != nil {
			return err
		}
	}
	data := n - (s.pos - start)
	if track != 0x81 || h[2]&0x06 != 0 || data < 0 || data > 1<<30 {
		// Not a frame of track 1, or laced: never written by this package.
		return s.skip(max(data, 0))
	}
	ref := blockRef{
		off: s.pos,
		n:   int32(data),
		key: h[2]&0x80 != 0,
		ms:  tc + int64(int16(uint16(h[0])<<8|uint16(h[1]))),
	}
	if err := s.skip(data); err != nil {
		return err
	}
	out.blocks = append(out.blocks, ref)
	return nil
}

func (out *scanned) parseTracks(body []byte) error {
	var t webm.Tracks
	if err := ebml.Unmarshal(bytes.NewReader(body), &t, ebml.WithIgnoreUnknown(true)); err != nil {
		return fmt.Errorf("%w: tracks: %w", ErrNotWebM, err)
	}
	if len(t.TrackEntry) != 1 || t.TrackEntry[0].TrackNumber != 1 {
		return fmt.Errorf("%w: want one track numbered 1", ErrNotWebM)
	}
	out.entry = t.TrackEntry[0]
	out.tracksRaw = body
	return nil
}
