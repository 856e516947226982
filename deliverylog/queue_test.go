package deliverylog_test

import (
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/deliverylog"
)

func TestCheckAccepted(t *testing.T) {
	at := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	ok := func() *hookline.AcceptedAlert {
		return &hookline.AcceptedAlert{Source: "api", ReceivedAt: at,
			Deliveries: []*hookline.Delivery{{ConnectionID: "0123456789ABCDEF"}}}
	}
	noNUL := func(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }
	tests := []struct {
		name     string
		edit     func(a *hookline.AcceptedAlert)
		storable func(string) bool
		want     []string
	}{
		{"fine", func(*hookline.AcceptedAlert) {}, nil, nil},
		{"long source", func(a *hookline.AcceptedAlert) { a.Source = strings.Repeat("s", hookline.MaxSourceLen+1) }, nil,
			[]string{"alerts[0].source"}},
		{"long key", func(a *hookline.AcceptedAlert) {
			a.IdempotencyKey = strings.Repeat("k", hookline.MaxIdempotencyKeyLen+1)
		}, nil,
			[]string{"alerts[0].idempotencyKey"}},
		{"time out of range", func(a *hookline.AcceptedAlert) { a.ReceivedAt = time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC) }, nil,
			[]string{"alerts[0].receivedAt"}},
		{"no connection", func(a *hookline.AcceptedAlert) { a.Deliveries = append(a.Deliveries, nil, &hookline.Delivery{}) }, nil,
			[]string{"alerts[0].notifications[1].connectionId", "alerts[0].notifications[2].connectionId"}},
		{"NUL kept by an engine that keeps any text", func(a *hookline.AcceptedAlert) { a.Source = "a\x00b" }, nil, nil},
		{"NUL refused by the engine's rule", func(a *hookline.AcceptedAlert) {
			a.Source, a.IdempotencyKey, a.Deliveries[0].Payload = "a\x00b", "\xff", "{\x00}"
		}, noNUL, []string{"alerts[0].source", "alerts[0].idempotencyKey", "alerts[0].notifications[0].payload"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := ok()
			tt.edit(a)
			code, got := fields(deliverylog.CheckAccepted([]*hookline.AcceptedAlert{a}, tt.storable))
			if !slices.Equal(got, tt.want) || (tt.want != nil) != (code == hookline.EINVALID) {
				t.Errorf("CheckAccepted: %s %q; want EINVALID naming %q", code, got, tt.want)
			}
		})
	}
	if _, got := fields(deliverylog.CheckAccepted([]*hookline.AcceptedAlert{ok(), nil}, nil)); !slices.Equal(got, []string{"alerts[1]"}) {
		t.Errorf("a nil alert: %q; want alerts[1]", got)
	}
}

func TestCheckResults(t *testing.T) {
	at := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	far := time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		r    hookline.AttemptResult
		want []string
	}{
		{"delivered", hookline.AttemptResult{Attempt: hookline.DeliveryAttempt{DeliveryID: "D", N: 1, StartedAt: at}, State: hookline.DeliveryDelivered}, nil},
		{"pending with a time", hookline.AttemptResult{Attempt: hookline.DeliveryAttempt{DeliveryID: "D", N: 2, StartedAt: at}, State: hookline.DeliveryPending, NextAttemptAt: at}, nil},
		{"empty", hookline.AttemptResult{}, []string{"results[0].attempt.deliveryId", "results[0].attempt.startedAt", "results[0].attempt.n", "results[0].state"}},
		{"pending without a time", hookline.AttemptResult{Attempt: hookline.DeliveryAttempt{DeliveryID: "D", N: 1, StartedAt: at}, State: hookline.DeliveryPending},
			[]string{"results[0].nextAttemptAt"}},
		{"times out of range", hookline.AttemptResult{Attempt: hookline.DeliveryAttempt{DeliveryID: "D", N: 1, StartedAt: far, RetryAt: far}, State: hookline.DeliveryPending, NextAttemptAt: far},
			[]string{"results[0].nextAttemptAt", "results[0].attempt.startedAt", "results[0].attempt.retryAt"}},
	}
	for _, tt := range tests {
		if _, got := fields(deliverylog.CheckResults([]hookline.AttemptResult{tt.r})); !slices.Equal(got, tt.want) {
			t.Errorf("%s: %q; want %q", tt.name, got, tt.want)
		}
	}
}

func TestDecodeClaimedAndReadable(t *testing.T) {
	at := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	claim := func(id, alertID string, due time.Time) *hookline.ClaimedDelivery {
		return &hookline.ClaimedDelivery{Delivery: &hookline.Delivery{ID: id, AlertID: alertID, NextAttemptAt: due}}
	}
	claimed := []*hookline.ClaimedDelivery{
		claim("D3", "A1", at.Add(time.Second)),
		claim("D2", "A1", at),
		claim("D4", "BAD", at),
		claim("D1", "A2", at),
	}
	bodies := map[string]string{
		"A1":  `{"name": "one", "triggerType": "Critical"}`,
		"A2":  `{"name": "two", "triggerType": "Warning"}`,
		"BAD": `{"name": `,
	}
	unreadable := deliverylog.DecodeClaimed(claimed, bodies)
	if len(unreadable) != 1 || unreadable["BAD"] == "" {
		t.Fatalf("unreadable = %q; want only BAD, with why", unreadable)
	}
	got := deliverylog.Readable(claimed, unreadable)
	var ids []string
	for _, cd := range got {
		ids = append(ids, cd.Delivery.ID)
	}
	if want := []string{"D1", "D2", "D3"}; !slices.Equal(ids, want) {
		t.Fatalf("Readable = %q; want %q (by due time, then ID, without the unreadable)", ids, want)
	}
	if got[1].Alert == nil || got[1].Alert != got[2].Alert || got[1].Alert.Name != "one" || got[0].Alert.Name != "two" {
		t.Errorf("alerts: %+v; want one *Alert shared by an alert's deliveries", got)
	}
}
