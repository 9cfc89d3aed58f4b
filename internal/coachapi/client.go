package coachapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Client is a Go client of the API for tools such as `ringside user invite`. It sends a
// bearer token: the admin token or an API key.
type Client struct {
	base  string
	token string
	http  *http.Client
}

// NewClient returns a client of the server at baseURL (scheme://host[:port]).
func NewClient(baseURL, token string, hc *http.Client) *Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Client{base: strings.TrimRight(baseURL, "/"), token: token, http: hc}
}

// APIError is an error answer of the server.
type APIError struct {
	Status int
	ErrorBody
}

func (e *APIError) Error() string {
	return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message)
}

// InviteUser invites a user (POST /api/users) and returns their sign-in link.
func (c *Client) InviteUser(ctx context.Context, req InviteUserRequest) (Invitation, error) {
	var inv Invitation
	err := c.do(ctx, http.MethodPost, "/api/users", req, &inv)
	return inv, err
}

// do sends body (if not nil) as JSON and decodes a 2xx answer into out (if not nil).
func (c *Client) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("coachapi client: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return fmt.Errorf("coachapi client: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("coachapi client: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		var e errorResponse
		if err := json.NewDecoder(io.LimitReader(resp.Body, maxBodyBytes)).Decode(&e); err != nil || e.Error.Code == "" {
			return &APIError{Status: resp.StatusCode, ErrorBody: ErrorBody{Code: "http", Message: resp.Status}}
		}
		return &APIError{Status: resp.StatusCode, ErrorBody: e.Error}
	}
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("coachapi client: decode %s %s: %w", method, path, err)
	}
	return nil
}
