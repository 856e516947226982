package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/auditlog"
	"github.com/hookline/hookline/listpage"
	"github.com/hookline/hookline/rowid"
)

// The audit log. Every change is recorded by the transaction that makes
// it, so the log holds exactly the changes that were committed. Events are
// listed by ID, which rowid.Gen draws from the real clock: within a process
// IDs never repeat or go back; across processes they are ordered to the
// millisecond. An event's Time is the store's clock (DB.Now). An update
// that changes nothing is recorded all the same.

// Audit actions (package auditlog).
const (
	actionCreate = auditlog.Create
	actionUpdate = auditlog.Update
	actionDelete = auditlog.Delete
	actionSignIn = auditlog.SignIn
)

const auditColumns = auditlog.ColumnList

// change is one audit event to record. before and after are audit views
// (values that json.Marshal encodes), nil when there is none.
type change struct {
	action                           string
	targetType, targetID, targetName string
	before, after                    any
}

// audit records c in tx as made by the actor in ctx.
func (db *DB) audit(ctx context.Context, tx *sql.Tx, c change) error {
	e, err := auditlog.NewEvent(ctx, c.before, c.after)
	if err != nil {
		return fmt.Errorf("record audit event: %w", err)
	}
	at := db.now()
	// A failed statement aborts a PostgreSQL transaction, so an ID another
	// process drew in the same millisecond is skipped with ON CONFLICT
	// rather than caught as an error.
	for range 5 {
		id, err := db.ids.Next(time.Now())
		if err != nil {
			return fmt.Errorf("record audit event: %w", err)
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO audit_events (`+auditColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (id) DO NOTHING`,
			id, at, e.Actor.Kind, e.Actor.ID, e.Actor.Name, e.Actor.AccessID, c.action,
			c.targetType, c.targetID, c.targetName, e.Before, e.After)
		if err != nil {
			return fmt.Errorf("record audit event: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("record audit event: %w", err)
		} else if n == 1 {
			return nil
		}
	}
	return errors.New("record audit event: five IDs were all taken")
}

// auditKey is the ID of the last event on a page.
type auditKey struct {
	ID string `json:"i"`
}

// AuditEvents returns a page of audit events, newest first, selected by
// f's non-empty fields. The limit and token rules are Connections'.
func (db *DB) AuditEvents(ctx context.Context, f hookline.AuditFilter) ([]*hookline.AuditEvent, string, error) {
	var p hookline.Problems
	limit := listpage.Limit(&p, f.Limit)
	after, err := listpage.Decode(f.Token, func(k auditKey) bool { return rowid.Valid(k.ID) })
	if err != nil {
		p.AddError("token", err)
	}
	if err := p.Err(); err != nil {
		return nil, "", fmt.Errorf("list audit events: %w", err)
	}
	if strings.ContainsRune(f.TargetType+f.TargetID+f.ActorID, 0) {
		// No stored text holds NUL, and PostgreSQL refuses it as a value.
		return []*hookline.AuditEvent{}, "", nil
	}
	query, args := auditEventsQuery(f, after, limit)
	rows, err := db.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, "", fmt.Errorf("list audit events: %w", err)
	}
	list, more, err := listpage.Scan(rows, limit, scanAuditEvent)
	if err != nil {
		return nil, "", fmt.Errorf("list audit events: %w", err)
	}
	next := ""
	if more {
		next = listpage.Encode(auditKey{ID: list[len(list)-1].ID})
	}
	return list, next, nil
}

// auditEventsQuery returns the query of a page of audit events, asking for
// one more than limit to show whether another page follows. Each filter
// walks an index backwards: the primary key, audit_events_target or
// audit_events_actor.
func auditEventsQuery(f hookline.AuditFilter, after *auditKey, limit int) (string, []any) {
	query := `SELECT ` + auditColumns + ` FROM audit_events WHERE true`
	var args []any
	arg := func(cond string, v any) {
		args = append(args, v)
		query += fmt.Sprintf(" AND "+cond, len(args))
	}
	if f.TargetType != "" {
		arg(`target_type = $%d`, f.TargetType)
	}
	if f.TargetID != "" {
		arg(`target_id = $%d`, f.TargetID)
	}
	if f.ActorID != "" {
		arg(`actor_id = $%d`, f.ActorID)
	}
	if after != nil {
		arg(`id < $%d`, after.ID)
	}
	args = append(args, limit+1)
	return query + fmt.Sprintf(` ORDER BY id DESC LIMIT $%d`, len(args)), args
}

func scanAuditEvent(s scanner) (*hookline.AuditEvent, error) {
	var (
		e             hookline.AuditEvent
		before, after sql.NullString
	)
	err := s.Scan(&e.ID, &e.Time, &e.Actor.Kind, &e.Actor.ID, &e.Actor.Name, &e.Actor.AccessID, &e.Action,
		&e.TargetType, &e.TargetID, &e.TargetName, &before, &after)
	if err != nil {
		return nil, err
	}
	e.Time = e.Time.UTC()
	auditlog.SetViews(&e, before, after)
	return &e, nil
}
