package client

// HTTP sources: endpoints that take log lines, each with its own token,
// and sending lines to one.

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

const (
	sourcesPath = "/api/v1/sources"
	// ReceiverPath is the path of every HTTP source, followed by its token.
	ReceiverPath = "/receiver/v1/http/"
)

// Source is an HTTP source. Its records get Category as _sourceCategory,
// HostName (or, when empty, the sender's address) as _sourceHost and Name
// as _sourceName, unless a request's X-Sumo-* headers say otherwise.
type Source struct {
	ID             string    `json:"id"`
	Name           string    `json:"name"`
	Description    string    `json:"description"`
	Category       string    `json:"category"`
	HostName       string    `json:"hostName"`
	Received       int64     `json:"received"`                // records received, ever
	LastReceivedAt time.Time `json:"lastReceivedAt,omitzero"` // zero before the first
	CreatedAt      time.Time `json:"createdAt,omitzero"`
	ModifiedAt     time.Time `json:"modifiedAt,omitzero"`

	// Token and URL are in CreateSource's and RotateSourceToken's answers
	// only: the server keeps just the token's hash, so they cannot be
	// shown again. URL is where to send lines: the server's URL and
	// ReceiverPath and the token.
	Token string `json:"token,omitempty"`
	URL   string `json:"url,omitempty"`
}

// String names the source without its token, so that printing or logging
// one with %v does not leak it.
func (s Source) String() string { return fmt.Sprintf("source %s (%q)", s.ID, s.Name) }

// GoString is String, for %#v.
func (s Source) GoString() string { return s.String() }

// Input returns s as a SourceInput to edit and send back with UpdateSource.
func (s Source) Input() SourceInput {
	return SourceInput{Name: s.Name, Description: s.Description, Category: s.Category, HostName: s.HostName}
}

// SourceInput is a source to create, or what to store over one.
type SourceInput struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Category    string `json:"category"`
	HostName    string `json:"hostName"`
}

// SourceList is one page of sources, by name.
type SourceList struct {
	Data []Source `json:"data"`
	Next string   `json:"next"`
}

var errNoSourceID = errors.New("source ID is empty")

func sourcePath(id string) string { return sourcesPath + "/" + url.PathEscape(id) }

// Sources returns one page of sources, ordered by name.
func (c *Client) Sources(ctx context.Context, opt ListOptions) (*SourceList, error) {
	var out SourceList
	if err := c.do(ctx, http.MethodGet, sourcesPath, opt.query(), nil, &out); err != nil {
		return nil, fmt.Errorf("list sources: %w", err)
	}
	return &out, nil
}

// AllSources returns every source, following the pages.
func (c *Client) AllSources(ctx context.Context) ([]Source, error) {
	return allPages("sources", func(token string) ([]Source, string, error) {
		page, err := c.Sources(ctx, ListOptions{Token: token})
		if err != nil {
			return nil, "", err
		}
		return page.Data, page.Next, nil
	})
}

// Source returns the source with the given ID.
func (c *Client) Source(ctx context.Context, id string) (*Source, error) {
	if id == "" {
		return nil, fmt.Errorf("get source: %w", errNoSourceID)
	}
	var out Source
	if err := c.do(ctx, http.MethodGet, sourcePath(id), nil, nil, &out); err != nil {
		return nil, fmt.Errorf("get source %s: %w", id, err)
	}
	return &out, nil
}

// CreateSource stores a new source and returns it with its token and URL,
// shown this once. A taken name is a 409 *APIError naming "name".
func (c *Client) CreateSource(ctx context.Context, in SourceInput) (*Source, error) {
	var out Source
	if err := c.do(ctx, http.MethodPost, sourcesPath, nil, in, &out); err != nil {
		return nil, fmt.Errorf("create source: %w", err)
	}
	return &out, nil
}

// UpdateSource stores in over the source with the given ID; its token
// stays.
func (c *Client) UpdateSource(ctx context.Context, id string, in SourceInput) (*Source, error) {
	if id == "" {
		return nil, fmt.Errorf("update source: %w", errNoSourceID)
	}
	var out Source
	if err := c.do(ctx, http.MethodPut, sourcePath(id), nil, in, &out); err != nil {
		return nil, fmt.Errorf("update source %s: %w", id, err)
	}
	return &out, nil
}

// DeleteSource removes a source: its token stops working at once. The
// records it received stay until retention removes them.
func (c *Client) DeleteSource(ctx context.Context, id string) error {
	if id == "" {
		return fmt.Errorf("delete source: %w", errNoSourceID)
	}
	if err := c.do(ctx, http.MethodDelete, sourcePath(id), nil, nil, nil); err != nil {
		return fmt.Errorf("delete source %s: %w", id, err)
	}
	return nil
}

// RotateSourceToken gives the source a new token, returned with its URL
// this once; the old token stops working at once.
func (c *Client) RotateSourceToken(ctx context.Context, id string) (*Source, error) {
	if id == "" {
		return nil, fmt.Errorf("rotate source token: %w", errNoSourceID)
	}
	var out Source
	if err := c.do(ctx, http.MethodPost, sourcePath(id)+"/token", nil, nil, &out); err != nil {
		return nil, fmt.Errorf("rotate token of source %s: %w", id, err)
	}
	return &out, nil
}

// SendOptions are the metadata of one request of log lines, overriding the
// source's (X-Sumo-Category, X-Sumo-Host, X-Sumo-Name; "" keeps the
// source's), and whether to compress the body.
type SendOptions struct {
	Category, Host, Name string
	Gzip                 bool
}

// SendResult is the receiver's answer: how many records it stored, and
// how many of their lines it cut at 64 KiB.
type SendResult struct {
	Accepted  int `json:"accepted"`
	Truncated int `json:"truncated"`
}

// SendLogs posts lines (plain text or JSON objects, one a line) to the HTTP
// source with the token, and returns once the server has stored them. The
// token is the only credential sent: the client's own are not. A body is
// at most 10 MiB (after decompression); send more in several calls.
func (c *Client) SendLogs(ctx context.Context, token string, lines []byte, opt SendOptions) (*SendResult, error) {
	if c.baseErr != nil {
		return nil, c.baseErr
	}
	if token == "" {
		return nil, errors.New("send logs: the source token is empty")
	}
	body := lines
	if opt.Gzip {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		if _, err := zw.Write(lines); err != nil {
			return nil, fmt.Errorf("send logs: compress: %w", err)
		}
		if err := zw.Close(); err != nil {
			return nil, fmt.Errorf("send logs: compress: %w", err)
		}
		body = buf.Bytes()
	}
	endpoint := c.endpoint(ReceiverPath+url.PathEscape(token), nil)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		// Not %w and not the URL: it holds the token.
		return nil, errors.New("send logs: the server URL or the token is not valid")
	}
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	req.Header.Set("Accept", "application/json")
	if opt.Gzip {
		req.Header.Set("Content-Encoding", "gzip")
	}
	for name, v := range map[string]string{"X-Sumo-Category": opt.Category, "X-Sumo-Host": opt.Host, "X-Sumo-Name": opt.Name} {
		if v != "" {
			req.Header.Set(name, v)
		}
	}
	if c.userAgent != "" {
		req.Header.Set("User-Agent", c.userAgent)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			// The URL holds the token: name the server only.
			return nil, fmt.Errorf("send logs to %s: %w", c.base, ue.Err)
		}
		return nil, fmt.Errorf("send logs to %s: %w", c.base, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return nil, fmt.Errorf("send logs to %s: read answer: %w", c.base, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("send logs: %w", newAPIError(resp, b))
	}
	var out SendResult
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("send logs to %s: decode answer: %w", c.base, err)
	}
	return &out, nil
}
