// Package auditlog owns what both storage engines put into the audit log
// and read back out besides their SQL: the actions, an event's actor (the
// system when the change's context names none), its before and after
// views as the JSON the columns hold, and those views read back. The
// engines keep the table, the event IDs and the transaction that records
// an event with the change it describes.
package auditlog

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/hookline/hookline"
)

// Audit actions.
const (
	Create      = "create"
	Update      = "update"
	Delete      = "delete"
	SignIn      = "signIn"
	RotateToken = "rotateToken" // RotateSourceToken
)

// ColumnList is the columns of the audit_events table, in the order the
// engines insert and scan them.
const ColumnList = `id, at, actor_kind, actor_id, actor_name, actor_access_id, action,
	target_type, target_id, target_name, before, after`

// Event is what an engine stores of a change, but for its ID, time, action
// and target.
type Event struct {
	Actor hookline.Actor
	// Before and After are the views as JSON text, or nil (NULL) for none.
	Before, After any
}

// NewEvent returns the event of a change made by the actor in ctx, whose
// audit views before and after are values json.Marshal encodes, nil when
// there is none.
func NewEvent(ctx context.Context, before, after any) (Event, error) {
	e := Event{Actor: hookline.ActorFrom(ctx)}
	if e.Actor.Kind == "" {
		e.Actor.Kind = hookline.ActorSystem
	}
	var err error
	if e.Before, err = viewJSON(before); err != nil {
		return Event{}, fmt.Errorf("encode before: %w", err)
	}
	if e.After, err = viewJSON(after); err != nil {
		return Event{}, fmt.Errorf("encode after: %w", err)
	}
	return e, nil
}

// viewJSON encodes an audit view as the column's text, or NULL for none.
func viewJSON(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// SetViews sets e's Before and After from their stored JSON; NULL is none.
func SetViews(e *hookline.AuditEvent, before, after sql.NullString) {
	if before.Valid {
		e.Before = json.RawMessage(before.String)
	}
	if after.Valid {
		e.After = json.RawMessage(after.String)
	}
}
