// Package sfu is Ringside's media plane: rooms, participants with an up and a down
// PeerConnection each, one reader goroutine per published track, per-receiver down-tracks, and
// the routing policy (Route) that decides who receives what.
//
// It must not know of HTTP, websockets, SQL or invites: signaling drives it through Room and
// Participant methods and hears back through the Events a participant is created with; the
// recorder plugs in as a Sink.
package sfu

// SessionID names a session (and its room).
type SessionID string

// ParticipantID names a participant of a session.
type ParticipantID string
