package accessrule

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/hookline/hookline"
)

// RoleNotFound is the error of a role that does not exist.
func RoleNotFound(id string) error {
	return hookline.Errorf(hookline.ENOTFOUND, "role %s not found", id)
}

// RoleNameTaken is the conflict of a name another role has.
func RoleNameTaken(name string) error {
	return conflictOn("name", "is already used by another role (names are compared ignoring case)",
		"a role named %q already exists", name)
}

// BuiltInRole is EFORBIDDEN for a change to built-in role r; verb is
// "changed" or "deleted".
func BuiltInRole(r *hookline.Role, verb string) error {
	return hookline.Errorf(hookline.EFORBIDDEN, "the %s role is built in and cannot be %s", r.Name, verb)
}

// CapabilitySet returns cs without repeats, in hookline.Capabilities
// order, never nil: the form a role's capabilities are stored in.
func CapabilitySet(cs []hookline.Capability) []hookline.Capability {
	out := []hookline.Capability{}
	for _, c := range hookline.Capabilities {
		if slices.Contains(cs, c) {
			out = append(out, c)
		}
	}
	return out
}

// DecodeCapabilities sets r's capabilities from their stored JSON array,
// never nil. A built-in role has every capability there is, whatever its
// row says.
func DecodeCapabilities(r *hookline.Role, caps string) error {
	if r.BuiltIn {
		r.Capabilities = slices.Clone(hookline.Capabilities)
	} else if err := json.Unmarshal([]byte(caps), &r.Capabilities); err != nil {
		return fmt.Errorf("role %s: decode capabilities: %w", r.ID, err)
	}
	if r.Capabilities == nil {
		r.Capabilities = []hookline.Capability{}
	}
	return nil
}
