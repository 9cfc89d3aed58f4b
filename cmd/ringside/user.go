package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"ringside/internal/coachapi"
)

const userUsage = "Usage: ringside user invite --email E --role admin|coach|rep [--team T] [--name N] [--url URL]\n"

// userCmd dispatches `ringside user <subcommand>`.
func userCmd(args []string, e *env) int {
	switch {
	case len(args) > 0 && args[0] == "invite":
		return userInviteCmd(args[1:], e)
	case len(args) > 0 && (args[0] == "--help" || args[0] == "-h" || args[0] == "help"):
		fmt.Fprint(e.stdout, userUsage)
		return 0
	case len(args) > 0:
		fmt.Fprintf(e.stderr, "ringside user: unknown subcommand %q\n", args[0])
	}
	fmt.Fprint(e.stderr, userUsage)
	return 2
}

// userInviteCmd invites a user through a running server's API and prints their one-time
// sign-in link, for an admin to send (there is no mail server).
func userInviteCmd(args []string, e *env) int {
	fs := flag.NewFlagSet("user invite", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var req coachapi.InviteUserRequest
	fs.StringVar(&req.Email, "email", "", "email address of the person (required)")
	fs.StringVar(&req.Role, "role", "", "role: admin, coach or rep (required)")
	fs.StringVar(&req.Team, "team", "", "team name; created if it does not exist")
	fs.StringVar(&req.Name, "name", "", "display name (default: the part of the email before @)")
	baseURL := fs.String("url", "http://localhost:8080", "base URL of the Ringside server")
	withEnvUsage(fs, "url")
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprint(w, userUsage+"\n")
		fmt.Fprintf(w, "Invites a person on a running server and prints their one-time sign-in link. The admin\ntoken (or an admin's API key) is read from %s.\n\nFlags:\n", envAdminToken)
		fs.PrintDefaults()
	}
	if code, ok := parse(fs, args, e, "url"); !ok {
		return code
	}
	if req.Email == "" || req.Role == "" || fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	token, ok := e.lookup(envAdminToken)
	if !ok || token == "" {
		fmt.Fprintf(e.stderr, "ringside: set %s to the admin token (printed at the server's first start)\n", envAdminToken)
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	client := coachapi.NewClient(*baseURL, token, &http.Client{Timeout: 30 * time.Second})
	inv, err := client.InviteUser(ctx, req)
	if err != nil {
		fmt.Fprintf(e.stderr, "ringside: invite user: %v\n", err)
		return 1
	}
	fmt.Fprintf(e.stderr, "Invited %s <%s> as %s; the link works once, until %s:\n",
		inv.User.Name, inv.User.Email, inv.User.Role, inv.ExpiresAt.Local().Format(time.RFC1123))
	fmt.Fprintln(e.stdout, inv.SignInURL)
	return 0
}
