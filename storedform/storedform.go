// Package storedform is how both storage engines keep monitors and
// scheduled searches: the tables and their columns, in the order the
// engines read and write them; the JSON of a monitor's triggers,
// notifications and group fields, and the threshold columns of a search;
// the checks made before a write, a claim or a save; the pairing of
// claimed rows with their definitions; and the errors the stores return
// about them. An engine keeps only what is its own: the SQL, the column
// types of booleans and times, transactions and locking.
//
// The encodings here are the stores' own, not the model's or the API's,
// so that hookline.Monitor can change its Go fields without a migration.
// Changing one changes what existing databases hold: don't, without a
// migration in both engines.
package storedform

import (
	"fmt"

	"github.com/hookline/hookline"
)

// A Kind is monitors or scheduled searches: the tables that keep them and
// what the errors about them call one.
type Kind struct {
	Noun       string // "monitor", "scheduled search"
	Table      string // the definitions, keyed by id, with name_key
	StateTable string // the bookkeeping, one row a definition
	StateKey   string // StateTable's column holding the definition's id
}

// Monitors and Searches are the two kinds.
var (
	Monitors = Kind{Noun: "monitor", Table: "monitors", StateTable: "monitor_states", StateKey: "monitor_id"}
	Searches = Kind{Noun: "scheduled search", Table: "scheduled_searches",
		StateTable: "scheduled_search_states", StateKey: "search_id"}
)

// NotFound is ENOTFOUND for the definition id.
func (k Kind) NotFound(id string) error {
	return hookline.Errorf(hookline.ENOTFOUND, "%s %s not found", k.Noun, id)
}

// NameTaken is ECONFLICT naming the field "name": another definition of
// the kind has name, compared ignoring case.
func (k Kind) NameTaken(name string) error {
	return &hookline.Error{
		Code:    hookline.ECONFLICT,
		Message: fmt.Sprintf("a %s named %q already exists", k.Noun, name),
		Fields: []hookline.FieldError{{Field: "name",
			Message: fmt.Sprintf("is already used by another %s (names are compared ignoring case)", k.Noun)}},
	}
}

// CheckHolder returns nil when owner holds the lease on id, whose lease
// holder is holder ("" for none); found is false when id has no state row.
// Otherwise it is ENOTFOUND, or ECONFLICT when the lease is not owner's:
// an evaluation or a run saved after its lease was lost must not overwrite
// the work of the one who claimed it next.
func (k Kind) CheckHolder(id, owner, holder string, found bool) error {
	switch {
	case !found:
		return k.NotFound(id)
	case holder != owner:
		return hookline.Errorf(hookline.ECONFLICT,
			"%s %s is not held by %s: it was not claimed, or another claimed it after the lease expired", k.Noun, id, owner)
	}
	return nil
}
