package signaling

import (
	"errors"
	"fmt"

	"ringside/internal/proto"
	"ringside/sfu"
)

// Errors of the signaling layer. Each maps to one protocol code in codeTable.
var (
	ErrBadState      = errors.New("signaling: message out of order")
	ErrBadToken      = errors.New("signaling: invite not recognised")
	ErrTokenExpired  = errors.New("signaling: invite expired")
	ErrSessionEnded  = errors.New("signaling: session has ended")
	ErrServerFull    = errors.New("signaling: too many live sessions")
	ErrTooLarge      = errors.New("signaling: too large")
	ErrRateLimited   = errors.New("signaling: too many messages")
	ErrBadVersion    = errors.New("signaling: protocol version not supported")
	ErrResumeFailed  = errors.New("signaling: nothing to resume")
	ErrShuttingDown  = errors.New("signaling: server is shutting down")
	ErrTooManyMarks  = errors.New("signaling: too many markers in this session")
	ErrBadCandidate  = errors.New("signaling: candidate rejected")
	ErrInternal      = errors.New("signaling: internal error")
	errSendQueueFull = errors.New("signaling: client is not reading")
)

// codeTable is the one mapping from errors to protocol codes and whether the connection ends.
var codeTable = []struct {
	err   error
	code  string
	fatal bool
}{
	{proto.ErrMalformed, proto.CodeBadMessage, true},
	{proto.ErrUnknownType, proto.CodeUnknownType, true},
	{ErrTooLarge, proto.CodeTooLarge, true},
	{ErrRateLimited, proto.CodeRateLimited, true},
	{ErrBadState, proto.CodeBadState, true},
	{sfu.ErrNoOffer, proto.CodeBadState, true},
	{ErrBadToken, proto.CodeBadToken, true},
	{ErrTokenExpired, proto.CodeTokenExpired, true},
	{ErrSessionEnded, proto.CodeSessionEnded, true},
	{sfu.ErrClosed, proto.CodeSessionEnded, true},
	{sfu.ErrRoomFull, proto.CodeSessionFull, true},
	{ErrServerFull, proto.CodeServerFull, true},
	{ErrBadVersion, proto.CodeBadVersion, true},
	{ErrResumeFailed, proto.CodeResumeFailed, true},
	{ErrShuttingDown, proto.CodeShuttingDown, true},
	{sfu.ErrBadSDP, proto.CodeBadSDP, true},
	{ErrBadCandidate, proto.CodeBadCandidate, true},
	{sfu.ErrNegotiation, proto.CodeInternal, true},
	{sfu.ErrForbidden, proto.CodeForbidden, false},
	{sfu.ErrBadTarget, proto.CodeBadTarget, false},
	{sfu.ErrBadMode, proto.CodeBadMessage, false},
	{ErrTooManyMarks, proto.CodeTooManyMarks, false},
}

// toProto turns an error into the message sent to the client. Unknown errors are internal and
// fatal; their text stays in the log, not on the wire.
func toProto(err error) proto.Error {
	for _, row := range codeTable {
		if errors.Is(err, row.err) {
			return proto.Error{Type: proto.TypeError, Code: row.code, Message: err.Error(), Fatal: row.fatal}
		}
	}
	return proto.Error{Type: proto.TypeError, Code: proto.CodeInternal, Message: "internal error", Fatal: true}
}

func wrap(sentinel error, format string, args ...any) error {
	return fmt.Errorf("%w: %s", sentinel, fmt.Sprintf(format, args...))
}
