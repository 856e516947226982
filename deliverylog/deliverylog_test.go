package deliverylog_test

import (
	"database/sql"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/deliverylog"
	"github.com/hookline/hookline/listpage"

	_ "modernc.org/sqlite" // a real database to read rows from
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

func TestCheckDeliveries(t *testing.T) {
	token := listpage.Encode(deliverylog.DeliveryKey{CreatedAt: 5, ID: "0123456789ABCDEF"})
	alertToken := listpage.Encode(deliverylog.AlertKey{ReceivedAt: 5, ID: "0123456789ABCDEF"})
	far := time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		f         hookline.DeliveryFilter
		wantLimit int
		wantAfter *deliverylog.DeliveryKey
		wantErr   []string // fields named
	}{
		{name: "defaults", wantLimit: hookline.DefaultListLimit},
		{name: "capped", f: hookline.DeliveryFilter{Limit: hookline.MaxListLimit + 1}, wantLimit: hookline.MaxListLimit},
		{name: "a token", f: hookline.DeliveryFilter{Limit: 5, Token: token}, wantLimit: 5,
			wantAfter: &deliverylog.DeliveryKey{CreatedAt: 5, ID: "0123456789ABCDEF"}},
		{name: "every problem", f: hookline.DeliveryFilter{Limit: -1, State: "lost", Since: far, Until: far, Token: "x"},
			wantErr: []string{"limit", "state", "since", "until", "token"}},
		{name: "the alerts list's token", f: hookline.DeliveryFilter{Token: alertToken}, wantErr: []string{"token"}},
		{name: "a known state", f: hookline.DeliveryFilter{State: hookline.DeliveryDead}, wantLimit: hookline.DefaultListLimit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			limit, after, err := deliverylog.CheckDeliveries(tt.f)
			if tt.wantErr != nil {
				if code, got := fields(err); code != hookline.EINVALID || !slices.Equal(got, tt.wantErr) {
					t.Fatalf("CheckDeliveries: %v (fields %v); want EINVALID naming %v", err, got, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("CheckDeliveries: %v", err)
			}
			if limit != tt.wantLimit || (after == nil) != (tt.wantAfter == nil) || after != nil && *after != *tt.wantAfter {
				t.Errorf("CheckDeliveries = %d, %+v; want %d, %+v", limit, after, tt.wantLimit, tt.wantAfter)
			}
		})
	}
}

func TestCheckAlerts(t *testing.T) {
	token := listpage.Encode(deliverylog.AlertKey{ReceivedAt: 7, ID: "0123456789ABCDEF"})
	deliveryToken := listpage.Encode(deliverylog.DeliveryKey{CreatedAt: 7, ID: "0123456789ABCDEF"})
	badID := listpage.Encode(deliverylog.AlertKey{ReceivedAt: 7, ID: "0123456789abcdef"})
	far := time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		f         hookline.AlertFilter
		wantAfter *deliverylog.AlertKey
		wantErr   []string
	}{
		{name: "first page"},
		{name: "a token", f: hookline.AlertFilter{Token: token}, wantAfter: &deliverylog.AlertKey{ReceivedAt: 7, ID: "0123456789ABCDEF"}},
		{name: "the delivery log's token", f: hookline.AlertFilter{Token: deliveryToken}, wantErr: []string{"token"}},
		{name: "an ID not ours", f: hookline.AlertFilter{Token: badID}, wantErr: []string{"token"}},
		{name: "every problem", f: hookline.AlertFilter{Limit: -3, Since: far, Until: far, Token: "!"},
			wantErr: []string{"limit", "since", "until", "token"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			limit, after, err := deliverylog.CheckAlerts(tt.f)
			if tt.wantErr != nil {
				if code, got := fields(err); code != hookline.EINVALID || !slices.Equal(got, tt.wantErr) {
					t.Fatalf("CheckAlerts: %v (fields %v); want EINVALID naming %v", err, got, tt.wantErr)
				}
				return
			}
			if err != nil || limit != hookline.DefaultListLimit {
				t.Fatalf("CheckAlerts: %d, %v", limit, err)
			}
			if (after == nil) != (tt.wantAfter == nil) || after != nil && *after != *tt.wantAfter {
				t.Errorf("CheckAlerts after = %+v; want %+v", after, tt.wantAfter)
			}
		})
	}
}

func TestTokens(t *testing.T) {
	at := time.Date(2026, 5, 6, 7, 8, 9, 10, time.UTC)
	ds := []*hookline.Delivery{{ID: "0000000000000001", CreatedAt: at.Add(time.Hour)}, {ID: "0000000000000002", CreatedAt: at}}
	if got := deliverylog.DeliveriesToken(ds, false); got != "" {
		t.Errorf("DeliveriesToken of the last page = %q; want none", got)
	}
	k, err := deliverylog.DecodeDeliveryToken(deliverylog.DeliveriesToken(ds, true))
	if err != nil || *k != (deliverylog.DeliveryKey{CreatedAt: at.UnixNano(), ID: "0000000000000002"}) {
		t.Errorf("DeliveriesToken decodes to %+v, %v; want the last delivery's key", k, err)
	}
	as := []*hookline.AcceptedAlert{{ID: "0000000000000003", ReceivedAt: at}}
	if got := deliverylog.AlertsToken(as, false); got != "" {
		t.Errorf("AlertsToken of the last page = %q; want none", got)
	}
	_, ak, err := deliverylog.CheckAlerts(hookline.AlertFilter{Token: deliverylog.AlertsToken(as, true)})
	if err != nil || *ak != (deliverylog.AlertKey{ReceivedAt: at.UnixNano(), ID: "0000000000000003"}) {
		t.Errorf("AlertsToken decodes to %+v, %v; want the last alert's key", ak, err)
	}
}

func TestBuckets(t *testing.T) {
	now := time.Date(2026, 5, 6, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		since     time.Time
		bucket    time.Duration
		wantN     int
		wantErr   []string
		wantInErr string
	}{
		{name: "one hour of minutes", since: now.Add(-time.Hour), bucket: time.Minute, wantN: 61},
		{name: "since now", since: now, bucket: time.Hour, wantN: 1},
		{name: "a part bucket", since: now.Add(-90 * time.Minute), bucket: time.Hour, wantN: 2},
		{name: "no since", bucket: time.Minute, wantErr: []string{"since"}, wantInErr: "is required"},
		{name: "since in the future", since: now.Add(time.Second), bucket: time.Minute, wantErr: []string{"since"},
			wantInErr: "is 1s after now"},
		{name: "since out of range", since: time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC), bucket: time.Minute,
			wantErr: []string{"since"}, wantInErr: "is out of range"},
		{name: "no bucket", since: now.Add(-time.Hour), wantErr: []string{"bucket"}, wantInErr: "must be longer than zero, not 0s"},
		{name: "both", bucket: -time.Second, wantErr: []string{"since", "bucket"}},
		{name: "too many buckets", since: now.Add(-time.Duration(hookline.MaxDeliveryBuckets) * time.Second), bucket: time.Second,
			wantErr: []string{"bucket"}, wantInErr: "choose a longer bucket or a later since"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := deliverylog.Buckets(tt.since.In(time.FixedZone("X", 3600)), now, tt.bucket)
			if tt.wantErr != nil {
				code, got := fields(err)
				if code != hookline.EINVALID || !slices.Equal(got, tt.wantErr) || !strings.Contains(err.Error(), tt.wantInErr) {
					t.Fatalf("Buckets: %v (fields %v); want EINVALID naming %v, saying %q", err, got, tt.wantErr, tt.wantInErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Buckets: %v", err)
			}
			if len(out) != tt.wantN {
				t.Fatalf("Buckets made %d buckets; want %d", len(out), tt.wantN)
			}
			for i, b := range out {
				if want := tt.since.UTC().Add(time.Duration(i) * tt.bucket); b.Start != want || b.Start.Location() != time.UTC {
					t.Errorf("bucket %d starts %v; want %v in UTC", i, b.Start, want)
				}
			}
		})
	}
}

// openDB opens an empty SQLite database in memory to make rows with.
func openDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

func TestReadCounts(t *testing.T) {
	db := openDB(t)
	start := time.Date(2026, 5, 6, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		query   string
		want    []hookline.DeliveryBucket // Start left out
		wantErr string
	}{
		{"every bucket", `VALUES (0, 1, 2, 3, 4), (1, 5, 6, 7, 8)`,
			[]hookline.DeliveryBucket{{Pending: 1, Delivered: 2, Failed: 3, Dead: 4}, {Pending: 5, Delivered: 6, Failed: 7, Dead: 8}}, ""},
		{"a bucket left out", `VALUES (1, 0, 1, 0, 0)`,
			[]hookline.DeliveryBucket{{}, {Delivered: 1}}, ""},
		{"a bucket beyond", `VALUES (2, 0, 0, 0, 0)`, nil, "bucket 2 of 2"},
		{"a negative bucket", `VALUES (-1, 0, 0, 0, 0)`, nil, "bucket -1 of 2"},
		{"not a number", `VALUES (0, 'x', 0, 0, 0)`, nil, "converting"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := []hookline.DeliveryBucket{{Start: start}, {Start: start.Add(time.Hour)}}
			rows, err := db.Query(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			err = deliverylog.ReadCounts(rows, out)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ReadCounts: %v; want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for i := range out {
				want := tt.want[i]
				want.Start = start.Add(time.Duration(i) * time.Hour)
				if out[i] != want {
					t.Errorf("bucket %d = %+v; want %+v", i, out[i], want)
				}
			}
		})
	}
}

func TestReadAttempts(t *testing.T) {
	db := openDB(t)
	started := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	rows, err := db.Query(`VALUES (1, ?, 1500, 500, 'upstream failed', 'oops', ?), (2, ?, 20, 200, '', '', NULL)`,
		started.UnixNano(), started.Add(time.Minute).UnixNano(), started.Add(time.Minute).UnixNano())
	if err != nil {
		t.Fatal(err)
	}
	got, err := deliverylog.ReadAttempts(rows, "D1")
	if err != nil {
		t.Fatal(err)
	}
	want := []hookline.DeliveryAttempt{
		{DeliveryID: "D1", N: 1, StartedAt: started, Latency: 1500 * time.Microsecond, StatusCode: 500,
			Error: "upstream failed", Response: "oops", RetryAt: started.Add(time.Minute)},
		{DeliveryID: "D1", N: 2, StartedAt: started.Add(time.Minute), Latency: 20 * time.Microsecond, StatusCode: 200},
	}
	if !slices.Equal(got, want) {
		t.Errorf("ReadAttempts = %+v;\nwant %+v", got, want)
	}

	rows, err = db.Query(`SELECT 1 WHERE false`)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := deliverylog.ReadAttempts(rows, "D1"); err != nil || got == nil || len(got) != 0 {
		t.Errorf("ReadAttempts of none = %#v, %v; want an empty list", got, err)
	}
}

func TestScanAlert(t *testing.T) {
	db := openDB(t)
	received := time.Date(2026, 5, 6, 7, 8, 9, 10, time.UTC)
	tests := []struct {
		name, key, body string
		wantKey         string
		wantErr         string
	}{
		{"with a key", "k1", `{"name":"disk full"}`, "k1", ""},
		{"without a key", "", `{"name":"disk full"}`, "", ""},
		{"a damaged body", "", `{"name":`, "", "alert 0000000000000001: decode stored body: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := sql.NullString{String: tt.key, Valid: tt.key != ""}
			a, err := deliverylog.ScanAlert(db.QueryRow(`SELECT ?, 'api', ?, ?, ?`,
				"0000000000000001", key, received.UnixNano(), tt.body))
			if tt.wantErr != "" {
				var he *hookline.Error
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) || errors.As(err, &he) {
					t.Fatalf("ScanAlert: %v; want %q, not a *hookline.Error", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if a.ID != "0000000000000001" || a.Source != "api" || a.IdempotencyKey != tt.wantKey ||
				!a.ReceivedAt.Equal(received) || a.Alert.Name != "disk full" || a.Deliveries == nil || len(a.Deliveries) != 0 {
				t.Errorf("ScanAlert = %+v", a)
			}
		})
	}
	_, err := deliverylog.ScanAlert(db.QueryRow(`SELECT 1, 2, 3, 4, 5 WHERE false`))
	if !errors.Is(err, sql.ErrNoRows) {
		t.Errorf("ScanAlert of no row: %v; want sql.ErrNoRows", err)
	}
}

func TestAttach(t *testing.T) {
	list := []*hookline.AcceptedAlert{{ID: "A"}, {ID: "B"}, {ID: "C"}}
	for _, a := range list {
		a.Deliveries = []*hookline.Delivery{}
	}
	if got := deliverylog.IDs(list); !slices.Equal(got, []string{"A", "B", "C"}) {
		t.Errorf("IDs = %v", got)
	}
	deliverylog.Attach(list, []*hookline.Delivery{
		{ID: "1", AlertID: "A"}, {ID: "2", AlertID: "A"}, {ID: "3", AlertID: "C"}, {ID: "4", AlertID: "Z"},
	})
	want := map[string][]string{"A": {"1", "2"}, "B": {}, "C": {"3"}}
	for _, a := range list {
		var got []string
		for _, d := range a.Deliveries {
			got = append(got, d.ID)
		}
		if len(got) != len(want[a.ID]) || !slices.Equal(got, want[a.ID]) {
			t.Errorf("deliveries of %s = %v; want %v", a.ID, got, want[a.ID])
		}
	}
}
