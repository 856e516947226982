package sqlite

import (
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/rowid"
)

// The queue's statements must walk their indexes, not scan or sort the
// table: each runs on every poll, scrape or page while the table grows.
func TestQueryPlans(t *testing.T) {
	db := rawDB(t)
	if _, err := migrate(t.Context(), db, Migrations(), fixedNow); err != nil {
		t.Fatal(err)
	}
	list := func(f hookline.DeliveryFilter, after *deliveryKey) string {
		q, _ := listDeliveriesQuery(f, after, 10)
		return q
	}
	page := &deliveryKey{CreatedAt: 1, ID: "0000000000000000"}
	tests := []struct {
		name  string
		query string
		want  string // in the plan
		sort  bool   // a sort is allowed: an alert has at most 50 deliveries
	}{
		{"claim", claimSQL, "SEARCH deliveries USING COVERING INDEX deliveries_due (next_attempt_at<?)", false},
		{"queue stats", queueStatsSQL, "USING COVERING INDEX deliveries_state (state=?)", false},
		{"idempotency key", alertByKeySQL, "USING INDEX alerts_source_idempotency_key (source=? AND idempotency_key=?)", false},
		{"alert's deliveries", alertDeliveriesSQL, "USING INDEX deliveries_alert (alert_id=?)", false},
		{"record", recordSQL, "SEARCH deliveries USING PRIMARY KEY (id=?)", false},
		{"log", list(hookline.DeliveryFilter{}, nil), "SCAN deliveries USING INDEX deliveries_created", false},
		{"log page", list(hookline.DeliveryFilter{}, page), "USING INDEX deliveries_created ((created_at,id)<(?,?))", false},
		{"log since", list(hookline.DeliveryFilter{Since: time.Now(), Until: time.Now()}, page), "USING INDEX deliveries_created (created_at>? AND created_at<?)", false},
		{"connection", list(hookline.DeliveryFilter{ConnectionID: "x"}, page), "USING INDEX deliveries_connection (connection_id=? AND (created_at,id)<(?,?))", false},
		{"state", list(hookline.DeliveryFilter{State: hookline.DeliveryFailed}, page), "USING INDEX deliveries_state (state=? AND (created_at,id)<(?,?))", false},
		{"alert", list(hookline.DeliveryFilter{AlertID: "x"}, page), "USING INDEX deliveries_alert (alert_id=?)", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := db.Query(`EXPLAIN QUERY PLAN `+tt.query, make([]any, strings.Count(tt.query, "?"))...)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var plan []string
			for rows.Next() {
				var id, parent, unused int
				var detail string
				if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, detail)
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			p := strings.Join(plan, "; ")
			if !strings.Contains(p, tt.want) || strings.Contains(p, "SCAN deliveries;") ||
				(!tt.sort && strings.Contains(p, "TEMP B-TREE")) {
				t.Errorf("plan: %s\nwant %q without a scan of the table or a sort", p, tt.want)
			}
		})
	}
}

func FuzzDecodeDeliveryToken(f *testing.F) {
	f.Add(encodeDeliveryToken(deliveryKey{CreatedAt: time.Now().UnixNano(), ID: "00000000000468D5"}))
	f.Add(encodeDeliveryToken(deliveryKey{CreatedAt: -1, ID: "0123456789ABCDEF"}))
	f.Add("")
	f.Add("e30")
	f.Add("!!!")
	f.Fuzz(func(t *testing.T, token string) {
		k, err := decodeDeliveryToken(token)
		if err != nil {
			if k != nil {
				t.Fatalf("decodeDeliveryToken(%q) returned a key with its error", token)
			}
			if hookline.ErrorCode(err) != hookline.EINVALID {
				t.Fatalf("decodeDeliveryToken(%q): %v; want EINVALID", token, err)
			}
			return
		}
		if k == nil {
			if token != "" {
				t.Fatalf("decodeDeliveryToken(%q) = nil, nil", token)
			}
			return
		}
		if !rowid.Valid(k.ID) {
			t.Fatalf("decodeDeliveryToken(%q) accepted ID %q", token, k.ID)
		}
		back, err := decodeDeliveryToken(encodeDeliveryToken(*k))
		if err != nil || *back != *k {
			t.Fatalf("re-encoded token of %+v decodes to %+v, %v", k, back, err)
		}
	})
}

// TestMigrateIdempotencyPerSource upgrades a database written before keys
// were scoped by source: its keys stay unique, and afterwards the same key
// from another source is a new alert.
func TestMigrateIdempotencyPerSource(t *testing.T) {
	db := rawDB(t)
	all := Migrations()
	upTo2 := fstest.MapFS{}
	for _, name := range []string{"0001_connections.sql", "0002_deliveries.sql"} {
		body, err := fs.ReadFile(all, name)
		if err != nil {
			t.Fatal(err)
		}
		upTo2[name] = &fstest.MapFile{Data: body}
	}
	if _, err := migrate(t.Context(), db, upTo2, fixedNow); err != nil {
		t.Fatal(err)
	}
	insert := func(id, source, key string) error {
		_, err := db.Exec(`INSERT INTO alerts (id, source, idempotency_key, trigger_type, received_at, body)
			VALUES (?, ?, ?, 'Critical', 0, '{}')`, id, source, key)
		return err
	}
	if err := insert("0000000000000001", "api", "k"); err != nil {
		t.Fatal(err)
	}
	if err := insert("0000000000000002", "alertmanager", "k"); err == nil {
		t.Fatal("before 0003 a key was unique across sources; the test database is not the old schema")
	}
	names, err := fs.Glob(all, "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	if n, err := migrate(t.Context(), db, all, fixedNow); err != nil || n != len(names)-2 {
		t.Fatalf("migrate to the latest: %d applied, %v; want %d (0003 and later)", n, err, len(names)-2)
	}
	if err := insert("0000000000000002", "alertmanager", "k"); err != nil {
		t.Errorf("the same key from another source after 0003: %v", err)
	}
	if err := insert("0000000000000003", "api", "k"); err == nil {
		t.Errorf("a repeated key of one source was stored after 0003")
	}
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM sqlite_schema WHERE type = 'index' AND name = 'alerts_idempotency_key'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("the old index is still there (%d, %v)", n, err)
	}
}
