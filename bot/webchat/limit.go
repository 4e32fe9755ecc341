package webchat

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/layan-id/layan/bot/clientip"
	"github.com/layan-id/layan/bot/httpjson"
	"github.com/layan-id/layan/bot/ratemap"
)

// Rate is N requests per period.
type Rate struct {
	N   int
	Per time.Duration
}

func (r Rate) limit() rate.Limit { return rate.Limit(float64(r.N) / r.Per.Seconds()) }

func (r Rate) String() string {
	switch r.Per {
	case time.Second:
		return strconv.Itoa(r.N) + "/s"
	case time.Minute:
		return strconv.Itoa(r.N) + "/min"
	}
	return strconv.Itoa(r.N) + "/h"
}

// Limits are the web chat's rate limits (WEBCHAT_LIMITS).
type Limits struct {
	// New is how many new conversations one client address may start (IPv6: one /64),
	// after a burst of NewBurst at once (a school's computer room).
	New      Rate
	NewBurst int
	// Messages is how many requests one conversation may make (messages, history,
	// photos shown), after a burst of 20.
	Messages Rate
	// Off lifts what is limited per client address (new conversations, photos per
	// address, requests in progress), for a proxy in front that limits by itself; the
	// limits per conversation stay.
	Off bool
}

// DefaultLimits are the limits without WEBCHAT_LIMITS.
func DefaultLimits() Limits {
	return Limits{New: Rate{20, time.Minute}, NewBurst: 30, Messages: Rate{5, time.Second}}
}

// messagesBurst is how many requests one conversation may make at once.
const messagesBurst = 20

// ParseLimits reads WEBCHAT_LIMITS over the defaults: "off", or settings separated by
// commas, each keeping the default when not named:
//
//	new=20/min,burst=30,messages=5/s
//
// Rates are N/s, N/min or N/h with N a whole number; burst is a count.
func ParseLimits(s string) (Limits, error) {
	l := DefaultLimits()
	s = strings.TrimSpace(s)
	switch strings.ToLower(s) {
	case "", "on", "true", "1":
		return l, nil
	case "off", "false", "0":
		l.Off = true
		return l, nil
	}
	for _, part := range strings.Split(s, ",") {
		name, value, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return l, fmt.Errorf("%q: want name=value (new=, burst=, messages=) or off", part)
		}
		var err error
		switch strings.TrimSpace(name) {
		case "new":
			l.New, err = parseRate(value)
		case "messages":
			l.Messages, err = parseRate(value)
		case "burst":
			l.NewBurst, err = strconv.Atoi(strings.TrimSpace(value))
			if err != nil || l.NewBurst < 1 {
				err = fmt.Errorf("burst %q: want a whole number, 1 or more", value)
			}
		default:
			err = fmt.Errorf("%q: unknown setting (want new=, burst= or messages=)", name)
		}
		if err != nil {
			return l, err
		}
	}
	return l, nil
}

// parseRate reads N/s, N/min or N/h.
func parseRate(s string) (Rate, error) {
	n, per, ok := strings.Cut(strings.TrimSpace(s), "/")
	count, err := strconv.Atoi(strings.TrimSpace(n))
	if !ok || err != nil || count < 1 {
		return Rate{}, fmt.Errorf("rate %q: want a whole number per s, min or h, such as 20/min", s)
	}
	switch strings.TrimSpace(per) {
	case "s":
		return Rate{count, time.Second}, nil
	case "min":
		return Rate{count, time.Minute}, nil
	case "h":
		return Rate{count, time.Hour}, nil
	}
	return Rate{}, fmt.Errorf("rate %q: want per s, min or h", s)
}

// SharedLimiter counts requests for every replica at once (store.RateLimits is one,
// a GCRA in Redis): Allow reports whether one more request of key may go now under
// r with a burst of burst.
type SharedLimiter interface {
	Allow(ctx context.Context, key string, r Rate, burst int) (bool, error)
}

// limit is one of the server's limits: counted in the shared limiter when there is
// one, else (and while the shared one fails) in this process.
type limit struct {
	name  string
	rate  Rate
	burst int
	local *ratemap.Map
}

func newLimit(name string, r Rate, burst int) *limit {
	return &limit{name: name, rate: r, burst: burst, local: ratemap.New(r.limit(), burst)}
}

// allow reports whether key may make one more request now.
func (s *Server) allow(ctx context.Context, l *limit, key string) bool {
	if s.shared != nil {
		ok, err := s.shared.Allow(ctx, "wc:"+l.name+":"+key, l.rate, l.burst)
		if err == nil {
			return ok
		}
		// The store failed: count here, so a flood is still held back.
		s.log.WarnContext(ctx, "web chat: shared rate limit unavailable; counting in this process", "err", err)
	}
	return l.local.Allow(key)
}

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
