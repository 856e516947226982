// Package hookline holds Hookline's vocabulary: connections, alerts and the
// variables a payload template may use, their validation rules, the one
// application error type, and the small service interfaces that the storage
// engines, the integrations and the HTTP layer implement or consume.
//
// Everything else in the module depends on this package; this package depends
// on nothing of the module's own.
package hookline
