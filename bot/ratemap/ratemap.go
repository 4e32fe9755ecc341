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
	max   int           // 0: no bound (see Bounded)

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

// Overflow is the key whose bucket the keys beyond a bounded map's size share.
const Overflow = "(others)"

// Bounded returns a map like New's that keeps at most size buckets (plus the shared
// Overflow one): once it is full even after forgetting the full buckets, a new key
// gets the Overflow bucket, so many keys (an attack from many addresses) cost no more
// memory than size buckets and still share one allowance.
func Bounded(limit rate.Limit, burst, size int) *Map {
	m := New(limit, burst)
	m.max = size
	return m
}

// Get returns key's bucket and marks it used now.
func (m *Map) Get(key string) *rate.Limiter {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	if now.Sub(m.swept) > max(m.full, time.Minute) {
		m.sweep(now)
	}
	b := m.buckets[key]
	if b == nil && m.max > 0 && len(m.buckets) >= m.max {
		m.sweep(now)
		if len(m.buckets) >= m.max {
			key = Overflow
			b = m.buckets[key]
		}
	}
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(m.limit, m.burst)}
		m.buckets[key] = b
	}
	b.used = now
	return b.lim
}

// Peek returns the bucket Get would give key now without making one or marking it
// used: nil when key has none (its bucket would be full).
func (m *Map) Peek(key string) *rate.Limiter {
	m.mu.Lock()
	defer m.mu.Unlock()
	b := m.buckets[key]
	if b == nil && m.max > 0 && len(m.buckets) >= m.max {
		b = m.buckets[Overflow]
	}
	if b == nil {
		return nil
	}
	return b.lim
}

// sweep forgets the buckets that have stood unused long enough to be full. m.mu is
// held.
func (m *Map) sweep(now time.Time) {
	for k, b := range m.buckets {
		if now.Sub(b.used) > m.full {
			delete(m.buckets, k)
		}
	}
	m.swept = now
}

// Allow reports whether key may have one more event now, and takes it.
func (m *Map) Allow(key string) bool { return m.Get(key).Allow() }

// Len returns how many buckets the map keeps.
func (m *Map) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.buckets)
}
