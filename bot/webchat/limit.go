package webchat

import (
	"net/http"
	"sync"

	"github.com/layan-id/layan/bot/clientip"
	"github.com/layan-id/layan/bot/httpjson"
)

// clientAddr is the key of the client a request came from: its address, an IPv6
// client's /64 (behind trusted proxies, serve has already put the client's address in
// RemoteAddr).
func clientAddr(r *http.Request) string { return clientip.KeyOf(r.RemoteAddr) }

func tooMany(w http.ResponseWriter) {
	w.Header().Set("Retry-After", "5")
	httpjson.Error(w, http.StatusTooManyRequests, "too many requests, please slow down")
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
