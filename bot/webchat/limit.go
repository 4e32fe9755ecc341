package webchat

import (
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/layan-id/layan/bot/clientip"
)

// limiter keeps one token bucket per key (a client address, a conversation), and
// forgets the idle ones, so one client cannot make the server do unbounded work.
type limiter struct {
	mu      sync.Mutex
	every   rate.Limit
	burst   int
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	lim  *rate.Limiter
	used time.Time
}

func newLimiter(every rate.Limit, burst int) *limiter {
	return &limiter{every: every, burst: burst, buckets: map[string]*bucket{}}
}

// allow reports whether key may make one more request now.
func (l *limiter) allow(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if now.Sub(l.swept) > time.Minute {
		for k, b := range l.buckets {
			if now.Sub(b.used) > 10*time.Minute {
				delete(l.buckets, k)
			}
		}
		l.swept = now
	}
	b := l.buckets[key]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(l.every, l.burst)}
		l.buckets[key] = b
	}
	b.used = now
	return b.lim.Allow()
}

// clientAddr is the key of the client a request came from: its address, an IPv6
// client's /64 (behind trusted proxies, serve has already put the client's address in
// RemoteAddr).
func clientAddr(r *http.Request) string { return clientip.KeyOf(r.RemoteAddr) }

func tooMany(w http.ResponseWriter) {
	w.Header().Set("Retry-After", "5")
	writeError(w, http.StatusTooManyRequests, "too many requests, please slow down")
}

// gate counts the requests in progress per key (a client address).
type gate struct {
	mu sync.Mutex
	n  map[string]int
}

func newGate() *gate { return &gate{n: map[string]int{}} }

// enter admits one more request of key unless max are in progress; leave ends it.
func (g *gate) enter(key string, max int) (leave func(), ok bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.n[key] >= max {
		return nil, false
	}
	g.n[key]++
	return func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		if g.n[key]--; g.n[key] <= 0 {
			delete(g.n, key)
		}
	}, true
}
