package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/auditlog"
	"github.com/hookline/hookline/connrow"
	"github.com/hookline/hookline/listpage"
	"github.com/hookline/hookline/rowid"
)

// The audit log. Every change is recorded by the transaction that makes
// it, so the log holds exactly the changes that were committed. Events are
// listed in the order they were recorded: their IDs come from rowid.Gen, which
// draws from the real clock and never repeats or goes back within a
// process, while an event's Time is the store's clock (DB.Now). An update
// that changes nothing is recorded all the same: someone asked for it, and
// comparing views to skip it would make the log depend on what the views
// happen to show.

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
	at := formatTime(db.now())
	// A failed statement does not end an SQLite transaction, so a taken ID
	// (another process drawing in the same millisecond) can be drawn again.
	for range 5 {
		id, err := db.ids.Next(time.Now())
		if err != nil {
			return fmt.Errorf("record audit event: %w", err)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO audit_events (`+auditColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			id, at, e.Actor.Kind, e.Actor.ID, e.Actor.Name, e.Actor.AccessID, c.action,
			c.targetType, c.targetID, c.targetName, e.Before, e.After)
		if isPrimaryKeyConflict(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("record audit event: %w", err)
		}
		return nil
	}
	return errors.New("record audit event: five IDs were all taken")
}

// storedConnection is what updating or deleting a connection needs of the
// stored row: its audit view and its creation. Its secrets are read by name
// only and never opened, so that a row whose secret no longer opens can
// still be replaced or deleted.
type storedConnection struct {
	view      hookline.ConnectionAudit
	createdAt time.Time
	createdBy string
}

// readStoredConnection reads connection id in tx; ENOTFOUND when missing.
func readStoredConnection(ctx context.Context, tx *sql.Tx, id string) (*storedConnection, error) {
	var (
		c         hookline.Connection
		j         connrow.JSON
		createdAt string
		s         storedConnection
	)
	err := tx.QueryRowContext(ctx, `SELECT name, description, webhook_type, url, custom_headers, default_payload,
		resolution_payload, settings, secrets, created_at, created_by FROM connections WHERE id = ?`, id).
		Scan(&c.Name, &c.Description, &c.WebhookType, &c.URL, &j.Headers, &c.DefaultPayload,
			&c.ResolutionPayload, &j.Settings, &j.Secrets, &createdAt, &s.createdBy)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, connrow.NotFound(id)
	case err != nil:
		return nil, fmt.Errorf("read connection: %w", err)
	}
	if s.view, err = connrow.AuditView(id, &c, j); err != nil {
		return nil, err
	}
	if s.createdAt, err = parseTime(createdAt); err != nil {
		return nil, fmt.Errorf("connection %s: created_at: %w", id, err)
	}
	return &s, nil
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

	query, args := auditEventsQuery(f, after, limit)
	rows, err := db.read.QueryContext(ctx, query, args...)
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
// walks an index backwards (TestAccessQueryPlans): the primary key,
// audit_events_target or audit_events_actor.
func auditEventsQuery(f hookline.AuditFilter, after *auditKey, limit int) (string, []any) {
	query := `SELECT ` + auditColumns + ` FROM audit_events WHERE true`
	var args []any
	if f.TargetType != "" {
		query += ` AND target_type = ?`
		args = append(args, f.TargetType)
	}
	if f.TargetID != "" {
		query += ` AND target_id = ?`
		args = append(args, f.TargetID)
	}
	if f.ActorID != "" {
		query += ` AND actor_id = ?`
		args = append(args, f.ActorID)
	}
	if after != nil {
		query += ` AND id < ?`
		args = append(args, after.ID)
	}
	query += ` ORDER BY id DESC LIMIT ?`
	return query, append(args, limit+1)
}

func scanAuditEvent(s scanner) (*hookline.AuditEvent, error) {
	var (
		e             hookline.AuditEvent
		at            string
		before, after sql.NullString
	)
	err := s.Scan(&e.ID, &at, &e.Actor.Kind, &e.Actor.ID, &e.Actor.Name, &e.Actor.AccessID, &e.Action,
		&e.TargetType, &e.TargetID, &e.TargetName, &before, &after)
	if err != nil {
		return nil, err
	}
	if e.Time, err = parseTime(at); err != nil {
		return nil, fmt.Errorf("audit event %s: %w", e.ID, err)
	}
	auditlog.SetViews(&e, before, after)
	return &e, nil
}
