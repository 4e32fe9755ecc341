package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/bot/webchat"
	"github.com/layan-id/layan/flows"
	"github.com/layan-id/layan/flows/faq"
	"github.com/layan-id/layan/locales"
	"github.com/layan-id/layan/store"
)

// Tunables of the engine, chosen here and documented in the README.
const (
	messageTimeout = 10 * time.Second    // one handler run
	chatLockTTL    = 30 * time.Second    // must outlive twice messageTimeout plus the store calls
	sessionTTL     = 90 * 24 * time.Hour // the privacy notice promises this
)

// app is Layan assembled: store, texts, engine and sender.
type app struct {
	cfg      config
	log      *slog.Logger
	embedded *store.Embedded // nil on a real Redis
	store    *store.Store
	texts    *locales.Catalog
	engine   *bot.Engine
	sender   *bot.Sender

	complaints *store.Complaints
	notifier   *notifier
	broadcasts *store.Broadcasts
	region     flows.Region
	tips       tips
}

// openStore connects to REDIS_URL or starts the embedded default in DATA_DIR.
func openStore(ctx context.Context, cfg config, log *slog.Logger) (*store.Store, *store.Embedded, error) {
	if cfg.RedisURL == "" {
		emb, err := store.StartEmbedded(ctx, cfg.DataDir, log)
		if err != nil {
			return nil, nil, fmt.Errorf("start embedded store in %s: %w", cfg.DataDir, err)
		}
		return store.New(emb.Client(), cfg.RedisPrefix), emb, nil
	}
	opts, err := store.ClientOptions(cfg.RedisURL)
	if err != nil {
		return nil, nil, err
	}
	redis.SetLogger(redisLogger{log})
	st := store.New(redis.NewUniversalClient(opts), cfg.RedisPrefix)
	if err := st.Ping(ctx); err != nil {
		// Keep going: the client reconnects by itself and /readyz says so meanwhile.
		log.Warn("Redis does not answer yet; will keep trying", "err", err)
	}
	return st, nil, nil
}

// newApp assembles Layan.
func newApp(ctx context.Context, cfg config, log *slog.Logger) (*app, error) {
	texts, err := locales.Load(cfg.ContentDir, map[string]any{"Region": cfg.RegionName})
	if err != nil {
		return nil, err
	}
	if err := texts.Check(locales.Sample()); err != nil {
		return nil, fmt.Errorf("texts are incomplete:\n%w", err)
	}
	if cfg.RegionName == "" && cfg.ContentDir == "" {
		region, _ := texts.Text(locales.Default, "region", nil)
		log.Warn("serving the embedded content, written for one region; set REGION_NAME and CONTENT_DIR for another",
			"region", region)
	}
	st, emb, err := openStore(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	a := &app{cfg: cfg, log: log, embedded: emb, store: st, texts: texts, sender: bot.NewSender(log)}
	matcher, err := faq.Load(locales.Content(cfg.ContentDir))
	if err != nil {
		return nil, err
	}
	secret, err := st.Secret(ctx, "log-pseudonyms")
	if err != nil {
		log.Warn("no shared secret for log pseudonyms; using one for this process only", "err", err)
		secret = nil
	}
	region, err := flows.LoadRegion(locales.Content(cfg.ContentDir))
	if err != nil {
		return nil, err
	}
	router := flows.NewRouter(texts, log)
	router.Register("faq", flows.NewAskFlow(matcher, st.FAQStats(), router))
	a.complaints = st.Complaints(cfg.TicketPrefix, cfg.Location)
	a.notifier = &notifier{sender: a.sender, texts: texts, log: log, staff: cfg.StaffNotify, loc: cfg.Location}
	staff := staffKeys(cfg.StaffIDs)
	a.broadcasts = st.Broadcasts()
	a.region = region
	router.RegisterSubscriptions(a.broadcasts, region.Topics)
	isStaff := func(key string) bool { return staff[key] }
	router.RegisterComplaints(flows.ComplaintConfig{
		Store: a.complaints, Alerts: a.notifier, Region: region, Location: cfg.Location, Staff: isStaff,
	})
	router.RegisterStaffBroadcasts(a.broadcasts, region.Topics, isStaff, cfg.Location, nil)
	tourism, err := flows.LoadTourism(locales.Content(cfg.ContentDir))
	if err != nil {
		return nil, err
	}
	router.RegisterTourism(tourism)
	a.tips = tips{tourism: tourism, store: a.broadcasts}
	a.engine = bot.NewEngine(bot.EngineConfig{
		Store:      st.Conversations(chatLockTTL, sessionTTL),
		Handler:    router,
		Timeout:    messageTimeout,
		Apology:    router.Apology,
		Logger:     log,
		Pseudonyms: bot.NewPseudonymizer(secret),
	})
	a.notifier.engine = a.engine
	return a, nil
}

// close releases the store, writing the embedded store's last snapshot.
func (a *app) close() error { return closeStore(a.store, a.embedded) }

// redisLogger sends go-redis's internal messages (connection trouble) to slog.
type redisLogger struct{ log *slog.Logger }

func (l redisLogger) Printf(ctx context.Context, format string, v ...any) {
	l.log.WarnContext(ctx, "redis: "+fmt.Sprintf(format, v...))
}

// channels names the channels this service runs.
func (a *app) channels() []string {
	return []string{webchat.ChannelName}
}
