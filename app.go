package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/bot/telegram"
	"github.com/layan-id/layan/bot/webchat"
	"github.com/layan-id/layan/bot/whatsapp"
	"github.com/layan-id/layan/bot/whatsappcloud"
	"github.com/layan-id/layan/flows"
	"github.com/layan-id/layan/flows/faq"
	"github.com/layan-id/layan/locales"
	"github.com/layan-id/layan/metrics"
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
	pseudonyms bot.Pseudonymizer
	desk       *flows.Desk            // the staff side of talking to a person
	whatsapp   *whatsapp.Channel      // nil unless enabled; set before any message is handled
	cloud      *whatsappcloud.Channel // nil unless WHATSAPP_CLOUD_* is set
	metrics    *metrics.Metrics
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
	a := &app{cfg: cfg, log: log, embedded: emb, store: st, texts: texts, sender: bot.NewSender(log), metrics: metrics.New(buildVersion())}
	if emb != nil {
		a.measureEmbedded(emb)
	}
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
	a.pseudonyms = bot.NewPseudonymizer(secret)
	router := flows.NewRouter(texts, log)
	intents, err := flows.LoadIntents(locales.Content(cfg.ContentDir))
	if err != nil {
		return nil, err
	}
	router.RegisterIntents(intents)
	router.RegisterFAQ(matcher, st.FAQStats())
	a.complaints = st.Complaints(cfg.TicketPrefix, cfg.Location)
	a.notifier = &notifier{sender: a.sender, outbox: st.Outbox(), news: st.News(), texts: texts, log: log, staff: cfg.StaffNotify, loc: cfg.Location}
	staff := staffKeys(cfg.StaffIDs)
	a.broadcasts = st.Broadcasts()
	a.region = region
	router.RegisterSubscriptions(a.broadcasts, region.Topics)
	router.RegisterEraser(st.Privacy(filepath.Join(cfg.DataDir, "media"))) // the media store of serve.go
	// STAFF_IDS names WhatsApp staff by phone; the channel keys people by LID once known.
	isStaff := func(key string) bool {
		if staff[key] {
			return true
		}
		if user, ok := strings.CutPrefix(key, whatsapp.ChannelName+":"); ok && a.whatsapp != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			if phone, ok := a.whatsapp.Phone(ctx, user); ok {
				return staff[whatsapp.ChannelName+":"+phone]
			}
		}
		return false
	}
	router.RegisterComplaints(flows.ComplaintConfig{
		Store: a.complaints, Alerts: a.notifier, Region: region, Location: cfg.Location, Staff: isStaff,
	})
	router.RegisterStaffBroadcasts(a.broadcasts, region.Topics, isStaff, cfg.Location, nil)
	hours, err := region.Hours(cfg.Handoff.OfficeHours, cfg.Location)
	if err != nil {
		return nil, fmt.Errorf("OFFICE_HOURS: %w", err)
	}
	a.desk = router.RegisterHandoff(flows.HandoffConfig{
		Store: st.Handoffs(), Courier: handoffCourier{a.notifier}, Hours: hours, Wait: cfg.Handoff.Wait,
		Keep: cfg.Handoff.keep(), Staff: isStaff, Location: cfg.Location, NewID: store.NewHandoffID,
	})
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
		Pseudonyms: a.pseudonyms,
		History:    bot.HistoryLimits{Lines: historyLines, Age: cfg.Handoff.keep()},
		Observe:    a.metrics.Observe,
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
	chs := []string{webchat.ChannelName}
	if a.cfg.TelegramToken != "" {
		chs = append(chs, telegram.ChannelName)
	}
	if a.cfg.WhatsAppEnabled || a.cfg.WhatsAppCloud.Enabled() {
		chs = append(chs, whatsapp.ChannelName)
	}
	return chs
}

// whatsappCloud returns the WhatsApp channel on Meta's Cloud API, registered with the
// sender, or nil when WHATSAPP_CLOUD_* is not set.
func (a *app) whatsappCloud(media *store.Media) (*whatsappcloud.Channel, error) {
	wc := a.cfg.WhatsAppCloud
	if !wc.Enabled() {
		return nil, nil
	}
	templates, err := whatsappcloud.LoadTemplates(locales.Content(a.cfg.ContentDir))
	if err != nil {
		return nil, err
	}
	ch, err := whatsappcloud.New(whatsappcloud.Config{
		Token: wc.Token, PhoneID: wc.PhoneID, AppSecret: wc.AppSecret, VerifyToken: wc.VerifyToken,
		API: wc.API, PerSecond: wc.PerSecond, Limits: a.cfg.WhatsAppCloudLimits, Store: a.store.WhatsAppCloud(), Media: media,
		Templates: templates, Logger: a.log, Pseudonyms: a.pseudonyms,
		Alert: func(ctx context.Context, al whatsappcloud.Alert) {
			a.notifier.staffNews(ctx, "whatsapp_cloud_"+string(al.Kind), al.Text)
		},
		// Meta says the number is not on WhatsApp or takes no messages from the
		// business: an opt-out from everything, as a blocked Telegram bot.
		Blocked: func(ctx context.Context, key string) {
			if err := a.broadcasts.UnsubscribeAll(ctx, key); err != nil {
				a.log.Warn("unsubscribe a person WhatsApp cannot reach", "err", err)
			}
		},
	}, a.engine, a.sender, a.texts)
	if err != nil {
		return nil, fmt.Errorf("WHATSAPP_CLOUD_*: %w", err)
	}
	return ch, nil
}

// telegram returns the Telegram channel, registered with the sender, or nil when
// TELEGRAM_TOKEN is not set.
func (a *app) telegram(media *store.Media) (*telegram.Channel, error) {
	if a.cfg.TelegramToken == "" {
		return nil, nil
	}
	tg, err := telegram.New(telegram.Config{
		Token: a.cfg.TelegramToken, Endpoint: a.cfg.TelegramEndpoint,
		WebhookURL: a.cfg.TelegramWebhookURL, WebhookSecret: a.cfg.TelegramWebhookSecret,
		StaffChatID: a.cfg.TelegramStaffChat, Logger: a.log, Pseudonyms: a.pseudonyms,
		Limits: a.cfg.TelegramLimits,
		// A person who blocked the bot has opted out of everything.
		Blocked: func(ctx context.Context, key string) {
			if err := a.broadcasts.UnsubscribeAll(ctx, key); err != nil {
				a.log.Warn("unsubscribe a person who blocked the bot", "err", err)
			}
		},
	}, a.engine, a.sender, a.store.Telegram(), a.texts)
	if err != nil {
		return nil, fmt.Errorf("TELEGRAM_*: %w", err)
	}
	tg.AcceptPhotos(media)
	return tg, nil
}

// buildVersion names this build for metrics: the module version, or "devel".
func buildVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "devel"
}

// measureEmbedded reports the embedded store's figures as metrics.
func (a *app) measureEmbedded(e *store.Embedded) {
	m := a.metrics
	m.Gauge("layan_store_keys", "Keys in the embedded store.", func() float64 { return float64(e.Stats().Keys) })
	m.Gauge("layan_store_journal_bytes", "Size of the embedded store's live journal segment.", func() float64 { return float64(e.Stats().JournalBytes) })
	m.Counter("layan_store_journal_syncs_total", "fsyncs of the embedded store's journal.", func() float64 { return float64(e.Stats().Syncs) })
	m.Counter("layan_store_snapshot_rebuilds_total", "Snapshot rebuilds of the embedded store.", func() float64 { return float64(e.Stats().Rebuilds) })
	m.Counter("layan_store_snapshot_failures_total", "Snapshot rebuilds of the embedded store that failed.", func() float64 { return float64(e.Stats().RebuildFailures) })
	m.Gauge("layan_store_journal_failed", "1 when the embedded store's journal failed and writes are refused.", func() float64 {
		if j, _ := e.Health(); j != nil {
			return 1
		}
		return 0
	})
}
