package recorder

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/at-wat/ebml-go/webm"
)

// finalized is what finalizing a file found in it.
type finalized struct {
	durationMs int64
	frames     int
	truncated  bool
}

// clusterPlan is one cluster of the finalized file.
type clusterPlan struct {
	first, end int // blocks[first:end]
	ms         int64
	size       int64 // payload bytes
	pos        int64 // of the element, from the Segment's data start
}

// finalizeFile rewrites the WebM at path, live or cut short, as a seekable file: known sizes,
// Duration, a SeekHead and Cues, every complete frame kept and nothing else. The new file is
// written beside the old one and renamed over it, so a crash during finalizing leaves the old
// file whole; finalizing a finalized file rewrites it identically. A file without a single
// complete frame is removed and reported as ErrNoMedia.
func finalizeFile(path string, create func(string) (io.WriteCloser, error)) (finalized, error) {
	src, err := os.Open(path)
	if err != nil {
		return finalized{}, err
	}
	defer src.Close()
	st, err := src.Stat()
	if err != nil {
		return finalized{}, err
	}
	sc, err := scanWebM(src, st.Size())
	if err != nil {
		return finalized{}, fmt.Errorf("recorder: read %s: %w", filepath.Base(path), err)
	}
	if len(sc.blocks) == 0 {
		src.Close()
		if err := os.Remove(path); err != nil {
			return finalized{}, err
		}
		return finalized{truncated: sc.truncated}, ErrNoMedia
	}
	res := finalized{frames: len(sc.blocks), truncated: sc.truncated}

	// File time starts at the first frame and strictly increases (the live writer guarantees
	// it; a damaged file is mended rather than refused).
	base := sc.blocks[0].ms
	prev := int64(-1)
	for i := range sc.blocks {
		b := &sc.blocks[i]
		b.ms -= base
		if b.ms <= prev {
			b.ms = prev + 1
		}
		prev = b.ms
	}
	video := sc.entry.TrackType == 1
	last := sc.blocks[len(sc.blocks)-1]
	durMs := float64(last.ms) + lastFrameMs(src, sc, video)
	res.durationMs = int64(durMs + 0.5)

	plans := planClusters(sc.blocks)
	head, err := encodeEBMLHeader()
	if err != nil {
		return res, err
	}
	info, err := encodeInfo(durMs)
	if err != nil {
		return res, err
	}
	tracks := putID(nil, idTracks)
	tracks = putSize(tracks, uint64(len(sc.tracksRaw)), sizeLen(uint64(len(sc.tracksRaw))))
	tracks = append(tracks, sc.tracksRaw...)

	seekHeadLen := int64(len(seekHead(0, 0, 0)))
	pos := seekHeadLen + int64(len(info)) + int64(len(tracks))
	var cues webm.Cues
	for i := range plans {
		p := &plans[i]
		p.pos = pos
		pos += 4 + 8 + p.size
		if sc.blocks[p.first].key {
			cues.CuePoint = append(cues.CuePoint, webm.CuePoint{
				CueTime:           uint64(p.ms),
				CueTrackPositions: []webm.CueTrackPosition{{CueTrack: 1, CueClusterPosition: uint64(p.pos)}},
			})
		}
	}
	cuesPos := pos
	cuesBytes, err := marshalElement(&struct {
		Cues webm.Cues `ebml:"Cues"`
	}{cues})
	if err != nil {
		return res, err
	}
	segSize := cuesPos + int64(len(cuesBytes))
	infoPos := seekHeadLen
	tracksPos := infoPos + int64(len(info))

	tmp := path + ".tmp"
	f, err := create(tmp)
	if err != nil {
		return res, err
	}
	w := bufio.NewWriterSize(f, 256<<10)
	w.Write(head)
	w.Write(putSize(putID(nil, idSegment), uint64(segSize), 8))
	w.Write(seekHead(infoPos, tracksPos, cuesPos))
	w.Write(info)
	w.Write(tracks)
	err = writeClusters(w, src, sc.blocks, plans)
	if err == nil {
		w.Write(cuesBytes)
		err = w.Flush()
	}
	if err == nil {
		err = syncWriter(f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return res, err
	}
	return res, syncDir(filepath.Dir(path))
}

// lastFrameMs estimates how long the last frame lasts: an Opus packet says so in its TOC byte;
// a video frame is taken to last as long as the one before it.
func lastFrameMs(src io.ReaderAt, sc *scanned, video bool) float64 {
	bs := sc.blocks
	last := bs[len(bs)-1]
	if !video {
		var toc [2]byte
		n, _ := src.ReadAt(toc[:min(int(last.n), 2)], last.off)
		if samples := opusSamples(toc[:n]); samples > 0 {
			return float64(samples) / 48
		}
		return 20
	}
	if len(bs) > 1 {
		return float64(min(max(last.ms-bs[len(bs)-2].ms, 1), 1000))
	}
	return 33
}

// planClusters lays frames out in clusters by the live writer's rule and sizes them.
func planClusters(blocks []blockRef) []clusterPlan {
	var plans []clusterPlan
	var cur *clusterPlan
	for i, b := range blocks {
		if cur == nil || startsCluster(true, cur.ms, int(cur.size), b.ms, b.key) {
			plans = append(plans, clusterPlan{first: i, ms: b.ms})
			cur = &plans[len(plans)-1]
			cur.size = int64(len(putUintElement(nil, idTimecode, uint64(b.ms))))
		}
		cur.end = i + 1
		cur.size += simpleBlockLen(int(b.n))
	}
	return plans
}

func writeClusters(w *bufio.Writer, src io.ReaderAt, blocks []blockRef, plans []clusterPlan) error {
	var hdr []byte
	var buf []byte
	for _, p := range plans {
		hdr = putID(hdr[:0], idCluster)
		hdr = putSize(hdr, uint64(p.size), 8)
		hdr = putUintElement(hdr, idTimecode, uint64(p.ms))
		w.Write(hdr)
		for _, b := range blocks[p.first:p.end] {
			if cap(buf) < int(b.n) {
				buf = make([]byte, b.n)
			}
			data := buf[:b.n]
			if _, err := src.ReadAt(data, b.off); err != nil {
				return fmt.Errorf("recorder: read frame back: %w", err)
			}
			hdr = simpleBlockHeader(hdr[:0], int16(b.ms-p.ms), b.key, len(data))
			w.Write(hdr)
			if _, err := w.Write(data); err != nil {
				return err
			}
		}
	}
	return nil
}

// seekHead encodes a SeekHead pointing at Info, Tracks and Cues, with fixed-width positions so
// its size does not depend on them.
func seekHead(info, tracks, cues int64) []byte {
	var body []byte
	for _, s := range []struct {
		id  uint32
		pos int64
	}{{idInfo, info}, {idTracks, tracks}, {idCues, cues}} {
		var seek []byte
		idb := putID(nil, s.id)
		seek = putID(seek, idSeekID)
		seek = putSize(seek, uint64(len(idb)), 1)
		seek = append(seek, idb...)
		seek = putID(seek, idSeekPos)
		seek = putSize(seek, 8, 1)
		for i := 7; i >= 0; i-- {
			seek = append(seek, byte(uint64(s.pos)>>(8*i)))
		}
		body = putID(body, idSeek)
		body = putSize(body, uint64(len(seek)), 1)
		body = append(body, seek...)
	}
	out := putID(nil, idSeekHead)
	out = putSize(out, uint64(len(body)), 1)
	return append(out, body...)
}

// opusSamples is the duration, in 48 kHz samples, of the Opus packet starting with b
// (RFC 6716 §3.1), or 0 if b is too short to tell.
func opusSamples(b []byte) int {
	if len(b) == 0 {
		return 0
	}
	toc := b[0]
	cfg := int(toc >> 3)
	var frame int // in 1/400 s units of 120 samples
	switch {
	case cfg < 12: // SILK: 10, 20, 40, 60 ms
		frame = []int{480, 960, 1920, 2880}[cfg%4]
	case cfg < 16: // hybrid: 10, 20 ms
		frame = []int{480, 960}[cfg%2]
	default: // CELT: 2.5, 5, 10, 20 ms
		frame = []int{120, 240, 480, 960}[cfg%4]
	}
	switch toc & 3 {
	case 0:
		return frame
	case 1, 2:
		return 2 * frame
	}
	if len(b) < 2 {
		return 0
	}
	return frame * int(b[1]&0x3F)
}

// removeTemps deletes the temporary files an interrupted finalize or manifest write left in
// dir.
func removeTemps(dir string) error {
	matches, err := filepath.Glob(filepath.Join(dir, "*.tmp"))
	if err != nil {
		return err
	}
	var errs []error
	for _, m := range matches {
		if err := os.Remove(m); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
