package connrow_test

import (
	"bytes"
	"errors"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/connrow"
	"github.com/hookline/hookline/keyring"
)

func newKeyring(t *testing.T, seed byte) *keyring.Keyring {
	t.Helper()
	kr, err := keyring.New(bytes.Repeat([]byte{seed}, keyring.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

func connection() *hookline.Connection {
	return &hookline.Connection{
		ID: "0123456789ABCDEF", Name: "Ops", WebhookType: "Webhook", URL: "https://example.com/hook",
		CustomHeaders: []hookline.Header{{Name: "X-Team", Value: "ops"}},
		Settings:      map[string]string{"region": "us-east-1"},
		Secrets:       map[string]string{"password": "hunter2", "token": "t0k3n"},
	}
}

func TestEncodeDecode(t *testing.T) {
	kr := newKeyring(t, 1)
	tests := []struct {
		name string
		c    func() *hookline.Connection
	}{
		{"full", connection},
		{"nothing optional", func() *hookline.Connection {
			c := connection()
			c.CustomHeaders, c.Settings, c.Secrets = nil, nil, nil
			return c
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.c()
			j, err := connrow.Encode(kr, c)
			if err != nil {
				t.Fatal(err)
			}
			for name, v := range c.Secrets {
				if strings.Contains(j.Secrets, v) {
					t.Errorf("secrets column %s holds secret %s in the clear", j.Secrets, name)
				}
			}
			got := hookline.Connection{ID: c.ID}
			if err := connrow.Decode(kr, &got, j); err != nil {
				t.Fatal(err)
			}
			wantSettings := c.Settings
			if wantSettings == nil {
				wantSettings = map[string]string{}
			}
			if !maps.Equal(got.Settings, wantSettings) || got.Settings == nil {
				t.Errorf("settings = %v; want %v", got.Settings, wantSettings)
			}
			if !maps.Equal(got.Secrets, c.Secrets) || got.Secrets == nil {
				t.Errorf("secrets = %v; want %v", got.Secrets, c.Secrets)
			}
			if len(got.CustomHeaders) != len(c.CustomHeaders) || got.CustomHeaders == nil {
				t.Errorf("headers = %#v; want %v", got.CustomHeaders, c.CustomHeaders)
			}
			view, err := connrow.AuditView(c.ID, &hookline.Connection{}, j)
			if err != nil {
				t.Fatal(err)
			}
			if len(view.SecretsSet) != len(c.Secrets) {
				t.Errorf("view names secrets %v; want those of %v", view.SecretsSet, c.Secrets)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	kr := newKeyring(t, 1)
	good, err := connrow.Encode(kr, connection())
	if err != nil {
		t.Fatal(err)
	}
	moved := good
	// A secret copied to another connection does not open there.
	other := connection()
	other.ID = "FEDCBA9876543210"
	tests := []struct {
		name string
		kr   *keyring.Keyring
		c    *hookline.Connection
		j    connrow.JSON
		want string
	}{
		{"headers", kr, connection(), connrow.JSON{Headers: "{", Settings: good.Settings, Secrets: good.Secrets},
			"connection 0123456789ABCDEF: decode custom headers"},
		{"settings", kr, connection(), connrow.JSON{Headers: good.Headers, Settings: "[1]", Secrets: good.Secrets},
			"connection 0123456789ABCDEF: decode settings"},
		{"secrets", kr, connection(), connrow.JSON{Headers: good.Headers, Settings: good.Settings, Secrets: `{"password": "x`},
			"connection 0123456789ABCDEF: secrets column is not a JSON object of strings"},
		{"another key", newKeyring(t, 2), connection(), good, "connection 0123456789ABCDEF: open secret"},
		{"another connection", kr, other, moved, "connection FEDCBA9876543210: open secret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := connrow.Decode(tt.kr, tt.c, tt.j)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("Decode: %v; want %q", err, tt.want)
			}
			if strings.Contains(fmtErr(err), `"x`) {
				t.Errorf("error %q quotes the stored secrets", err)
			}
		})
	}
}

func fmtErr(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestArgs(t *testing.T) {
	c := connection()
	c.CreatedAt = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	c.ModifiedAt = c.CreatedAt.Add(time.Hour)
	j := connrow.JSON{Headers: "h", Settings: "s", Secrets: "x"}
	args := connrow.Args(c, j, "ops", func(t time.Time) any { return t.Format(time.RFC3339) })
	columns := strings.Split(connrow.ColumnList, ",")
	if len(args) != len(columns)+1 {
		t.Fatalf("%d args for %d columns and name_key", len(args), len(columns))
	}
	want := map[string]any{
		"id": c.ID, "custom_headers": "h", "settings": "s", "secrets": "x",
		"created_at": "2026-01-02T03:04:05Z", "modified_at": "2026-01-02T04:04:05Z",
	}
	for i, col := range columns {
		if w, ok := want[strings.TrimSpace(col)]; ok && args[i] != w {
			t.Errorf("%s = %v; want %v", strings.TrimSpace(col), args[i], w)
		}
	}
	if args[len(args)-1] != "ops" {
		t.Errorf("name_key = %v; want ops", args[len(args)-1])
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		err   error
		code  string
		msg   string
		field string
	}{
		{connrow.NotFound("0123456789ABCDEF"), hookline.ENOTFOUND, "connection 0123456789ABCDEF not found", ""},
		{connrow.NameTaken("Ops"), hookline.ECONFLICT, `a connection named "Ops" already exists`, "name"},
	}
	for _, tt := range tests {
		var e *hookline.Error
		if !errors.As(tt.err, &e) || e.Code != tt.code || e.Message != tt.msg {
			t.Errorf("%v: want %s %q", tt.err, tt.code, tt.msg)
			continue
		}
		if tt.field != "" && (len(e.Fields) != 1 || e.Fields[0].Field != tt.field) {
			t.Errorf("%v: fields %v; want %s", tt.err, e.Fields, tt.field)
		}
	}
}
