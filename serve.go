package main

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/layan-id/layan/bot/guard"
	"github.com/layan-id/layan/rungroup"
)

// serve runs the service until ctx ends (SIGINT, SIGTERM) or a part of it fails,
// then stops it gracefully: the parts stop one after another in the reverse of the
// order below, each after the one started after it has finished what it had in
// hand. A store that cannot close cleanly makes serve fail, so the process exits
// non-zero.
func serve(ctx context.Context, cfg config, log *slog.Logger, stdout io.Writer) error {
	unlock, err := lockDataDir(cfg)
	if err != nil {
		return err
	}
	defer unlock() // after the group: the store is closed by then
	a, err := build(ctx, cfg, log, forService)
	if err != nil {
		return err
	}
	g := &rungroup.Group{Logger: log}
	g.Add("store", a.runStore) // closed last: every part below may use it
	// Complaints an earlier version kept under {cmp} move into their shards: all at
	// start, then what an old replica still files during a rolling upgrade.
	g.Add("complaint layout", rungroup.Every(time.Minute, a.migrateComplaints))
	g.Add("news", a.notifier.Run) // after the parts that make news: what they made in flight is delivered
	if a.whatsapp != nil {
		g.Add("whatsapp", a.whatsapp.Run) // releases its connection lock as it stops
	}
	g.Add("broadcasts", a.scheduler.Run)
	g.Add("knowledge base", a.followFAQ)
	g.Add("handoff waits", rungroup.Every(30*time.Second, a.expireWaits))
	g.Add("photo pruning", rungroup.Every(time.Hour, a.prunePhotos))
	if a.telegram != nil {
		g.Add("telegram", a.telegram.Run) // updates in hand are handled before it returns
	}
	if a.cloud != nil {
		g.Add("whatsapp cloud", a.cloud.Run) // messages in hand likewise
	}
	if cfg.MetricsAddr != "" {
		ln, err := net.Listen("tcp", cfg.MetricsAddr)
		if err != nil {
			a.close()
			return fmt.Errorf("listen on METRICS_ADDR %s: %w", cfg.MetricsAddr, err)
		}
		log.Info("metrics without a token", "addr", ln.Addr().String())
		g.Add("metrics", func(ctx context.Context) error { return a.serveMetrics(ctx, ln) })
	}
	g.Add("http", a.serveHTTP) // stopped first: requests in flight finish
	fmt.Fprintf(stdout, "Layan is running: chat at http://%s (Ctrl+C to stop)\n", displayAddr(a.listener.Addr()))
	log.Info("serving", "addr", a.listener.Addr().String(), "store", storeKind(cfg))
	stop := context.AfterFunc(ctx, func() { log.Info("shutting down") })
	defer stop()
	return g.Run(ctx)
}

// runStore keeps the store open until ctx ends, then closes it (the embedded store
// syncs and closes its journal). A store that cannot close cleanly may not have kept
// every write: the error says so.
func (a *app) runStore(ctx context.Context) error {
	<-ctx.Done()
	if err := a.close(); err != nil {
		a.log.Error("close store", "err", err)
		return fmt.Errorf("close store: %w", err)
	}
	return nil
}

// followFAQ rebuilds the FAQ's index whenever staff publish on any replica: it
// looks at the store's version every faqPoll, until ctx ends.
func (a *app) followFAQ(ctx context.Context) error {
	return a.kb.Live().Follow(ctx, a.store.FAQBase(), faqPoll, a.log)
}

// shutdownTimeout bounds the wait for HTTP requests in flight at shutdown.
const shutdownTimeout = 10 * time.Second

// serveHTTP serves HTTP_ADDR and the web chat's live streams until ctx ends; then it
// ends the live streams and waits, up to shutdownTimeout, for the requests in flight
// (a web chat message being answered, a webhook being queued) to finish.
func (a *app) serveHTTP(ctx context.Context) error {
	srv := newHTTPServer(a.handler, a.log)
	streams, endStreams := context.WithCancel(ctx)
	defer endStreams()
	streamsDone := make(chan struct{})
	go func() { defer close(streamsDone); a.web.Run(streams) }()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(a.listener) }()
	select {
	case err := <-served:
		endStreams()
		<-streamsDone
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	endStreams() // live streams end now, so that the shutdown does not wait for them
	<-streamsDone
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("http shutdown: %w", err)
	}
	return nil
}

// serveMetrics serves GET /metrics without a token on ln (METRICS_ADDR: a port only
// Prometheus reaches, and nothing else there) until ctx ends.
func (a *app) serveMetrics(ctx context.Context, ln net.Listener) error {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", a.metrics.Handler())
	srv := newHTTPServer(mux, a.log)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("metrics listener: %w", err)
	case <-ctx.Done():
	}
	return srv.Close()
}

// expireWaits tells people who waited longer than HANDOFF_WAIT that nobody came yet.
// Any number of replicas may do it: each person is told once.
func (a *app) expireWaits(ctx context.Context) {
	if n, err := a.desk.Expire(ctx); err != nil && ctx.Err() == nil {
		a.log.Warn("look for people waiting too long for staff", "err", err)
	} else if n > 0 {
		a.log.Info("people told that staff are busy", "count", n)
	}
}

// migrateComplaints moves complaints an earlier version kept under {cmp} into their
// shards (store.Complaints.Migrate); any number of replicas may do it at once.
func (a *app) migrateComplaints(ctx context.Context) {
	start := time.Now()
	if n, err := a.complaints.Migrate(ctx); err != nil {
		if ctx.Err() == nil {
			a.log.Error("move complaints into their shards", "err", err, "moved", n)
		}
	} else if n > 0 {
		a.log.Info("complaints moved into their shards", "count", n, "took", time.Since(start).Round(time.Millisecond))
	}
}

// prunePhotos removes the photos a day old that no filed complaint holds (see
// store.UnfiledPhotoAge).
func (a *app) prunePhotos(ctx context.Context) {
	if n, err := a.complaints.PrunePhotos(ctx, a.media); err != nil {
		a.log.Warn("prune photos", "err", err)
	} else if n > 0 {
		a.log.Info("photos of unfiled drafts removed", "count", n)
	}
}

// The HTTP server's own limits, for every handler. The web chat's handlers set
// tighter deadlines of their own, and its live streams clear them (see
// bot/webchat); the webhooks and the staff API keep these.
const (
	httpReadHeaderTimeout = 10 * time.Second // a request's headers arrive at once, or the connection is cut
	httpReadTimeout       = 30 * time.Second // headers and body of a request
	httpWriteTimeout      = 5 * time.Minute  // the whole answer (an export to a slow link)
	httpIdleTimeout       = 2 * time.Minute  // a kept-alive connection waiting for its next request
)

// newHTTPServer returns the server for HTTP_ADDR: a slow client (headers or body
// trickling in, an answer nobody reads, an idle connection) is cut.
func newHTTPServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: httpReadHeaderTimeout,
		ReadTimeout:       httpReadTimeout,
		WriteTimeout:      httpWriteTimeout,
		IdleTimeout:       httpIdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// displayAddr makes a listen address clickable: an unspecified host becomes 127.0.0.1.
func displayAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok || !tcp.IP.IsUnspecified() {
		return a.String()
	}
	return fmt.Sprintf("127.0.0.1:%d", tcp.Port)
}

func storeKind(cfg config) string {
	if cfg.RedisURL == "" {
		return "embedded (" + cfg.DataDir + ")"
	}
	return "redis"
}

func writeStatus(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// bearer lets through requests whose Authorization is "Bearer <one of tokens>" (empty
// tokens never match) and answers 401 to the rest; repeated wrong tokens from one
// address are throttled and summed up in the log by g, as for the staff API.
func bearer(h http.Handler, g *guard.Guard, tokens ...string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if wait := g.Throttled(r); wait > 0 {
			w.Header().Set("Retry-After", guard.RetryAfter(wait))
			http.Error(w, "too many wrong tokens from this address; try again later", http.StatusTooManyRequests)
			return
		}
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		for _, t := range tokens {
			if ok && t != "" && subtle.ConstantTimeCompare([]byte(got), []byte(t)) == 1 {
				h.ServeHTTP(w, r)
				return
			}
		}
		g.Fail(r, "wrong or missing token")
		w.Header().Set("WWW-Authenticate", `Bearer realm="layan"`)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
	})
}
