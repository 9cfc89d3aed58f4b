// Package sfu is Ringside's media plane: rooms, participants with an up and a down
// PeerConnection each, published up-tracks and per-receiver down-tracks, and the routing
// policy (Route) that decides who receives what.
//
// Pion negotiates, runs ICE and DTLS and carries RTCP; RTP mostly bypasses it. The direct
// receiver (direct.go) takes a publisher's packets off the socket on ICE's read loop, decrypts
// them and forwards them there; the direct sender (sender.go) encrypts and sends each copy
// itself; the tracks keep the feedback Pion's interceptors gave (feedback.go, downtrack.go).
// Whatever the direct paths cannot serve goes through Pion: each up-track also has a reader
// goroutine on Pion's track (docs/decisions.md, 25 and 26).
//
// It must not know of HTTP, websockets, SQL or invites: signaling drives it through Room and
// Participant methods and hears back through the Events a participant is created with; the
// recorder and the talk analysis plug in as Sinks, each under its own name (Room.SetSink), and
// get their spans of what the policy grants the recorder from the room itself (sink.go says
// why there and not behind one sink that copies).
package sfu

// SessionID names a session (and its room).
type SessionID string

// ParticipantID names a participant of a session.
type ParticipantID string
