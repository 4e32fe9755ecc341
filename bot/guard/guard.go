package guard

import (
	"cmp"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/layan-id/layan/bot/clientip"
	"github.com/layan-id/layan/bot/ratemap"
)

// Defaults of Config.
const (
	DefaultTries  = 5
	DefaultEvery  = time.Minute
	DefaultWindow = time.Minute
)

// maxClients bounds the addresses remembered at once; beyond it, new addresses share
// one allowance (an attack from that many addresses slows everyone's wrong tries).
const maxClients = 100_000

// maxListed bounds the addresses one summary line counts one by one.
const maxListed = 1_000

// Config configures a Guard.
type Config struct {
	// Name names the door in log lines, e.g. "admin API".
	Name   string
	Logger *slog.Logger // nil: discard
	// Tries is how many wrong secrets one client address may present before it is
	// refused (429) without being checked; default DefaultTries.
	Tries int
	// Every is how often a client earns one try back, up to Tries; default
	// DefaultEvery. A throttled client may try again after it.
	Every time.Duration
	// Window is how often a summary of wrong secrets is logged, if there were any;
	// default DefaultWindow.
	Window time.Duration
}

// Guard counts wrong secrets per client address and throttles an address that
// presents too many. The address is the connection's (an IPv6 address counts as its
// /64 network, which one client usually holds whole). It is safe for concurrent use.
type Guard struct {
	name   string
	log    *slog.Logger
	tries  int
	every  time.Duration
	window time.Duration

	clients *ratemap.Map // the tries of the addresses that used some

	mu    sync.Mutex
	tally *tally // since the last summary; nil: nothing to tell
}

// tally is what the next summary line tells.
type tally struct {
	failures  int            // wrong or missing secrets
	throttled int            // requests refused without a check
	reasons   map[string]int // reason → failures
	addrs     map[string]int // address → failures and refusals (maxListed at most)
	more      bool           // more addresses than listed
}

// New returns a guard.
func New(cfg Config) *Guard {
	g := &Guard{name: cfg.Name, log: cfg.Logger, tries: cfg.Tries, every: cfg.Every, window: cfg.Window}
	if g.log == nil {
		g.log = slog.New(slog.DiscardHandler)
	}
	if g.tries <= 0 {
		g.tries = DefaultTries
	}
	if g.every <= 0 {
		g.every = DefaultEvery
	}
	if g.window <= 0 {
		g.window = DefaultWindow
	}
	g.clients = ratemap.Bounded(rate.Every(g.every), g.tries, maxClients)
	return g
}

// Throttled returns how long r's client must wait before it may present a secret
// again, or 0 when it may now. Check it before the secret: a throttled client is
// refused even with the right one, or throttling would not slow guessing down.
func (g *Guard) Throttled(r *http.Request) time.Duration {
	key := clientKey(r.RemoteAddr)
	now := time.Now()
	lim := g.clients.Peek(key)
	if lim == nil {
		return 0
	}
	tokens := lim.TokensAt(now)
	if tokens >= 1 {
		return 0
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.count(now, key, "")
	return time.Duration(math.Ceil((1 - tokens) * float64(g.every)))
}

// Fail records that r's client presented a wrong secret, or none; reason says which
// ("wrong token", "no token"). It is never the secret itself.
func (g *Guard) Fail(r *http.Request, reason string) {
	key := clientKey(r.RemoteAddr)
	now := time.Now()
	g.clients.Get(key).AllowN(now, 1)
	g.mu.Lock()
	defer g.mu.Unlock()
	g.count(now, key, cmp.Or(reason, "refused"))
}

// count adds a failure (reason set) or a refusal to the tally; the first of a window
// schedules its summary. g.mu is held.
func (g *Guard) count(now time.Time, key, reason string) {
	if g.tally == nil {
		g.tally = &tally{reasons: map[string]int{}, addrs: map[string]int{}}
		time.AfterFunc(g.window, g.summarize)
	}
	t := g.tally
	if reason != "" {
		t.failures++
		t.reasons[reason]++
	} else {
		t.throttled++
	}
	if _, ok := t.addrs[key]; ok || len(t.addrs) < maxListed {
		t.addrs[key]++
	} else {
		t.more = true
	}
}

// summarize logs one line for the window that ends.
func (g *Guard) summarize() {
	g.mu.Lock()
	t := g.tally
	g.tally = nil
	g.mu.Unlock()
	if t == nil {
		return
	}
	type seen struct {
		addr string
		n    int
	}
	var all []seen
	for a, n := range t.addrs {
		all = append(all, seen{a, n})
	}
	slices.SortFunc(all, func(a, b seen) int { return cmp.Or(b.n-a.n, strings.Compare(a.addr, b.addr)) })
	var top []string
	for _, s := range all[:min(len(all), 5)] {
		top = append(top, s.addr+" ("+strconv.Itoa(s.n)+")")
	}
	var reasons []string
	for r, n := range t.reasons {
		reasons = append(reasons, r+" ("+strconv.Itoa(n)+")")
	}
	slices.Sort(reasons)
	addrs := strconv.Itoa(len(all))
	if t.more {
		addrs = "more than " + addrs
	}
	g.log.Warn(g.name+": wrong or missing secrets", "window", g.window.String(),
		"failures", t.failures, "throttled", t.throttled, "addresses", addrs,
		"most", strings.Join(top, ", "), "reasons", strings.Join(reasons, ", "))
}

// RetryAfter is the value of a Retry-After header for a wait: whole seconds, at
// least one.
func RetryAfter(wait time.Duration) string {
	return strconv.Itoa(max(1, int(math.Ceil(wait.Seconds()))))
}

// clientKey is the address that counts for a connection's remote address: the IP,
// or an IPv6 address's /64 network.
func clientKey(remote string) string { return clientip.KeyOf(remote) }
