package people

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"

	"ringside/internal/store"
)

// apiKeyPrefix starts every API key, so that a key is told from the admin token at a glance
// (and by BearerPrincipal without a lookup).
const apiKeyPrefix = "rsk_"

// keyShownPrefix is how many characters of a key are kept in the clear to tell keys apart.
const keyShownPrefix = len(apiKeyPrefix) + 6

// CreateKey creates an API key acting as p's user and returns it; the key is shown here only.
// The admin token has no user and so no keys.
func (s *Service) CreateKey(ctx context.Context, p Principal, name string) (string, store.APIKey, error) {
	if p.UserID == "" {
		return "", store.APIKey{}, forbidden("the admin token cannot own API keys; sign in as an admin user")
	}
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > maxNameRunes {
		return "", store.APIKey{}, invalid("name must be 1 to %d characters", maxNameRunes)
	}
	token, _, err := store.NewToken()
	if err != nil {
		return "", store.APIKey{}, fmt.Errorf("people: API key: %w", err)
	}
	key := apiKeyPrefix + token
	k := store.APIKey{
		ID: uuid.NewString(), UserID: p.UserID, Name: name, Prefix: key[:keyShownPrefix],
		TokenHash: store.HashToken(key), CreatedAt: s.now(),
	}
	if err := s.store.CreateAPIKey(ctx, k); err != nil {
		return "", store.APIKey{}, fmt.Errorf("people: API key: %w", err)
	}
	k, err = s.store.APIKey(ctx, k.ID)
	if err != nil {
		return "", store.APIKey{}, fmt.Errorf("people: API key: %w", err)
	}
	s.log.Info("API key created", "key", k.ID, "user", p.UserID)
	return key, k, nil
}

// Keys returns p's API keys; an admin sees everyone's.
func (s *Service) Keys(ctx context.Context, p Principal) ([]store.APIKey, error) {
	owner := p.UserID
	if p.IsAdmin() {
		owner = ""
	}
	keys, err := s.store.ListAPIKeys(ctx, owner)
	if err != nil {
		return nil, fmt.Errorf("people: API keys: %w", err)
	}
	return keys, nil
}

// RevokeKey revokes an API key of p's (any key for an admin); any other is ErrNotFound.
func (s *Service) RevokeKey(ctx context.Context, p Principal, id string) error {
	k, err := s.store.APIKey(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !p.IsAdmin() && k.UserID != p.UserID) {
		return notFound("no API key with this id")
	}
	if err != nil {
		return fmt.Errorf("people: API key %s: %w", id, err)
	}
	if err := s.store.RevokeAPIKey(ctx, id, s.now()); err != nil {
		return fmt.Errorf("people: revoke API key %s: %w", id, err)
	}
	s.log.Info("API key revoked", "key", id, "by", p.UserID)
	return nil
}
