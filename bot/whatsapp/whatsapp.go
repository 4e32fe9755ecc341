// Package whatsapp is Layan's WhatsApp channel, on whatsmeow (the unofficial WhatsApp
// Web multi-device protocol): it links a phone number as a "linked device", receives
// what people write to it, turns that into bot.Messages for the engine, and sends the
// engine's replies back as plain text through the shared bot.Sender, slowly.
//
// Device store. whatsmeow keeps the linked device's keys in SQL: by default a SQLite
// file DATA_DIR/whatsapp.db on the pure-Go driver modernc.org/sqlite (the build needs
// no cgo), or PostgreSQL when WHATSAPP_DB is a postgres:// URL (needed when several
// replicas run: they must share the device). Pair links a number (QR code in the
// terminal, or an 8-character code with --phone); Status tells whether a device is
// linked and whether a running Layan holds its connection.
//
// Lifecycle. Run waits until a device is linked (logging once how to pair), then
// until this replica holds the connection lock in Redis (one connection per device:
// a second one would replace the first), connects and stays connected; whatsmeow
// reconnects by itself after network trouble. When the device is logged out (unlinked
// on the phone, or by WhatsApp), the session is replaced by another program, the
// number is temporarily banned or the client is too old, the channel stops sending,
// tells staff (Config.Alert), the log and Health, and recovers by itself: after a
// new pairing, after the ban, or after a pause.
//
// Receiving is at least once: whatsmeow acknowledges a message to WhatsApp only
// after the handler returned true, which it does only once the engine has handled
// the message (and saved the turn) and its replies are queued for sending. A message
// the engine could not handle is not acknowledged, and WhatsApp delivers it again
// after a reconnect, which the channel forces; the engine's dedupe (stable user +
// message id) keeps a redelivery from being answered twice.
//
// What reaches the engine: text (also the numbers people type to answer a numbered
// menu; the router maps them), list and button replies (parsed defensively, as the
// option id), a location pin, a photo (downloaded and kept in the media store; a file
// that is no photo, or one over bot.MaxPhotoSize, is bot.KindBadFile), stickers and
// voice notes as such, and anything else a person sends (video, document, contact,
// poll ...) as bot.KindUnsupported so they get a kind answer. Ignored: groups, status
// updates, broadcast lists, newsletters, calls, edits, reactions, protocol messages,
// and what the linked number itself sends.
//
// Identity. WhatsApp moves people from phone-number JIDs to LIDs. The stable user id
// (bot.Message.UserID) is the LID ("<digits>@lid") whenever it is known, from the
// sender, the sender's alternative address, or the LID map; else the phone number
// (digits only, as in STAFF_IDS). So a person keeps one conversation through the
// migration. Replies go to the chat the message came from (bot.Message.ChatID).
//
// Sending is text only: options become numbered lines followed by "Balas dengan
// angka." (never buttons, which a non-Business client cannot send reliably), a
// question for a location adds how to share one, and long texts are split at
// paragraph, sentence or word boundaries. Errors are *bot.SendError: rate limits and
// account restrictions are ErrRateLimited with a conservative wait, a lost or
// paused connection ErrTemporary (wrapping ErrUnavailable), a malformed chat id
// ErrPermanent. DefaultLimits paces the number slowly; bans come from fast,
// unsolicited messages.
//
// Privacy. Logs carry pseudonyms, never message text or phone numbers: whatsmeow's
// own log lines are passed on at Warn and above only, with every long digit run (a
// phone number, a LID) replaced by a pseudonym.
package whatsapp

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/bot/lanes"
)

// ChannelName is the channel's name in bot.Message.Channel and in the Sender.
const ChannelName = "whatsapp"

// Lock is the connection lock shared by the replicas; *store.WhatsApp is one.
type Lock interface {
	// TakeConnLock makes token the holder for ttl when the lock is free; true when
	// token holds it.
	TakeConnLock(ctx context.Context, token string, ttl time.Duration) (bool, error)
	// RenewConnLock extends token's lock; false when token no longer holds it.
	RenewConnLock(ctx context.Context, token string, ttl time.Duration) (bool, error)
	// DropConnLock releases token's lock.
	DropConnLock(ctx context.Context, token string) error
}

// Client is the part of *whatsmeow.Client the receive and send paths use, so that
// they can be tested without a server.
type Client interface {
	SendMessage(ctx context.Context, to types.JID, message *waE2E.Message, extra ...whatsmeow.SendRequestExtra) (whatsmeow.SendResponse, error)
	MarkRead(ctx context.Context, ids []types.MessageID, timestamp time.Time, chat, sender types.JID, receiptTypeExtra ...types.ReceiptType) error
	SendChatPresence(ctx context.Context, jid types.JID, state types.ChatPresence, media types.ChatPresenceMedia) error
	Download(ctx context.Context, msg whatsmeow.DownloadableMessage) ([]byte, error)
	Upload(ctx context.Context, plaintext []byte, appInfo whatsmeow.MediaType) (whatsmeow.UploadResponse, error)
}

// LIDMap maps phone-number JIDs to LIDs and back; a linked device's Store.LIDs is one.
type LIDMap interface {
	GetLIDForPN(ctx context.Context, pn types.JID) (types.JID, error)
	GetPNForLID(ctx context.Context, lid types.JID) (types.JID, error)
}

var _ Client = (*whatsmeow.Client)(nil)

// DefaultLimits is how fast Layan sends on WhatsApp unless configured otherwise: one
// message a second over the whole number (three at most at once), one every two
// seconds to one chat, and a random pause of up to 1.5 s before each, so the number
// never looks like a bulk sender. WhatsApp publishes no limits for linked devices;
// numbers that send fast or to people who did not write first get restricted.
func DefaultLimits() bot.Limits {
	return bot.Limits{
		PerSecond: 1, Burst: 3, PerChat: 0.5, Jitter: 1500 * time.Millisecond,
		Attempts: 4, Backoff: time.Second,
	}
}

// MaxText is about the longest text sent as one message: longer replies are split
// (WhatsApp itself takes far more, but a wall of text is hard to read on a phone).
const MaxText = 4000

// AlertKind says what happened to the WhatsApp connection.
type AlertKind string

// The alerts staff get.
const (
	AlertLoggedOut AlertKind = "logged_out" // the device was unlinked: pair again
	AlertReplaced  AlertKind = "replaced"   // another program connected with the same device
	AlertBanned    AlertKind = "banned"     // the number is temporarily banned
	AlertOutdated  AlertKind = "outdated"   // WhatsApp refuses this client version: update Layan
	AlertRecovered AlertKind = "recovered"  // connected again after one of the above
)

// Alert is news about the WhatsApp connection for staff.
type Alert struct {
	Kind  AlertKind
	Text  string    // for staff, in the default language (locales "whatsapp.alert.<kind>")
	Until time.Time // for AlertBanned when WhatsApp said how long; else zero
}

// ErrUnavailable is wrapped by the send error (bot.ErrTemporary) of a reply that
// cannot go out because this replica has no usable WhatsApp connection: no device is
// linked, it was logged out or banned, another replica holds the connection, or the
// connection is being made.
var ErrUnavailable = errors.New("whatsapp: not connected")

// Config configures the channel. Lock and Media are required.
type Config struct {
	// DataDir holds the default SQLite device store (DATA_DIR).
	DataDir string
	// DB is WHATSAPP_DB: "" for SQLite in DataDir, a postgres:// URL, or a SQLite
	// "file:" DSN.
	DB string
	// Lock is the connection lock the replicas share (*store.WhatsApp).
	Lock Lock
	// Media keeps the photos people send, and opens those staff send them
	// (*store.Media).
	Media  bot.MediaStore
	Logger *slog.Logger
	// Pseudonyms names conversations (and phone numbers) in logs; default unkeyed hashes.
	Pseudonyms bot.Pseudonymizer
	// Alert tells staff that the connection was lost or came back. It is called in a
	// goroutine of its own; optional (the log and Health say it too).
	Alert func(ctx context.Context, a Alert)
	// Location is the time zone of the times in alerts; default Asia/Jakarta, else UTC.
	Location *time.Location
	// Limits for the Sender; default DefaultLimits().
	Limits *bot.Limits

	// LockTTL is how long the connection lock lives without renewal; default 30 s.
	// LockRenew is how often it is renewed (and how often a standby replica tries to
	// take it); default 10 s. A dead holder is replaced within LockTTL + LockRenew.
	LockTTL, LockRenew time.Duration
	// LinkPoll is how often Run looks for a newly linked device; default 15 s.
	LinkPoll time.Duration
}

// Channel is the WhatsApp channel: a bot.Channel for sending, plus the receiving side
// started by Run.
type Channel struct {
	cfg    Config
	log    *slog.Logger
	pseudo bot.Pseudonymizer
	engine bot.MessageHandler
	sender bot.ChannelSender
	texts  bot.Texts
	media  bot.MediaStore
	lock   Lock
	token  string // this process's token for the connection lock

	outbox  *lanes.Lanes // replies per chat, in order
	signals chan signal  // from event handlers to the session loop; never blocks them

	mu     sync.RWMutex
	client Client // nil while not connected
	lids   LIDMap // nil while no device is open
	state  state
	alerts map[AlertKind]bool // alerts sent and not yet recovered from
}

var _ bot.Channel = (*Channel)(nil)

// New checks cfg, returns the channel and registers it with the sender. It does no
// I/O: Run opens the device store and connects, in the background of the rest of
// the service.
func New(cfg Config, engine bot.MessageHandler, sender bot.ChannelSender, texts bot.Texts) (*Channel, error) {
	if engine == nil || sender == nil || texts == nil {
		return nil, errors.New("whatsapp: engine, sender and texts are required")
	}
	if cfg.Lock == nil {
		return nil, errors.New("whatsapp: a connection lock is required (store.WhatsApp)")
	}
	if cfg.Media == nil {
		return nil, errors.New("whatsapp: a media store is required for the photos people send")
	}
	if _, _, err := ParseDB(cfg.DataDir, cfg.DB); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Pseudonyms == nil {
		cfg.Pseudonyms = bot.NewPseudonymizer(nil)
	}
	if cfg.Location == nil {
		if loc, err := time.LoadLocation("Asia/Jakarta"); err == nil {
			cfg.Location = loc
		} else {
			cfg.Location = time.UTC
		}
	}
	if cfg.LockTTL <= 0 {
		cfg.LockTTL = 30 * time.Second
	}
	if cfg.LockRenew <= 0 {
		cfg.LockRenew = 10 * time.Second
	}
	if cfg.LockRenew >= cfg.LockTTL/2 {
		return nil, fmt.Errorf("whatsapp: lock renewal (%v) must be under half the lock's time to live (%v)", cfg.LockRenew, cfg.LockTTL)
	}
	if cfg.LinkPoll <= 0 {
		cfg.LinkPoll = 15 * time.Second
	}
	c := &Channel{
		cfg: cfg, log: cfg.Logger.With("channel", ChannelName), pseudo: cfg.Pseudonyms,
		engine: engine, sender: sender, texts: texts, media: cfg.Media, lock: cfg.Lock,
		token:   processToken(),
		signals: make(chan signal, 16),
		state:   state{kind: stateStarting, since: time.Now()},
		alerts:  map[AlertKind]bool{},
	}
	c.outbox = lanes.New(0)
	limits := DefaultLimits()
	if cfg.Limits != nil {
		limits = *cfg.Limits
	}
	sender.Register(c, limits)
	return c, nil
}

// processToken names this process as holder of the connection lock.
func processToken() string {
	host, _ := os.Hostname()
	b := make([]byte, 8)
	rand.Read(b)
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
}

// Name implements bot.Channel.
func (c *Channel) Name() string { return ChannelName }

// Health reports whether WhatsApp works from this replica's point of view, with a
// short detail for the readiness endpoint ("connected", "not linked: run layan
// whatsapp pair", "logged out ...", "standby: another replica holds the connection").
// A standby replica is healthy. The detail never holds a phone number.
func (c *Channel) Health() (ok bool, detail string) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.state.ok(), c.state.detail(c.cfg.Location)
}

// State names the connection's state for metrics: starting, store_unavailable,
// not_linked, standby, connecting, connected, disconnected, logged_out, replaced,
// banned, outdated, stopped.
func (c *Channel) State() string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return string(c.state.kind)
}

// Ready reports whether this replica can send on WhatsApp now: it holds the connection
// and is connected. The shared sender asks, so that broadcasts are left to the replica
// that can deliver them.
func (c *Channel) Ready() bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.state.kind == stateConnected
}

// Phone returns the phone number (digits, as in STAFF_IDS) of a WhatsApp user id as
// the channel puts it in bot.Message.UserID: the number itself, or the number the
// LID map knows for a LID ("<digits>@lid"). False when it is not known (yet), or
// while no device is open.
func (c *Channel) Phone(ctx context.Context, userID string) (string, bool) {
	if user, ok := strings.CutSuffix(userID, "@"+types.HiddenUserServer); ok {
		c.mu.RLock()
		lids := c.lids
		c.mu.RUnlock()
		if lids == nil {
			return "", false
		}
		pn, err := lids.GetPNForLID(ctx, types.NewJID(user, types.HiddenUserServer))
		if err != nil || pn.IsEmpty() {
			return "", false
		}
		return pn.User, true
	}
	if userID == "" || strings.ContainsRune(userID, '@') {
		return "", false
	}
	return userID, true
}
