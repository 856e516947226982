package http

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/credential"
)

// decodeStrict decodes a JSON object body into v, refusing fields v does
// not have and naming the field of any value of the wrong type.
func decodeStrict(r *http.Request, v any) error {
	body, err := readBody(r, MaxBodyBytes)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err = dec.Decode(v)
	var te *json.UnmarshalTypeError
	switch {
	case err == nil && dec.More():
		return hookline.Errorf(hookline.EINVALID, "The request body holds more than one JSON value.")
	case err == nil:
		return nil
	case errors.As(err, &te) && te.Field != "":
		var p hookline.Problems
		p.Add(te.Field, "must be %s, not %s", jsonKind(te.Type.Kind().String()), te.Value)
		return p.Err()
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		var p hookline.Problems
		name, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		p.Add(name, "is not a field of this request")
		return p.Err()
	}
	return jsonSyntaxError(body, err)
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice":
		return "an array"
	case "struct", "map":
		return "an object"
	}
	return "a number"
}

func timeOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func userJSON(u *hookline.User) map[string]any {
	roles := u.RoleIDs
	if roles == nil {
		roles = []string{}
	}
	return map[string]any{
		"id": u.ID, "email": u.Email, "name": u.Name, "roleIds": roles, "disabled": u.Disabled,
		"hasPassword": u.PasswordHash != "", "createdAt": timeOrNil(u.CreatedAt), "modifiedAt": timeOrNil(u.ModifiedAt),
	}
}

func roleJSON(r *hookline.Role) map[string]any {
	caps := r.Capabilities
	if caps == nil {
		caps = []hookline.Capability{}
	}
	return map[string]any{
		"id": r.ID, "name": r.Name, "description": r.Description, "capabilities": caps, "builtIn": r.BuiltIn,
		"createdAt": timeOrNil(r.CreatedAt), "modifiedAt": timeOrNil(r.ModifiedAt),
	}
}

func accessKeyJSON(k *hookline.AccessKey) map[string]any {
	return map[string]any{
		"id": k.ID, "label": k.Label, "userId": k.UserID,
		"createdAt": timeOrNil(k.CreatedAt), "lastUsedAt": timeOrNil(k.LastUsedAt),
	}
}

// accessChanged empties the cache of verified credentials: a change to a
// user, role or key takes effect on this server's next request.
func (s *Server) accessChanged() { s.auth.clear() }

// --- session ---

type signInRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// signInFailures bounds password guesses per email address: ten, then one
// every thirty seconds.
var signInFailures = limitSpec{Rate: 1.0 / 30, Burst: 10}

// dummyHash is verified against when the email is unknown, so that the
// answer takes as long as for a known one and does not tell which
// addresses have accounts.
// It is made on first use, not at start-up: every hookline command links
// this package, and a hash costs about 20 ms and 19 MB.
var dummyHash = sync.OnceValue(func() string { return credential.Hash("hookline-dummy-password") })

// SessionTTL is how long a sign-in lasts.
const SessionTTL = 12 * time.Hour

func (s *Server) signIn(w http.ResponseWriter, r *http.Request) error {
	if err := crossOrigin.Check(r); err != nil {
		return hookline.Errorf(hookline.EFORBIDDEN, "Cross-origin sign-in refused: %v.", err)
	}
	var in signInRequest
	if err := decodeStrict(r, &in); err != nil {
		return err
	}
	var p hookline.Problems
	if strings.TrimSpace(in.Email) == "" {
		p.Add("email", "is required")
	}
	if in.Password == "" {
		p.Add("password", "is required")
	}
	if err := p.Err(); err != nil {
		return err
	}
	key := "signin:" + strings.ToLower(strings.TrimSpace(in.Email))
	now := time.Now()
	if d, ok := s.limits.peek(key, signInFailures, now); !ok {
		return tooMany(d, "Too many failed sign-ins for this email; try again in %s.", retryText(d))
	}
	fail := func() error {
		s.limits.take(key, signInFailures, now)
		return unauthorized("The email or password is wrong.")
	}
	u, err := s.Access.UserByEmail(r.Context(), strings.TrimSpace(in.Email))
	if hookline.ErrorCode(err) == hookline.ENOTFOUND {
		_, _ = credential.Verify(dummyHash(), in.Password)
		return fail()
	} else if err != nil {
		return err
	}
	hash := u.PasswordHash
	if hash == "" {
		hash = dummyHash()
	}
	ok, err := credential.Verify(hash, in.Password)
	if err != nil {
		return err
	}
	if !ok || u.PasswordHash == "" || u.Disabled {
		return fail()
	}
	token := credential.NewSecret()
	sess := &hookline.Session{TokenHash: hashToken(token), UserID: u.ID, ExpiresAt: now.Add(SessionTTL)}
	ctx := hookline.WithActor(r.Context(), hookline.Actor{Kind: hookline.ActorUser, ID: u.ID, Name: u.Email})
	if err := s.Access.CreateSession(ctx, sess); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{
		Name: s.sessionCookie(r), Value: token, Path: "/", Expires: sess.ExpiresAt,
		HttpOnly: true, Secure: s.secureCookies(r), SameSite: http.SameSiteStrictMode,
	})
	pr, err := s.userPrincipal(r.Context(), u.ID)
	if err != nil {
		return err
	}
	pr.session, pr.csrf = sess.TokenHash, csrfToken(token)
	writeJSON(w, http.StatusOK, s.sessionJSON(r, pr, u))
	return nil
}

func (s *Server) sessionJSON(r *http.Request, p *principal, u *hookline.User) map[string]any {
	caps := []hookline.Capability{}
	for _, c := range hookline.Capabilities {
		if p.can(c) {
			caps = append(caps, c)
		}
	}
	out := map[string]any{"via": p.via(), "capabilities": caps, "user": nil}
	if u != nil {
		out["user"] = userJSON(u)
	}
	if p.actor.AccessID != "" {
		out["accessId"] = p.actor.AccessID
	}
	if p.csrf != "" {
		out["csrfToken"] = p.csrf
	}
	return out
}

func (s *Server) getSession(w http.ResponseWriter, r *http.Request) error {
	if err := noQuery(r); err != nil {
		return err
	}
	p := principalFrom(r)
	var u *hookline.User
	if p.userID != "" {
		var err error
		if u, err = s.Access.User(r.Context(), p.userID); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusOK, s.sessionJSON(r, p, u))
	return nil
}

func (s *Server) signOut(w http.ResponseWriter, r *http.Request) error {
	p := principalFrom(r)
	if p.session == "" {
		return hookline.Errorf(hookline.EINVALID, "Only a browser session can sign out; revoke an access key instead.")
	}
	if err := s.Access.DeleteSession(r.Context(), p.session); err != nil {
		return err
	}
	s.accessChanged()
	http.SetCookie(w, &http.Cookie{Name: s.sessionCookie(r), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: s.secureCookies(r), SameSite: http.SameSiteStrictMode})
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type passwordChange struct {
	CurrentPassword string `json:"currentPassword"`
	NewPassword     string `json:"newPassword"`
}

// changePassword lets users change their own password; it ends their
// other sessions (the store does that when the hash changes).
func (s *Server) changePassword(w http.ResponseWriter, r *http.Request) error {
	p := principalFrom(r)
	if p.userID == "" {
		return hookline.Errorf(hookline.EINVALID, "The admin token has no password; change a user's password with PUT /api/v1/users/{id}.")
	}
	var in passwordChange
	if err := decodeStrict(r, &in); err != nil {
		return err
	}
	u, err := s.Access.User(r.Context(), p.userID)
	if err != nil {
		return err
	}
	if u.PasswordHash != "" {
		ok, err := credential.Verify(u.PasswordHash, in.CurrentPassword)
		if err != nil {
			return err
		}
		if !ok {
			var pr hookline.Problems
			pr.Add("currentPassword", "is wrong")
			return pr.Err()
		}
	}
	if err := hookline.ValidatePassword("newPassword", in.NewPassword); err != nil {
		return err
	}
	u.PasswordHash = credential.Hash(in.NewPassword)
	if err := s.Access.UpdateUser(r.Context(), u); err != nil {
		return err
	}
	s.accessChanged()
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// --- users ---

type userRequest struct {
	Email    string   `json:"email"`
	Name     string   `json:"name"`
	RoleIDs  []string `json:"roleIds"`
	Password *string  `json:"password"` // nil: keep (update) or none (create)
	Disabled bool     `json:"disabled"`
}

func (in *userRequest) apply(u *hookline.User) error {
	u.Email, u.Name, u.RoleIDs, u.Disabled = strings.TrimSpace(in.Email), in.Name, in.RoleIDs, in.Disabled
	if u.RoleIDs == nil {
		u.RoleIDs = []string{}
	}
	var p hookline.Problems
	p.AddError("", u.Validate())
	if in.Password != nil {
		if err := hookline.ValidatePassword("password", *in.Password); err != nil {
			p.AddError("", err)
		} else {
			u.PasswordHash = credential.Hash(*in.Password)
		}
	}
	return p.Err()
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) error {
	opt, err := listOptions(r)
	if err != nil {
		return err
	}
	users, next, err := s.Access.Users(r.Context(), opt)
	if err != nil {
		return err
	}
	data := make([]map[string]any, len(users))
	for i, u := range users {
		data[i] = userJSON(u)
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data, "next": nextOrNil(next)})
	return nil
}

func nextOrNil(next string) any {
	if next == "" {
		return nil
	}
	return next
}

// listOptions reads limit and token, the only parameters of a plain list.
func listOptions(r *http.Request, more ...string) (hookline.ListOptions, error) {
	var p hookline.Problems
	allowed := append([]string{"limit", "token"}, more...)
	q := queryParams(&p, r, allowed, allowed...)
	opt := hookline.ListOptions{Token: q.Get("token")}
	readLimit(&p, q, &opt.Limit)
	return opt, p.Err()
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request) error {
	var in userRequest
	if err := decodeStrict(r, &in); err != nil {
		return err
	}
	u := &hookline.User{}
	if err := in.apply(u); err != nil {
		return err
	}
	if err := s.Access.CreateUser(r.Context(), u); err != nil {
		return err
	}
	s.accessChanged()
	writeJSON(w, http.StatusCreated, userJSON(u))
	return nil
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request) error {
	if err := noQuery(r); err != nil {
		return err
	}
	u, err := s.Access.User(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, userJSON(u))
	return nil
}

func (s *Server) updateUser(w http.ResponseWriter, r *http.Request) error {
	var in userRequest
	if err := decodeStrict(r, &in); err != nil {
		return err
	}
	u, err := s.Access.User(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := in.apply(u); err != nil {
		return err
	}
	if err := s.Access.UpdateUser(r.Context(), u); err != nil {
		return err
	}
	s.accessChanged()
	writeJSON(w, http.StatusOK, userJSON(u))
	return nil
}

func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request) error {
	if err := noQuery(r); err != nil {
		return err
	}
	if err := s.Access.DeleteUser(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	s.accessChanged()
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// --- roles ---

type roleRequest struct {
	Name         string                `json:"name"`
	Description  string                `json:"description"`
	Capabilities []hookline.Capability `json:"capabilities"`
}

func (in *roleRequest) apply(role *hookline.Role) error {
	role.Name, role.Description, role.Capabilities = in.Name, in.Description, in.Capabilities
	if role.Capabilities == nil {
		role.Capabilities = []hookline.Capability{}
	}
	return role.Validate()
}

func (s *Server) listRoles(w http.ResponseWriter, r *http.Request) error {
	if err := noQuery(r); err != nil {
		return err
	}
	roles, err := s.Access.Roles(r.Context())
	if err != nil {
		return err
	}
	data := make([]map[string]any, len(roles))
	for i, role := range roles {
		data[i] = roleJSON(role)
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data})
	return nil
}

func (s *Server) createRole(w http.ResponseWriter, r *http.Request) error {
	var in roleRequest
	if err := decodeStrict(r, &in); err != nil {
		return err
	}
	role := &hookline.Role{}
	if err := in.apply(role); err != nil {
		return err
	}
	if err := s.Access.CreateRole(r.Context(), role); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, roleJSON(role))
	return nil
}

func (s *Server) getRole(w http.ResponseWriter, r *http.Request) error {
	if err := noQuery(r); err != nil {
		return err
	}
	role, err := s.Access.Role(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, roleJSON(role))
	return nil
}

func (s *Server) updateRole(w http.ResponseWriter, r *http.Request) error {
	var in roleRequest
	if err := decodeStrict(r, &in); err != nil {
		return err
	}
	role, err := s.Access.Role(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := in.apply(role); err != nil {
		return err
	}
	if err := s.Access.UpdateRole(r.Context(), role); err != nil {
		return err
	}
	s.accessChanged()
	writeJSON(w, http.StatusOK, roleJSON(role))
	return nil
}

func (s *Server) deleteRole(w http.ResponseWriter, r *http.Request) error {
	if err := noQuery(r); err != nil {
		return err
	}
	if err := s.Access.DeleteRole(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	s.accessChanged()
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// --- access keys ---

type accessKeyRequest struct {
	Label  string `json:"label"`
	UserID string `json:"userId"` // another user's: needs Manage Users and Roles
}

// keyOwner is the user whose keys a request is about: the caller's own,
// or, with Manage Users and Roles, anyone's ("" meaning everyone's for a
// list by the admin token).
func keyOwner(p *principal, userID string) (string, error) {
	if userID == "" || userID == p.userID {
		if p.userID == "" && !p.can(hookline.ManageUsersAndRoles) {
			return "", hookline.Errorf(hookline.EINVALID, "Name the user with userId.")
		}
		return p.userID, nil
	}
	if !p.can(hookline.ManageUsersAndRoles) {
		return "", forbidden(hookline.ManageUsersAndRoles)
	}
	return userID, nil
}

func (s *Server) listAccessKeys(w http.ResponseWriter, r *http.Request) error {
	opt, err := listOptions(r, "userId")
	if err != nil {
		return err
	}
	owner, err := keyOwner(principalFrom(r), r.URL.Query().Get("userId"))
	if err != nil {
		return err
	}
	keys, next, err := s.Access.AccessKeys(r.Context(), owner, opt)
	if err != nil {
		return err
	}
	data := make([]map[string]any, len(keys))
	for i, k := range keys {
		data[i] = accessKeyJSON(k)
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data, "next": nextOrNil(next)})
	return nil
}

func (s *Server) createAccessKey(w http.ResponseWriter, r *http.Request) error {
	var in accessKeyRequest
	if err := decodeStrict(r, &in); err != nil {
		return err
	}
	var p hookline.Problems
	switch n := len([]rune(in.Label)); {
	case strings.TrimSpace(in.Label) == "":
		p.Add("label", "is required: say what uses the key, such as \"alertmanager\"")
	case n > hookline.MaxLabelLen:
		p.Add("label", "is %d characters long; at most %d are allowed", n, hookline.MaxLabelLen)
	}
	if err := p.Err(); err != nil {
		return err
	}
	owner, err := keyOwner(principalFrom(r), in.UserID)
	if err != nil {
		return err
	}
	if owner == "" {
		return hookline.Errorf(hookline.EINVALID, "The admin token has no user of its own: name the key's user with userId.")
	}
	secret := credential.NewSecret()
	k := &hookline.AccessKey{ID: credential.NewAccessID(), Label: strings.TrimSpace(in.Label), UserID: owner, KeyHash: credential.Hash(secret)}
	if err := s.Access.CreateAccessKey(r.Context(), k); err != nil {
		return err
	}
	out := accessKeyJSON(k)
	out["key"] = secret // shown this once
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, out)
	return nil
}

func (s *Server) deleteAccessKey(w http.ResponseWriter, r *http.Request) error {
	if err := noQuery(r); err != nil {
		return err
	}
	k, err := s.Access.AccessKey(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if _, err := keyOwner(principalFrom(r), k.UserID); err != nil {
		return hookline.Errorf(hookline.ENOTFOUND, "Access key %s does not exist.", k.ID) // others' keys are not shown
	}
	if err := s.Access.DeleteAccessKey(r.Context(), k.ID); err != nil {
		return err
	}
	s.accessChanged()
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// --- audit log ---

func (s *Server) listAudit(w http.ResponseWriter, r *http.Request) error {
	opt, err := listOptions(r, "targetType", "targetId", "actorId")
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := hookline.AuditFilter{TargetType: q.Get("targetType"), TargetID: q.Get("targetId"), ActorID: q.Get("actorId"), ListOptions: opt}
	switch f.TargetType {
	case "", hookline.AuditConnection, hookline.AuditUser, hookline.AuditRole, hookline.AuditAccessKey, hookline.AuditSource:
	default:
		var p hookline.Problems
		p.Add("targetType", "must be connection, user, role, accessKey or source, not %q", f.TargetType)
		return p.Err()
	}
	events, next, err := s.Access.AuditEvents(r.Context(), f)
	if err != nil {
		return err
	}
	data := make([]map[string]any, len(events))
	for i, e := range events {
		data[i] = map[string]any{
			"id": e.ID, "time": timeOrNil(e.Time), "actor": e.Actor, "action": e.Action,
			"targetType": e.TargetType, "targetId": e.TargetID, "targetName": e.TargetName,
			"before": rawOrNil(e.Before), "after": rawOrNil(e.After),
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data, "next": nextOrNil(next)})
	return nil
}

func rawOrNil(b json.RawMessage) any {
	if len(b) == 0 {
		return nil
	}
	return b
}
