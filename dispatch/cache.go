package dispatch

import (
	"context"
	"sync"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/clock"
	"github.com/hookline/hookline/payload"
)

// connCache keeps connection definitions (secrets opened) for a short
// while, so that thousands of attempts a second do not each read and
// decrypt the same row. Edits through this process are forgotten at once;
// edits by another replica show within the TTL.
type connCache struct {
	store hookline.ConnectionStore
	ttl   time.Duration
	clock clock.Clock

	mu sync.Mutex
	m  map[string]cachedConn
}

type cachedConn struct {
	conn    *hookline.Connection
	fetched time.Time
}

func newConnCache(store hookline.ConnectionStore, ttl time.Duration, c clock.Clock) *connCache {
	return &connCache{store: store, ttl: ttl, clock: c, m: map[string]cachedConn{}}
}

func (c *connCache) get(ctx context.Context, id string) (*hookline.Connection, error) {
	now := c.clock.Now()
	c.mu.Lock()
	e, ok := c.m[id]
	c.mu.Unlock()
	if ok && now.Sub(e.fetched) < c.ttl {
		return e.conn, nil
	}
	conn, err := c.store.Connection(ctx, id)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.m[id] = cachedConn{conn: conn, fetched: now}
	c.mu.Unlock()
	return conn, nil
}

func (c *connCache) forget(id string) {
	c.mu.Lock()
	delete(c.m, id)
	c.mu.Unlock()
}

// templateCache keeps parsed payload templates by their text: a handful of
// connections serve most deliveries, and parsing costs more than rendering.
type templateCache struct {
	mu sync.RWMutex
	m  map[string]*payload.Template
}

const maxTemplates = 4096

func newTemplateCache() *templateCache { return &templateCache{m: map[string]*payload.Template{}} }

func (c *templateCache) get(src string) (*payload.Template, error) {
	c.mu.RLock()
	t, ok := c.m[src]
	c.mu.RUnlock()
	if ok {
		return t, nil
	}
	t, err := payload.Parse(src)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if len(c.m) >= maxTemplates {
		clear(c.m) // edited templates leave old texts behind; start over
	}
	c.m[src] = t
	c.mu.Unlock()
	return t, nil
}
