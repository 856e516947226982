package http

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"html/template"
	"net/http"
	"strings"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/credential"
)

// First start: with no user yet and none given in HOOKLINE_ADMIN_*, the
// server prints a link holding a one-time setup token. Whoever opens it
// creates the first administrator; after that, setup answers 409.

type setupRequest struct {
	Token    string `json:"token"`
	Email    string `json:"email"`
	Name     string `json:"name"`
	Password string `json:"password"`
}

// SetupTokens knows, by their SHA-256, the setup tokens that the servers
// of one database printed.
type SetupTokens interface {
	SetupTokenKnown(ctx context.Context, sum [sha256.Size]byte) (bool, error)
}

// createFirstAdmin checks the setup token and creates the administrator.
func (s *Server) createFirstAdmin(r *http.Request, in setupRequest) (*hookline.User, error) {
	s.setupMu.Lock()
	defer s.setupMu.Unlock()
	if s.SetupTokenHash == ([sha256.Size]byte{}) {
		return nil, hookline.Errorf(hookline.ECONFLICT, "Hookline is set up already: sign in instead.")
	}
	sum := sha256.Sum256([]byte(in.Token))
	if subtle.ConstantTimeCompare(sum[:], s.SetupTokenHash[:]) != 1 {
		known := false
		if s.SetupTokens != nil && in.Token != "" {
			var err error
			if known, err = s.SetupTokens.SetupTokenKnown(r.Context(), sum); err != nil {
				return nil, fmt.Errorf("check setup token: %w", err)
			}
		}
		if !known {
			var p hookline.Problems
			p.Add("token", "is not a setup token of this server or of another on its database: use the link hookline serve printed")
			return nil, p.Err()
		}
	}
	u := &hookline.User{Email: strings.TrimSpace(in.Email), Name: strings.TrimSpace(in.Name), RoleIDs: []string{hookline.AdministratorRoleID}}
	var p hookline.Problems
	p.AddError("", u.Validate())
	p.AddError("", hookline.ValidatePassword("password", in.Password))
	if err := p.Err(); err != nil {
		return nil, err
	}
	u.PasswordHash = credential.Hash(in.Password)
	ctx := hookline.WithActor(r.Context(), hookline.Actor{Kind: hookline.ActorSystem, Name: "setup"})
	if err := s.Access.CreateFirstUser(ctx, u); err != nil {
		return nil, err
	}
	s.SetupTokenHash = [sha256.Size]byte{} // one time: the token is spent
	s.logger().InfoContext(r.Context(), "first administrator created", "user_id", u.ID)
	return u, nil
}

func (s *Server) postSetup(w http.ResponseWriter, r *http.Request) error {
	var in setupRequest
	if err := decodeStrict(r, &in); err != nil {
		return err
	}
	u, err := s.createFirstAdmin(r, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, userJSON(u))
	return nil
}

var setupPage = template.Must(template.New("setup").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Set up Hookline</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem}
label{display:block;margin-top:1rem;font-weight:600}input{width:100%;padding:.5rem;font:inherit;box-sizing:border-box}
button{margin-top:1.5rem;padding:.6rem 1.2rem;font:inherit}.error{color:#a00}code{background:#eee;padding:0 .2rem}</style>
</head><body><main>
{{if .Done}}<h1>Hookline is set up</h1>
<p>{{.Email}} is the administrator. Create an access key for the CLI and API:</p>
<pre><code>hookline keys create --email {{.Email}} --label cli</code></pre>
{{else}}<h1>Set up Hookline</h1>
<p>Create the first administrator. This page works once.</p>
{{with .Error}}<p class="error" role="alert">{{.}}</p>{{end}}
<form method="post" action="/setup">
<input type="hidden" name="token" value="{{.Token}}">
<label for="email">Email</label><input id="email" name="email" type="email" autocomplete="username" required value="{{.Email}}">
<label for="name">Name</label><input id="name" name="name" autocomplete="name" value="{{.Name}}">
<label for="password">Password (at least {{.MinPassword}} characters)</label>
<input id="password" name="password" type="password" autocomplete="new-password" minlength="{{.MinPassword}}" required>
<button type="submit">Create administrator</button>
</form>{{end}}
</main></body></html>
`))

type setupView struct {
	Done                      bool
	Token, Email, Name, Error string
	MinPassword               int
}

func (s *Server) renderSetup(w http.ResponseWriter, status int, v setupView) {
	v.MinPassword = hookline.MinPasswordLen
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
	w.Header().Set("Referrer-Policy", "no-referrer") // the token is in the URL
	w.WriteHeader(status)
	_ = setupPage.Execute(w, v)
}

func (s *Server) setupForm(w http.ResponseWriter, r *http.Request) error {
	s.setupMu.Lock()
	done := s.SetupTokenHash == ([sha256.Size]byte{})
	s.setupMu.Unlock()
	if done {
		return hookline.Errorf(hookline.ENOTFOUND, "Hookline is set up already: sign in instead.")
	}
	s.renderSetup(w, http.StatusOK, setupView{Token: r.URL.Query().Get("token")})
	return nil
}

func (s *Server) setupSubmit(w http.ResponseWriter, r *http.Request) error {
	if err := crossOrigin.Check(r); err != nil {
		return hookline.Errorf(hookline.EFORBIDDEN, "Cross-origin request refused: %v.", err)
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		return hookline.Errorf(hookline.EINVALID, "The form could not be read.")
	}
	in := setupRequest{Token: r.PostForm.Get("token"), Email: r.PostForm.Get("email"), Name: r.PostForm.Get("name"), Password: r.PostForm.Get("password")}
	u, err := s.createFirstAdmin(r, in)
	if err != nil {
		code := hookline.ErrorCode(err)
		if code != hookline.EINVALID {
			return err
		}
		s.renderSetup(w, http.StatusBadRequest, setupView{Token: in.Token, Email: in.Email, Name: in.Name, Error: hookline.ErrorMessage(err)})
		return nil
	}
	s.renderSetup(w, http.StatusCreated, setupView{Done: true, Email: u.Email})
	return nil
}
