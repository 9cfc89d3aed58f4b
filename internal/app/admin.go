package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"unicode/utf8"

	"ringside/internal/store"
)

// defaultClientURL is the server `ringside session create` talks to without --url.
const defaultClientURL = "http://localhost:8080"

// MinAdminTokenLen is the shortest admin token accepted from RINGSIDE_ADMIN_TOKEN.
const MinAdminTokenLen = 16

// bootstrapAdminToken makes sure the store holds the admin token's hash and returns it.
//
// An explicit token (RINGSIDE_ADMIN_TOKEN) replaces whatever is stored. Without one, the
// first start generates a token, prints it once to out and stores only its hash; later starts
// say that a token exists and how to replace it. Of two servers starting at once against one
// database, exactly one generates the token.
//
// baseURL is where the server will answer, for the examples in the banner.
func bootstrapAdminToken(ctx context.Context, st *store.Store, token, baseURL string, out io.Writer, log *slog.Logger) (string, error) {
	if token != "" {
		if len(token) < MinAdminTokenLen {
			return "", fmt.Errorf("app: RINGSIDE_ADMIN_TOKEN must be at least %d characters", MinAdminTokenLen)
		}
		hash := store.HashToken(token)
		old, ok, err := st.Setting(ctx, store.KeyAdminTokenHash)
		if err != nil {
			return "", fmt.Errorf("app: admin token: %w", err)
		}
		if ok && old == hash {
			log.Info("admin token: using RINGSIDE_ADMIN_TOKEN")
			return hash, nil
		}
		if err := st.SetSetting(ctx, store.KeyAdminTokenHash, hash); err != nil {
			return "", fmt.Errorf("app: admin token: %w", err)
		}
		if ok {
			log.Info("admin token: replaced by RINGSIDE_ADMIN_TOKEN; the previous token no longer works")
		} else {
			log.Info("admin token: set from RINGSIDE_ADMIN_TOKEN")
		}
		return hash, nil
	}

	hash, ok, err := st.Setting(ctx, store.KeyAdminTokenHash)
	if err != nil {
		return "", fmt.Errorf("app: admin token: %w", err)
	}
	if ok {
		fmt.Fprint(out, existingTokenNotice)
		return hash, nil
	}
	token, hash, err = store.NewToken()
	if err != nil {
		return "", fmt.Errorf("app: admin token: %w", err)
	}
	set, err := st.SetSettingIfAbsent(ctx, store.KeyAdminTokenHash, hash)
	if err != nil {
		return "", fmt.Errorf("app: admin token: %w", err)
	}
	if !set {
		// Another server created the token first; its hash is the one that counts.
		hash, ok, err = st.Setting(ctx, store.KeyAdminTokenHash)
		if err != nil {
			return "", fmt.Errorf("app: admin token: %w", err)
		}
		if !ok {
			return "", errors.New("app: admin token: setting vanished while starting")
		}
		fmt.Fprint(out, existingTokenNotice)
		return hash, nil
	}
	fmt.Fprint(out, tokenBanner(token, baseURL))
	return hash, nil
}

const existingTokenNotice = `ringside: an admin token exists (only its hash is stored, so it cannot be shown again).
ringside: to replace it, restart once with RINGSIDE_ADMIN_TOKEN=<new token> (at least 16 characters),
ringside: e.g. RINGSIDE_ADMIN_TOKEN=$(openssl rand -base64 32) ringside serve
`

// tokenBanner is the one-time message that shows a newly generated admin token.
func tokenBanner(token, baseURL string) string {
	create := `    ringside session create --title "Discovery call"`
	if baseURL != defaultClientURL {
		create += " --url " + baseURL
	}
	lines := []string{
		"Ringside admin token (shown this once; only its hash is stored):",
		"",
		"    " + token,
		"",
		"Use it as a bearer token for the admin API:",
		"    export RINGSIDE_ADMIN_TOKEN=" + token,
		`    curl -H "Authorization: Bearer $RINGSIDE_ADMIN_TOKEN" \`,
		`         -d '{"title":"Discovery call"}' ` + baseURL + `/api/sessions`,
		create,
		"",
		"Lost it? Restart once with RINGSIDE_ADMIN_TOKEN=<new token> to replace it.",
	}
	width := 0
	for _, l := range lines {
		width = max(width, utf8.RuneCountInString(l))
	}
	var b strings.Builder
	b.WriteString("\n┌" + strings.Repeat("─", width+2) + "┐\n")
	for _, l := range lines {
		b.WriteString("│ " + l + strings.Repeat(" ", width-utf8.RuneCountInString(l)) + " │\n")
	}
	b.WriteString("└" + strings.Repeat("─", width+2) + "┘\n\n")
	return b.String()
}
