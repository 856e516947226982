package keycheck_test

import (
	"context"
	"errors"
	"maps"
	"strings"
	"testing"

	"github.com/hookline/hookline/keycheck"
	"github.com/hookline/hookline/keyring"
	"github.com/hookline/hookline/storetest"
)

func keyringOf(t *testing.T, seed byte, olds ...byte) *keyring.Keyring {
	t.Helper()
	return storetest.KeyringOf(t, seed, olds...)
}

func secretAAD(id, name string) string { return "connection/" + id + "/" + name }

// memStore is a database held in memory: the check value and the sealed
// secrets of each connection.
type memStore struct {
	check   string
	found   bool
	secrets map[string]map[string]string
	bad     []string // connections whose secrets do not decode
	writes  int      // WriteSecrets calls
	failOn  string
}

func (s *memStore) Check(context.Context) (string, bool, error) {
	if s.failOn == "check" {
		return "", false, errors.New("disk on fire")
	}
	return s.check, s.found, nil
}

func (s *memStore) Secrets(context.Context) ([]keycheck.Sealed, error) {
	var list []keycheck.Sealed
	for id, m := range s.secrets {
		list = append(list, keycheck.Sealed{ID: id, Secrets: maps.Clone(m)})
	}
	for _, id := range s.bad {
		list = append(list, keycheck.Sealed{ID: id, Undecodable: true})
	}
	return list, nil
}

func (s *memStore) WriteSecrets(_ context.Context, r keycheck.Sealed) error {
	if s.failOn == "secrets" {
		return errors.New("disk on fire")
	}
	s.writes++
	s.secrets[r.ID] = maps.Clone(r.Secrets)
	return nil
}

func (s *memStore) WriteCheck(_ context.Context, v string) error {
	if s.failOn == "write check" {
		return errors.New("disk on fire")
	}
	s.check, s.found = v, true
	return nil
}

// sealedStore returns a store whose check value and one secret are sealed
// with kr's primary key; check false leaves the check value out.
func sealedStore(t *testing.T, kr *keyring.Keyring, check bool) *memStore {
	t.Helper()
	s := &memStore{secrets: map[string]map[string]string{}}
	v, err := kr.Seal([]byte("the secret"), secretAAD("A", "password"))
	if err != nil {
		t.Fatal(err)
	}
	s.secrets["A"] = map[string]string{"password": v}
	if check {
		if s.check, err = kr.Seal([]byte(keycheck.Value), keycheck.AAD); err != nil {
			t.Fatal(err)
		}
		s.found = true
	}
	return s
}

func keyIDs(t *testing.T, s *memStore) (check, secret string) {
	t.Helper()
	check, _ = keyring.KeyIDOf(s.check)
	secret, err := keyring.KeyIDOf(s.secrets["A"]["password"])
	if err != nil {
		t.Fatal(err)
	}
	return check, secret
}

func TestCheck(t *testing.T) {
	one, two := keyringOf(t, 1).KeyID(), keyringOf(t, 2).KeyID()
	tests := []struct {
		name      string
		check     bool             // the store has a check value (sealed with key 1)
		damage    string           // replaces the check value
		kr        *keyring.Keyring // the keyring opening it
		wrongKey  bool             // fails with ErrWrongKey
		wantErr   []string         // in the error
		wantIDs   [2]string        // key IDs of the check and the secret after
		wantWrite int              // WriteSecrets calls
	}{
		{name: "right key", check: true, kr: keyringOf(t, 1), wantIDs: [2]string{one, one}},
		{name: "first open writes the check", kr: keyringOf(t, 1), wantIDs: [2]string{one, one}},
		{name: "new key, old one kept", check: true, kr: keyringOf(t, 2, 1), wantIDs: [2]string{two, two}, wantWrite: 1},
		{name: "no check, new key, old one kept", kr: keyringOf(t, 2, 1), wantIDs: [2]string{two, two}, wantWrite: 1},
		{
			name: "wrong key", check: true, kr: keyringOf(t, 3), wrongKey: true,
			wantErr: []string{"the master key (key id " + keyringOf(t, 3).KeyID() + ") does not open this database's secrets",
				"(they were sealed with key id " + one + ")", "set HOOKLINE_MASTER_KEY to the key this home was created with"},
			wantIDs: [2]string{one, one},
		},
		{
			name: "wrong keys", check: true, kr: keyringOf(t, 3, 4, 5), wrongKey: true,
			wantErr: []string{"neither the master key (key id " + keyringOf(t, 3).KeyID() + ") nor the old keys (key ids ",
				keyringOf(t, 4).KeyID(), keyringOf(t, 5).KeyID()},
			wantIDs: [2]string{one, one},
		},
		{
			name: "no check, wrong key", kr: keyringOf(t, 3), wrongKey: true,
			wantErr: []string{"sealed with key id " + one},
			wantIDs: [2]string{"", one},
		},
		{
			name: "damaged check", check: true, damage: "garbage", kr: keyringOf(t, 1),
			wantErr: []string{`the key check (settings row "keyring_check") is damaged`},
			wantIDs: [2]string{"", one},
		},
		{
			name: "check of another value", check: true, kr: keyringOf(t, 1),
			damage:  func() string { v, _ := keyringOf(t, 1).Seal([]byte("other"), keycheck.AAD); return v }(),
			wantErr: []string{"is damaged: unexpected value"},
			wantIDs: [2]string{one, one},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := sealedStore(t, keyringOf(t, 1), tt.check)
			if tt.damage != "" {
				s.check = tt.damage
			}
			c := keycheck.Checker{Keyring: tt.kr, SecretAAD: secretAAD, Home: "home"}
			err := c.Check(t.Context(), s)
			if errors.Is(err, keycheck.ErrWrongKey) != tt.wrongKey {
				t.Errorf("Check: %v; want ErrWrongKey %v", err, tt.wrongKey)
			}
			if tt.wrongKey && !errors.Is(err, keyring.ErrUnknownKey) {
				t.Errorf("Check: %v; want it to wrap keyring.ErrUnknownKey", err)
			}
			if len(tt.wantErr) == 0 && err != nil {
				t.Fatalf("Check: %v", err)
			}
			if len(tt.wantErr) > 0 && err == nil {
				t.Fatal("Check succeeded")
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if c, sec := keyIDs(t, s); [2]string{c, sec} != tt.wantIDs {
				t.Errorf("key IDs of check and secret = %q, %q; want %q", c, sec, tt.wantIDs)
			}
			if s.writes != tt.wantWrite {
				t.Errorf("secrets written %d times; want %d", s.writes, tt.wantWrite)
			}
			if err == nil {
				got, err := tt.kr.Open(s.secrets["A"]["password"], secretAAD("A", "password"))
				if err != nil || string(got) != "the secret" {
					t.Errorf("secret after the check: %q, %v", got, err)
				}
			}
		})
	}
}

func TestCheckStoreErrors(t *testing.T) {
	tests := []struct {
		failOn string
		want   string
	}{
		{"check", "read key check: disk on fire"},
		{"secrets", "reseal secrets of connection A: disk on fire"},
	}
	for _, tt := range tests {
		t.Run(tt.failOn, func(t *testing.T) {
			s := sealedStore(t, keyringOf(t, 1), true)
			s.failOn = tt.failOn
			c := keycheck.Checker{Keyring: keyringOf(t, 2, 1), SecretAAD: secretAAD, Home: "home"}
			if err := c.Check(t.Context(), s); err == nil || err.Error() != tt.want {
				t.Errorf("Check: %v; want %q", err, tt.want)
			}
		})
	}
}
