package http

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/credential"
)

// A request is made by a principal: a user calling with an access key or a
// browser session, or whoever holds HOOKLINE_ADMIN_TOKEN.
type principal struct {
	actor  hookline.Actor
	caps   map[hookline.Capability]bool
	userID string // "" for the admin token
	// session is the hash of the session token, for sessions only; csrf is
	// the token a session's unsafe requests must echo in X-CSRF-Token.
	session string
	csrf    string
}

func (p *principal) can(c hookline.Capability) bool { return c == "" || p.caps[c] }

// via says how the principal signed in.
func (p *principal) via() string {
	switch {
	case p.actor.Kind == hookline.ActorAdminToken:
		return "adminToken"
	case p.session != "":
		return "session"
	}
	return "accessKey"
}

// limitKey names the principal's rate-limit bucket: one per access key,
// one per user's sessions, one for the admin token.
func (p *principal) limitKey() string {
	switch {
	case p.actor.AccessID != "":
		return "key:" + p.actor.AccessID
	case p.userID != "":
		return "user:" + p.userID
	}
	return "admin"
}

type principalKey struct{}

func principalFrom(r *http.Request) *principal {
	p, _ := r.Context().Value(principalKey{}).(*principal)
	return p
}

func capsOf(roles []*hookline.Role, ids []string) map[hookline.Capability]bool {
	caps := map[hookline.Capability]bool{}
	for _, r := range roles {
		if !slices.Contains(ids, r.ID) {
			continue
		}
		for _, c := range r.Capabilities {
			caps[c] = true
			if im := c.Implied(); im != "" {
				caps[im] = true
			}
		}
	}
	return caps
}

func allCaps() map[hookline.Capability]bool {
	caps := map[hookline.Capability]bool{}
	for _, c := range hookline.Capabilities {
		caps[c] = true
	}
	return caps
}

// sessionCookie is the cookie's name: with the __Host- prefix when it is
// Secure, so that the browser binds it to this host and path "/".
func (s *Server) sessionCookie(r *http.Request) string {
	if s.secureCookies(r) {
		return "__Host-hookline_session"
	}
	return "hookline_session"
}

// secureCookies says whether cookies get the Secure flag: always behind an
// https public URL or on TLS; on plain http only when the request is for a
// loopback host, where browsers would refuse Secure cookies and nothing
// travels over a network.
func (s *Server) secureCookies(r *http.Request) bool {
	if s.PublicURL != "" {
		return strings.HasPrefix(s.PublicURL, "https://")
	}
	if r.TLS != nil {
		return true
	}
	host := r.Host
	if h, _, ok := strings.Cut(host, ":"); ok && !strings.HasPrefix(host, "[") {
		host = h
	}
	return !(host == "localhost" || strings.HasPrefix(host, "127.") || strings.HasPrefix(host, "[::1]"))
}

// csrfToken is derived from the session token, which only the browser's
// HttpOnly cookie holds, so it needs no storage and differs per session.
func csrfToken(sessionToken string) string {
	sum := sha256.Sum256([]byte("hookline-csrf\x00" + sessionToken))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// authCacheTTL bounds how long a verified access key or session is
// trusted without reading the store again: a key revoked, a user disabled
// or a role changed on another replica takes effect within it. Changes made
// through this server take effect at once (the cache is emptied).
const authCacheTTL = 5 * time.Second

// authCache remembers principals recently verified, so that an access key's
// argon2id hash is checked once, not on every request.
type authCache struct {
	mu      sync.Mutex
	entries map[string]authEntry
}

type authEntry struct {
	digest  [sha256.Size]byte // SHA-256 of the secret that was verified
	p       *principal
	expires time.Time
}

const maxAuthEntries = 10_000

func (c *authCache) get(key string, secret string, now time.Time) *principal {
	c.mu.Lock()
	e, ok := c.entries[key]
	c.mu.Unlock()
	if !ok || now.After(e.expires) {
		return nil
	}
	sum := sha256.Sum256([]byte(secret))
	if subtle.ConstantTimeCompare(sum[:], e.digest[:]) != 1 {
		return nil
	}
	return e.p
}

func (c *authCache) put(key, secret string, p *principal, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) >= maxAuthEntries {
		c.entries = map[string]authEntry{}
	}
	c.entries[key] = authEntry{digest: sha256.Sum256([]byte(secret)), p: p, expires: now.Add(authCacheTTL)}
}

func (c *authCache) clear() {
	c.mu.Lock()
	c.entries = nil
	c.mu.Unlock()
}

// authenticate finds the request's principal: from the Authorization
// header (Basic with an access key, or Bearer with the admin token) or,
// without one, from the session cookie. It answers 401 when there is none.
func (s *Server) authenticate(r *http.Request) (*principal, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, _, _ := strings.Cut(h, " ")
		switch {
		case strings.EqualFold(scheme, "Basic"):
			id, key, ok := r.BasicAuth()
			if !ok {
				return nil, unauthorized("The Basic credentials are not valid base64 of \"accessId:accessKey\".")
			}
			return s.accessKeyPrincipal(r.Context(), id, key)
		case strings.EqualFold(scheme, "Bearer"):
			token, _ := bearerToken(r)
			return s.adminTokenPrincipal(token)
		}
		return nil, unauthorized("The Authorization scheme %q is not supported; use Basic with an access key.", scheme)
	}
	if c, err := r.Cookie(s.sessionCookie(r)); err == nil && c.Value != "" {
		return s.sessionPrincipal(r.Context(), c.Value)
	}
	return nil, unauthorized("Authentication required: send an access key as HTTP Basic credentials (accessId:accessKey), or sign in.")
}

// errUnauthorized is a 401; the handler adds the WWW-Authenticate header.
func unauthorized(format string, args ...any) error {
	return hookline.Errorf(hookline.EUNAUTHORIZED, format, args...)
}

func (s *Server) adminTokenPrincipal(token string) (*principal, error) {
	if s.TokenHash == ([sha256.Size]byte{}) {
		return nil, unauthorized("Bearer tokens are not accepted: this server has no admin token (HOOKLINE_ADMIN_TOKEN). Use an access key.")
	}
	sum := sha256.Sum256([]byte(token))
	if subtle.ConstantTimeCompare(sum[:], s.TokenHash[:]) != 1 {
		return nil, unauthorized("The token is not valid.")
	}
	return &principal{actor: hookline.Actor{Kind: hookline.ActorAdminToken}, caps: allCaps()}, nil
}

// keyFailures bounds wrong keys tried for one access ID: a hash check
// costs tens of milliseconds of CPU, which an unbounded guesser could
// spend for us. Ten tries, then one every six seconds.
var keyFailures = limitSpec{Rate: 1.0 / 6, Burst: 10}

func (s *Server) accessKeyPrincipal(ctx context.Context, id, key string) (*principal, error) {
	if !credential.ValidAccessID(id) || key == "" || s.Access == nil {
		return nil, unauthorized("The access ID or access key is not valid.")
	}
	now := time.Now()
	if p := s.auth.get("key:"+id, key, now); p != nil {
		return p, nil
	}
	if d, ok := s.limits.peek("authfail:"+id, keyFailures, now); !ok {
		return nil, tooMany(d, "Too many wrong access keys for access ID %s; try again in %s.", id, retryText(d))
	}
	k, err := s.Access.AccessKey(ctx, id)
	if hookline.ErrorCode(err) == hookline.ENOTFOUND {
		return nil, unauthorized("The access ID or access key is not valid.")
	} else if err != nil {
		return nil, err
	}
	ok, err := credential.Verify(k.KeyHash, key)
	if err != nil {
		return nil, err
	}
	if !ok {
		s.limits.take("authfail:"+id, keyFailures, now)
		return nil, unauthorized("The access ID or access key is not valid.")
	}
	p, err := s.userPrincipal(ctx, k.UserID)
	if err != nil {
		return nil, err
	}
	p.actor.AccessID = id
	s.auth.put("key:"+id, key, p, now)
	// Recorded at most once a minute (and once per cache period), not on
	// every request: a write per call would cost more than the call.
	if now.Sub(k.LastUsedAt) > time.Minute {
		if err := s.Access.TouchAccessKey(ctx, id, now); err != nil {
			s.logger().WarnContext(ctx, "record access key use", "access_id", id, "err", err)
		}
	}
	return p, nil
}

func (s *Server) sessionPrincipal(ctx context.Context, token string) (*principal, error) {
	if s.Access == nil || len(token) > 128 {
		return nil, unauthorized("The session is not valid; sign in again.")
	}
	now := time.Now()
	hash := hashToken(token)
	if p := s.auth.get("session:"+hash, token, now); p != nil {
		return p, nil
	}
	sess, err := s.Access.Session(ctx, hash)
	if hookline.ErrorCode(err) == hookline.ENOTFOUND {
		return nil, unauthorized("The session has ended; sign in again.")
	} else if err != nil {
		return nil, err
	}
	p, err := s.userPrincipal(ctx, sess.UserID)
	if err != nil {
		return nil, err
	}
	p.session, p.csrf = hash, csrfToken(token)
	s.auth.put("session:"+hash, token, p, now)
	return p, nil
}

// userPrincipal loads a user and the capabilities of their roles.
func (s *Server) userPrincipal(ctx context.Context, userID string) (*principal, error) {
	u, err := s.Access.User(ctx, userID)
	if hookline.ErrorCode(err) == hookline.ENOTFOUND {
		return nil, unauthorized("The user of these credentials no longer exists.")
	} else if err != nil {
		return nil, err
	}
	if u.Disabled {
		return nil, unauthorized("The user %s is disabled.", u.Email)
	}
	roles, err := s.Access.Roles(ctx)
	if err != nil {
		return nil, err
	}
	return &principal{
		actor:  hookline.Actor{Kind: hookline.ActorUser, ID: u.ID, Name: u.Email},
		caps:   capsOf(roles, u.RoleIDs),
		userID: u.ID,
	}, nil
}

func bearerToken(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// crossOrigin refuses cross-site browser requests (by Sec-Fetch-Site and
// Origin, the standard library's rules) that carry a session cookie.
var crossOrigin = http.NewCrossOriginProtection()

// checkCSRF guards a session's unsafe requests twice: the browser must say
// the request is same-origin, and it must echo the session's CSRF token,
// which a page of another origin cannot read.
func checkCSRF(r *http.Request, p *principal) error {
	if p.session == "" {
		return nil // access keys and tokens are not sent by browsers on their own
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return nil
	}
	if err := crossOrigin.Check(r); err != nil {
		return hookline.Errorf(hookline.EFORBIDDEN, "Cross-origin request refused: %v.", err)
	}
	got := r.Header.Get("X-CSRF-Token")
	if subtle.ConstantTimeCompare([]byte(got), []byte(p.csrf)) != 1 {
		return hookline.Errorf(hookline.EFORBIDDEN, "The X-CSRF-Token header is missing or wrong: send the csrfToken that signing in (or GET /api/v1/session) returned.")
	}
	return nil
}

// capabilityNames are the capabilities as the reference product's UI
// names them, for messages.
var capabilityNames = map[hookline.Capability]string{
	hookline.ViewConnections:     "View Connections",
	hookline.ManageConnections:   "Manage Connections",
	hookline.ViewMonitors:        "View Monitors",
	hookline.ManageMonitors:      "Manage Monitors",
	hookline.ViewAlerts:          "View Alerts",
	hookline.SendAlerts:          "Send Alerts",
	hookline.ManageUsersAndRoles: "Manage Users and Roles",
	hookline.ViewAuditLog:        "View Audit Log",
	hookline.ManageCollectors:    "Manage Collectors",
}

func forbidden(need hookline.Capability) error {
	return hookline.Errorf(hookline.EFORBIDDEN, "This needs the %s capability (%s), which none of your roles has.", capabilityNames[need], need)
}
