package hookline

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Capability is one thing a role lets its users do. The names are the
// reference product's API identifiers where it has them.
type Capability string

// The capabilities. Manage implies view: a role with ManageConnections may
// also read connections (see Implied).
const (
	ViewConnections     Capability = "viewConnections"
	ManageConnections   Capability = "manageConnections"
	ViewMonitors        Capability = "viewMonitors"
	ManageMonitors      Capability = "manageMonitors"
	ViewAlerts          Capability = "viewAlerts"          // alerts, deliveries and their attempts
	SendAlerts          Capability = "sendAlerts"          // post alerts (API and receivers)
	ManageUsersAndRoles Capability = "manageUsersAndRoles" // users, roles and everyone's access keys
	ViewAuditLog        Capability = "viewAuditLog"
	ManageCollectors    Capability = "manageCollectors" // HTTP sources and their tokens
)

// Capabilities lists every capability, in the order the API shows them.
var Capabilities = []Capability{
	ViewConnections, ManageConnections, ViewMonitors, ManageMonitors,
	ViewAlerts, SendAlerts, ManageUsersAndRoles, ViewAuditLog, ManageCollectors,
}

// Valid reports whether c is one of Capabilities.
func (c Capability) Valid() bool { return slices.Contains(Capabilities, c) }

// Implied returns the capability that c brings along, or "".
func (c Capability) Implied() Capability {
	switch c {
	case ManageConnections:
		return ViewConnections
	case ManageMonitors:
		return ViewMonitors
	}
	return ""
}

// AdministratorRoleID is the ID of the built-in Administrator role, which has
// every capability and can be neither changed nor deleted.
const AdministratorRoleID = "0000000000000001"

// Role is a named set of capabilities given to users.
type Role struct {
	ID           string
	Name         string
	Description  string
	Capabilities []Capability
	BuiltIn      bool

	CreatedAt  time.Time
	ModifiedAt time.Time
}

// MaxRoleNameLen bounds a role's name; its description has the same
// bound as a connection's, MaxDescriptionLen.
const MaxRoleNameLen = 127

// Validate checks a role as it is about to be stored.
func (r *Role) Validate() error {
	var p Problems
	validateName(&p, "name", r.Name, MaxRoleNameLen)
	validateDescription(&p, r.Description)
	for i, c := range r.Capabilities {
		if !c.Valid() {
			p.Add(fmt.Sprintf("capabilities[%d]", i), "%q is not a capability; use one of %s", c, capabilityList())
		}
	}
	return p.Err()
}

func capabilityList() string {
	b, _ := json.Marshal(Capabilities)
	return string(b)
}

// User is a person who signs in to Hookline. PasswordHash is an encoded
// argon2id hash, or "" for a user who can sign in only with access keys;
// it never leaves the server.
type User struct {
	ID           string
	Email        string // unique, compared case-insensitively
	Name         string
	RoleIDs      []string
	PasswordHash string
	Disabled     bool

	CreatedAt  time.Time
	ModifiedAt time.Time
}

// User limits.
const (
	MaxEmailLen       = 254
	MaxUserNameLen    = 127
	MinPasswordLen    = 12
	MaxPasswordLen    = 1024
	MaxAccessKeysUser = 20 // access keys one user may hold
)

// Validate checks a user as it is about to be stored.
func (u *User) Validate() error {
	var p Problems
	validateName(&p, "email", u.Email, MaxEmailLen)
	if strings.TrimSpace(u.Email) != "" && !validEmail(u.Email) {
		p.Add("email", "must be an address such as name@example.com")
	}
	if n := utf8.RuneCountInString(u.Name); n > MaxUserNameLen {
		p.Add("name", "is %d characters long; at most %d are allowed", n, MaxUserNameLen)
	} else if !printable(u.Name) {
		p.Add("name", "must not contain control characters or invalid UTF-8")
	}
	for i, id := range u.RoleIDs {
		if slices.Contains(u.RoleIDs[:i], id) {
			p.Add(fmt.Sprintf("roleIds[%d]", i), "lists role %s twice", id)
		}
	}
	return p.Err()
}

func validEmail(s string) bool {
	at := -1
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c == 0x7f || c == '<' || c == '>' || c == '"' || c == ',' {
			return false
		}
		if c == '@' {
			if at >= 0 {
				return false
			}
			at = i
		}
	}
	return at > 0 && at < len(s)-1
}

// ValidatePassword checks a new password's length; what makes a good
// password beyond that is the user's to judge.
func ValidatePassword(field, pw string) error {
	var p Problems
	switch {
	case utf8.RuneCountInString(pw) < MinPasswordLen:
		p.Add(field, "must be at least %d characters long", MinPasswordLen)
	case len(pw) > MaxPasswordLen:
		p.Add(field, "must be at most %d bytes long", MaxPasswordLen)
	case !utf8.ValidString(pw):
		p.Add(field, "is not valid UTF-8")
	}
	return p.Err()
}

// AccessKey lets a program call the API as a user: an access ID and a
// secret access key sent with HTTP Basic authentication. The store keeps
// only the key's argon2id hash; the key is shown once when created.
type AccessKey struct {
	ID         string // the access ID: "hk" and 14 more letters and digits
	Label      string
	UserID     string
	KeyHash    string
	CreatedAt  time.Time
	LastUsedAt time.Time // zero until first used; recorded at most once a minute
}

// MaxLabelLen bounds an access key's label.
const MaxLabelLen = 127

// Session is a signed-in browser. The cookie holds a random token; the
// store keeps only its SHA-256, TokenHash.
type Session struct {
	TokenHash string // hex SHA-256 of the cookie's token
	UserID    string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Actor is who made a change: recorded in the audit log and as a
// connection's CreatedBy/ModifiedBy.
type Actor struct {
	Kind string `json:"kind"`           // ActorUser, ActorAdminToken or ActorSystem
	ID   string `json:"id,omitempty"`   // the user's ID
	Name string `json:"name,omitempty"` // the user's email at the time
	// AccessID is the access key the user called with, if any.
	AccessID string `json:"accessId,omitempty"`
}

// Actor kinds.
const (
	ActorUser       = "user"
	ActorAdminToken = "adminToken" // HOOKLINE_ADMIN_TOKEN
	ActorSystem     = "system"     // Hookline itself: first start, migrations
)

// String names the actor in CreatedBy and ModifiedBy.
func (a Actor) String() string {
	switch a.Kind {
	case ActorUser:
		return a.Name
	case "":
		return ActorSystem
	}
	return a.Kind
}

type actorKey struct{}

// WithActor returns a context whose changes a store records as made by a.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor WithActor put in ctx, or the system.
func ActorFrom(ctx context.Context) Actor {
	if a, ok := ctx.Value(actorKey{}).(Actor); ok {
		return a
	}
	return Actor{Kind: ActorSystem}
}

// AuditEvent is one change, as the audit log keeps it. Before and After
// are the object's audit view (see AuditView), never holding a secret;
// Before is nil for a creation, After for a deletion.
type AuditEvent struct {
	ID         string
	Time       time.Time
	Actor      Actor
	Action     string // "create", "update", "delete", "signIn", ...
	TargetType string // "connection", "user", "role", "accessKey", "source"; a sign-in's target is the user
	TargetID   string
	TargetName string
	Before     json.RawMessage
	After      json.RawMessage
}

// Audit target types.
const (
	AuditConnection = "connection"
	AuditUser       = "user"
	AuditRole       = "role"
	AuditAccessKey  = "accessKey"
)

// AuditFilter selects audit events; empty fields select all.
type AuditFilter struct {
	TargetType string
	TargetID   string
	ActorID    string
	ListOptions
}

// ConnectionAudit is a connection as the audit log shows it: the secrets
// by name only.
type ConnectionAudit struct {
	Name              string            `json:"name"`
	Description       string            `json:"description"`
	WebhookType       string            `json:"webhookType"`
	URL               string            `json:"url"`
	CustomHeaders     []Header          `json:"customHeaders"`
	DefaultPayload    string            `json:"defaultPayload"`
	ResolutionPayload string            `json:"resolutionPayload,omitempty"`
	Settings          map[string]string `json:"settings,omitempty"`
	SecretsSet        []string          `json:"secretsSet,omitempty"`
}

// AuditView returns c without its secrets' values.
func (c *Connection) AuditView() ConnectionAudit {
	v := ConnectionAudit{
		Name: c.Name, Description: c.Description, WebhookType: c.WebhookType, URL: c.URL,
		CustomHeaders: c.CustomHeaders, DefaultPayload: c.DefaultPayload,
		ResolutionPayload: c.ResolutionPayload, Settings: c.Settings,
	}
	for name := range c.Secrets {
		v.SecretsSet = append(v.SecretsSet, name)
	}
	slices.Sort(v.SecretsSet)
	return v
}

// UserAudit is a user as the audit log shows it: whether a password is
// set, not its hash.
type UserAudit struct {
	Email       string   `json:"email"`
	Name        string   `json:"name"`
	RoleIDs     []string `json:"roleIds"`
	Disabled    bool     `json:"disabled"`
	HasPassword bool     `json:"hasPassword"`
}

// AuditView returns u without its password hash; its roles are a list
// even when it has none, so that before and after compare alike.
func (u *User) AuditView() UserAudit {
	roles := slices.Clone(u.RoleIDs)
	if roles == nil {
		roles = []string{}
	}
	return UserAudit{Email: u.Email, Name: u.Name, RoleIDs: roles, Disabled: u.Disabled, HasPassword: u.PasswordHash != ""}
}

// RoleAudit is a role as the audit log shows it.
type RoleAudit struct {
	Name         string       `json:"name"`
	Description  string       `json:"description"`
	Capabilities []Capability `json:"capabilities"`
}

// AuditView returns r's name, description and capabilities.
func (r *Role) AuditView() RoleAudit {
	caps := slices.Clone(r.Capabilities)
	if caps == nil {
		caps = []Capability{}
	}
	return RoleAudit{Name: r.Name, Description: r.Description, Capabilities: caps}
}

// AccessKeyAudit is an access key as the audit log shows it: never the key
// or its hash.
type AccessKeyAudit struct {
	Label  string `json:"label"`
	UserID string `json:"userId"`
}

// AuditView returns k without its hash.
func (k *AccessKey) AuditView() AccessKeyAudit {
	return AccessKeyAudit{Label: k.Label, UserID: k.UserID}
}

// AccessStore keeps users, roles, access keys, sessions and the audit log.
// Every change to a user, role or access key, and every session created,
// is recorded in the audit log in the change's own transaction, as made by
// ActorFrom(ctx). Connection stores record connection changes the same way.
type AccessStore interface {
	// CreateFirstUser stores u, filling in its ID and times, only when no
	// user exists yet; otherwise it returns ECONFLICT.
	CreateFirstUser(ctx context.Context, u *User) error
	// CreateUser stores u. ECONFLICT naming "email" when the email is
	// taken; EINVALID naming "roleIds" when a role does not exist.
	CreateUser(ctx context.Context, u *User) error
	User(ctx context.Context, id string) (*User, error)
	UserByEmail(ctx context.Context, email string) (*User, error)
	// Users lists users ordered by lower-cased email, then ID.
	Users(ctx context.Context, opt ListOptions) ([]*User, string, error)
	// UpdateUser replaces email, name, roles, password hash and disabled.
	// When the password hash changes, the user's sessions end. ECONFLICT
	// when no enabled administrator would remain.
	UpdateUser(ctx context.Context, u *User) error
	// DeleteUser removes the user, their access keys and sessions.
	// ECONFLICT when it is the last enabled administrator.
	DeleteUser(ctx context.Context, id string) error
	CountUsers(ctx context.Context) (int, error)

	// CreateRole stores r; ECONFLICT naming "name" when the name is taken.
	CreateRole(ctx context.Context, r *Role) error
	Role(ctx context.Context, id string) (*Role, error)
	// Roles lists every role (there are few), Administrator first, then
	// by lower-cased name.
	Roles(ctx context.Context) ([]*Role, error)
	// UpdateRole replaces name, description and capabilities. EFORBIDDEN for
	// the built-in role.
	UpdateRole(ctx context.Context, r *Role) error
	// DeleteRole removes the role from its users and deletes it. EFORBIDDEN
	// for the built-in role.
	DeleteRole(ctx context.Context, id string) error

	// CreateAccessKey stores k (ID, hash and user set by the caller),
	// filling in CreatedAt. ECONFLICT when the user holds MaxAccessKeysUser.
	CreateAccessKey(ctx context.Context, k *AccessKey) error
	AccessKey(ctx context.Context, id string) (*AccessKey, error)
	// AccessKeys lists one user's keys, or everyone's for userID "",
	// newest first.
	AccessKeys(ctx context.Context, userID string, opt ListOptions) ([]*AccessKey, string, error)
	DeleteAccessKey(ctx context.Context, id string) error
	// TouchAccessKey sets LastUsedAt, without an audit event.
	TouchAccessKey(ctx context.Context, id string, at time.Time) error

	// CreateSession stores s, recorded as the user's sign-in.
	CreateSession(ctx context.Context, s *Session) error
	// Session returns the unexpired session with the token hash, or ENOTFOUND.
	Session(ctx context.Context, tokenHash string) (*Session, error)
	// DeleteSession ends a session (sign-out), without an audit event.
	DeleteSession(ctx context.Context, tokenHash string) error

	// AuditEvents lists events newest first.
	AuditEvents(ctx context.Context, f AuditFilter) ([]*AuditEvent, string, error)
}
