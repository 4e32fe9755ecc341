package main

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/layan-id/layan/admin"
	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/bot/clientip"
	"github.com/layan-id/layan/broadcast"
	"github.com/layan-id/layan/domain"
	"github.com/layan-id/layan/flows"
	"github.com/layan-id/layan/staffweb"
	"github.com/layan-id/layan/store"
)

// workspaceConfig is the staff workspace's configuration.
type workspaceConfig struct {
	Idle  time.Duration // STAFF_SESSION_IDLE: a session unused this long ends
	Tiles string        // STAFF_MAP_TILES: the map's tile URL template
}

func (wc *workspaceConfig) load(get func(name, def string) string) []error {
	var errs []error
	idle, err := time.ParseDuration(get("STAFF_SESSION_IDLE", "30m"))
	if err != nil || idle < time.Minute || idle > staffweb.DefaultLifetime {
		errs = append(errs, fmt.Errorf("STAFF_SESSION_IDLE: want a duration from 1m to 12h, such as 30m"))
	}
	wc.Idle = idle
	wc.Tiles = get("STAFF_MAP_TILES", staffweb.DefaultTiles)
	u, err := url.Parse(strings.NewReplacer("{s}", "a", "{z}", "0", "{x}", "0", "{y}", "0").Replace(wc.Tiles))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
		!strings.Contains(wc.Tiles, "{z}") || !strings.Contains(wc.Tiles, "{x}") || !strings.Contains(wc.Tiles, "{y}") {
		errs = append(errs, fmt.Errorf("STAFF_MAP_TILES %q: want an http(s) URL with {z}, {x} and {y}, such as %s", wc.Tiles, staffweb.DefaultTiles))
	}
	return errs
}

// workspace builds the staff workspace (/staff/) over the app's parts.
func (a *app) workspace(media *store.Media, sched *broadcast.Service) (*staffweb.Server, error) {
	region := a.region
	return staffweb.New(staffweb.Config{
		Texts: a.texts, Accounts: a.store.Staff(), Sessions: a.store.StaffSessions(),
		Idle: a.cfg.Workspace.Idle, HTTPS: clientip.HTTPS, Location: a.cfg.Location, Logger: a.log,
		MinPassword: store.MinPasswordLength,
		Complaints: &staffweb.ComplaintsConfig{
			Store: a.complaints, Inbox: listInbox{a.complaints}, Photos: media, Notifier: a.notifier, Messenger: a.notifier,
			Agencies: region.Agencies, Categories: region.Categories, Tiles: a.cfg.Workspace.Tiles,
			AgencyOf: func(c *domain.Complaint) string { return region.Routing[c.Category] },
		},
		Broadcasts: &staffweb.BroadcastsConfig{Store: a.broadcasts, NextRun: sched.NextRun, Topics: region.Topics, Channels: a.channels()},
		Handoffs:   &staffweb.HandoffsConfig{Desk: a.desk},
	})
}

// listInbox answers the inbox from the store's list by status, newest first.
type listInbox struct{ cs *store.Complaints }

func (l listInbox) Inbox(ctx context.Context, q staffweb.InboxQuery) (staffweb.InboxPage, error) {
	list, total, err := l.cs.List(ctx, q.Status, q.Page, q.Size)
	if err != nil {
		return staffweb.InboxPage{}, err
	}
	p := staffweb.InboxPage{Complaints: list, Total: total, Counts: map[domain.Status]int64{}}
	for _, st := range domain.Statuses() {
		_, n, err := l.cs.List(ctx, st, 1, 1)
		if err != nil {
			return staffweb.InboxPage{}, err
		}
		p.Counts[st] = n
	}
	return p, nil
}

// TellReporter sends a member of staff's message about a complaint to its reporter,
// introduced in the reporter's language (outside WhatsApp's 24-hour window, as the
// complaint news template).
func (n *notifier) TellReporter(ctx context.Context, c *domain.Complaint, text string) error {
	lang := c.Reporter.Lang
	msg, err := n.texts.Text(lang, "complaint.staff_message", map[string]any{"ID": c.ID, "Text": text})
	if err != nil {
		return err
	}
	status, _ := n.texts.Text(lang, "complaint.status."+string(c.Status), nil)
	ctx = bot.WithTemplate(bot.WithLang(ctx, n.texts.Lang(lang)), &bot.Template{
		Purposes: []string{"complaint_status"}, Params: map[string]string{"ticket": c.ID, "status": status},
	})
	return n.send(ctx, c.Reporter.Channel, c.Reporter.ChatID, bot.Reply{Text: msg})
}

var (
	_ admin.Notifier      = (*notifier)(nil)
	_ staffweb.Messenger  = (*notifier)(nil)
	_ staffweb.Handoffs   = (*flows.Desk)(nil)
	_ staffweb.Broadcasts = (*store.Broadcasts)(nil)
	_ staffweb.Complaints = (*store.Complaints)(nil)
	_ staffweb.Photos     = (*store.Media)(nil)
	_ staffweb.Sessions   = (*store.StaffSessions)(nil)
	_ staffweb.Accounts   = (*store.Staff)(nil)
)
