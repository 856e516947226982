package client

// Access control: who the client calls as, users, roles, access keys, the
// first administrator's setup and the audit log.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"
)

const (
	sessionPath    = "/api/v1/session"
	setupPath      = "/api/v1/setup"
	usersPath      = "/api/v1/users"
	rolesPath      = "/api/v1/roles"
	accessKeysPath = "/api/v1/accessKeys"
	auditPath      = "/api/v1/audit"
)

// How a caller authenticated, as Session.Via says.
const (
	ViaAccessKey  = "accessKey"
	ViaSession    = "session"
	ViaAdminToken = "adminToken"
)

// Session says who the client calls as and what it may do.
type Session struct {
	Via string `json:"via"` // ViaAccessKey, ViaSession or ViaAdminToken
	// Capabilities lists what the caller may do ("manageConnections"),
	// those a capability implies included.
	Capabilities []string `json:"capabilities"`
	User         *User    `json:"user"`               // nil for the admin token
	AccessID     string   `json:"accessId,omitempty"` // the access key called with
	// CSRFToken is set for a session: the value its changes must carry in
	// X-CSRF-Token, which a client that signed in sends by itself.
	CSRFToken string `json:"csrfToken,omitempty"`
}

// Can reports whether the caller has the capability.
func (s *Session) Can(capability string) bool { return slices.Contains(s.Capabilities, capability) }

// User is a person who signs in to Hookline, or a program's account. The
// password is never returned: HasPassword says whether one is set.
type User struct {
	ID          string    `json:"id"`
	Email       string    `json:"email"`
	Name        string    `json:"name"`
	RoleIDs     []string  `json:"roleIds"`
	Disabled    bool      `json:"disabled"`
	HasPassword bool      `json:"hasPassword"`
	CreatedAt   time.Time `json:"createdAt,omitzero"`
	ModifiedAt  time.Time `json:"modifiedAt,omitzero"`
}

// Input returns u as a UserInput to edit and send back with UpdateUser;
// its password is kept.
func (u User) Input() UserInput {
	return UserInput{Email: u.Email, Name: u.Name, RoleIDs: slices.Clone(u.RoleIDs), Disabled: u.Disabled}
}

// UserInput is a user to create, or what to store over one: every field is
// written. Password "" sets none on create (the user can use only access
// keys) and keeps the stored one on update. A disabled user can neither
// sign in nor use their access keys.
type UserInput struct {
	Email    string   `json:"email"`
	Name     string   `json:"name"`
	RoleIDs  []string `json:"roleIds"`
	Password string   `json:"password,omitempty"`
	Disabled bool     `json:"disabled"`
}

// Role is a named set of capabilities given to users. The built-in
// Administrator role has every capability and can be neither changed nor
// deleted.
type Role struct {
	ID           string    `json:"id"`
	Name         string    `json:"name"`
	Description  string    `json:"description"`
	Capabilities []string  `json:"capabilities"`
	BuiltIn      bool      `json:"builtIn"`
	CreatedAt    time.Time `json:"createdAt,omitzero"`
	ModifiedAt   time.Time `json:"modifiedAt,omitzero"`
}

// Input returns r as a RoleInput to edit and send back with UpdateRole.
func (r Role) Input() RoleInput {
	return RoleInput{Name: r.Name, Description: r.Description, Capabilities: slices.Clone(r.Capabilities)}
}

// RoleInput is a role to create, or what to store over one.
type RoleInput struct {
	Name         string   `json:"name"`
	Description  string   `json:"description"`
	Capabilities []string `json:"capabilities"`
}

// AccessKey lets a program call the API as a user: the access ID and the
// secret key, sent as HTTP Basic credentials (WithAccessKey).
type AccessKey struct {
	ID         string    `json:"id"` // the access ID: "hk" and 14 letters and digits
	Label      string    `json:"label"`
	UserID     string    `json:"userId"`
	CreatedAt  time.Time `json:"createdAt,omitzero"`
	LastUsedAt time.Time `json:"lastUsedAt,omitzero"` // zero until first used; updated about once a minute
	// Key is the secret, in CreateAccessKey's answer only: the server keeps
	// just its hash, so it cannot be shown again.
	Key string `json:"key,omitempty"`
}

// String names the key without its secret, so that printing or logging
// one with %v or %+v does not leak it.
func (k AccessKey) String() string {
	return fmt.Sprintf("access key %s (%q, user %s)", k.ID, k.Label, k.UserID)
}

// GoString is String, for %#v.
func (k AccessKey) GoString() string { return k.String() }

// Actor is who made a change in the audit log.
type Actor struct {
	Kind     string `json:"kind"`               // "user", "adminToken" or "system"
	ID       string `json:"id,omitempty"`       // the user's ID
	Name     string `json:"name,omitempty"`     // the user's email at the time
	AccessID string `json:"accessId,omitempty"` // the access key the user called with
}

// String names the actor as the server's CreatedBy and ModifiedBy do: a
// user's email, else the kind.
func (a Actor) String() string {
	switch {
	case a.Kind == "user" && a.Name != "":
		return a.Name
	case a.Kind == "user":
		return a.ID
	case a.Kind == "":
		return "system"
	}
	return a.Kind
}

// AuditEvent is one change the audit log records. Before and After are the
// object as it was and became, never holding a secret; Before is null for
// a creation, After for a deletion.
type AuditEvent struct {
	ID         string          `json:"id"`
	Time       time.Time       `json:"time"`
	Actor      Actor           `json:"actor"`
	Action     string          `json:"action"`     // "create", "update", "delete", "signIn", ...
	TargetType string          `json:"targetType"` // "connection", "user", "role", "accessKey", "source"
	TargetID   string          `json:"targetId"`
	TargetName string          `json:"targetName"`
	Before     json.RawMessage `json:"before"`
	After      json.RawMessage `json:"after"`
}

// AuditFilter selects audit events; empty fields select all.
type AuditFilter struct {
	TargetType string // "connection", "user", "role", "accessKey" or "source"
	TargetID   string
	ActorID    string // a user's ID
	Limit      int    // page size, 1..1000; 0 for the server's default
	Token      string // the page after this token; "" for the first
}

// ListOptions pages through a list: at most Limit items (0: the server's
// default) after Token ("" for the first page).
type ListOptions struct {
	Limit int
	Token string
}

func (o ListOptions) query() url.Values {
	q := url.Values{}
	if o.Limit > 0 {
		q.Set("limit", strconv.Itoa(o.Limit))
	}
	if o.Token != "" {
		q.Set("token", o.Token)
	}
	return q
}

// UserList is one page of users, by email; Next is the token of the next
// page, "" after the last.
type UserList struct {
	Data []User `json:"data"`
	Next string `json:"next"`
}

// AccessKeyList is one page of access keys, newest first.
type AccessKeyList struct {
	Data []AccessKey `json:"data"`
	Next string      `json:"next"`
}

// AuditList is one page of audit events, newest first.
type AuditList struct {
	Data []AuditEvent `json:"data"`
	Next string       `json:"next"`
}

// Errors returned before any request for a call that needs an ID.
var (
	errNoUserID = errors.New("user ID is empty")
	errNoRoleID = errors.New("role ID is empty")
	errNoKeyID  = errors.New("access ID is empty")
)

// allPages follows a list's pages from the first to the last.
func allPages[T any](what string, page func(token string) ([]T, string, error)) ([]T, error) {
	var all []T
	seen := map[string]bool{}
	token := ""
	for {
		data, next, err := page(token)
		if err != nil {
			return nil, err
		}
		all = append(all, data...)
		if next == "" {
			return all, nil
		}
		if seen[next] {
			return nil, fmt.Errorf("list %s: the server returned page token %q twice", what, next)
		}
		seen[next] = true
		token = next
	}
}

// --- session ---

// Session returns who the client calls as: how it authenticated, its
// user (nil for the admin token) and its capabilities.
func (c *Client) Session(ctx context.Context) (*Session, error) {
	var out Session
	if err := c.do(ctx, http.MethodGet, sessionPath, nil, nil, &out); err != nil {
		return nil, fmt.Errorf("get session: %w", err)
	}
	return &out, nil
}

// SignOut ends the session SignIn started; the client then sends the
// credentials it was made with again. Only a session can sign out: with an
// access key, revoke the key instead.
func (c *Client) SignOut(ctx context.Context) error {
	err := c.do(ctx, http.MethodDelete, sessionPath, nil, nil, nil)
	var ae *APIError
	if err == nil || errors.As(err, &ae) && ae.Status == http.StatusUnauthorized {
		c.signedOut() // ended now, or already
	}
	if err != nil {
		return fmt.Errorf("sign out: %w", err)
	}
	return nil
}

// ChangePassword changes the calling user's password. It ends the user's
// sessions, this client's too: sign in again with the new password. A
// wrong current password is a 400 *APIError naming "currentPassword".
func (c *Client) ChangePassword(ctx context.Context, current, newPassword string) error {
	in := struct {
		CurrentPassword string `json:"currentPassword"`
		NewPassword     string `json:"newPassword"`
	}{current, newPassword}
	if err := c.do(ctx, http.MethodPut, sessionPath+"/password", nil, in, nil); err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	return nil
}

// Setup creates the first administrator with the one-time setup token
// that "hookline serve" printed in its setup link. Once someone has, it is
// a 409 *APIError.
func (c *Client) Setup(ctx context.Context, token, email, name, password string) (*User, error) {
	in := struct {
		Token    string `json:"token"`
		Email    string `json:"email"`
		Name     string `json:"name"`
		Password string `json:"password"`
	}{token, email, name, password}
	var out User
	if err := c.do(ctx, http.MethodPost, setupPath, nil, in, &out); err != nil {
		return nil, fmt.Errorf("set up the first administrator: %w", err)
	}
	return &out, nil
}

// --- users ---

func userPath(id string) string { return usersPath + "/" + url.PathEscape(id) }

// Users returns one page of users, ordered by email.
func (c *Client) Users(ctx context.Context, opt ListOptions) (*UserList, error) {
	var out UserList
	if err := c.do(ctx, http.MethodGet, usersPath, opt.query(), nil, &out); err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return &out, nil
}

// AllUsers returns every user, following the pages.
func (c *Client) AllUsers(ctx context.Context) ([]User, error) {
	return allPages("users", func(token string) ([]User, string, error) {
		page, err := c.Users(ctx, ListOptions{Token: token})
		if err != nil {
			return nil, "", err
		}
		return page.Data, page.Next, nil
	})
}

// User returns the user with the given ID.
func (c *Client) User(ctx context.Context, id string) (*User, error) {
	if id == "" {
		return nil, fmt.Errorf("get user: %w", errNoUserID)
	}
	var out User
	if err := c.do(ctx, http.MethodGet, userPath(id), nil, nil, &out); err != nil {
		return nil, fmt.Errorf("get user %s: %w", id, err)
	}
	return &out, nil
}

// CreateUser stores a new user. A taken email is a 409 *APIError naming
// "email"; a role that does not exist, a 400 naming "roleIds[i]".
func (c *Client) CreateUser(ctx context.Context, in UserInput) (*User, error) {
	var out User
	if err := c.do(ctx, http.MethodPost, usersPath, nil, in, &out); err != nil {
		return nil, fmt.Errorf("create user: %w", err)
	}
	return &out, nil
}

// UpdateUser stores in over the user with the given ID; in.Password ""
// keeps the stored password. A change that would leave no enabled
// administrator is a 409 *APIError.
func (c *Client) UpdateUser(ctx context.Context, id string, in UserInput) (*User, error) {
	if id == "" {
		return nil, fmt.Errorf("update user: %w", errNoUserID)
	}
	var out User
	if err := c.do(ctx, http.MethodPut, userPath(id), nil, in, &out); err != nil {
		return nil, fmt.Errorf("update user %s: %w", id, err)
	}
	return &out, nil
}

// DeleteUser removes a user with their access keys and sessions.
func (c *Client) DeleteUser(ctx context.Context, id string) error {
	if id == "" {
		return fmt.Errorf("delete user: %w", errNoUserID)
	}
	if err := c.do(ctx, http.MethodDelete, userPath(id), nil, nil, nil); err != nil {
		return fmt.Errorf("delete user %s: %w", id, err)
	}
	return nil
}

// --- roles ---

func rolePath(id string) string { return rolesPath + "/" + url.PathEscape(id) }

// Roles returns every role, Administrator first, then by name.
func (c *Client) Roles(ctx context.Context) ([]Role, error) {
	var out struct {
		Data []Role `json:"data"`
	}
	if err := c.do(ctx, http.MethodGet, rolesPath, nil, nil, &out); err != nil {
		return nil, fmt.Errorf("list roles: %w", err)
	}
	return out.Data, nil
}

// Role returns the role with the given ID.
func (c *Client) Role(ctx context.Context, id string) (*Role, error) {
	if id == "" {
		return nil, fmt.Errorf("get role: %w", errNoRoleID)
	}
	var out Role
	if err := c.do(ctx, http.MethodGet, rolePath(id), nil, nil, &out); err != nil {
		return nil, fmt.Errorf("get role %s: %w", id, err)
	}
	return &out, nil
}

// CreateRole stores a new role. A taken name is a 409 *APIError naming
// "name"; an unknown capability, a 400 naming "capabilities[i]".
func (c *Client) CreateRole(ctx context.Context, in RoleInput) (*Role, error) {
	var out Role
	if err := c.do(ctx, http.MethodPost, rolesPath, nil, in, &out); err != nil {
		return nil, fmt.Errorf("create role: %w", err)
	}
	return &out, nil
}

// UpdateRole stores in over the role with the given ID. The built-in role
// is a 403 *APIError.
func (c *Client) UpdateRole(ctx context.Context, id string, in RoleInput) (*Role, error) {
	if id == "" {
		return nil, fmt.Errorf("update role: %w", errNoRoleID)
	}
	var out Role
	if err := c.do(ctx, http.MethodPut, rolePath(id), nil, in, &out); err != nil {
		return nil, fmt.Errorf("update role %s: %w", id, err)
	}
	return &out, nil
}

// DeleteRole removes a role from its users and deletes it.
func (c *Client) DeleteRole(ctx context.Context, id string) error {
	if id == "" {
		return fmt.Errorf("delete role: %w", errNoRoleID)
	}
	if err := c.do(ctx, http.MethodDelete, rolePath(id), nil, nil, nil); err != nil {
		return fmt.Errorf("delete role %s: %w", id, err)
	}
	return nil
}

// --- access keys ---

// AccessKeys returns one page of access keys, newest first: the caller's
// own for userID "", or the user's (which needs manageUsersAndRoles). The
// admin token, having no keys of its own, lists everyone's for "".
func (c *Client) AccessKeys(ctx context.Context, userID string, opt ListOptions) (*AccessKeyList, error) {
	q := opt.query()
	if userID != "" {
		q.Set("userId", userID)
	}
	var out AccessKeyList
	if err := c.do(ctx, http.MethodGet, accessKeysPath, q, nil, &out); err != nil {
		return nil, fmt.Errorf("list access keys: %w", err)
	}
	return &out, nil
}

// AllAccessKeys returns every access key AccessKeys selects, following the
// pages.
func (c *Client) AllAccessKeys(ctx context.Context, userID string) ([]AccessKey, error) {
	return allPages("access keys", func(token string) ([]AccessKey, string, error) {
		page, err := c.AccessKeys(ctx, userID, ListOptions{Token: token})
		if err != nil {
			return nil, "", err
		}
		return page.Data, page.Next, nil
	})
}

// CreateAccessKey makes a new access key for the caller (userID "") or for
// another user (which needs manageUsersAndRoles; the admin token must name
// one). The answer's Key is the secret, shown this once.
func (c *Client) CreateAccessKey(ctx context.Context, label, userID string) (*AccessKey, error) {
	in := struct {
		Label  string `json:"label"`
		UserID string `json:"userId,omitempty"`
	}{label, userID}
	var out AccessKey
	if err := c.do(ctx, http.MethodPost, accessKeysPath, nil, in, &out); err != nil {
		return nil, fmt.Errorf("create access key: %w", err)
	}
	return &out, nil
}

// DeleteAccessKey revokes an access key: it stops working at once on this
// server (within seconds on others).
func (c *Client) DeleteAccessKey(ctx context.Context, id string) error {
	if id == "" {
		return fmt.Errorf("revoke access key: %w", errNoKeyID)
	}
	if err := c.do(ctx, http.MethodDelete, accessKeysPath+"/"+url.PathEscape(id), nil, nil, nil); err != nil {
		return fmt.Errorf("revoke access key %s: %w", id, err)
	}
	return nil
}

// --- audit log ---

func (f AuditFilter) query() url.Values {
	q := ListOptions{Limit: f.Limit, Token: f.Token}.query()
	for k, v := range map[string]string{"targetType": f.TargetType, "targetId": f.TargetID, "actorId": f.ActorID} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return q
}

// AuditEvents returns one page of the audit events f selects, newest
// first.
func (c *Client) AuditEvents(ctx context.Context, f AuditFilter) (*AuditList, error) {
	var out AuditList
	if err := c.do(ctx, http.MethodGet, auditPath, f.query(), nil, &out); err != nil {
		return nil, fmt.Errorf("list audit events: %w", err)
	}
	return &out, nil
}

// AllAuditEvents returns every audit event f selects, newest first,
// following the pages from f.Token; f.Limit is the page size.
func (c *Client) AllAuditEvents(ctx context.Context, f AuditFilter) ([]AuditEvent, error) {
	first := f.Token
	return allPages("audit events", func(token string) ([]AuditEvent, string, error) {
		f.Token = token
		if token == "" {
			f.Token = first
		}
		page, err := c.AuditEvents(ctx, f)
		if err != nil {
			return nil, "", err
		}
		return page.Data, page.Next, nil
	})
}
