package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// maxResponseBytes bounds what the client reads of a response.
const maxResponseBytes = 4 << 20

// APIError is a non-2xx answer of the API, as the client sees it.
type APIError struct {
	Status  int
	Code    string
	Message string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("ringside api: %d %s: %s", e.Status, e.Code, e.Message)
}

// Client calls the session API of a Ringside server with a bearer token: the admin token, or
// a user's API key (which sees and may do what that user may).
type Client struct {
	base  string
	token string
	http  *http.Client
}

// NewClient returns a client for the server at baseURL (e.g. http://localhost:8080). A nil
// httpClient means http.DefaultClient.
func NewClient(baseURL, adminToken string, httpClient *http.Client) *Client {
	if httpClient == nil {
		httpClient = http.DefaultClient
	}
	return &Client{base: strings.TrimRight(baseURL, "/"), token: adminToken, http: httpClient}
}

// CreateSession creates a session and returns it with its invite links.
func (c *Client) CreateSession(ctx context.Context, req CreateSessionRequest) (CreateSessionResponse, error) {
	var out CreateSessionResponse
	err := c.do(ctx, http.MethodPost, "/api/sessions", req, http.StatusCreated, &out)
	return out, err
}

// ListSessions returns up to limit sessions, newest first (limit 0: the server's default).
func (c *Client) ListSessions(ctx context.Context, limit int) ([]Session, error) {
	path := "/api/sessions"
	if limit > 0 {
		path += "?limit=" + strconv.Itoa(limit)
	}
	var out SessionList
	err := c.do(ctx, http.MethodGet, path, nil, http.StatusOK, &out)
	return out.Sessions, err
}

// Session returns a session with its participants, tracks, mode changes and markers.
func (c *Client) Session(ctx context.Context, id string) (SessionDetail, error) {
	var out SessionDetail
	err := c.do(ctx, http.MethodGet, "/api/sessions/"+url.PathEscape(id), nil, http.StatusOK, &out)
	return out, err
}

// EndSession ends a session, disconnecting everyone in it.
func (c *Client) EndSession(ctx context.Context, id string) (Session, error) {
	var out Session
	err := c.do(ctx, http.MethodPost, "/api/sessions/"+url.PathEscape(id)+"/end", nil, http.StatusOK, &out)
	return out, err
}

// do sends one request and decodes a response with status want into out; any other status
// is an *APIError.
func (c *Client) do(ctx context.Context, method, path string, in any, want int, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("ringside api: encode request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return fmt.Errorf("ringside api: %w", err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("ringside api: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return fmt.Errorf("ringside api: read response: %w", err)
	}
	if resp.StatusCode != want {
		var e errorResponse
		if json.Unmarshal(data, &e) != nil || e.Error.Code == "" {
			return &APIError{Status: resp.StatusCode, Code: "unexpected_response", Message: strings.TrimSpace(string(data))}
		}
		return &APIError{Status: resp.StatusCode, Code: e.Error.Code, Message: e.Error.Message}
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("ringside api: decode response: %w", err)
	}
	return nil
}
