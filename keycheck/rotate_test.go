package keycheck_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/hookline/hookline/keycheck"
	"github.com/hookline/hookline/keyring"
)

func TestRotate(t *testing.T) {
	one, two := keyringOf(t, 1), keyringOf(t, 2)
	tests := []struct {
		name    string
		setup   func(t *testing.T, s *memStore)
		kr      *keyring.Keyring // the current keyring
		want    keycheck.Rotation
		wantErr string // in the error
	}{
		{name: "one connection", kr: one, want: keycheck.Rotation{KeyID: two.KeyID(), Connections: 1, Secrets: 1}},
		{
			name: "two connections, three secrets", kr: one,
			setup: func(t *testing.T, s *memStore) {
				for _, name := range []string{"token", "password"} {
					v, err := one.Seal([]byte("b's "+name), secretAAD("B", name))
					if err != nil {
						t.Fatal(err)
					}
					if s.secrets["B"] == nil {
						s.secrets["B"] = map[string]string{}
					}
					s.secrets["B"][name] = v
				}
			},
			want: keycheck.Rotation{KeyID: two.KeyID(), Connections: 2, Secrets: 3},
		},
		{
			name: "a secret an old key of the keyring sealed", kr: keyringOf(t, 3, 1),
			want: keycheck.Rotation{KeyID: two.KeyID(), Connections: 1, Secrets: 1},
		},
		{
			name: "a secret the keyring does not open", kr: keyringOf(t, 3),
			wantErr: `connection A: secret "password" does not open (`,
		},
		{
			name: "a secret moved to another connection", kr: one,
			setup:   func(t *testing.T, s *memStore) { s.secrets["B"] = s.secrets["A"] },
			wantErr: `connection B: secret "password" does not open (`,
		},
		{
			name: "secrets that do not decode", kr: one,
			setup: func(t *testing.T, s *memStore) { s.bad = []string{"C"} },
			wantErr: "connection C: the secrets column is not a JSON object of strings; " +
				"delete the connection (or fix the row) and rotate again",
		},
		{
			name: "writing secrets fails", kr: one,
			setup:   func(t *testing.T, s *memStore) { s.failOn = "secrets" },
			wantErr: "connection A: write secrets: disk on fire",
		},
		{
			name: "writing the check fails", kr: one,
			setup:   func(t *testing.T, s *memStore) { s.failOn = "write check" },
			wantErr: "write key check: disk on fire",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := sealedStore(t, one, true)
			if tt.setup != nil {
				tt.setup(t, s)
			}
			c := keycheck.Checker{Keyring: tt.kr, SecretAAD: secretAAD, Home: "home"}
			rot, err := c.Rotate(t.Context(), s, two)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Rotate: %v; want an error containing %q", err, tt.wantErr)
				}
				if rot != (keycheck.Rotation{}) {
					t.Errorf("Rotate returned %+v with its error", rot)
				}
				return
			}
			if err != nil {
				t.Fatalf("Rotate: %v", err)
			}
			if rot != tt.want {
				t.Errorf("Rotate = %+v; want %+v", rot, tt.want)
			}
			// Every value opens with the new keyring alone now.
			if v, err := two.Open(s.check, keycheck.AAD); err != nil || string(v) != keycheck.Value {
				t.Errorf("check after the rotation: %q, %v", v, err)
			}
			for id, m := range s.secrets {
				for name, v := range m {
					if _, err := two.Open(v, secretAAD(id, name)); err != nil {
						t.Errorf("secret %q of %s after the rotation: %v", name, id, err)
					}
				}
			}
		})
	}
}

func TestDecode(t *testing.T) {
	tests := []struct {
		name, column string
		want         keycheck.Sealed
	}{
		{"object", `{"password":"v1.x"}`, keycheck.Sealed{ID: "A", Secrets: map[string]string{"password": "v1.x"}}},
		{"empty", `{}`, keycheck.Sealed{ID: "A", Secrets: map[string]string{}}},
		{"not JSON", `{"password":`, keycheck.Sealed{ID: "A", Undecodable: true}},
		{"not strings", `{"password":1,"token":"x"}`, keycheck.Sealed{ID: "A", Undecodable: true}},
		{"an array", `["x"]`, keycheck.Sealed{ID: "A", Undecodable: true}},
	}
	for _, tt := range tests {
		if got := keycheck.Decode("A", tt.column); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: Decode(%q) = %+v; want %+v", tt.name, tt.column, got, tt.want)
		}
	}
}

func TestCheckLeavesUndecodable(t *testing.T) {
	s := sealedStore(t, keyringOf(t, 1), true)
	s.bad = []string{"C"}
	c := keycheck.Checker{Keyring: keyringOf(t, 2, 1), SecretAAD: secretAAD, Home: "home"}
	if err := c.Check(t.Context(), s); err != nil {
		t.Fatalf("Check: %v", err)
	}
	if s.writes != 1 {
		t.Errorf("secrets written %d times; want 1 (A only)", s.writes)
	}
}
