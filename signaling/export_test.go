package signaling

// PanicOn makes handlers of message type typ panic (empty: none), to test recovery.
func PanicOn(s *Server, typ string) { s.panicOn.Store(typ) }
