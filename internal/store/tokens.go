package store

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
)

// tokenBytes is the entropy of a bearer token: 256 bits, far past guessing.
const tokenBytes = 32

// NewToken returns a fresh bearer token (for an invite link or the admin) and the hash to
// store for it. Only the hash is ever written to the database, so a leaked database does not
// leak usable tokens; the token itself is shown once to whoever will hold it.
func NewToken() (token, hash string, err error) {
	b := make([]byte, tokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", "", fmt.Errorf("store: token: %w", err)
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token), nil
}

// HashToken returns the hex SHA-256 of token, the form in which tokens are stored and looked
// up. A plain hash suffices (no salt or stretching) because tokens are random and long, not
// chosen by people.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
