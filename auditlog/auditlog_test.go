package auditlog_test

import (
	"context"
	"database/sql"
	"math"
	"strings"
	"testing"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/auditlog"
)

func TestNewEvent(t *testing.T) {
	alice := hookline.Actor{Kind: hookline.ActorUser, ID: "U1", Name: "alice@example.com"}
	tests := []struct {
		name          string
		ctx           context.Context
		before, after any
		wantActor     hookline.Actor
		wantBefore    any
		wantAfter     any
		err           string
	}{
		{"create by a user", hookline.WithActor(context.Background(), alice), nil, map[string]string{"name": "x"},
			alice, nil, `{"name":"x"}`, ""},
		{"system when no actor", context.Background(), hookline.UserAudit{Email: "a"}, nil,
			hookline.Actor{Kind: hookline.ActorSystem}, `{"email":"a","name":"","roleIds":null,"disabled":false,"hasPassword":false}`, nil, ""},
		{"before does not encode", context.Background(), math.Inf(1), nil, hookline.Actor{}, nil, nil, "encode before: "},
		{"after does not encode", context.Background(), nil, make(chan int), hookline.Actor{}, nil, nil, "encode after: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := auditlog.NewEvent(tt.ctx, tt.before, tt.after)
			if tt.err != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.err) {
					t.Errorf("NewEvent: %v; want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if e.Actor != tt.wantActor || e.Before != tt.wantBefore || e.After != tt.wantAfter {
				t.Errorf("NewEvent = %+v; want actor %+v, before %v, after %v", e, tt.wantActor, tt.wantBefore, tt.wantAfter)
			}
		})
	}
}

func TestSetViews(t *testing.T) {
	tests := []struct {
		before, after         sql.NullString
		wantBefore, wantAfter string
	}{
		{sql.NullString{}, sql.NullString{String: `{"a":1}`, Valid: true}, "", `{"a":1}`},
		{sql.NullString{String: `{}`, Valid: true}, sql.NullString{}, `{}`, ""},
		{sql.NullString{}, sql.NullString{}, "", ""},
	}
	for _, tt := range tests {
		var e hookline.AuditEvent
		auditlog.SetViews(&e, tt.before, tt.after)
		if string(e.Before) != tt.wantBefore || string(e.After) != tt.wantAfter ||
			(e.Before == nil) != !tt.before.Valid || (e.After == nil) != !tt.after.Valid {
			t.Errorf("SetViews(%v, %v) = %q, %q", tt.before, tt.after, e.Before, e.After)
		}
	}
}
