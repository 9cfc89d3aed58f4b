package turnserver

import "errors"

// Errors of the TURN server and its credentials.
var (
	ErrConfig      = errors.New("turnserver: bad configuration")
	ErrCredentials = errors.New("turnserver: bad credentials")
	ErrListen      = errors.New("turnserver: cannot listen")
	ErrRelay       = errors.New("turnserver: relay refused")
)
