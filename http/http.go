// Package http is Hookline's HTTP server: it owns the listener, the route
// table of the REST API under /api/v1, authentication, and the one place
// where application errors become status codes.
package http

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/notify"
)

// MaxBodyBytes bounds every request body the API reads.
const MaxBodyBytes = 1 << 20

// Server serves the API. Fill in the fields, then call Open; Close stops it.
type Server struct {
	Addr     string // host:port to listen on; port 0 picks one
	Store    hookline.ConnectionStore
	Registry *notify.Registry
	Sender   *notify.Sender
	Logger   *slog.Logger

	// Access keeps users, roles, access keys, sessions and the audit log;
	// nil serves only the connection and alert routes, to the admin token.
	Access hookline.AccessStore
	// TokenHash is the SHA-256 of HOOKLINE_ADMIN_TOKEN, a bearer token with
	// every capability; all zero: no admin token.
	TokenHash [sha256.Size]byte
	// SetupTokenHash is the SHA-256 of the one-time token that lets the first
	// administrator be created; all zero once there is one.
	SetupTokenHash [sha256.Size]byte
	// SetupTokens knows the setup tokens other servers of the same database
	// printed, so that a link works on any replica; nil: this server's only.
	SetupTokens SetupTokens
	// PublicURL is the URL people reach the server at, if it is not the
	// listening address (behind a proxy); https there makes cookies Secure.
	PublicURL string
	Limits    Limits // per-credential request rates; zero: none

	Deliveries hookline.DeliveryStore // reads of alerts and deliveries
	Dispatcher Dispatcher             // accepts alerts, replays deliveries
	Metrics    http.Handler           // serves GET /metrics without auth; nil: no route
	// UI serves the web UI's pages and assets under /ui/ without auth (they
	// hold no data: their scripts call the API); nil: no UI.
	UI http.Handler
	// Logs keeps HTTP sources and the records they receive; nil serves
	// neither the receiver nor the Sources API.
	Logs hookline.LogStore
	// Monitors keeps monitors and their evaluation state; nil serves no
	// Monitors API.
	Monitors hookline.MonitorStore
	// ScheduledSearches keeps scheduled searches and their run
	// bookkeeping; nil serves no Scheduled Searches API.
	ScheduledSearches hookline.ScheduledSearchStore

	ln        net.Listener
	server    *http.Server
	done      chan struct{} // closed when Serve returns
	serveErr  error         // what Serve returned, once done is closed
	closeOnce sync.Once
	closeErr  error

	indexMu sync.Mutex
	index   *connectionIndex // every connection, for resolving alerts' notifications
	indexAt time.Time

	auth    authCache // principals recently verified
	limits  limiters  // request rates per credential, sign-in failures
	setupMu sync.Mutex
}

// Open starts listening and serving in the background.
func (s *Server) Open() error {
	ln, err := net.Listen("tcp", s.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.Addr, err)
	}
	s.ln = ln
	attempt := notify.DefaultTimeout
	if s.Sender != nil && s.Sender.Timeout > 0 {
		attempt = s.Sender.Timeout
	}
	s.server = &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		// Testing both payloads may wait for two slow targets in a row; a
		// search may read records for searchTimeout.
		WriteTimeout:   max(2*attempt, searchTimeout) + 15*time.Second,
		IdleTimeout:    2 * time.Minute,
		MaxHeaderBytes: 64 << 10,
		ErrorLog:       slog.NewLogLogger(s.logger().Handler(), slog.LevelWarn),
	}
	s.done = make(chan struct{})
	go func() {
		s.serveErr = s.server.Serve(ln)
		close(s.done)
	}()
	return nil
}

func (s *Server) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

// URL is the base URL the server answers on, or "" before Open.
func (s *Server) URL() string {
	if s.ln == nil {
		return ""
	}
	return "http://" + s.ln.Addr().String()
}

// Done is closed when the server stops serving, after Close or because
// serving failed; Err then says why.
func (s *Server) Done() <-chan struct{} { return s.done }

// Err is why the server stopped serving: nil after Close, the failure
// otherwise. Call it once Done is closed.
func (s *Server) Err() error {
	if errors.Is(s.serveErr, http.ErrServerClosed) {
		return nil
	}
	return s.serveErr
}

// Close stops accepting requests and waits for those in flight, up to ctx.
// Calling it again returns the first call's result.
func (s *Server) Close(ctx context.Context) error {
	if s.server == nil {
		return nil
	}
	s.closeOnce.Do(func() {
		err := s.server.Shutdown(ctx)
		<-s.done
		if err == nil {
			err = s.Err()
		}
		s.closeErr = err
	})
	return s.closeErr
}

// Route is one route of the API and who may call it.
type Route struct {
	Pattern    string              // method and path, as http.ServeMux takes them
	Capability hookline.Capability // needed to call it; "" for any signed-in caller
	Public     bool                // no sign-in needed
	Alert      bool                // counted against the alert rate, not the API rate

	h handlerFunc
}

// Routes lists every route Handler serves.
func (s *Server) Routes() []Route {
	rt := func(pattern string, c hookline.Capability, h handlerFunc) Route {
		return Route{Pattern: pattern, Capability: c, h: h}
	}
	routes := []Route{
		rt("GET /api/v1/connections", hookline.ViewConnections, s.listConnections),
		rt("POST /api/v1/connections", hookline.ManageConnections, s.createConnection),
		rt("POST /api/v1/connections/test", hookline.ManageConnections, s.testDefinition),
		rt("GET /api/v1/connections/types", hookline.ViewConnections, s.connectionTypes),
		rt("GET /api/v1/connections/{id}", hookline.ViewConnections, s.getConnection),
		rt("PUT /api/v1/connections/{id}", hookline.ManageConnections, s.updateConnection),
		rt("DELETE /api/v1/connections/{id}", hookline.ManageConnections, s.deleteConnection),
		rt("POST /api/v1/connections/{id}/test", hookline.ManageConnections, s.testConnection),
		{Pattern: "POST /api/v1/alerts", Capability: hookline.SendAlerts, Alert: true, h: s.postAlerts},
		rt("GET /api/v1/alerts", hookline.ViewAlerts, s.listAlerts),
		rt("GET /api/v1/alerts/{id}", hookline.ViewAlerts, s.getAlert),
		rt("GET /api/v1/deliveries", hookline.ViewAlerts, s.listDeliveries),
		rt("GET /api/v1/deliveries/stats", hookline.ViewAlerts, s.deliveryStats),
		rt("GET /api/v1/deliveries/latest", hookline.ViewAlerts, s.latestDeliveries),
		rt("GET /api/v1/deliveries/{id}", hookline.ViewAlerts, s.getDelivery),
		// A retry sends to a target again, as a test does.
		rt("POST /api/v1/deliveries/{id}/retry", hookline.ManageConnections, s.retryDelivery),
		{Pattern: "POST /api/v1/receivers/alertmanager", Capability: hookline.SendAlerts, Alert: true, h: s.alertmanagerReceiver},
	}
	if s.UI != nil {
		routes = append(routes,
			Route{Pattern: "GET /ui/", Public: true, h: s.serveUI},
			Route{Pattern: "GET /{$}", Public: true, h: redirectToUI})
	}
	routes = append(routes,
		rt("GET /api/v1/payload/variables", "", s.payloadVariables),
		rt("POST /api/v1/payload/preview", "", s.payloadPreview))
	if s.Logs != nil {
		routes = append(routes,
			// The token in the path is the credential; the handler checks it.
			Route{Pattern: "POST " + receiverPrefix + "{token}", Public: true, h: s.receiveHTTP},
			rt("GET /api/v1/sources", hookline.ManageCollectors, s.listSources),
			rt("POST /api/v1/sources", hookline.ManageCollectors, s.createSource),
			rt("GET /api/v1/sources/{id}", hookline.ManageCollectors, s.getSource),
			rt("PUT /api/v1/sources/{id}", hookline.ManageCollectors, s.updateSource),
			rt("DELETE /api/v1/sources/{id}", hookline.ManageCollectors, s.deleteSource),
			rt("POST /api/v1/sources/{id}/token", hookline.ManageCollectors, s.rotateSourceToken),
			// Searching reads what monitors read; see search.go.
			rt("POST /api/v1/search", hookline.ViewMonitors, s.search))
	}
	if s.Monitors != nil {
		routes = append(routes,
			rt("GET /api/v1/monitors", hookline.ViewMonitors, s.listMonitors),
			rt("POST /api/v1/monitors", hookline.ManageMonitors, s.createMonitor),
			rt("GET /api/v1/monitors/{id}", hookline.ViewMonitors, s.getMonitor),
			rt("PUT /api/v1/monitors/{id}", hookline.ManageMonitors, s.updateMonitor),
			rt("DELETE /api/v1/monitors/{id}", hookline.ManageMonitors, s.deleteMonitor))
	}
	if s.ScheduledSearches != nil {
		routes = append(routes,
			rt("GET /api/v1/scheduledSearches", hookline.ViewMonitors, s.listScheduledSearches),
			rt("POST /api/v1/scheduledSearches", hookline.ManageMonitors, s.createScheduledSearch),
			rt("GET /api/v1/scheduledSearches/{id}", hookline.ViewMonitors, s.getScheduledSearch),
			rt("PUT /api/v1/scheduledSearches/{id}", hookline.ManageMonitors, s.updateScheduledSearch),
			rt("DELETE /api/v1/scheduledSearches/{id}", hookline.ManageMonitors, s.deleteScheduledSearch))
	}
	if s.Access == nil {
		return routes
	}
	return append(routes,
		Route{Pattern: "POST /api/v1/session", Public: true, h: s.signIn},
		rt("GET /api/v1/session", "", s.getSession),
		rt("DELETE /api/v1/session", "", s.signOut),
		rt("PUT /api/v1/session/password", "", s.changePassword),
		Route{Pattern: "POST /api/v1/setup", Public: true, h: s.postSetup},
		Route{Pattern: "GET /setup", Public: true, h: s.setupForm},
		Route{Pattern: "POST /setup", Public: true, h: s.setupSubmit},
		// Own keys need nothing more; others' need Manage Users and Roles,
		// which the handlers check.
		rt("GET /api/v1/accessKeys", "", s.listAccessKeys),
		rt("POST /api/v1/accessKeys", "", s.createAccessKey),
		rt("DELETE /api/v1/accessKeys/{id}", "", s.deleteAccessKey),
		rt("GET /api/v1/users", hookline.ManageUsersAndRoles, s.listUsers),
		rt("POST /api/v1/users", hookline.ManageUsersAndRoles, s.createUser),
		rt("GET /api/v1/users/{id}", hookline.ManageUsersAndRoles, s.getUser),
		rt("PUT /api/v1/users/{id}", hookline.ManageUsersAndRoles, s.updateUser),
		rt("DELETE /api/v1/users/{id}", hookline.ManageUsersAndRoles, s.deleteUser),
		rt("GET /api/v1/roles", "", s.listRoles),
		rt("POST /api/v1/roles", hookline.ManageUsersAndRoles, s.createRole),
		rt("GET /api/v1/roles/{id}", "", s.getRole),
		rt("PUT /api/v1/roles/{id}", hookline.ManageUsersAndRoles, s.updateRole),
		rt("DELETE /api/v1/roles/{id}", hookline.ManageUsersAndRoles, s.deleteRole),
		rt("GET /api/v1/audit", hookline.ViewAuditLog, s.listAudit),
	)
}

func (s *Server) serveUI(w http.ResponseWriter, r *http.Request) error {
	s.UI.ServeHTTP(w, r)
	return nil
}

func redirectToUI(w http.ResponseWriter, r *http.Request) error {
	http.Redirect(w, r, "/ui/", http.StatusFound)
	return nil
}

// Handler returns the whole route table.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range s.Routes() {
		if rt.Public {
			mux.Handle(rt.Pattern, s.handle(rt.h))
		} else {
			mux.Handle(rt.Pattern, s.handle(s.guard(rt)))
		}
	}
	if s.Metrics != nil {
		// Without auth, as Prometheus scrapes: it shows counts by connection
		// ID, never a secret or a payload.
		mux.Handle("GET /metrics", s.Metrics)
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	return s.logRequests(s.routeErrors(mux))
}

// guard admits a request to rt: it finds who calls (401 if no one), counts
// the call against their rate (429), checks a browser's CSRF token (403)
// and the route's capability (403), then runs the handler as them.
func (s *Server) guard(rt Route) handlerFunc {
	spec, class := s.Limits.API, "api"
	if rt.Alert {
		spec, class = s.Limits.Alert, "alert"
	}
	return func(w http.ResponseWriter, r *http.Request) error {
		p, err := s.authenticate(r)
		if err != nil {
			return err
		}
		if d, ok := s.limits.take(class+"|"+p.limitKey(), spec, time.Now()); !ok {
			return tooMany(d, "Too many requests: this credential may make %g %s requests a second; try again in %s.", spec.Rate, class, retryText(d))
		}
		if err := checkCSRF(r, p); err != nil {
			return err
		}
		if !p.can(rt.Capability) {
			return forbidden(rt.Capability)
		}
		ctx := context.WithValue(r.Context(), principalKey{}, p)
		return rt.h(w, r.WithContext(hookline.WithActor(ctx, p.actor)))
	}
}

// routeErrors answers requests no route takes with the API's JSON errors:
// 405 with Allow when the path exists for other methods, 404 otherwise.
func (s *Server) routeErrors(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		var allow []string
		for _, m := range []string{"GET", "POST", "PUT", "DELETE"} {
			probe := r.Clone(r.Context())
			probe.Method = m
			if _, pattern := mux.Handler(probe); pattern != "" {
				allow = append(allow, m)
			}
		}
		if len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			s.writeError(w, r, hookline.Errorf(hookline.EMETHOD, "%s is not allowed on %s; use %s.", r.Method, r.URL.Path, strings.Join(allow, " or ")))
			return
		}
		s.writeError(w, r, hookline.Errorf(hookline.ENOTFOUND, "No route %s %s.", r.Method, r.URL.Path))
	})
}

// handlerFunc is an API handler: it writes a success answer itself and
// returns an error for everything else, which handle renders.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

func (s *Server) handle(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

// statusWriter remembers the status for the request log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		// Only method, path and outcome: queries and bodies may carry data
		// the user did not mean for logs.
		s.logger().LogAttrs(r.Context(), slog.LevelInfo, "http request",
			slog.String("method", r.Method), slog.String("path", logPath(r)),
			slog.Int("status", sw.status), slog.Duration("duration", time.Since(start)))
	})
}

// logPath is the request's path as logs show it: without the token of an
// HTTP source's URL, which is that source's credential.
func logPath(r *http.Request) string {
	if strings.HasPrefix(r.URL.Path, receiverPrefix) {
		return receiverPrefix + "…"
	}
	return r.URL.Path
}

// statusOf maps each application error code to one HTTP status.
var statusOf = map[string]int{
	hookline.EINVALID:      http.StatusBadRequest,
	hookline.EUNAUTHORIZED: http.StatusUnauthorized,
	hookline.EFORBIDDEN:    http.StatusForbidden,
	hookline.ENOTFOUND:     http.StatusNotFound,
	hookline.EMETHOD:       http.StatusMethodNotAllowed,
	hookline.ECONFLICT:     http.StatusConflict,
	hookline.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	hookline.ETOOMANY:      http.StatusTooManyRequests,
	hookline.EUNAVAILABLE:  http.StatusServiceUnavailable,
	hookline.EINTERNAL:     http.StatusInternalServerError,
}

// ErrorResponse is the body of every error answer.
type ErrorResponse struct {
	Status  int          `json:"status"`
	Code    string       `json:"code"`
	Message string       `json:"message"`
	Errors  []ErrorEntry `json:"errors"`
}

// ErrorEntry is one problem; Field names the input field for invalid input.
type ErrorEntry struct {
	Code    string `json:"code"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code := hookline.ErrorCode(err)
	status, ok := statusOf[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	if code == hookline.EINTERNAL {
		// The cause goes to the log; the user sees a message that leaks nothing.
		s.logger().ErrorContext(r.Context(), "request failed", "method", r.Method, "path", logPath(r), "err", err)
	}
	switch code {
	case hookline.EUNAUTHORIZED:
		// A source's token is in its URL: there is nothing to challenge for.
		if !strings.HasPrefix(r.URL.Path, receiverPrefix) {
			w.Header().Set("WWW-Authenticate", challenge(r))
		}
	case hookline.ETOOMANY:
		var rl *rateLimited
		if errors.As(err, &rl) {
			w.Header().Set("Retry-After", strconv.Itoa(retrySeconds(rl.retryAfter)))
		}
	}
	resp := ErrorResponse{Status: status, Code: code, Message: hookline.ErrorMessage(err)}
	var e *hookline.Error
	if errors.As(err, &e) && len(e.Fields) > 0 {
		for _, f := range e.Fields {
			resp.Errors = append(resp.Errors, ErrorEntry{Code: code, Field: f.Field, Message: f.Message})
		}
	} else {
		resp.Errors = []ErrorEntry{{Code: code, Message: resp.Message}}
	}
	writeJSON(w, status, resp)
}

// challenge is the WWW-Authenticate of a 401. Programs get the Basic
// challenge for access keys. A browser meets a Basic challenge with a
// password dialog of its own over the page (the web UI's first call when
// nobody is signed in would open one), so a request the browser made by
// itself, which says so with Sec-Fetch-Mode and carries no Authorization,
// gets a scheme browsers do not prompt for.
func challenge(r *http.Request) string {
	if r.Header.Get("Sec-Fetch-Mode") != "" && r.Header.Get("Authorization") == "" {
		return `Session realm="hookline"`
	}
	return `Basic realm="hookline", charset="UTF-8"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v) // the client went away; nothing to do
}
