//go:build race

package payload_test

// The race detector makes sync.Pool drop a share of what is put back, so
// rendering then allocates fresh scratch space now and again.
const maxRenderAllocs = 10
