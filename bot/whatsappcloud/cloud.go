// Package whatsappcloud is Layan's WhatsApp channel on Meta's WhatsApp Business
// Platform (the Cloud API): the second way to run the "whatsapp" channel, beside the
// unofficial whatsmeow client of bot/whatsapp, for regencies that must not risk a
// ban. A person is keyed by their number (wa_id, digits only), which is also the
// chat replies go to.
//
// Receiving. GET /whatsapp/webhook answers Meta's verification handshake
// (hub.mode=subscribe with the verify token: the challenge as plain text; a wrong
// token gets 403). POST /whatsapp/webhook checks X-Hub-Signature-256, the HMAC-SHA256
// of the raw body with the app secret, in constant time (401 and nothing done when it
// is wrong or missing), queues the payload durably in Redis and answers 200 at once.
// Workers in every replica take payloads from the queue, handle each message in it
// (one person's messages in order, different people's concurrently) and delete the
// payload only once all of it was handled; a worker that died leaves its payloads to
// another after ClaimAfter. A redelivered message (same wamid) is answered once: the
// engine remembers handled ids, and the channel skips the photo download and read
// receipt of a message it already handled.
//
// What reaches the engine: text; a tapped reply button or list row (and a template's
// quick reply) as the option it names; a location; a photo, downloaded through the
// media endpoint with the token and kept in the media store (a file that is no photo,
// or too large, is bot.KindBadFile); stickers and voice notes as such; video,
// documents, contacts, reactions and anything else as bot.KindUnsupported, so the
// person gets a kind answer. Each message is marked read. Delivery statuses (sent,
// delivered, read, failed with Meta's error code) are recorded: counted per broadcast
// run, and a failed message kept in a list; a failure saying the number is not on
// WhatsApp or does not take the business's messages (131026) unsubscribes the person.
//
// Sending. A reply goes out at once. Options become reply buttons when there are at
// most three and every label fits in 20 characters, a list message (up to ten rows;
// a title over 24 characters is cut and the full label shown as the row's
// description) otherwise, and numbered text beyond ten. A question for a location
// becomes a location request message. Texts are split at 4,096 characters.
//
// The 24-hour window. WhatsApp lets a business send free-form messages only within 24
// hours of the person's last message; the time of each person's last message is kept
// in Redis. Outside the window, a send whose context carries a bot.Template (complaint
// news, staff alerts, broadcasts) goes out as the approved template named for its
// purpose in whatsapp_templates.yaml, in the person's language; without one it fails
// with bot.ErrOutsideWindow (a broadcast counts the person as skipped).
//
// Limits and errors. Bulk sending keeps to the number's messages per second (default
// 80); Meta's throughput limit (130429) pauses the channel; its pair rate limit
// (131056) waits before the next message to that person. An expired or revoked token
// (190) and a restricted number (131031, 368, 131048) stop sending, alert staff and
// show in Health; the channel tries again by itself.
//
// Secrets (the access token, the app secret, the verify token) never appear in a log
// line or an error. Logs carry pseudonyms, never message text or numbers.
package whatsappcloud

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/bot/guard"
	"github.com/layan-id/layan/bot/inbox"
	"github.com/layan-id/layan/bot/lanes"
)

// ChannelName is the channel's name in bot.Message.Channel and in the Sender: the
// same as whatsmeow's, since both serve the regency's WhatsApp number.
const ChannelName = "whatsapp"

// WebhookPath is where Register serves the webhook.
const WebhookPath = "/whatsapp/webhook"

// DefaultAPI is the Graph API base URL, with its version.
const DefaultAPI = "https://graph.facebook.com/v23.0"

// DefaultLimits are the Sender's limits for a number allowed perSecond messages a
// second (0: DefaultPerSecond): replies go out at once (Meta allows short bursts to one
// person); only bulk sending keeps to the number's rate.
func DefaultLimits(perSecond float64) bot.Limits {
	if perSecond <= 0 {
		perSecond = DefaultPerSecond
	}
	return bot.Limits{PerSecond: perSecond, Burst: max(1, int(perSecond/4)), Attempts: 4, Backoff: time.Second}
}

// DefaultPerSecond is the messages per second a Cloud API number may send (Meta's
// default throughput).
const DefaultPerSecond = 80

// Store is what the channel keeps in Redis; *store.WhatsAppCloud is one.
type Store interface {
	Enqueue(ctx context.Context, raw []byte) error
	Read(ctx context.Context, consumer string, count int, block time.Duration) (ids []string, raws [][]byte, err error)
	Reclaim(ctx context.Context, consumer string, count int, minIdle time.Duration) (ids []string, raws [][]byte, err error)
	Ack(ctx context.Context, ids ...string) error
	Handled(ctx context.Context, wamid string) (bool, error)
	MarkHandled(ctx context.Context, wamid string) error
	NoteInbound(ctx context.Context, waID string, at, now time.Time) error
	LastInbound(ctx context.Context, waID string) (time.Time, bool, error)
	CloseWindow(ctx context.Context, waID string) error
	NoteSent(ctx context.Context, wamid, run string) error
	RecordStatus(ctx context.Context, wamid, status, conv string, code int, title string, at time.Time) (string, error)
}

// AlertKind says what happened to the Cloud API number.
type AlertKind string

// The alerts staff get.
const (
	AlertTokenExpired AlertKind = "token_expired" // the access token expired or was revoked
	AlertRestricted   AlertKind = "restricted"    // Meta restricted the number
	AlertRecovered    AlertKind = "recovered"     // sending works again
)

// Alert is news about the number for staff.
type Alert struct {
	Kind AlertKind
	Text string // for staff, in the default language ("whatsappcloud.alert.<kind>")
}

// ErrUnavailable is wrapped by the send error of a message that cannot go out now:
// the token expired or the number is restricted.
var ErrUnavailable = errors.New("whatsapp cloud: not sending")

// Config configures the channel. Token, PhoneID, AppSecret, VerifyToken, Store and
// Media are required.
type Config struct {
	Token       string // a system user's access token
	PhoneID     string // the business phone number's id
	AppSecret   string // signs the webhook's payloads
	VerifyToken string // answers Meta's verification handshake
	// API is the Graph API base URL including its version; default DefaultAPI.
	API string

	Store     Store
	Media     bot.MediaStore // the photos people send, and those staff send them
	Templates *Templates     // approved templates; nil: none
	Logger    *slog.Logger
	// Pseudonyms names conversations in logs; default unkeyed hashes.
	Pseudonyms bot.Pseudonymizer
	// Alert tells staff about the token or the number; called in its own goroutine.
	Alert func(ctx context.Context, a Alert)
	// Blocked is called with the conversation key (whatsapp:<wa_id>) of a person Meta
	// says cannot be reached (not on WhatsApp, or not taking the business's messages).
	Blocked func(ctx context.Context, key string)
	// PerSecond is the bulk rate over the whole number; default DefaultPerSecond.
	PerSecond float64
	// Limits for the Sender, replacing DefaultLimits(PerSecond) (WHATSAPP_SEND_LIMITS).
	Limits *bot.Limits
	// HTTPClient calls the Graph API; default a client with timeouts.
	HTTPClient *http.Client

	Workers    int           // people handled at once; default 16
	ClaimAfter time.Duration // a payload taken but not acknowledged is taken over after; default 2 min
	QueueWait  time.Duration // a worker's wait on an empty queue; default 2 s
	MaxBackoff time.Duration // the longest pause between retries; default 1 min
	Now        func() time.Time
}

// Channel is the Cloud API channel: a bot.Channel for sending, the webhook, and the
// workers started by Run.
type Channel struct {
	cfg      Config
	api      string
	http     *http.Client
	log      *slog.Logger
	pseudo   bot.Pseudonymizer
	engine   bot.MessageHandler
	sender   bot.ChannelSender
	texts    bot.Texts
	store    Store
	redactor *strings.Replacer
	consumer string
	guard    *guard.Guard
	lanes    *lanes.Lanes
	inbox    *inbox.Worker // the webhook's queue

	mu    sync.Mutex
	state state
	pairs map[string]time.Time // a person Meta's pair rate limit stopped: not before
}

var _ bot.Channel = (*Channel)(nil)

// New checks cfg, returns the channel and registers it with the sender. It does no
// I/O: Run checks the token and starts the workers.
func New(cfg Config, engine bot.MessageHandler, sender bot.ChannelSender, texts bot.Texts) (*Channel, error) {
	var missing []string
	for _, f := range []struct{ name, v string }{
		{"WHATSAPP_CLOUD_TOKEN", cfg.Token}, {"WHATSAPP_CLOUD_PHONE_ID", cfg.PhoneID},
		{"WHATSAPP_CLOUD_APP_SECRET", cfg.AppSecret}, {"WHATSAPP_CLOUD_VERIFY_TOKEN", cfg.VerifyToken},
	} {
		if strings.TrimSpace(f.v) == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("whatsapp cloud: %s required", strings.Join(missing, ", "))
	}
	if err := CheckPhoneID(cfg.PhoneID); err != nil {
		return nil, err
	}
	if engine == nil || sender == nil || texts == nil || cfg.Store == nil || cfg.Media == nil {
		return nil, errors.New("whatsapp cloud: engine, sender, texts, store and media are required")
	}
	if cfg.API == "" {
		cfg.API = DefaultAPI
	}
	if err := CheckAPI(cfg.API); err != nil {
		return nil, err
	}
	if cfg.Templates == nil {
		cfg.Templates = &Templates{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Pseudonyms == nil {
		cfg.Pseudonyms = bot.NewPseudonymizer(nil)
	}
	if cfg.PerSecond <= 0 {
		cfg.PerSecond = DefaultPerSecond
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 16
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = defaultHTTPClient()
	}
	var pairs []string
	for _, s := range []string{cfg.Token, cfg.AppSecret, cfg.VerifyToken} {
		for _, v := range []string{s, url.QueryEscape(s), url.PathEscape(s)} {
			pairs = append(pairs, v, "<secret>")
		}
	}
	c := &Channel{
		cfg: cfg, api: strings.TrimRight(cfg.API, "/"), http: cfg.HTTPClient,
		log: cfg.Logger.With("channel", ChannelName, "api", "cloud"), pseudo: cfg.Pseudonyms,
		engine: engine, sender: sender, texts: texts, store: cfg.Store,
		redactor: strings.NewReplacer(pairs...),
		consumer: inbox.ConsumerName(),
		lanes:    lanes.New(cfg.Workers),
		state:    state{kind: stateStarting},
		pairs:    map[string]time.Time{},
	}
	c.guard = guard.New(guard.Config{Name: "whatsapp webhook", Logger: c.log})
	c.inbox = inbox.New(inbox.Config{
		Name: "whatsapp cloud", Item: "payload", Queue: cfg.Store, Lanes: c.lanes, Consumer: c.consumer,
		Open: c.open, MaxAge: maxAge, Slots: 16 * cfg.Workers, ClaimAfter: cfg.ClaimAfter, Wait: cfg.QueueWait,
		MaxBackoff: cfg.MaxBackoff, Now: cfg.Now, Log: c.log,
	})
	limits := DefaultLimits(cfg.PerSecond)
	if cfg.Limits != nil {
		limits = *cfg.Limits
	}
	sender.Register(c, limits)
	return c, nil
}

// CheckPhoneID returns why id cannot be a phone number id, or nil.
func CheckPhoneID(id string) error {
	if id == "" || len(id) > 30 || strings.Trim(id, "0123456789") != "" {
		return errors.New("WHATSAPP_CLOUD_PHONE_ID: want the phone number id Meta shows (digits)")
	}
	return nil
}

// CheckAPI returns why u cannot be the Graph API base URL, or nil.
func CheckAPI(u string) error {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" || p.RawQuery != "" {
		return fmt.Errorf("WHATSAPP_CLOUD_API %q: want an absolute http(s) URL with the version, e.g. %s", u, DefaultAPI)
	}
	return nil
}

func defaultHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = 10 * time.Second
	t.ResponseHeaderTimeout = 30 * time.Second
	t.MaxIdleConnsPerHost = 64
	return &http.Client{Transport: t, Timeout: 2 * time.Minute}
}

// Name implements bot.Channel.
func (c *Channel) Name() string { return ChannelName }

// Phone returns the number of a user id as the channel puts it in
// bot.Message.UserID: on the Cloud API they are the same.
func (c *Channel) Phone(_ context.Context, userID string) (string, bool) {
	return userID, userID != "" && strings.Trim(userID, "0123456789") == ""
}

// Health reports whether the channel can send, with a detail for /readyz that never
// holds a number or a secret.
func (c *Channel) Health() (ok bool, detail string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.state.paused(c.cfg.Now()), c.state.detail()
}

// State names the channel's state for metrics: starting, unreachable, connected,
// token_expired, restricted.
func (c *Channel) State() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return string(c.state.kind)
}

// Ready reports whether the channel may send now; the shared sender asks, so that
// broadcasts and news wait (in the outbox) while the token is expired or the number
// restricted.
func (c *Channel) Ready() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.state.paused(c.cfg.Now())
}

// --- state ---

type stateKind string

const (
	stateStarting     stateKind = "starting"
	stateUnreachable  stateKind = "unreachable"
	stateConnected    stateKind = "connected"
	stateTokenExpired stateKind = "token_expired"
	stateRestricted   stateKind = "restricted"
)

type state struct {
	kind  stateKind
	code  int       // Meta's error code, for restricted
	until time.Time // restricted: when to try again
}

func (s state) paused(now time.Time) bool {
	switch s.kind {
	case stateTokenExpired:
		return true
	case stateRestricted:
		return now.Before(s.until)
	}
	return false
}

func (s state) detail() string {
	switch s.kind {
	case stateStarting:
		return "cloud api: starting"
	case stateUnreachable:
		return "cloud api: the Graph API does not answer; retrying"
	case stateConnected:
		return "cloud api: connected"
	case stateTokenExpired:
		return "cloud api: the access token expired or was revoked: set a new WHATSAPP_CLOUD_TOKEN"
	case stateRestricted:
		return fmt.Sprintf("cloud api: Meta restricted the number (error %d); not sending, retrying later", s.code)
	}
	return "cloud api: " + string(s.kind)
}

// setState changes the state and alerts staff when the number stops or starts working.
func (c *Channel) setState(ctx context.Context, s state) {
	c.mu.Lock()
	prev := c.state
	c.state = s
	c.mu.Unlock()
	var kind AlertKind
	switch {
	case s.kind == prev.kind:
		return
	case s.kind == stateTokenExpired:
		kind = AlertTokenExpired
		c.log.Error("whatsapp cloud: the access token expired or was revoked; set a new WHATSAPP_CLOUD_TOKEN")
	case s.kind == stateRestricted:
		kind = AlertRestricted
		c.log.Error("whatsapp cloud: Meta restricted the number; not sending for a while", "code", s.code)
	case s.kind == stateConnected && (prev.kind == stateTokenExpired || prev.kind == stateRestricted):
		kind = AlertRecovered
		c.log.Info("whatsapp cloud: sending works again")
	default:
		return
	}
	if c.cfg.Alert == nil {
		return
	}
	text, err := c.texts.Text("id", "whatsappcloud.alert."+string(kind), nil)
	if err != nil {
		c.log.Warn("whatsapp cloud: alert text missing", "kind", string(kind), "err", err)
	}
	go c.cfg.Alert(context.WithoutCancel(ctx), Alert{Kind: kind, Text: text})
}

// redact removes every secret from err's text; nil stays nil.
func (c *Channel) redact(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := err.(*redactedError); ok {
		return err
	}
	return &redactedError{msg: c.redactor.Replace(err.Error()), err: err}
}

// redactedError is an error whose text had the secrets replaced with "<secret>"; it
// unwraps to the cause, so errors.As finds an *APIError.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
