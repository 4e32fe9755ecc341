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
	_ "time/tzdata"

	"github.com/layan-id/layan/bot/broadcast"
	"github.com/layan-id/layan/bot/whatsapp" // TZ_REGION must resolve on hosts without a zoneinfo database
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
	ComplaintSLA time.Duration
	StaffIDs     []string // channel:identity, as in STAFF_IDS
	StaffNotify  string   // channel:chat, as in STAFF_NOTIFY; "" = the log and the staff API
	AdminToken   string
	TipSchedule  string // cron, in TZ_REGION

	TelegramToken         string // enables Telegram
	TelegramEndpoint      string // Bot API pattern …/bot%s/%s; "" = Telegram's
	TelegramWebhookURL    string // "" = long polling
	TelegramWebhookSecret string
	TelegramStaffChat     int64 // from STAFF_NOTIFY=telegram:<chat id>; 0 = none

	WhatsAppEnabled bool   // WHATSAPP_ENABLED
	WhatsAppDB      string // WHATSAPP_DB: "" = SQLite in DATA_DIR, or a postgres:// URL

	Web webConfig // WEBCHAT_LIMITS, WEBCHAT_FRAME_ANCESTORS, MEDIA_QUOTA (webconfig.go)
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
	sla, err := time.ParseDuration(get("COMPLAINT_SLA", "48h"))
	if err != nil || sla <= 0 {
		errs = append(errs, fmt.Errorf("COMPLAINT_SLA: want a duration such as 48h"))
	}
	c.ComplaintSLA = sla
	for _, id := range strings.Split(get("STAFF_IDS", ""), ",") {
		if id = strings.TrimSpace(id); id == "" {
			continue
		}
		ch, who, ok := strings.Cut(id, ":")
		if !ok || ch == "" || who == "" {
			errs = append(errs, fmt.Errorf("STAFF_IDS: %q is not channel:identity", id))
			continue
		}
		if ch == whatsapp.ChannelName {
			if _, err := whatsapp.NormalizePhone(who); err != nil {
				errs = append(errs, fmt.Errorf("STAFF_IDS: %w", err))
				continue
			}
		}
		c.StaffIDs = append(c.StaffIDs, id)
	}
	c.StaffNotify = get("STAFF_NOTIFY", "")
	if ch, to, ok := strings.Cut(c.StaffNotify, ":"); c.StaffNotify != "" && (!ok || ch == "" || to == "") {
		errs = append(errs, fmt.Errorf("STAFF_NOTIFY %q: want channel:chat, e.g. telegram:-100123", c.StaffNotify))
	}
	c.TipSchedule = get("TIP_SCHEDULE", "0 7 * * *")
	if _, err := broadcast.ParseSchedule(c.TipSchedule); err != nil {
		errs = append(errs, fmt.Errorf("TIP_SCHEDULE %q: not a cron schedule", c.TipSchedule))
	}
	c.TelegramToken = get("TELEGRAM_TOKEN", "")
	c.TelegramEndpoint = get("TELEGRAM_API_ENDPOINT", "")
	c.TelegramWebhookURL = get("TELEGRAM_WEBHOOK_URL", "")
	c.TelegramWebhookSecret = get("TELEGRAM_WEBHOOK_SECRET", "")
	if c.TelegramToken == "" && (c.TelegramEndpoint != "" || c.TelegramWebhookURL != "") {
		errs = append(errs, fmt.Errorf("TELEGRAM_API_ENDPOINT and TELEGRAM_WEBHOOK_URL need TELEGRAM_TOKEN"))
	}
	if c.TelegramWebhookURL != "" && c.TelegramWebhookSecret == "" {
		errs = append(errs, fmt.Errorf("TELEGRAM_WEBHOOK_URL needs TELEGRAM_WEBHOOK_SECRET (1-256 of A-Z a-z 0-9 _ -)"))
	}
	if ch, to, _ := strings.Cut(c.StaffNotify, ":"); ch == "telegram" {
		id, err := strconv.ParseInt(to, 10, 64)
		if err != nil {
			errs = append(errs, fmt.Errorf("STAFF_NOTIFY %q: a Telegram chat id is a number, e.g. telegram:-1001234567890", c.StaffNotify))
		}
		c.TelegramStaffChat = id
	}
	if v := get("WHATSAPP_ENABLED", "false"); v != "" {
		on, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("WHATSAPP_ENABLED %q: want true or false", v))
		}
		c.WhatsAppEnabled = on
	}
	c.WhatsAppDB = get("WHATSAPP_DB", "")
	if _, _, err := whatsapp.ParseDB(c.DataDir, c.WhatsAppDB); err != nil {
		errs = append(errs, err) // never repeats the URL
	}
	c.AdminToken = get("ADMIN_TOKEN", "")
	if c.AdminToken != "" && len(c.AdminToken) < 16 {
		errs = append(errs, fmt.Errorf("ADMIN_TOKEN: use at least 16 characters"))
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
	if !strings.HasSuffix(c.RedisPrefix, ":") {
		c.RedisPrefix += ":"
	}
	return c, errors.Join(errs...)
}
