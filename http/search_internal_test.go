package http

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/keyring"
	"github.com/hookline/hookline/sqlite"
)

// TestSearchTimeout shortens the server's bound on a search: the answer is
// a 503 that says what to narrow, not a generic failure.
func TestSearchTimeout(t *testing.T) {
	kr, err := keyring.New(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "hookline.db"), kr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	old := searchTimeout
	searchTimeout = time.Nanosecond
	t.Cleanup(func() { searchTimeout = old })

	s := &Server{Logs: db}
	w := httptest.NewRecorder()
	r := httptest.NewRequest("POST", "/api/v1/search", strings.NewReader(`{"query": "error"}`))
	s.handle(s.search).ServeHTTP(w, r)
	var body ErrorResponse
	json.Unmarshal(w.Body.Bytes(), &body)
	if w.Code != http.StatusServiceUnavailable || body.Code != "unavailable" || !strings.Contains(body.Message, "did not finish within") {
		t.Errorf("%d %s; want 503 saying the search timed out", w.Code, w.Body)
	}
}
