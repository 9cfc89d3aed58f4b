package store

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"math/bits"
	"testing"
)

func TestNewTokenLengthAndEncoding(t *testing.T) {
	token, hash, err := NewToken()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		t.Fatalf("token %q is not raw URL base64: %v", token, err)
	}
	if len(raw)*8 < 128 {
		t.Fatalf("token carries %d bits, want at least 128", len(raw)*8)
	}
	if len(raw) != tokenBytes {
		t.Fatalf("token decodes to %d bytes, want %d", len(raw), tokenBytes)
	}
	sum := sha256.Sum256([]byte(token))
	if hash != hex.EncodeToString(sum[:]) || hash != HashToken(token) {
		t.Fatalf("hash %q is not hex(sha256(token))", hash)
	}
}

func TestHashTokenKnownValue(t *testing.T) {
	// sha256("abc") from FIPS 180-2.
	const want = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
	if got := HashToken("abc"); got != want {
		t.Fatalf("HashToken(abc) = %s, want %s", got, want)
	}
}

func TestNewTokenRandomness(t *testing.T) {
	const n = 2000
	seen := make(map[string]bool, n)
	var ones, total int
	for range n {
		token, hash, err := NewToken()
		if err != nil {
			t.Fatal(err)
		}
		if seen[token] || seen[hash] {
			t.Fatalf("token repeated after %d draws", len(seen)/2)
		}
		seen[token], seen[hash] = true, true
		raw, _ := base64.RawURLEncoding.DecodeString(token)
		for _, b := range raw {
			ones += bits.OnesCount8(b)
		}
		total += len(raw) * 8
	}
	// A fair source sets half the bits; over 512,000 bits a deviation of 1% is about 14
	// standard deviations, so this fails only for a broken generator.
	if frac := float64(ones) / float64(total); frac < 0.49 || frac > 0.51 {
		t.Fatalf("fraction of one bits = %.4f, want about 0.5", frac)
	}
}
