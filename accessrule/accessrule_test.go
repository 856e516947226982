package accessrule_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/accessrule"
)

// fields returns the code of err and the fields it names.
func fields(err error) (string, []string) {
	var e *hookline.Error
	if !errors.As(err, &e) {
		return "", nil
	}
	var names []string
	for _, f := range e.Fields {
		names = append(names, f.Field)
	}
	return e.Code, names
}

func user(roles []string, disabled bool) *hookline.User {
	return &hookline.User{ID: "0123456789ABCDEF", Email: "ann@example.com", Name: "Ann",
		RoleIDs: roles, Disabled: disabled}
}

var admin = []string{hookline.AdministratorRoleID}

func TestValidateUser(t *testing.T) {
	tests := []struct {
		name   string
		u      *hookline.User
		first  bool
		fields []string // nil: valid
	}{
		{"any user", user(nil, true), false, nil},
		{"first administrator", user(admin, false), true, nil},
		{"first without the role", user(nil, false), true, []string{"roleIds"}},
		{"first disabled", user(admin, true), true, []string{"disabled"}},
		{"first neither", user(nil, true), true, []string{"roleIds", "disabled"}},
		{"invalid before first rules", &hookline.User{Email: "", RoleIDs: nil}, true, []string{"email"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := accessrule.ValidateUser(tt.u, tt.first)
			if tt.fields == nil {
				if err != nil {
					t.Fatalf("ValidateUser: %v", err)
				}
				return
			}
			code, got := fields(err)
			if code != hookline.EINVALID || !slices.Equal(got, tt.fields) {
				t.Errorf("ValidateUser: %v (fields %v); want EINVALID naming %v", err, got, tt.fields)
			}
		})
	}
}

func TestLastAdmin(t *testing.T) {
	old := user(admin, false)
	tests := []struct {
		name    string
		old     *hookline.User
		updated *hookline.User // nil: deleted
		removes bool
		field   string
		msg     string
	}{
		{"deleted", old, nil, true, "", "before deleting them"},
		{"disabled", old, user(admin, true), true, "disabled", "before disabling them"},
		{"role removed", old, user([]string{"OTHER"}, false), true, "roleIds", "before removing their Administrator role"},
		{"kept", old, user(admin, false), false, "", ""},
		{"not an administrator", user(nil, false), nil, false, "", ""},
		{"disabled administrator", user(admin, true), nil, false, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := accessrule.RemovesAdmin(tt.old, tt.updated); got != tt.removes {
				t.Fatalf("RemovesAdmin = %v; want %v", got, tt.removes)
			}
			if !tt.removes {
				return
			}
			err := accessrule.LastAdmin(tt.old, tt.updated)
			code, got := fields(err)
			want := []string(nil)
			if tt.field != "" {
				want = []string{tt.field}
			}
			if code != hookline.ECONFLICT || !slices.Equal(got, want) ||
				!strings.HasPrefix(err.Error(), "ann@example.com is the last enabled administrator") ||
				!strings.HasSuffix(err.Error(), tt.msg) {
				t.Errorf("LastAdmin: %v (%s, fields %v); want ECONFLICT naming %v ending %q", err, code, got, want, tt.msg)
			}
		})
	}
}

func TestEndsSessions(t *testing.T) {
	old := &hookline.User{PasswordHash: "a"}
	tests := []struct {
		name    string
		updated hookline.User
		want    bool
	}{
		{"nothing", hookline.User{PasswordHash: "a"}, false},
		{"password", hookline.User{PasswordHash: "b"}, true},
		{"password removed", hookline.User{}, true},
		{"disabled", hookline.User{PasswordHash: "a", Disabled: true}, true},
	}
	for _, tt := range tests {
		if got := accessrule.EndsSessions(old, &tt.updated); got != tt.want {
			t.Errorf("%s: EndsSessions = %v; want %v", tt.name, got, tt.want)
		}
	}
	// Still disabled is no new reason.
	if accessrule.EndsSessions(&hookline.User{Disabled: true}, &hookline.User{Disabled: true}) {
		t.Error("EndsSessions of a user disabled before and after = true")
	}
}

func TestCheckRoles(t *testing.T) {
	exists := func(id string) (bool, error) {
		if id == "BROKEN" {
			return false, errors.New("disk on fire")
		}
		return id == "A" || id == "B", nil
	}
	tests := []struct {
		ids    []string
		fields []string
		err    string
	}{
		{[]string{"A", "B"}, nil, ""},
		{nil, nil, ""},
		{[]string{"A", "X", "B", "Y"}, []string{"roleIds[1]", "roleIds[3]"}, ""},
		{[]string{"A", "BROKEN"}, nil, "check roles: disk on fire"},
	}
	for _, tt := range tests {
		err := accessrule.CheckRoles(tt.ids, exists)
		switch {
		case tt.err != "":
			if err == nil || err.Error() != tt.err {
				t.Errorf("CheckRoles(%v): %v; want %q", tt.ids, err, tt.err)
			}
		case tt.fields == nil:
			if err != nil {
				t.Errorf("CheckRoles(%v): %v", tt.ids, err)
			}
		default:
			if code, got := fields(err); code != hookline.EINVALID || !slices.Equal(got, tt.fields) {
				t.Errorf("CheckRoles(%v): %v; want EINVALID naming %v", tt.ids, err, tt.fields)
			}
		}
	}
}

func TestDecodeCapabilities(t *testing.T) {
	tests := []struct {
		name    string
		builtIn bool
		caps    string
		want    []hookline.Capability
		err     bool
	}{
		{"stored", false, `["` + string(hookline.Capabilities[0]) + `"]`, hookline.Capabilities[:1], false},
		{"none", false, `[]`, []hookline.Capability{}, false},
		{"null", false, `null`, []hookline.Capability{}, false},
		{"built in has all", true, `[]`, hookline.Capabilities, false},
		{"built in ignores a bad row", true, `{`, hookline.Capabilities, false},
		{"bad row", false, `{`, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := hookline.Role{ID: "R", BuiltIn: tt.builtIn}
			err := accessrule.DecodeCapabilities(&r, tt.caps)
			if tt.err {
				if err == nil || !strings.HasPrefix(err.Error(), "role R: decode capabilities") {
					t.Errorf("DecodeCapabilities: %v; want a decode error naming the role", err)
				}
				return
			}
			if err != nil || r.Capabilities == nil || !slices.Equal(r.Capabilities, tt.want) {
				t.Errorf("DecodeCapabilities: %v, %v; want %v", r.Capabilities, err, tt.want)
			}
		})
	}
}

func TestCapabilitySet(t *testing.T) {
	all := hookline.Capabilities
	tests := []struct {
		in, want []hookline.Capability
	}{
		{nil, []hookline.Capability{}},
		{[]hookline.Capability{all[1], all[0], all[1]}, []hookline.Capability{all[0], all[1]}},
		{[]hookline.Capability{"noSuchCapability", all[0]}, []hookline.Capability{all[0]}},
	}
	for _, tt := range tests {
		if got := accessrule.CapabilitySet(tt.in); got == nil || !slices.Equal(got, tt.want) {
			t.Errorf("CapabilitySet(%v) = %v; want %v", tt.in, got, tt.want)
		}
	}
}

func TestValidateAccessKey(t *testing.T) {
	good := hookline.AccessKey{ID: "su0123456789", Label: "ci", UserID: "U", KeyHash: "h"}
	tests := []struct {
		name        string
		change      func(k *hookline.AccessKey)
		printableID bool
		fields      []string
	}{
		{"good", func(*hookline.AccessKey) {}, true, nil},
		{"empty", func(k *hookline.AccessKey) { *k = hookline.AccessKey{} }, false, []string{"id", "userId", "keyHash"}},
		{"label too long", func(k *hookline.AccessKey) { k.Label = strings.Repeat("é", hookline.MaxLabelLen+1) }, false, []string{"label"}},
		{"label control", func(k *hookline.AccessKey) { k.Label = "a\nb" }, false, []string{"label"}},
		{"label not UTF-8", func(k *hookline.AccessKey) { k.Label = "\xff" }, false, []string{"label"}},
		{"id with NUL allowed", func(k *hookline.AccessKey) { k.ID = "a\x00b" }, false, nil},
		{"id with NUL refused", func(k *hookline.AccessKey) { k.ID = "a\x00b" }, true, []string{"id"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := good
			tt.change(&k)
			err := accessrule.ValidateAccessKey(&k, tt.printableID)
			if code, got := fields(err); (tt.fields == nil) != (err == nil) ||
				(err != nil && (code != hookline.EINVALID || !slices.Equal(got, tt.fields))) {
				t.Errorf("ValidateAccessKey: %v (fields %v); want %v", err, got, tt.fields)
			}
		})
	}
}

func TestValidateSession(t *testing.T) {
	tests := []struct {
		s      hookline.Session
		fields []string
	}{
		{hookline.Session{TokenHash: "h", UserID: "U", ExpiresAt: time.Unix(1, 0)}, nil},
		{hookline.Session{}, []string{"tokenHash", "userId", "expiresAt"}},
		{hookline.Session{TokenHash: "h", UserID: "U"}, []string{"expiresAt"}},
	}
	for _, tt := range tests {
		err := accessrule.ValidateSession(&tt.s)
		if code, got := fields(err); (tt.fields == nil) != (err == nil) ||
			(err != nil && (code != hookline.EINVALID || !slices.Equal(got, tt.fields))) {
			t.Errorf("ValidateSession(%+v): %v; want fields %v", tt.s, err, tt.fields)
		}
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		err   error
		code  string
		msg   string
		field string
	}{
		{accessrule.UserNotFound("U1"), hookline.ENOTFOUND, "user U1 not found", ""},
		{accessrule.EmailTaken("a@b.c"), hookline.ECONFLICT, `a user with email "a@b.c" already exists`, "email"},
		{accessrule.NoUser("userId", "U1"), hookline.EINVALID, "", "userId"},
		{accessrule.FirstUserExists(), hookline.ECONFLICT, "the first user exists already; sign in as an administrator to add users", ""},
		{accessrule.RoleNotFound("R1"), hookline.ENOTFOUND, "role R1 not found", ""},
		{accessrule.RoleNameTaken("Ops"), hookline.ECONFLICT, `a role named "Ops" already exists`, "name"},
		{accessrule.BuiltInRole(&hookline.Role{Name: "Administrator"}, "deleted"), hookline.EFORBIDDEN,
			"the Administrator role is built in and cannot be deleted", ""},
		{accessrule.AccessKeyNotFound("K1"), hookline.ENOTFOUND, "access key K1 not found", ""},
		{accessrule.AccessIDTaken("K1"), hookline.ECONFLICT, "access ID K1 is taken", "id"},
		{accessrule.TooManyKeys("U1", 50), hookline.ECONFLICT,
			"user U1 holds 50 access keys, the most allowed; delete one to create another", ""},
	}
	for _, tt := range tests {
		var e *hookline.Error
		if !errors.As(tt.err, &e) || e.Code != tt.code || (tt.msg != "" && e.Message != tt.msg) {
			t.Errorf("%v: want %s %q", tt.err, tt.code, tt.msg)
			continue
		}
		if _, got := fields(tt.err); tt.field != "" && !slices.Equal(got, []string{tt.field}) {
			t.Errorf("%v: fields %v; want %s", tt.err, got, tt.field)
		}
	}
}
