package main

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/layan-id/layan/bot/clientip"
	"github.com/layan-id/layan/domain"
	"github.com/layan-id/layan/flows"
	"github.com/layan-id/layan/notify"
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
func (a *app) workspace(region flows.Region) (*staffweb.Server, error) {
	return staffweb.New(staffweb.Config{
		Texts: a.texts, Accounts: a.store.Staff(), Sessions: a.store.StaffSessions(),
		Idle: a.cfg.Workspace.Idle, HTTPS: clientip.HTTPS, Location: a.cfg.Location, Logger: a.log,
		MinPassword: store.MinPasswordLength,
		Complaints: &staffweb.ComplaintsConfig{
			Store: a.complaints, Inbox: storeInbox{a.complaints}, Photos: a.media, Notifier: a.notifier, Messenger: a.notifier,
			Agencies: region.Agencies, Categories: region.Categories, Tiles: a.cfg.Workspace.Tiles,
			AgencyOf: func(c *domain.Complaint) string { return c.Agency },
			Overdue:  func(c *domain.Complaint, now time.Time) bool { return c.Overdue(now) },
		},
		Broadcasts: &staffweb.BroadcastsConfig{Store: a.broadcasts, NextRun: a.scheduler.NextRun, Topics: region.Topics, Channels: a.channels()},
		Handoffs:   &staffweb.HandoffsConfig{Desk: a.desk},
	})
}

// storeInbox answers the workspace's inbox with the store's (store.Complaints.Inbox:
// indexes per status, agency, category, deadline and word).
type storeInbox struct{ cs *store.Complaints }

func (l storeInbox) Inbox(ctx context.Context, q staffweb.InboxQuery) (staffweb.InboxPage, error) {
	res, err := l.cs.Inbox(ctx, domain.InboxQuery{Status: q.Status, Category: q.Category, Agency: q.Agency,
		Overdue: q.Overdue, From: q.From, To: q.To, Text: q.Search, Sort: domain.Sort(q.Sort), Page: q.Page, Size: q.Size}, time.Now())
	if err != nil {
		return staffweb.InboxPage{}, err
	}
	return staffweb.InboxPage{Complaints: res.Complaints, Total: res.Total, Counts: res.Counts}, nil
}

var (
	_ staffweb.Notifier   = (*notify.Notifier)(nil)
	_ staffweb.Messenger  = (*notify.Notifier)(nil)
	_ staffweb.Handoffs   = (*flows.Desk)(nil)
	_ staffweb.Broadcasts = (*store.Broadcasts)(nil)
	_ staffweb.Complaints = (*store.Complaints)(nil)
	_ staffweb.Photos     = (*store.Media)(nil)
	_ staffweb.Sessions   = (*store.StaffSessions)(nil)
	_ staffweb.Accounts   = (*store.Staff)(nil)
)
