package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/layan-id/layan/admin"
	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/bot/guard"
	"github.com/layan-id/layan/bot/telegram"
	"github.com/layan-id/layan/bot/webchat"
	"github.com/layan-id/layan/bot/whatsapp"
	"github.com/layan-id/layan/bot/whatsappcloud"
	"github.com/layan-id/layan/broadcast"
	"github.com/layan-id/layan/domain"
	"github.com/layan-id/layan/flows"
	"github.com/layan-id/layan/flows/faq"
	"github.com/layan-id/layan/knowledge"
	"github.com/layan-id/layan/locales"
	"github.com/layan-id/layan/metrics"
	"github.com/layan-id/layan/notify"
	"github.com/layan-id/layan/staff"
	"github.com/layan-id/layan/staffweb"
	"github.com/layan-id/layan/store"
)

// Tunables of the engine, chosen here and documented in the README.
const (
	messageTimeout = 10 * time.Second    // one handler run
	chatLockTTL    = 5 * time.Second     // a lease, renewed while a turn runs: a replica that dies mid-turn frees the chat within it
	sessionTTL     = 90 * 24 * time.Hour // the privacy notice promises this
	faqPoll        = 2 * time.Second     // how often a replica looks for a newer version of the knowledge base
)

// app is Layan assembled. build makes every part once, in one phase, from parts
// already made; nothing is filled in later. Parts a service runs and the terminal
// chat does not (channels, HTTP, broadcasts) are nil in the latter.
type app struct {
	cfg      config
	log      *slog.Logger
	embedded *store.Embedded // nil on a real Redis
	store    *store.Store
	texts    *locales.Catalog
	metrics  *metrics.Metrics
	sender   *bot.Sender
	engine   *bot.Engine
	notifier *notify.Notifier
	desk     *flows.Desk     // the staff side of talking to a person
	kb       *knowledge.Base // the FAQ's knowledge base: the files under the staff's entries, followed live

	complaints *store.Complaints
	broadcasts *store.Broadcasts
	calendar   domain.Calendar // working days: the complaint deadlines and the daily digest

	// Only for the service.
	media     *store.Media
	web       *webchat.Server
	telegram  *telegram.Channel      // nil unless TELEGRAM_TOKEN is set
	cloud     *whatsappcloud.Channel // nil unless WHATSAPP_CLOUD_* is set
	whatsapp  *whatsapp.Channel      // nil unless WHATSAPP_ENABLED
	scheduler *broadcast.Service
	handler   http.Handler // everything on HTTP_ADDR
	listener  net.Listener // on HTTP_ADDR
}

// purpose is what build assembles Layan for.
type purpose int

const (
	forService  purpose = iota // the channels, HTTP routes and the listener on HTTP_ADDR, broadcasts
	forTerminal                // the engine and the flows only (layan chat)
)

// build assembles Layan for its purpose, in order of need. The router is the one
// registry: it is made empty, the engine is built on it, and the flows are registered
// once what they need exists (the notifier, which needs the engine; who is staff,
// which needs WhatsApp) — all before anything runs. On error, what was opened is
// closed.
func build(ctx context.Context, cfg config, log *slog.Logger, p purpose) (_ *app, err error) {
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
	content := locales.Content(cfg.ContentDir)
	matcher, err := faq.Load(content)
	if err != nil {
		return nil, err
	}
	region, err := flows.LoadRegion(content)
	if err != nil {
		return nil, err
	}
	intents, err := flows.LoadIntents(content)
	if err != nil {
		return nil, err
	}
	tourism, err := flows.LoadTourism(content)
	if err != nil {
		return nil, err
	}
	places, err := flows.LoadGazetteer(content, region.BBox, tourism.Attractions)
	if err != nil {
		return nil, err
	}
	hours, err := region.Hours(cfg.Handoff.OfficeHours, cfg.Location)
	if err != nil {
		return nil, fmt.Errorf("OFFICE_HOURS: %w", err)
	}

	st, emb, err := openStore(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			closeStore(st, emb)
		}
	}()
	a := &app{
		cfg: cfg, log: log, embedded: emb, store: st, texts: texts, metrics: metrics.New(buildVersion()),
		sender: bot.NewSender(log), broadcasts: st.Broadcasts(),
	}
	if a.calendar, err = region.Calendar(cfg.Location); err != nil {
		return nil, err
	}
	a.complaints = st.Complaints(cfg.TicketPrefix, cfg.Location).WithSLA(domain.SLA{
		VerifyDays: cfg.VerifyDays, FollowUpDays: cfg.FollowUpDays, Calendar: a.calendar})
	if emb != nil {
		a.measureEmbedded(emb)
	}
	a.measure(cfg)
	secret, err := st.Secret(ctx, "log-pseudonyms")
	if err != nil {
		log.Warn("no shared secret for log pseudonyms; using one for this process only", "err", err)
		secret = nil
	}
	pseudonyms := bot.NewPseudonymizer(secret)

	router := flows.NewRouter(texts, log)
	a.engine = bot.NewEngine(bot.EngineConfig{
		Store:      st.Conversations(chatLockTTL, sessionTTL).WithHistory(historyLines),
		Handler:    router,
		Timeout:    messageTimeout,
		Apology:    router.Apology,
		Logger:     log,
		Pseudonyms: pseudonyms,
		History:    bot.HistoryLimits{Lines: historyLines, Age: cfg.Handoff.keep()},
		Observe:    a.metrics.Observe,
	})
	news := notify.Config{
		Engine: a.engine, Sender: a.sender, Texts: texts, Outbox: st.Outbox(),
		Staff: staffChat(cfg.StaffNotify), Location: cfg.Location, Logger: log,
	}
	if p == forService { // the terminal chat neither drains the outbox, nor queues news, nor claims SLA alerts
		news.Channels, news.Complaints, news.Calendar = a.channels(), a.complaints, a.calendar
		news.News = st.News()
		news.Agencies, news.AgencyChats = region.Agencies, map[string]bot.Recipient{}
		for _, ag := range region.Agencies {
			if ag.Notify == "" {
				continue
			}
			chat, err := cfg.NotifyTarget(fmt.Sprintf("region.yaml agencies[%s].notify", ag.Code), ag.Notify)
			if err != nil {
				return nil, err
			}
			news.AgencyChats[ag.Code] = staffChat(chat)
		}
	}
	if a.notifier, err = notify.New(news); err != nil {
		return nil, err
	}
	var phones staff.Phones // WhatsApp people known by LID, when whatsmeow runs
	if p == forService {
		if err := a.channelsFor(pseudonyms); err != nil {
			return nil, err
		}
		if a.whatsapp != nil {
			phones = a.whatsapp
		}
	}
	// A STAFF_IDS identity is an admin; a chat identity linked to an account acts with
	// its role and agency.
	who := staff.New(cfg.StaffIDs, phones).WithAccounts(st.Staff(), log)
	isStaff := who.May(domain.PermRead)

	router.RegisterIntents(intents)
	// The files under the entries staff published, as of now; serve follows later
	// publishes (followFAQ).
	a.kb = knowledge.New(faq.NewLive(matcher), st.FAQBase(), st.FAQStats(), nil)
	if err := a.kb.Live().Refresh(ctx, st.FAQBase()); err != nil {
		// Redis not answering yet (readiness says so): the files answer until the
		// staff's entries can be read (followFAQ).
		log.Warn("knowledge base: the staff's entries cannot be read yet; answering from the files meanwhile", "err", err)
	}
	router.RegisterFAQ(a.kb.Live(), faqStats{st.FAQStats(), a.metrics})
	router.RegisterSubscriptions(a.broadcasts, region.Topics)
	router.RegisterEraser(st.Privacy(filepath.Join(cfg.DataDir, "media"))) // the media store's directory
	router.RegisterComplaints(flows.ComplaintConfig{
		Store: a.complaints, Alerts: a.notifier, Region: region, Location: cfg.Location, Staff: isStaff,
		Accounts: who.Account, Audit: st.Audit(),
	})
	router.RegisterStaffBroadcasts(a.broadcasts, region.Topics, who.May(domain.PermBroadcasts), cfg.Location, nil)
	a.desk = router.RegisterHandoff(flows.HandoffConfig{
		Store: st.Handoffs(), Courier: a.notifier, Hours: hours, Wait: cfg.Handoff.Wait,
		Keep: cfg.Handoff.keep(), Staff: who.May(domain.PermConversation), Location: cfg.Location, NewID: store.NewHandoffID, Region: &region.BBox,
	})
	router.RegisterTourism(tourism)
	router.RegisterPlaces(places)

	if p == forService {
		a.scheduler = broadcast.New(broadcast.Config{
			Store: a.broadcasts, Sender: a.sender, Tips: broadcast.Rotation{Pool: tourism, Log: a.broadcasts},
			Location: cfg.Location, Logger: log, Guarantees: region.Delivery,
			Observe: func(o domain.Delivery) { a.metrics.Delivery(string(o)) },
		})
		if err := a.broadcasts.Ensure(ctx, broadcast.TipOfTheDay(cfg.TipSchedule, time.Now())); err != nil {
			log.Warn("tip of the day not scheduled", "err", err)
		}
		staffWeb, err := a.workspace(region) // the staff workspace, /staff/ (workspace.go)
		if err != nil {
			return nil, err
		}
		a.handler = a.routes(ctx, region, staffWeb)
		if a.listener, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
			return nil, fmt.Errorf("listen on HTTP_ADDR %s: %w", cfg.HTTPAddr, err)
		}
	}
	return a, nil
}

// staffChat is the recipient of staff alerts named by STAFF_NOTIFY (channel:chat, as
// the configuration checked it); none when it is unset.
func staffChat(notify string) bot.Recipient {
	ch, chat, ok := strings.Cut(notify, ":")
	if !ok {
		return bot.Recipient{}
	}
	return bot.Recipient{Channel: ch, ChatID: chat}
}

// channelsFor makes the service's channels, each registered with the sender: the web
// chat, and Telegram and WhatsApp (whatsmeow or the Cloud API) when configured, with
// the media store for the photos people send.
func (a *app) channelsFor(pseudonyms bot.Pseudonymizer) error {
	cfg, log := a.cfg, a.log
	media, err := store.NewMedia(filepath.Join(cfg.DataDir, "media"))
	if err != nil {
		return err
	}
	media.SetQuota(cfg.Web.MediaQuota)
	a.media = media

	chats := a.store.WebChats()
	a.sender.Register(webchat.NewChannel(chats), bot.Limits{})
	if a.web, err = webchat.NewServer(a.engine, chats, a.texts, log); err != nil {
		return err
	}
	a.web.AllowFraming(cfg.Web.FrameAncestors)
	var shared webchat.SharedLimiter // the embedded store serves one process: it counts in memory
	if a.embedded == nil {
		shared = webLimits{a.store.RateLimits()}
	}
	a.web.SetLimits(cfg.Web.Limits, shared)
	if cfg.Web.Limits.Off {
		log.Info("web chat: limits per client address are off (WEBCHAT_LIMITS=off)")
	}
	a.web.AcceptPhotos(media)

	// A person who blocked the bot, or whom WhatsApp cannot reach, has opted out of
	// everything.
	unsubscribe := func(why string) func(context.Context, string) {
		return func(ctx context.Context, key string) {
			if err := a.broadcasts.UnsubscribeAll(ctx, key); err != nil {
				log.Warn("unsubscribe "+why, "err", err)
			}
		}
	}
	if cfg.TelegramToken != "" {
		a.telegram, err = telegram.New(telegram.Config{
			Token: cfg.TelegramToken, Endpoint: cfg.TelegramEndpoint,
			WebhookURL: cfg.TelegramWebhookURL, WebhookSecret: cfg.TelegramWebhookSecret,
			StaffChatID: cfg.TelegramStaffChat, Logger: log, Pseudonyms: pseudonyms,
			Limits: cfg.TelegramLimits, Blocked: unsubscribe("a person who blocked the bot"),
		}, a.engine, a.sender, a.store.Telegram(), a.texts)
		if err != nil {
			return fmt.Errorf("TELEGRAM_*: %w", err)
		}
		a.telegram.AcceptPhotos(media)
	}
	if wc := cfg.WhatsAppCloud; wc.Enabled() {
		templates, err := whatsappcloud.LoadTemplates(locales.Content(cfg.ContentDir))
		if err != nil {
			return err
		}
		a.cloud, err = whatsappcloud.New(whatsappcloud.Config{
			Token: wc.Token, PhoneID: wc.PhoneID, AppSecret: wc.AppSecret, VerifyToken: wc.VerifyToken,
			API: wc.API, PerSecond: wc.PerSecond, Limits: cfg.WhatsAppCloudLimits, Store: a.store.WhatsAppCloud(), Media: media,
			Templates: templates, Logger: log, Pseudonyms: pseudonyms,
			Alert: func(ctx context.Context, al whatsappcloud.Alert) {
				a.notifier.StaffNews(ctx, "whatsapp_cloud_"+string(al.Kind), al.Text)
			},
			Blocked: unsubscribe("a person WhatsApp cannot reach"),
		}, a.engine, a.sender, a.texts)
		if err != nil {
			return fmt.Errorf("WHATSAPP_CLOUD_*: %w", err)
		}
	}
	if cfg.WhatsAppEnabled {
		a.whatsapp, err = whatsapp.New(whatsapp.Config{
			DataDir: cfg.DataDir, DB: cfg.WhatsAppDB, Lock: a.store.WhatsApp(), Media: media,
			Logger: log, Pseudonyms: pseudonyms, Location: cfg.Location, Limits: cfg.WhatsAppLimits,
			Alert: func(ctx context.Context, al whatsapp.Alert) {
				a.notifier.StaffNews(ctx, "whatsapp_"+string(al.Kind), al.Text)
			},
		}, a.engine, a.sender, a.texts)
		if err != nil {
			return err
		}
	}
	return nil
}

// routes is everything on HTTP_ADDR: the web chat, the webhooks, the staff API and
// workspace, health, readiness and metrics, behind the trusted proxies' middleware.
func (a *app) routes(ctx context.Context, region flows.Region, staffWeb *staffweb.Server) http.Handler {
	cfg, log := a.cfg, a.log
	mux := http.NewServeMux()
	a.web.Register(mux)
	if a.telegram != nil {
		a.telegram.Register(mux) // POST /telegram/webhook, in webhook mode only
	}
	if a.cloud != nil {
		a.cloud.Register(mux) // GET and POST /whatsapp/webhook
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
	staffWeb.Register(mux)
	staffAPI := admin.New(admin.Config{
		Token: cfg.AdminToken, Complaints: a.complaints, Notifier: a.notifier,
		Logger: log, Location: cfg.Location, Accounts: accounts, Session: staffWeb.Account,
		Agencies: region.Agencies, Audit: a.store.Audit(), Reports: a.complaints,
	})
	bcfg := admin.BroadcastConfig{
		Store: a.broadcasts, Scheduler: a.scheduler, Topics: region.Topics, Channels: a.channels(),
	}
	if a.cloud != nil {
		bcfg.WhatsAppStatuses = a.store.WhatsAppCloud()
	}
	staffAPI.EnableBroadcasts(bcfg)
	staffAPI.EnableKnowledge(a.kb)
	staffAPI.EnableHandoffs(admin.HandoffConfig{Desk: a.desk, Events: a.store.Handoffs().Events, EmptyReply: flows.ErrEmptyReply, Media: a.media})
	staffAPI.Register(mux)
	if !staffAPI.Enabled() {
		log.Info("staff API off: ADMIN_TOKEN is not set and there are no staff accounts (layan staff add)")
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeStatus(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.Handle("GET /metrics", bearer(a.metrics.Handler(), guard.New(guard.Config{Name: "metrics", Logger: log}), cfg.AdminToken, cfg.MetricsToken))
	mux.HandleFunc("GET /readyz", a.ready)
	return cfg.Web.TrustedProxies.Middleware(mux)
}

// ready answers GET /readyz: 200 while the store answers and the embedded store's
// journal takes writes, else 503; the channels' state is reported, never failing it.
func (a *app) ready(w http.ResponseWriter, r *http.Request) {
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
	st := store.New(store.NewClient(opts), cfg.RedisPrefix)
	if err := st.Ping(ctx); err != nil {
		// Keep going: the client reconnects by itself and /readyz says so meanwhile.
		log.Warn("Redis does not answer yet; will keep trying", "err", err)
	}
	return st, nil, nil
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

// buildVersion names this build for metrics: the module version, or "devel".
func buildVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "devel"
}

// faqStats counts FAQ outcomes as metrics beside the store's counts.
type faqStats struct {
	*store.FAQStats
	m *metrics.Metrics
}

func (f faqStats) FAQOutcome(outcome string) { f.m.FAQ(outcome) }

// measure reports the sender's queues, Redis's errors and latency, and complaints by
// status as metrics.
func (a *app) measure(cfg config) {
	m := a.metrics
	m.Senders(a.sender.Stats)
	a.store.Client().AddHook(m.RedisHook())
	m.Counter("layan_redis_unreplicated_total", "Tickets shown although no Redis replica confirmed them within the wait (WAIT): a failover then could lose them.",
		func() float64 { return float64(a.store.Unreplicated()) })
	m.GaugeVec("layan_whatsapp_state", "1 for the WhatsApp channel's state now (whatsmeow: connected, standby, logged_out, banned, …; Cloud API: connected, token_expired, restricted, …); none while WhatsApp is off.", "state", func() map[string]float64 {
		switch {
		case a.whatsapp != nil:
			return map[string]float64{a.whatsapp.State(): 1}
		case a.cloud != nil:
			return map[string]float64{a.cloud.State(): 1}
		}
		return nil
	})
	complaints := a.complaints
	count := func() (map[domain.Status]int64, int64) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		counts, overdue, err := complaints.Counts(ctx, time.Now())
		if err != nil {
			a.log.Warn("metrics: count complaints", "err", err)
		}
		return counts, overdue
	}
	m.GaugeVec("layan_complaints", "Complaints by status.", "status", func() map[string]float64 {
		counts, _ := count()
		out := make(map[string]float64, len(counts))
		for st, n := range counts {
			out[string(st)] = float64(n)
		}
		return out
	})
	m.Gauge("layan_complaints_overdue", "Complaints still waiting for verification past COMPLAINT_SLA.", func() float64 {
		_, overdue := count()
		return float64(overdue)
	})
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
