// Package ratemap keeps one token bucket (golang.org/x/time/rate) per key — a client
// address, a conversation, a chat — made on first use, and forgets the buckets that
// have stood unused long enough to be full again, so the map does not grow with every
// key ever seen and forgetting changes nothing: a new bucket is full too.
package ratemap

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Map is a keyed set of token buckets of one rate and burst. It is safe for
// concurrent use.
type Map struct {
	limit rate.Limit
	burst int
	full  time.Duration // an unused bucket is full again after this

	mu      sync.Mutex
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	lim  *rate.Limiter
	used time.Time
}

// New returns a map whose buckets allow limit events a second with bursts of burst.
func New(limit rate.Limit, burst int) *Map {
	m := &Map{limit: limit, burst: burst, buckets: map[string]*bucket{}}
	if limit > 0 && limit != rate.Inf {
		m.full = time.Duration(float64(burst) / float64(limit) * float64(time.Second))
	}
	return m
}

// Get returns key's bucket and marks it used now.
func (m *Map) Get(key string) *rate.Limiter {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	if now.Sub(m.swept) > max(m.full, time.Minute) {
		for k, b := range m.buckets {
			if now.Sub(b.used) > m.full {
				delete(m.buckets, k)
			}
		}
		m.swept = now
	}
	b := m.buckets[key]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(m.limit, m.burst)}
		m.buckets[key] = b
	}
	b.used = now
	return b.lim
}

// Allow reports whether key may have one more event now, and takes it.
func (m *Map) Allow(key string) bool { return m.Get(key).Allow() }

// Len returns how many buckets the map keeps.
func (m *Map) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.buckets)
}
