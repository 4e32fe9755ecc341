package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/layan-id/layan/bot/clientip"
	"github.com/layan-id/layan/domain"
	"github.com/layan-id/layan/flows"
	"github.com/layan-id/layan/knowledge"
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
			Store: a.complaints, Photos: a.media, Notifier: a.notifier,
			Agencies: region.Agencies, Categories: region.Categories, Tiles: a.cfg.Workspace.Tiles,
		},
		Broadcasts: &staffweb.BroadcastsConfig{Store: a.broadcasts, NextRun: a.scheduler.NextRun, Topics: region.Topics, Channels: a.channels()},
		Handoffs:   &staffweb.HandoffsConfig{Desk: a.desk},
		Knowledge:  a.kb,
		Records:    &staffweb.RecordsConfig{Reports: a.complaints, Audit: a.store.Audit(), Agencies: region.Agencies},
		Audit:      a.auditWorkspace,
	})
}

// auditWorkspace records a change made in the workspace in the audit log, as the
// staff API records its own: who, what, on what, from which address (after
// TRUSTED_PROXIES) and the answer.
func (a *app) auditWorkspace(r *http.Request, e staffweb.AuditEntry) {
	from, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		from = r.RemoteAddr
	}
	err = a.store.Audit().Record(context.WithoutCancel(r.Context()), domain.AuditEntry{At: time.Now(), Account: e.Account.Name,
		Role: e.Account.Role, Action: e.Action, Target: e.Target, Detail: e.Detail, From: from, Status: e.Status})
	if err != nil {
		a.log.Error("staff workspace: audit entry not recorded", "action", e.Action, "account", e.Account.Name, "err", err)
	}
}

var (
	_ staffweb.Notifier   = (*notify.Notifier)(nil)
	_ staffweb.Handoffs   = (*flows.Desk)(nil)
	_ staffweb.Broadcasts = (*store.Broadcasts)(nil)
	_ staffweb.Complaints = (*store.Complaints)(nil)
	_ staffweb.Photos     = (*store.Media)(nil)
	_ staffweb.Sessions   = (*store.StaffSessions)(nil)
	_ staffweb.Accounts   = (*store.Staff)(nil)
	_ staffweb.Knowledge  = (*knowledge.Base)(nil)
)
