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
	"sync"
	"time"

	"github.com/layan-id/layan/bot/guard"
	"github.com/layan-id/layan/store"
)

// serve runs the service until ctx ends, then shuts down gracefully.
func serve(ctx context.Context, cfg config, log *slog.Logger, stdout io.Writer) (err error) {
	unlock, err := lockDataDir(cfg)
	if err != nil {
		return err
	}
	defer unlock()
	a, err := build(ctx, cfg, log, true)
	if err != nil {
		return err
	}
	defer func() {
		// A store that cannot close cleanly may not have kept every write: say so, and
		// exit non-zero so that a supervisor notices.
		if cerr := a.close(); cerr != nil {
			log.Error("close store", "err", cerr)
			if err == nil {
				err = fmt.Errorf("close store: %w", cerr)
			}
		}
	}()

	waDone := make(chan struct{})
	waCtx, stopWA := context.WithCancel(ctx)
	defer func() { stopWA(); <-waDone }() // WhatsApp releases its lock before the store closes
	if a.whatsapp != nil {
		go func() { defer close(waDone); a.whatsapp.Run(waCtx) }()
	} else {
		close(waDone)
	}

	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on HTTP_ADDR %s: %w", cfg.HTTPAddr, err)
	}
	srv := newHTTPServer(a.handler, log)
	fmt.Fprintf(stdout, "Layan is running: chat at http://%s (Ctrl+C to stop)\n", displayAddr(ln.Addr()))
	log.Info("serving", "addr", ln.Addr().String(), "store", storeKind(cfg))

	// Background work stops with ctx and is waited for before the store closes, so a
	// delivery in progress records what it did (deferred calls run last to first).
	var background sync.WaitGroup
	defer background.Wait()
	defer a.notifier.Wait()
	background.Go(func() { a.web.Run(ctx) }) // live streams end when ctx does, so the shutdown below is quick
	background.Go(func() { a.notifier.Run(ctx) })
	background.Go(func() { a.scheduler.Run(ctx) })
	background.Go(func() { prunePhotos(ctx, a.media, a.complaints, log) })
	background.Go(func() { watchHandoffs(ctx, a.desk, log) })
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	tgCtx, stopTelegram := context.WithCancel(ctx)
	tgDone := make(chan struct{})
	go func() {
		defer close(tgDone)
		if a.telegram != nil {
			a.telegram.Run(tgCtx) // returns when tgCtx ends; an unreachable Bot API is retried meanwhile
		}
	}()
	defer func() { stopTelegram(); <-tgDone }() // updates being handled finish before the store closes
	cloudCtx, stopCloud := context.WithCancel(ctx)
	cloudDone := make(chan struct{})
	go func() {
		defer close(cloudDone)
		if a.cloud != nil {
			a.cloud.Run(cloudCtx) // an unreachable Graph API is retried meanwhile
		}
	}()
	defer func() { stopCloud(); <-cloudDone }() // messages being handled finish before the store closes
	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("http shutdown: %w", err)
	}
	return nil
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

// prunePhotos removes, every hour, photos a day old that no filed complaint holds
// (see store.UnfiledPhotoAge).
func prunePhotos(ctx context.Context, media *store.Media, complaints *store.Complaints, log *slog.Logger) {
	tick := time.NewTicker(time.Hour)
	defer tick.Stop()
	for {
		n, err := complaints.PrunePhotos(ctx, media)
		if err != nil {
			log.Warn("prune photos", "err", err)
		} else if n > 0 {
			log.Info("photos of unfiled drafts removed", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
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
