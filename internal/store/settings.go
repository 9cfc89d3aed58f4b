package store

import (
	"context"
	"errors"
	"fmt"
)

// KeyAdminTokenHash is the setting that holds HashToken of the admin's bearer token.
const KeyAdminTokenHash = "admin_token_hash"

// Setting returns the value stored under key; ok is false if there is none.
func (s *Store) Setting(ctx context.Context, key string) (value string, ok bool, err error) {
	err = s.db.GetContext(ctx, &value, s.q("SELECT value FROM settings WHERE name = ?"), key)
	if err = mapErr(err); err != nil {
		if errors.Is(err, ErrNotFound) {
			return "", false, nil
		}
		return "", false, fmt.Errorf("store: setting %q: %w", key, err)
	}
	return value, true, nil
}

// SetSetting stores value under key, replacing any previous value.
func (s *Store) SetSetting(ctx context.Context, key, value string) error {
	_, err := s.db.ExecContext(ctx, s.q(
		`INSERT INTO settings (name, value) VALUES (?, ?)
		 ON CONFLICT (name) DO UPDATE SET value = excluded.value`), key, value)
	if err != nil {
		return fmt.Errorf("store: set setting %q: %w", key, mapErr(err))
	}
	return nil
}

// SetSettingIfAbsent stores value under key only if key has no value yet, and reports whether
// it did. It is atomic, so of two servers racing to create the first admin token exactly one
// wins.
func (s *Store) SetSettingIfAbsent(ctx context.Context, key, value string) (set bool, err error) {
	res, err := s.db.ExecContext(ctx, s.q(
		`INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`), key, value)
	if err != nil {
		return false, fmt.Errorf("store: set setting %q: %w", key, mapErr(err))
	}
	set, err = affectedOne(res)
	if err != nil {
		return false, fmt.Errorf("store: set setting %q: %w", key, err)
	}
	return set, nil
}
