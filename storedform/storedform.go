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
	// Unexported, and read through methods: the names go into SQL.
	noun       string // "monitor", "scheduled search"
	table      string // the definitions, keyed by id, with name_key
	stateTable string // the bookkeeping, one row a definition
	stateKey   string // stateTable's column holding the definition's id
}

// Monitors and Searches are the two kinds.
var (
	Monitors = Kind{noun: "monitor", table: "monitors", stateTable: "monitor_states", stateKey: "monitor_id"}
	Searches = Kind{noun: "scheduled search", table: "scheduled_searches",
		stateTable: "scheduled_search_states", stateKey: "search_id"}
)

// Noun is what the errors call one definition of the kind.
func (k Kind) Noun() string { return k.noun }

// Table is the table of the definitions, keyed by id, with name_key.
func (k Kind) Table() string { return k.table }

// StateTable is the table of the bookkeeping, one row a definition.
func (k Kind) StateTable() string { return k.stateTable }

// StateKey is StateTable's column holding the definition's id.
func (k Kind) StateKey() string { return k.stateKey }

// NotFound is ENOTFOUND for the definition id.
func (k Kind) NotFound(id string) error {
	return hookline.Errorf(hookline.ENOTFOUND, "%s %s not found", k.noun, id)
}

// NameTaken is ECONFLICT naming the field "name": another definition of
// the kind has name, compared ignoring case.
func (k Kind) NameTaken(name string) error {
	return &hookline.Error{
		Code:    hookline.ECONFLICT,
		Message: fmt.Sprintf("a %s named %q already exists", k.noun, name),
		Fields: []hookline.FieldError{{Field: "name",
			Message: fmt.Sprintf("is already used by another %s (names are compared ignoring case)", k.noun)}},
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
			"%s %s is not held by %s: it was not claimed, or another claimed it after the lease expired", k.noun, id, owner)
	}
	return nil
}
