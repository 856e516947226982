//go:build !race

package payload_test

// maxRenderAllocs bounds what one AppendRender into a reused buffer allocates.
const maxRenderAllocs = 0
