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
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/layan-id/layan/admin"
	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/bot/guard"
	"github.com/layan-id/layan/bot/webchat"
	"github.com/layan-id/layan/bot/whatsapp"
	"github.com/layan-id/layan/broadcast"
	"github.com/layan-id/layan/flows"
	"github.com/layan-id/layan/store"
)

// serve runs the HTTP server until ctx ends, then shuts down gracefully.
func serve(ctx context.Context, cfg config, log *slog.Logger, stdout io.Writer) (err error) {
	unlock, err := lockDataDir(cfg)
	if err != nil {
		return err
	}
	defer unlock()
	a, err := newApp(ctx, cfg, log)
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

	chats := a.store.WebChats()
	a.sender.Register(webchat.NewChannel(chats), bot.Limits{})
	web, err := webchat.NewServer(a.engine, chats, a.texts, log)
	if err != nil {
		return err
	}
	web.AllowFraming(cfg.Web.FrameAncestors)
	if !cfg.Web.AddressLimits {
		web.LiftAddressLimits()
		log.Info("web chat: limits per client address are off (WEBCHAT_LIMITS=off)")
	}
	media, err := store.NewMedia(filepath.Join(cfg.DataDir, "media"))
	if err != nil {
		return err
	}
	media.SetQuota(cfg.Web.MediaQuota)
	web.AcceptPhotos(media)
	tg, err := a.telegram(media)
	if err != nil {
		return err
	}

	cloud, err := a.whatsappCloud(media)
	if err != nil {
		return err
	}
	a.cloud = cloud
	waDone := make(chan struct{})
	waCtx, stopWA := context.WithCancel(ctx)
	defer func() { stopWA(); <-waDone }() // WhatsApp releases its lock before the store closes
	if cfg.WhatsAppEnabled {
		wa, err := whatsapp.New(whatsapp.Config{
			DataDir: cfg.DataDir, DB: cfg.WhatsAppDB, Lock: a.store.WhatsApp(), Media: media,
			Logger: log, Pseudonyms: a.pseudonyms, Location: cfg.Location, Limits: cfg.WhatsAppLimits,
			Alert: func(ctx context.Context, al whatsapp.Alert) {
				a.notifier.staffNews(ctx, "whatsapp_"+string(al.Kind), al.Text)
			},
		}, a.engine, a.sender, a.texts)
		if err != nil {
			close(waDone)
			return err
		}
		a.whatsapp = wa
		go func() { defer close(waDone); wa.Run(waCtx) }()
	} else {
		close(waDone)
	}
	mux := http.NewServeMux()
	web.Register(mux)
	if tg != nil {
		tg.Register(mux) // POST /telegram/webhook, in webhook mode only
	}
	if cloud != nil {
		cloud.Register(mux) // GET and POST /whatsapp/webhook
	}
	broadcasts := broadcast.New(broadcast.Config{Store: a.broadcasts, Sender: a.sender, Tips: a.tips, Location: cfg.Location, Logger: log})
	tip := tipOfTheDay(cfg.TipSchedule)
	tip.CreatedAt = time.Now()
	if err := a.broadcasts.Ensure(ctx, tip); err != nil {
		log.Warn("tip of the day not scheduled", "err", err)
	}
	// With staff accounts the API is on, also without ADMIN_TOKEN.
	var accounts admin.Accounts
	if accs, err := a.store.Staff().List(ctx); err != nil {
		// the store may come back: keep the API reachable for accounts meanwhile
		log.Warn("staff accounts not read; the staff API stays on for them", "err", err)
		accounts = a.store.Staff()
	} else if len(accs) > 0 {
		accounts = a.store.Staff()
	}
	staffAPI := admin.New(admin.Config{
		Token: cfg.AdminToken, Complaints: a.complaints, Notifier: a.notifier,
		Logger: log, Location: cfg.Location, Accounts: accounts,
	})
	bcfg := admin.BroadcastConfig{
		Store: a.broadcasts, Scheduler: broadcasts, Topics: a.region.Topics, Channels: a.channels(),
	}
	if a.cloud != nil {
		bcfg.WhatsAppStatuses = a.store.WhatsAppCloud()
	}
	staffAPI.EnableBroadcasts(bcfg)
	staffAPI.EnableHandoffs(admin.HandoffConfig{Desk: a.desk, Events: a.store.Handoffs().Events, EmptyReply: flows.ErrEmptyReply, Media: media})
	staffAPI.Register(mux)
	if !staffAPI.Enabled() {
		log.Info("staff API off: ADMIN_TOKEN is not set and there are no staff accounts (layan staff add)")
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeStatus(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.Handle("GET /metrics", bearer(a.metrics.Handler(), guard.New(guard.Config{Name: "metrics", Logger: log}), cfg.AdminToken, cfg.MetricsToken))
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := a.store.Ping(ctx); err != nil {
			writeStatus(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "store": "unreachable"})
			return
		}
		status := map[string]string{"status": "ok", "store": "ok"}
		if a.embedded != nil {
			journal, snapshot := a.embedded.Health()
			if journal != nil { // writes fail: nothing could be promised
				writeStatus(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "store": "journal: " + journal.Error()})
				return
			}
			if snapshot != nil { // nothing lost; the next start replays more
				status["store_snapshot"] = snapshot.Error()
			}
		}
		if a.whatsapp != nil {
			// Reported, never failing readiness: a standby replica is healthy, and a
			// logged-out WhatsApp must not take the web chat down.
			_, status["whatsapp"] = a.whatsapp.Health()
		}
		if a.cloud != nil {
			_, status["whatsapp"] = a.cloud.Health() // reported the same way
		}
		writeStatus(w, http.StatusOK, status)
	})

	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on HTTP_ADDR %s: %w", cfg.HTTPAddr, err)
	}
	srv := newHTTPServer(cfg.Web.TrustedProxies.Middleware(mux), log)
	fmt.Fprintf(stdout, "Layan is running: chat at http://%s (Ctrl+C to stop)\n", displayAddr(ln.Addr()))
	log.Info("serving", "addr", ln.Addr().String(), "store", storeKind(cfg))

	// Background work stops with ctx and is waited for before the store closes, so a
	// delivery in progress records what it did (deferred calls run last to first).
	var background sync.WaitGroup
	defer background.Wait()
	defer a.notifier.wait()
	background.Go(func() { web.Run(ctx) }) // live streams end when ctx does, so the shutdown below is quick
	background.Go(func() { a.notifier.watchSLA(ctx, a.complaints, cfg.ComplaintSLA) })
	background.Go(func() { broadcasts.Run(ctx) })
	background.Go(func() { prunePhotos(ctx, media, a.complaints, log) })
	background.Go(func() { a.notifier.drainOutbox(ctx, a.channels()) })
	background.Go(func() { a.notifier.deliverNews(ctx) })
	background.Go(func() { watchHandoffs(ctx, a.desk, log) })
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	tgCtx, stopTelegram := context.WithCancel(ctx)
	tgDone := make(chan struct{})
	go func() {
		defer close(tgDone)
		if tg != nil {
			tg.Run(tgCtx) // returns when tgCtx ends; an unreachable Bot API is retried meanwhile
		}
	}()
	defer func() { stopTelegram(); <-tgDone }() // updates being handled finish before the store closes
	cloudCtx, stopCloud := context.WithCancel(ctx)
	cloudDone := make(chan struct{})
	go func() {
		defer close(cloudDone)
		if cloud != nil {
			cloud.Run(cloudCtx) // an unreachable Graph API is retried meanwhile
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
// (drafts that were cancelled, photos sent outside a complaint): UU PDP asks to keep
// only what a purpose needs.
func prunePhotos(ctx context.Context, media *store.Media, complaints *store.Complaints, log *slog.Logger) {
	tick := time.NewTicker(time.Hour)
	defer tick.Stop()
	for {
		n, err := media.Prune(24*time.Hour, func(name string) (bool, error) { return complaints.PhotoKept(ctx, name) })
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
