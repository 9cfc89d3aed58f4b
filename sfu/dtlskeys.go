package sfu

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"sync"

	"github.com/pion/dtls/v3"
	"github.com/pion/dtls/v3/pkg/crypto/prf"
	"github.com/pion/dtls/v3/pkg/protocol/extension"
	"github.com/pion/dtls/v3/pkg/protocol/handshake"
	"github.com/pion/srtp/v3"
	"github.com/pion/webrtc/v4"
)

// srtpReplayWindow is the replay window of a direct receiver's SRTP context: Pion's default.
const srtpReplayWindow = 64

// keyCatcher learns the SRTP keys of one connection in which the server is the DTLS server,
// from its handshake. Pion keeps the DTLS connection to
// itself, so the keys are rebuilt as the connection's own exporter (RFC 5705) would: from the
// ServerHello the server sends (its random, cipher suite and SRTP profile) and the master
// secret with the client random, which dtls writes in the NSS key log format. Nothing is
// written anywhere: the "log" is parsed in memory, the secret stays in the process it was
// already in.
type keyCatcher struct {
	mu           sync.Mutex // guards the following fields
	serverRandom []byte
	suite        uint16
	profile      dtls.SRTPProtectionProfile
	clientRandom []byte
	master       []byte
	// The contexts, once derived (then master is gone): local encrypts what the server sends,
	// remote decrypts what the peer sends. Each is used under its owner's lock.
	local, remote *srtp.Context
}

// configure has se's DTLS handshakes report to k. se must then serve one connection only.
func (k *keyCatcher) configure(se *webrtc.SettingEngine) {
	// Passive when answering, so that the server is the DTLS server of every up connection
	// (publishers offer them): the ServerHello is then the server's own. Down connections are
	// offered by the server (actpass), and browsers and Pion answer active.
	_ = se.SetAnsweringDTLSRole(webrtc.DTLSRoleServer)
	se.SetDTLSServerHelloMessageHook(k.serverHello)
	se.SetDTLSKeyLogWriter(k)
}

func (k *keyCatcher) serverHello(m handshake.MessageServerHello) handshake.Message {
	random := m.Random.MarshalFixed()
	k.mu.Lock()
	defer k.mu.Unlock()
	k.serverRandom = random[:]
	if m.CipherSuiteID != nil {
		k.suite = *m.CipherSuiteID
	}
	for _, e := range m.Extensions {
		if u, ok := e.(*extension.UseSRTP); ok && len(u.ProtectionProfiles) == 1 {
			k.profile = dtls.SRTPProtectionProfile(u.ProtectionProfiles[0])
		}
	}
	return &m
}

// Write takes one key log line: "CLIENT_RANDOM <client random> <master secret>".
func (k *keyCatcher) Write(line []byte) (int, error) {
	fields := bytes.Fields(line)
	if len(fields) != 3 || string(fields[0]) != "CLIENT_RANDOM" {
		return len(line), nil
	}
	random, err1 := hex.DecodeString(string(fields[1]))
	master, err2 := hex.DecodeString(string(fields[2]))
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("sfu: key log line: %w", err)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.clientRandom, k.master = random, master
	return len(line), nil
}

// context is the SRTP context that encrypts what the server sends (local) or decrypts what
// the DTLS client, the peer, sends. Both are made at the first call, and the secret is then
// forgotten.
func (k *keyCatcher) context(local bool) (*srtp.Context, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.local == nil {
		if err := k.deriveLocked(); err != nil {
			return nil, err
		}
	}
	if local {
		return k.local, nil
	}
	return k.remote, nil
}

func (k *keyCatcher) deriveLocked() error {
	if k.master == nil || k.serverRandom == nil || k.profile == 0 {
		return errors.New("sfu: the handshake did not reveal the SRTP keys (not the DTLS server?)")
	}
	profile := srtp.ProtectionProfile(k.profile)
	keyLen, err1 := profile.KeyLen()
	saltLen, err2 := profile.SaltLen()
	if err := errors.Join(err1, err2); err != nil {
		return fmt.Errorf("sfu: srtp profile %v: %w", k.profile, err)
	}
	// RFC 5764 4.2: client key, server key, client salt, server salt.
	seed := append([]byte("EXTRACTOR-dtls_srtp"), k.clientRandom...)
	seed = append(seed, k.serverRandom...)
	material, err := prf.PHash(k.master, seed, 2*(keyLen+saltLen), suiteHash(k.suite))
	clear(k.master)
	k.master = nil
	if err != nil {
		return fmt.Errorf("sfu: srtp keying material: %w", err)
	}
	clientKey, serverKey := material[:keyLen], material[keyLen:2*keyLen]
	clientSalt, serverSalt := material[2*keyLen:2*keyLen+saltLen], material[2*keyLen+saltLen:]
	local, err := srtp.CreateContext(serverKey, serverSalt, profile)
	if err != nil {
		return err
	}
	// Cryptex (RFC 9335) enabled reads both encrypted and clear header extensions, whatever
	// the offer negotiated: Pion offers it, browsers may.
	remote, err := srtp.CreateContext(clientKey, clientSalt, profile,
		srtp.SRTPReplayProtection(srtpReplayWindow), srtp.SRTCPReplayProtection(srtpReplayWindow),
		srtp.Cryptex(srtp.CryptexModeEnabled))
	if err != nil {
		return err
	}
	k.local, k.remote = local, remote
	return nil
}

// suiteHash is the PRF hash of a DTLS 1.2 cipher suite: SHA-384 for the *_SHA384 suites,
// SHA-256 for every other one Pion offers.
func suiteHash(id uint16) func() hash.Hash {
	switch dtls.CipherSuiteID(id) {
	case dtls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, dtls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384:
		return sha512.New384
	}
	return sha256.New
}
