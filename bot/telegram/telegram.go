// Package telegram is Layan's Telegram channel, on go-telegram-bot-api/v5: it receives
// updates by long polling (the default) or through a webhook, turns them into
// bot.Messages for the engine, and sends the engine's replies back within Telegram's
// limits through the shared bot.Sender.
//
// Receiving. In polling mode one process (a lease in the store) calls getUpdates in
// its own loop: it handles a batch (different chats concurrently, one chat in order),
// sends the replies, and only then advances the offset, so a crash neither loses an
// update nor answers one twice (the engine remembers handled message ids). In
// webhook mode POST /telegram/webhook checks Telegram's secret header (401 when wrong
// or missing; an address that keeps presenting wrong ones gets 429 for a while, and
// the log sums them up once a minute; the right secret always gets in), puts the update in a durable queue in Redis and answers 200 at once;
// workers in every replica take updates from the queue, handle them and acknowledge
// them only afterwards, and take over what a crashed worker left. Switching back to
// polling deletes the webhook. Start-up survives an unreachable API: Run retries
// getMe with a growing pause while the rest of the service runs.
//
// What reaches the engine:
//   - text;
//   - a command (/lapor, /status@ThisBot) without arguments as the menu option it
//     names (DefaultCommands); with arguments as the text "/status BTG-0042" (the
//     @ThisBot removed), which the flows read, as they read staff commands; /start's
//     argument is a deep link's payload and stays the text of the "menu" option;
//   - a pressed inline button as its option (the spinner is stopped with
//     answerCallbackQuery, in the webhook's response when the update came through
//     the webhook);
//   - a shared location (or a venue's) as bot.KindLocation;
//   - a photo, or a JPEG, PNG or WebP image sent as a file of at most 10 MB, as
//     bot.KindImage: Media.Ref is Telegram's file id (Fetch downloads it), or, with
//     AcceptPhotos, the name of the photo already kept in the media store; any other
//     file as bot.KindBadFile, so the person hears what is taken;
//   - stickers and voice notes as such, anything else a person sends (video, contact,
//     poll ...) as bot.KindUnsupported, so the person gets a kind answer.
//
// Edited messages are ignored: the original was answered, and an answer to an edit
// would arrive out of place. Service messages (joins, pins) and other update types
// (channel posts, inline queries, reactions ...) are ignored. A person who blocks the
// bot (my_chat_member "kicked") is reported to Config.Blocked.
//
// Group chats: only commands (/x, or /x@ThisBot) and messages that mention @ThisBot
// or reply to one of its messages are handled, the mention removed; button presses on
// the bot's messages too. Message.Key is telegram:<user id> in a private chat and in
// the staff group (Config.StaffChatID, recognised by IsStaffChat, where staff commands
// need the staff member's own identity), and telegram:<user id>@<group id> in any
// other group: what a person does in private (their complaints, their status) is never
// answered in front of a group. ChatID is always the chat to answer in.
//
// Replies to the bot's messages. A reply sent with an About (bot.Reply.About, such as
// a talk with staff announced in the staff group) is remembered by its message ids
// for 30 days; a message that replies to one of them (in any chat) reaches the engine
// with that About as Message.InReplyTo, so a staff member may answer a person by
// replying to the message that announced or passed on what the person said.
//
// Sending. Options become an inline keyboard, one button a row; an option id longer
// than the 64 bytes Telegram allows in callback_data travels as "~" plus a hash of it,
// and the store maps the hash back (for 30 days; after that the pressed button's label
// is passed on as text, which the flows match against what they offered). AskLocation
// becomes, in a private chat, a one-time reply keyboard whose first button shares the
// location (labelled with the text telegram.share_location in the person's language;
// the options follow as plain buttons, answered by their label). A plain reply in a
// private chat removes such a keyboard. Texts go without parse_mode, so Markdown or
// HTML in them (and in anything a person wrote that is quoted back) is shown as
// written, never interpreted. Texts longer than 4,096 characters are split at a
// paragraph, sentence or word boundary. Errors are *bot.SendError by kind: rate
// limited (with retry_after), blocked (403 blocked/deactivated, which also calls
// Config.Blocked), permanent (other 4xx) or temporary (network, 5xx).
//
// At start the commands are registered with setMyCommands in Indonesian (for
// everyone) and English (language_code "en"), described by the texts
// telegram.commands.<name>; a server that refuses is logged as a warning.
//
// The bot token is secret: it never appears in a log line or an error. Every error
// that may carry a URL with the token is redacted to "<token>" before it leaves the
// package. Logs hold update kinds and conversation pseudonyms, never message text.
package telegram

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/bot/guard"
	"github.com/layan-id/layan/bot/inbox"
	"github.com/layan-id/layan/bot/lanes"
)

// ChannelName is the channel's name in bot.Message.Channel and in the Sender.
const ChannelName = "telegram"

// WebhookPath is where Register serves the webhook.
const WebhookPath = "/telegram/webhook"

// Store is what the channel keeps in Redis; *store.Telegram is one.
type Store interface {
	// Enqueue durably queues a raw update received by the webhook.
	Enqueue(ctx context.Context, raw []byte) error
	// Read gives consumer up to count queued updates nobody has taken, waiting up to block.
	Read(ctx context.Context, consumer string, count int, block time.Duration) (ids []string, raws [][]byte, err error)
	// Reclaim gives consumer updates another consumer took more than minIdle ago.
	Reclaim(ctx context.Context, consumer string, count int, minIdle time.Duration) (ids []string, raws [][]byte, err error)
	// Ack deletes handled updates from the queue.
	Ack(ctx context.Context, ids ...string) error
	// TakeLease makes owner the only poller for ttl (or renews it); false while another holds it.
	TakeLease(ctx context.Context, owner string, ttl time.Duration) (bool, error)
	// DropLease gives up owner's lease.
	DropLease(ctx context.Context, owner string) error
	// SaveOption remembers the option id a short callback key stands for.
	SaveOption(ctx context.Context, key, id string, ttl time.Duration) error
	// Option returns the id of a short callback key, "" when unknown.
	Option(ctx context.Context, key string) (string, error)
	// SaveAbout remembers what the bot's message in a chat is about (Reply.About).
	SaveAbout(ctx context.Context, chat int64, message int, about string, ttl time.Duration) error
	// About returns what the bot's message in a chat is about, "" when unknown.
	About(ctx context.Context, chat int64, message int) (string, error)
}

// Command is a bot command offered in Telegram's menu (setMyCommands) and the menu
// option it starts. Its description is the text "telegram.commands.<Name>".
type Command struct {
	Name   string // without the slash: "lapor"
	Option string // the option the command picks: "complaint"
}

// DefaultCommands returns Layan's commands: /start and /menu show the menu, the others
// open the menu entry of the same meaning.
func DefaultCommands() []Command {
	return []Command{
		{"start", "menu"}, {"menu", "menu"}, {"tanya", "faq"}, {"lapor", "complaint"},
		{"status", "status"}, {"wisata", "tourism"}, {"langganan", "subscribe"},
		{"bahasa", "language"}, {"bantuan", "help"},
	}
}

// DefaultLimits are Telegram's sending limits as the Sender applies them: about 30
// messages a second in bulk (we keep to 25) and one a second per chat.
func DefaultLimits() bot.Limits {
	return bot.Limits{PerSecond: 25, Burst: 5, PerChat: 1, Attempts: 4, Backoff: 500 * time.Millisecond}
}

// Config configures the channel. Token is required; the rest has defaults.
type Config struct {
	Token string
	// Endpoint is the Bot API's printf pattern for (token, method); default Telegram's
	// "https://api.telegram.org/bot%s/%s".
	Endpoint string
	// FileEndpoint is the pattern for (token, file path) downloads; default derived from
	// Endpoint ("…/bot%s/%s" becomes "…/file/bot%s/%s").
	FileEndpoint string
	// WebhookURL, when set, selects webhook mode: the public URL that reaches
	// WebhookPath on this service. WebhookSecret is then required (1–256 characters
	// of A-Z, a-z, 0-9, _ and -).
	WebhookURL    string
	WebhookSecret string
	// StaffChatID is the staff group's chat id (STAFF_NOTIFY=telegram:<id>); 0 = none.
	StaffChatID int64
	// HTTPClient calls the Bot API; default: a client with connect, TLS and overall
	// timeouts fit for long polling that keeps a connection open for every call the
	// Workers can make at once. Each call also carries its context.
	HTTPClient *http.Client
	Logger     *slog.Logger
	// Pseudonyms names conversations in logs; default unkeyed hashes.
	Pseudonyms bot.Pseudonymizer
	// Blocked is called with the conversation key (telegram:<user id>) of a person who
	// blocked the bot or deleted their account, so they can be unsubscribed. Optional.
	Blocked func(ctx context.Context, userKey string)
	// Limits for the Sender; default DefaultLimits().
	Limits *bot.Limits
	// Commands offered and understood; default DefaultCommands().
	Commands []Command

	// PollTimeout is getUpdates' long-polling time; default 25 s.
	PollTimeout time.Duration
	// PollInterval is the least time between two getUpdates calls that found nothing
	// (servers that do not hold the request open); default 1 s.
	PollInterval time.Duration
	// MaxBackoff caps the pause between retries of a failing API; default 1 min.
	MaxBackoff time.Duration
	// Workers is how many chats are handled at once; default 64 (a turn mostly waits
	// for Redis and the Bot API).
	Workers int
	// ClaimAfter is how long a queued update may stay taken but unacknowledged
	// before another worker takes it over; default 2 min (longer than a turn with
	// its sends can take).
	ClaimAfter time.Duration
	// QueueWait is how long a worker waits on an empty queue before it looks for
	// abandoned updates and stops if asked to; default 2 s.
	QueueWait time.Duration
}

// Channel is the Telegram channel: a bot.Channel for sending, plus the receiving side
// started by Run.
type Channel struct {
	cfg       Config
	endpoint  string
	fileEP    string
	http      *http.Client
	log       *slog.Logger
	pseudo    bot.Pseudonymizer
	engine    bot.MessageHandler
	sender    bot.ChannelSender
	store     Store
	texts     bot.Texts
	redactor  *strings.Replacer
	commands  map[string]string // command name → option
	consumer  string            // this process's name as queue consumer and poller
	webhookOn bool
	guard     *guard.Guard // throttles addresses that present wrong webhook secrets
	lanes     *lanes.Lanes
	answers   sync.Pool      // *bytes.Buffer: sendMessage reads the Bot API's answers into them
	inbox     *inbox.Worker  // the webhook's queue
	media     bot.MediaSaver // nil: photos stay Telegram file ids

	mu        sync.RWMutex
	self      *tgbotapi.User // nil until getMe answered
	receiving atomic.Bool    // the webhook is set, or polling runs
}

var _ bot.Channel = (*Channel)(nil)

// New checks cfg, returns the channel and registers it with the sender. It does no
// I/O: Run connects, in the background of the rest of the service.
func New(cfg Config, engine bot.MessageHandler, sender bot.ChannelSender, st Store, texts bot.Texts) (*Channel, error) {
	if cfg.Token == "" {
		return nil, errors.New("telegram: a token is required")
	}
	if strings.ContainsAny(cfg.Token, "/?#% \t\n") {
		return nil, errors.New("telegram: the token has characters a Bot API token never has")
	}
	if engine == nil || sender == nil || st == nil || texts == nil {
		return nil, errors.New("telegram: engine, sender, store and texts are required")
	}
	if cfg.Endpoint == "" {
		cfg.Endpoint = tgbotapi.APIEndpoint
	}
	if strings.Count(cfg.Endpoint, "%s") != 2 {
		return nil, fmt.Errorf("telegram: API endpoint %q: want a pattern with two %%s (token, method)", cfg.Endpoint)
	}
	if cfg.FileEndpoint == "" {
		base, ok := strings.CutSuffix(cfg.Endpoint, "/bot%s/%s")
		if !ok {
			return nil, fmt.Errorf("telegram: API endpoint %q does not end in /bot%%s/%%s: set the file endpoint too", cfg.Endpoint)
		}
		cfg.FileEndpoint = base + "/file/bot%s/%s"
	}
	if cfg.WebhookURL != "" {
		u, err := url.Parse(cfg.WebhookURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, fmt.Errorf("telegram: webhook URL %q: want an absolute http(s) URL", cfg.WebhookURL)
		}
		if !ValidWebhookSecret(cfg.WebhookSecret) {
			return nil, errors.New("telegram: webhook mode needs a secret of 1–256 characters A-Z, a-z, 0-9, _ or -")
		}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Pseudonyms == nil {
		cfg.Pseudonyms = bot.NewPseudonymizer(nil)
	}
	if cfg.PollTimeout <= 0 {
		cfg.PollTimeout = 25 * time.Second
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = time.Second
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = time.Minute
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 64
	}
	if cfg.Commands == nil {
		cfg.Commands = DefaultCommands()
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = defaultHTTPClient(cfg.PollTimeout, cfg.Workers)
	}
	c := &Channel{
		cfg: cfg, endpoint: cfg.Endpoint, fileEP: cfg.FileEndpoint, http: cfg.HTTPClient,
		log: cfg.Logger.With("channel", ChannelName), pseudo: cfg.Pseudonyms,
		engine: engine, sender: sender, store: st, texts: texts,
		redactor: strings.NewReplacer(cfg.Token, "<token>", url.PathEscape(cfg.Token), "<token>",
			url.QueryEscape(cfg.Token), "<token>"),
		commands:  map[string]string{},
		consumer:  inbox.ConsumerName(),
		webhookOn: cfg.WebhookURL != "",
		lanes:     lanes.New(cfg.Workers),
	}
	c.guard = guard.New(guard.Config{Name: "telegram webhook", Logger: c.log})
	c.inbox = inbox.New(inbox.Config{
		Name: "telegram", Item: "update", Queue: st, Lanes: c.lanes, Consumer: c.consumer, Open: c.open,
		MaxAge: maxAge, Slots: 16 * cfg.Workers, ClaimAfter: cfg.ClaimAfter, Wait: cfg.QueueWait,
		MaxBackoff: cfg.MaxBackoff, Log: c.log,
	})
	for _, cmd := range cfg.Commands {
		c.commands[strings.ToLower(cmd.Name)] = cmd.Option
	}
	limits := DefaultLimits()
	if cfg.Limits != nil {
		limits = *cfg.Limits
	}
	sender.Register(c, limits)
	return c, nil
}

// ValidWebhookSecret reports whether s is a secret Telegram accepts for a webhook: 1 to
// 256 characters of A-Z, a-z, 0-9, _ and -.
func ValidWebhookSecret(s string) bool {
	if len(s) == 0 || len(s) > 256 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// defaultHTTPClient keeps enough connections to the Bot API open for every worker's
// calls at once (a reply and a pressed button's answer each): with fewer, a burst
// closes the connections it cannot keep and opens new ones for the next.
func defaultHTTPClient(pollTimeout time.Duration, workers int) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = 10 * time.Second
	t.ResponseHeaderTimeout = pollTimeout + 15*time.Second
	t.MaxIdleConnsPerHost = 2*workers + 2 // and getUpdates, a file download
	t.MaxIdleConns = max(t.MaxIdleConns, t.MaxIdleConnsPerHost)
	return &http.Client{Transport: t, Timeout: pollTimeout + 30*time.Second}
}

// Name implements bot.Channel.
func (c *Channel) Name() string { return ChannelName }

// IsStaffChat reports whether chatID (as in bot.Message.ChatID) is the staff group.
func (c *Channel) IsStaffChat(chatID string) bool {
	id, err := strconv.ParseInt(chatID, 10, 64)
	return err == nil && c.cfg.StaffChatID != 0 && id == c.cfg.StaffChatID
}

// Me returns the bot's own account once Run has reached the API, else nil.
func (c *Channel) Me() *tgbotapi.User {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.self
}

// Receiving reports whether the channel is connected and receives updates: the
// webhook is registered, or long polling runs. For health checks and tests.
func (c *Channel) Receiving() bool { return c.receiving.Load() }

// Run connects to the Bot API and receives updates until ctx ends, then returns nil.
// An unreachable API does not stop it: it retries getMe with a growing pause (capped
// by Config.MaxBackoff) while the rest of the service runs. Once connected it
// registers the commands, sets or deletes the webhook, and starts receiving.
func (c *Channel) Run(ctx context.Context) error {
	if !c.connect(ctx) {
		return nil
	}
	c.setCommands(ctx)
	if c.webhookOn {
		if !c.retry(ctx, "set webhook", c.setWebhook) {
			return nil
		}
		c.log.Info("telegram: receiving through the webhook", "bot", c.Me().UserName)
	} else {
		if !c.retry(ctx, "delete webhook", c.deleteWebhook) {
			return nil
		}
		c.log.Info("telegram: receiving by long polling", "bot", c.Me().UserName)
	}
	// Updates being handled when ctx ends get shutdownGrace to finish on jobs.
	jobs, release := bot.Grace(ctx, shutdownGrace)
	defer release()

	c.receiving.Store(true)
	defer c.receiving.Store(false)
	var wg sync.WaitGroup
	wg.Go(func() { c.inbox.Run(ctx, jobs) }) // also drains what a former webhook period left queued
	if !c.webhookOn {
		wg.Go(func() { c.poll(ctx, jobs) })
	}
	wg.Wait()
	return nil
}

// connect calls getMe until it answers or ctx ends.
func (c *Channel) connect(ctx context.Context) bool {
	return c.retry(ctx, "connect (getMe)", func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		me, err := c.api(ctx).GetMe()
		if err != nil {
			return c.redact(err)
		}
		c.mu.Lock()
		c.self = &me
		c.mu.Unlock()
		c.log.Info("telegram: connected", "bot", me.UserName)
		return nil
	})
}

// retry runs f until it succeeds (true) or ctx ends (false), pausing between tries
// from about 1 s, doubling up to MaxBackoff.
func (c *Channel) retry(ctx context.Context, what string, f func(context.Context) error) bool {
	_, err := bot.Retry(ctx, bot.Backoff(min(time.Second, c.cfg.MaxBackoff), c.cfg.MaxBackoff), 0,
		func() (struct{}, error) { return struct{}{}, f(ctx) },
		func(err error, next time.Duration) {
			c.log.Warn("telegram: "+what+" failed; will retry", "in", next, "err", err)
		})
	return err == nil
}

// allowedUpdates are the update types the channel reads; Telegram sends no others.
func allowedUpdates() []string {
	return []string{"message", "edited_message", "callback_query", "my_chat_member"}
}

func (c *Channel) setWebhook(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	params := tgbotapi.Params{"url": c.cfg.WebhookURL, "secret_token": c.cfg.WebhookSecret}
	if err := params.AddInterface("allowed_updates", allowedUpdates()); err != nil {
		return err
	}
	if _, err := c.api(ctx).MakeRequest("setWebhook", params); err != nil {
		return c.redact(err)
	}
	return nil
}

func (c *Channel) deleteWebhook(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := c.api(ctx).Request(tgbotapi.DeleteWebhookConfig{}); err != nil {
		return c.redact(err)
	}
	return nil
}

// setCommands registers the commands in Indonesian (for everyone) and in English (for
// people whose Telegram is in English). Failure is logged and not fatal: the commands
// still work when typed.
func (c *Channel) setCommands(ctx context.Context) {
	for _, lang := range []string{"id", "en"} {
		cmds := make([]tgbotapi.BotCommand, 0, len(c.cfg.Commands))
		for _, cmd := range c.cfg.Commands {
			desc, err := c.texts.Text(lang, "telegram.commands."+cmd.Name, nil)
			if err != nil {
				c.log.Warn("telegram: command description missing", "command", cmd.Name, "lang", lang, "err", err)
				continue
			}
			cmds = append(cmds, tgbotapi.BotCommand{Command: cmd.Name, Description: desc})
		}
		conf := tgbotapi.SetMyCommandsConfig{Commands: cmds}
		if lang != "id" {
			conf.LanguageCode = lang
		}
		callCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
		_, err := c.api(callCtx).Request(conf)
		cancel()
		if err != nil {
			c.log.Warn("telegram: setMyCommands failed; commands still work when typed", "lang", lang, "err", c.redact(err))
		}
	}
}

// api returns a Bot API client whose requests carry ctx. It is cheap: the library's
// client is a small struct around the shared *http.Client.
func (c *Channel) api(ctx context.Context) *tgbotapi.BotAPI {
	b := &tgbotapi.BotAPI{Token: c.cfg.Token, Client: ctxDoer{ctx: ctx, c: c.http}, Buffer: 100}
	b.SetAPIEndpoint(c.endpoint)
	if me := c.Me(); me != nil {
		b.Self = *me
	}
	return b
}

// ctxDoer gives every request of the library (which knows no contexts) a context.
type ctxDoer struct {
	ctx context.Context
	c   *http.Client
}

func (d ctxDoer) Do(r *http.Request) (*http.Response, error) { return d.c.Do(r.WithContext(d.ctx)) }
