package http_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	hookhttp "github.com/hookline/hookline/http"
)

// BenchmarkAuthenticatedRead measures one small API read through the whole
// handler (guard, rate limit off, route) with each kind of credential: the
// access key's argon2id check is cached, so it should cost about what the
// admin token's SHA-256 does.
func BenchmarkAuthenticatedRead(b *testing.B) {
	e := newAccessEnv(b, hookhttp.Limits{})
	h := e.srv.Handler()
	for _, c := range []*caller{e.admin, {name: "admin token", bearer: token}} {
		b.Run(c.name, func(b *testing.B) {
			req := httptest.NewRequest("GET", "/api/v1/roles", nil)
			c.sign(req)
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("status %d: %s", w.Code, w.Body)
				}
			}
		})
	}
}
