package media

import "errors"

var (
	// ErrUnknownFormat is returned by Load for a file extension it does not read.
	ErrUnknownFormat = errors.New("media: unknown file format")
	// ErrUnknownCodec is returned by Load for a codec it cannot publish.
	ErrUnknownCodec = errors.New("media: unknown codec")
	// ErrEmpty is returned by Load for a file without frames.
	ErrEmpty = errors.New("media: no frames")
	// ErrBadTiming is returned by Load for frames whose timestamps do not increase.
	ErrBadTiming = errors.New("media: bad frame timing")
	// ErrMultiPacketPage is returned by Load for an Ogg page holding several Opus packets.
	ErrMultiPacketPage = errors.New("media: ogg page holds several opus packets")
	// ErrNoTrack is returned by Publish for a nil track.
	ErrNoTrack = errors.New("media: no track")
	// ErrCodecMismatch is returned by Publish when the track's codec is not the clip's.
	ErrCodecMismatch = errors.New("media: track codec does not match clip")
)
