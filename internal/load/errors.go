package load

import "errors"

// Errors of the load generator.
var (
	ErrConfig   = errors.New("load: bad configuration")
	ErrNotLocal = errors.New("load: address is not this machine's")
	ErrNoJoins  = errors.New("load: no participant joined")
)
