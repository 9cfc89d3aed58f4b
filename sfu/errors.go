package sfu

import "errors"

// Errors of the media plane; signaling maps them to protocol codes.
var (
	ErrForbidden   = errors.New("sfu: not allowed for this role")
	ErrBadMode     = errors.New("sfu: unknown mode")
	ErrBadTarget   = errors.New("sfu: whisper target is not a rep or partner in this session")
	ErrBadSDP      = errors.New("sfu: SDP rejected")
	ErrNoOffer     = errors.New("sfu: no offer is outstanding")
	ErrNegotiation = errors.New("sfu: negotiation failed")
	ErrClosed      = errors.New("sfu: closed")
	ErrDuplicate   = errors.New("sfu: participant already in room")
	ErrRoomFull    = errors.New("sfu: room is full")
)
