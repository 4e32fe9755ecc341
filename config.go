package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // TZ_REGION must resolve on hosts without a zoneinfo database

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/bot/guard"
	"github.com/layan-id/layan/bot/telegram"
	"github.com/layan-id/layan/bot/webchat"
	"github.com/layan-id/layan/bot/whatsapp"
	"github.com/layan-id/layan/bot/whatsappcloud"
	"github.com/layan-id/layan/domain"
)

var ticketPrefix = regexp.MustCompile(`^[A-Z0-9]{2,10}$`)

// config is everything Layan reads from its environment, once, at start.
type config struct {
	RedisURL    string
	RedisPrefix string
	DataDir     string
	HTTPAddr    string
	ContentDir  string
	RegionName  string
	Location    *time.Location
	LogLevel    slog.Level

	TicketPrefix string
	// SLA_VERIFY_DAYS, SLA_FOLLOWUP_DAYS: the complaint deadlines in working days.
	VerifyDays, FollowUpDays int
	// Warnings are said once at start: deprecated settings still read.
	Warnings     []string
	StaffIDs     []string // channel:identity, as in STAFF_IDS
	StaffNotify  string   // channel:chat, as in STAFF_NOTIFY; "" = the log and the staff API
	AdminToken   string
	MetricsToken string // METRICS_TOKEN: reads /metrics only (ADMIN_TOKEN does too)
	MetricsAddr  string // METRICS_ADDR: a second listener serving /metrics without a token; "" none
	TipSchedule  string // cron, in TZ_REGION

	TelegramToken         string // enables Telegram
	TelegramEndpoint      string // Bot API pattern …/bot%s/%s; "" = Telegram's
	TelegramWebhookURL    string // "" = long polling
	TelegramWebhookSecret string
	TelegramStaffChat     int64 // from STAFF_NOTIFY=telegram:<chat id>; 0 = none

	WhatsAppEnabled bool   // WHATSAPP_ENABLED
	WhatsAppDB      string // WHATSAPP_DB: "" = SQLite in DATA_DIR, or a postgres:// URL

	// WHATSAPP_CLOUD_*: the whatsapp channel on Meta's Cloud API instead of whatsmeow.
	WhatsAppCloud whatsAppCloudConfig

	// Sending limits over each channel's defaults (TELEGRAM_SEND_LIMITS,
	// WHATSAPP_SEND_LIMITS, see bot.ParseLimits); nil: the channel's defaults.
	TelegramLimits, WhatsAppLimits, WhatsAppCloudLimits *bot.Limits

	Web webConfig // WEBCHAT_LIMITS, WEBCHAT_FRAME_ANCESTORS, MEDIA_QUOTA (webconfig.go)

	Handoff handoffConfig // HANDOFF_WAIT, OFFICE_HOURS, HISTORY_DAYS (handoff.go)

	Workspace workspaceConfig // STAFF_SESSION_IDLE, STAFF_MAP_TILES (workspace.go)
}

// loadConfig reads and validates the environment. getenv is os.Getenv outside tests.
func loadConfig(getenv func(string) string) (config, error) {
	get := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	c := config{
		RedisURL:    get("REDIS_URL", ""),
		RedisPrefix: get("REDIS_PREFIX", "layan:"),
		DataDir:     get("DATA_DIR", "./data"),
		HTTPAddr:    get("HTTP_ADDR", "127.0.0.1:8080"),
		ContentDir:  get("CONTENT_DIR", ""),
		RegionName:  get("REGION_NAME", ""),
	}
	var errs []error
	c.TicketPrefix = strings.ToUpper(get("TICKET_PREFIX", "ADU"))
	if !ticketPrefix.MatchString(c.TicketPrefix) {
		errs = append(errs, fmt.Errorf("TICKET_PREFIX %q: want 2 to 10 letters or digits", c.TicketPrefix))
	}
	errs = append(errs, c.loadSLA(get)...)
	c.TipSchedule = get("TIP_SCHEDULE", "0 7 * * *")
	if _, err := domain.ParseSchedule(c.TipSchedule); err != nil {
		errs = append(errs, fmt.Errorf("TIP_SCHEDULE %q: not a cron schedule (minute hour day month weekday, e.g. 0 7 * * *): %w", c.TipSchedule, err))
	}
	c.TelegramToken = get("TELEGRAM_TOKEN", "")
	c.TelegramEndpoint = get("TELEGRAM_API_ENDPOINT", "")
	c.TelegramWebhookURL = get("TELEGRAM_WEBHOOK_URL", "")
	c.TelegramWebhookSecret = get("TELEGRAM_WEBHOOK_SECRET", "")
	if c.TelegramToken == "" && (c.TelegramEndpoint != "" || c.TelegramWebhookURL != "") {
		errs = append(errs, fmt.Errorf("TELEGRAM_API_ENDPOINT and TELEGRAM_WEBHOOK_URL need TELEGRAM_TOKEN"))
	}
	if c.TelegramWebhookURL != "" && c.TelegramWebhookSecret == "" {
		errs = append(errs, fmt.Errorf("TELEGRAM_WEBHOOK_URL needs TELEGRAM_WEBHOOK_SECRET (%d to 256 of A-Z a-z 0-9 _ -; %s)",
			guard.MinSecretLen, guard.GenerateHint))
	}
	if s := c.TelegramWebhookSecret; s != "" {
		if !telegram.ValidWebhookSecret(s) {
			errs = append(errs, fmt.Errorf("TELEGRAM_WEBHOOK_SECRET: Telegram takes only A-Z a-z 0-9 _ - and at most 256 characters; %s",
				guard.GenerateHint))
		} else if err := guard.CheckSecret(s); err != nil {
			errs = append(errs, fmt.Errorf("TELEGRAM_WEBHOOK_SECRET: %w; %s", err, guard.GenerateHint))
		}
	}
	if v := get("WHATSAPP_ENABLED", "false"); v != "" {
		on, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("WHATSAPP_ENABLED %q: want true or false", v))
		}
		c.WhatsAppEnabled = on
	}
	errs = append(errs, c.WhatsAppCloud.load(get, c.WhatsAppEnabled)...)
	errs = append(errs, c.loadSendLimits(get)...)
	errs = append(errs, c.readStaff(get("STAFF_IDS", ""), get("STAFF_NOTIFY", ""))...)
	c.WhatsAppDB = get("WHATSAPP_DB", "")
	if _, _, err := whatsapp.ParseDB(c.DataDir, c.WhatsAppDB); err != nil {
		errs = append(errs, err) // never repeats the URL
	}
	c.MetricsToken = get("METRICS_TOKEN", "")
	if c.MetricsToken != "" {
		if err := guard.CheckSecret(c.MetricsToken); err != nil {
			errs = append(errs, fmt.Errorf("METRICS_TOKEN: %w; %s", err, guard.GenerateHint))
		}
	}
	c.AdminToken = get("ADMIN_TOKEN", "")
	if c.AdminToken != "" {
		if err := guard.CheckSecret(c.AdminToken); err != nil {
			errs = append(errs, fmt.Errorf("ADMIN_TOKEN: %w; %s", err, guard.GenerateHint))
		}
	}
	c.MetricsAddr = get("METRICS_ADDR", "")
	if c.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			errs = append(errs, fmt.Errorf("METRICS_ADDR %q: want host:port, e.g. 127.0.0.1:9090", c.MetricsAddr))
		} else if c.MetricsAddr == c.HTTPAddr {
			errs = append(errs, fmt.Errorf("METRICS_ADDR %q: must differ from HTTP_ADDR (it serves /metrics without a token)", c.MetricsAddr))
		}
	}
	if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
		errs = append(errs, fmt.Errorf("HTTP_ADDR %q: want host:port", c.HTTPAddr))
	}
	tz := get("TZ_REGION", "Asia/Jakarta")
	loc, err := time.LoadLocation(tz)
	if err != nil {
		errs = append(errs, fmt.Errorf("TZ_REGION %q: unknown time zone", tz))
	}
	c.Location = loc
	if c.ContentDir != "" {
		if st, err := os.Stat(c.ContentDir); err != nil || !st.IsDir() {
			errs = append(errs, fmt.Errorf("CONTENT_DIR %q: not a directory", c.ContentDir))
		}
	}
	if err := c.LogLevel.UnmarshalText([]byte(get("LOG_LEVEL", "info"))); err != nil {
		errs = append(errs, fmt.Errorf("LOG_LEVEL: want debug, info, warn or error"))
	}
	errs = append(errs, c.Web.load(get)...)
	errs = append(errs, c.Handoff.load(get)...)
	errs = append(errs, c.Workspace.load(get)...)
	if !strings.HasSuffix(c.RedisPrefix, ":") {
		c.RedisPrefix += ":"
	}
	return c, errors.Join(errs...)
}

// loadSLA reads SLA_VERIFY_DAYS and SLA_FOLLOWUP_DAYS, working days from 1 to 60.
// The older COMPLAINT_SLA (a duration to verification) is still read when
// SLA_VERIFY_DAYS is not set, as its whole days rounded up, with a warning.
func (c *config) loadSLA(get func(name, def string) string) []error {
	var errs []error
	days := func(name string, def int) int {
		v := get(name, strconv.Itoa(def))
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 60 {
			errs = append(errs, fmt.Errorf("%s %q: want a whole number of working days from 1 to 60", name, v))
		}
		return n
	}
	c.VerifyDays = days("SLA_VERIFY_DAYS", domain.DefaultVerifyDays)
	c.FollowUpDays = days("SLA_FOLLOWUP_DAYS", domain.DefaultFollowUpDays)
	if old := get("COMPLAINT_SLA", ""); old != "" {
		d, err := time.ParseDuration(old)
		switch {
		case err != nil || d <= 0:
			errs = append(errs, fmt.Errorf("COMPLAINT_SLA: want a duration such as 48h (deprecated: use SLA_VERIFY_DAYS, in working days)"))
		case get("SLA_VERIFY_DAYS", "") != "":
			c.Warnings = append(c.Warnings, "COMPLAINT_SLA is deprecated and ignored: SLA_VERIFY_DAYS is set")
		default:
			c.VerifyDays = int((d + 24*time.Hour - 1) / (24 * time.Hour))
			c.Warnings = append(c.Warnings, fmt.Sprintf("COMPLAINT_SLA is deprecated: read as SLA_VERIFY_DAYS=%d (working days); set SLA_VERIFY_DAYS instead", c.VerifyDays))
		}
	}
	return errs
}

// readStaff reads STAFF_IDS (a list of channel:identity) and STAFF_NOTIFY (one
// channel:chat) into c, after TELEGRAM_TOKEN and WHATSAPP_ENABLED. Only the channels
// Layan has are taken, each identity in its channel's form, and a channel that is not
// configured cannot be named. A web chat token, a credential, is never repeated in an
// error.
func (c *config) readStaff(ids, notify string) []error {
	var errs []error
	telegramStaff := false
	for _, id := range strings.Split(ids, ",") {
		if id = strings.TrimSpace(id); id == "" {
			continue
		}
		ch, who, ok := strings.Cut(id, ":")
		if !ok || ch == "" || who == "" {
			errs = append(errs, fmt.Errorf("STAFF_IDS: %q is not channel:identity", redactToken(id)))
			continue
		}
		switch ch {
		case telegram.ChannelName:
			if n, err := strconv.ParseInt(who, 10, 64); err != nil || n <= 0 {
				errs = append(errs, fmt.Errorf("STAFF_IDS: %q: a Telegram user id is a positive number, e.g. telegram:123456789", id))
				continue
			}
			telegramStaff = true
		case whatsapp.ChannelName:
			if _, err := whatsapp.NormalizePhone(who); err != nil {
				errs = append(errs, fmt.Errorf("STAFF_IDS: %w", err))
				continue
			}
		case webchat.ChannelName:
			if !webchatToken(who) {
				errs = append(errs, fmt.Errorf("STAFF_IDS: a webchat: identity is not a web chat token (32 characters of A-Z a-z 0-9 _ -, as the chat page keeps it)"))
				continue
			}
		default:
			errs = append(errs, fmt.Errorf("STAFF_IDS: unknown channel %q in %q (known: %s)", ch, id, staffChannels))
			continue
		}
		c.StaffIDs = append(c.StaffIDs, id)
	}
	if telegramStaff && c.TelegramToken == "" {
		errs = append(errs, fmt.Errorf("STAFF_IDS names Telegram staff, but TELEGRAM_TOKEN is not set: Telegram is off"))
	}

	if notify == "" {
		return errs
	}
	target, err := c.NotifyTarget("STAFF_NOTIFY", notify)
	if err != nil {
		return append(errs, err)
	}
	if ch, to, _ := strings.Cut(target, ":"); ch == telegram.ChannelName {
		c.TelegramStaffChat, _ = strconv.ParseInt(to, 10, 64)
	}
	c.StaffNotify = target
	return errs
}

// NotifyTarget reads a staff chat written as STAFF_NOTIFY (name says which setting,
// for errors) into channel:chat as the sender takes it; a channel that is not
// configured cannot be named, and a web chat token is never repeated in an error.
func (c *config) NotifyTarget(name, notify string) (string, error) {
	ch, to, ok := strings.Cut(notify, ":")
	if !ok || ch == "" || to == "" {
		return "", fmt.Errorf("%s %q: want channel:chat, e.g. telegram:-100123", name, redactToken(notify))
	}
	switch ch {
	case telegram.ChannelName:
		id, err := strconv.ParseInt(to, 10, 64)
		if err != nil || id == 0 {
			return "", fmt.Errorf("%s %q: a Telegram chat id is a number, e.g. telegram:-1001234567890", name, notify)
		}
		if c.TelegramToken == "" {
			return "", fmt.Errorf("%s is a Telegram chat, but TELEGRAM_TOKEN is not set: Telegram is off", name)
		}
	case whatsapp.ChannelName:
		if err := whatsapp.CheckChat(to); err != nil {
			return "", fmt.Errorf("%s %q: want a phone number (e.g. whatsapp:6281234567890) or a group (whatsapp:120363…@g.us): %w", name, notify, err)
		}
		if c.WhatsAppCloud.Enabled() {
			phone, err := whatsapp.NormalizePhone(to)
			if err != nil || strings.ContainsRune(to, '@') {
				return "", fmt.Errorf("%s %q: on the Cloud API a WhatsApp chat is a phone number (e.g. whatsapp:6281234567890), not a group", name, notify)
			}
			to = phone
		} else if !c.WhatsAppEnabled {
			return "", fmt.Errorf("%s is a WhatsApp chat, but neither WHATSAPP_ENABLED nor WHATSAPP_CLOUD_TOKEN is set: WhatsApp is off", name)
		}
	case webchat.ChannelName:
		if !webchatToken(to) {
			return "", fmt.Errorf("%s: a webchat: chat is a web chat token (32 characters of A-Z a-z 0-9 _ -, as the chat page keeps it)", name)
		}
		to = webchat.ChatID(to) // the conversation the token names
	default:
		return "", fmt.Errorf("%s: unknown channel %q (known: %s)", name, ch, staffChannels)
	}
	return ch + ":" + to, nil
}

// staffChannels are the channels STAFF_IDS and STAFF_NOTIFY may name, for messages.
const staffChannels = telegram.ChannelName + ", " + whatsapp.ChannelName + ", " + webchat.ChannelName

// webchatToken reports whether s has the shape of a web chat token: 24 random bytes
// in base64url.
func webchatToken(s string) bool {
	return len(s) == 32 && strings.Trim(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") == ""
}

// redactToken hides what follows "webchat:" in s: a web chat token is a credential.
func redactToken(s string) string {
	if i := strings.Index(s, webchat.ChannelName+":"); i >= 0 {
		return s[:i+len(webchat.ChannelName)+1] + "…"
	}
	return s
}

// whatsAppCloudConfig is the WhatsApp channel on Meta's Cloud API (WHATSAPP_CLOUD_*).
type whatsAppCloudConfig struct {
	Token       string  // WHATSAPP_CLOUD_TOKEN: a system user's access token; never logged
	PhoneID     string  // WHATSAPP_CLOUD_PHONE_ID
	AppSecret   string  // WHATSAPP_CLOUD_APP_SECRET: checks the webhook's signatures
	VerifyToken string  // WHATSAPP_CLOUD_VERIFY_TOKEN: answers Meta's verification
	API         string  // WHATSAPP_CLOUD_API: Graph API base URL with its version
	PerSecond   float64 // WHATSAPP_CLOUD_MPS: the number's messages per second
}

// Enabled reports whether the Cloud API runs the whatsapp channel.
func (w whatsAppCloudConfig) Enabled() bool { return w.Token != "" }

// load reads WHATSAPP_CLOUD_*; whatsmeow says whether WHATSAPP_ENABLED is true. No
// error repeats a secret.
func (w *whatsAppCloudConfig) load(get func(name, def string) string, whatsmeow bool) []error {
	w.Token = get("WHATSAPP_CLOUD_TOKEN", "")
	w.PhoneID = get("WHATSAPP_CLOUD_PHONE_ID", "")
	w.AppSecret = get("WHATSAPP_CLOUD_APP_SECRET", "")
	w.VerifyToken = get("WHATSAPP_CLOUD_VERIFY_TOKEN", "")
	w.API = get("WHATSAPP_CLOUD_API", whatsappcloud.DefaultAPI)
	mps := get("WHATSAPP_CLOUD_MPS", strconv.Itoa(whatsappcloud.DefaultPerSecond))
	set := w.Token != "" || w.PhoneID != "" || w.AppSecret != "" || w.VerifyToken != ""
	if !set {
		return nil
	}
	var errs []error
	var missing []string
	for _, f := range []struct{ name, v string }{
		{"WHATSAPP_CLOUD_TOKEN", w.Token}, {"WHATSAPP_CLOUD_PHONE_ID", w.PhoneID},
		{"WHATSAPP_CLOUD_APP_SECRET", w.AppSecret}, {"WHATSAPP_CLOUD_VERIFY_TOKEN", w.VerifyToken},
	} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		errs = append(errs, fmt.Errorf("the WhatsApp Cloud API needs %s too", strings.Join(missing, ", ")))
	}
	if whatsmeow {
		errs = append(errs, fmt.Errorf("WHATSAPP_ENABLED=true and WHATSAPP_CLOUD_TOKEN are both set: the whatsapp channel runs on whatsmeow or on the Cloud API, not both; unset one"))
	}
	if w.PhoneID != "" {
		if err := whatsappcloud.CheckPhoneID(w.PhoneID); err != nil {
			errs = append(errs, err)
		}
	}
	if err := whatsappcloud.CheckAPI(w.API); err != nil {
		errs = append(errs, err)
	}
	n, err := strconv.ParseFloat(mps, 64)
	if err != nil || n <= 0 || n > 10000 {
		errs = append(errs, fmt.Errorf("WHATSAPP_CLOUD_MPS %q: want messages per second, e.g. 80", mps))
	}
	w.PerSecond = n
	return errs
}

// loadSendLimits reads TELEGRAM_SEND_LIMITS and WHATSAPP_SEND_LIMITS (the latter for
// whichever WhatsApp transport runs) over each channel's defaults.
func (c *config) loadSendLimits(get func(name, def string) string) []error {
	var errs []error
	over := func(name string, def bot.Limits) *bot.Limits {
		v := get(name, "")
		if v == "" {
			return nil
		}
		l, err := bot.ParseLimits(v, def)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
			return nil
		}
		return &l
	}
	c.TelegramLimits = over("TELEGRAM_SEND_LIMITS", telegram.DefaultLimits())
	c.WhatsAppLimits = over("WHATSAPP_SEND_LIMITS", whatsapp.DefaultLimits())
	c.WhatsAppCloudLimits = over("WHATSAPP_SEND_LIMITS", whatsappcloud.DefaultLimits(c.WhatsAppCloud.PerSecond))
	if len(errs) == 2 { // the same variable, read twice
		errs = errs[:1]
	}
	return errs
}
