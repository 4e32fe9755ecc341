package admin_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/layan-id/layan/admin"
	"github.com/layan-id/layan/broadcast"
	"github.com/layan-id/layan/domain"
	"github.com/layan-id/layan/flows"
	"github.com/layan-id/layan/locales"
	"github.com/layan-id/layan/store"
	"github.com/layan-id/layan/store/storetest"
)

// Every route of the staff API, for every role: 401 without identity, 403 for a
// role that may not, 404 for a complaint outside an officer's agency, and the
// route's success otherwise (a change happens and records the account).
func TestEveryRouteChecksTheRole(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		staff := b.Store.Staff()
		type who struct {
			name  string
			token string
		}
		roles := []who{{name: "nobody"}, {name: "sari"}, {name: "budi"}, {name: "dewi"}, {name: "bayu"}, {name: "eko"}}
		accounts := map[string]domain.StaffAccount{
			"sari": {Name: "sari", Role: domain.RoleAdmin}, "budi": {Name: "budi", Role: domain.RoleOfficer, Agency: "pupr"},
			"dewi": {Name: "dewi", Role: domain.RoleOfficer, Agency: "dlh"}, "bayu": {Name: "bayu", Role: domain.RoleBroadcaster},
			"eko": {Name: "eko", Role: domain.RoleViewer},
		}
		for i, r := range roles[1:] {
			if err := staff.Add(ctx, accounts[r.name], "kata-sandi-panjang"); err != nil {
				t.Fatal(err)
			}
			tok, err := staff.NewToken(ctx, r.name)
			if err != nil {
				t.Fatal(err)
			}
			roles[i+1].token = tok
		}
		cs := b.Store.Complaints("BTG", jakarta(t))
		told := &notifier{}
		api := admin.New(admin.Config{Complaints: cs, Notifier: told, Accounts: staff, Location: jakarta(t),
			Agencies: []domain.Agency{{Code: "pupr", Name: "Dinas PUPR"}, {Code: "dlh", Name: "Dinas LH"}},
			Audit:    b.Store.Audit(), Reports: cs, Now: func() time.Time { return now }, Logger: slog.New(slog.DiscardHandler)})
		api.EnableBroadcasts(admin.BroadcastConfig{
			Store: b.Store.Broadcasts(), Scheduler: broadcast.New(broadcast.Config{Location: jakarta(t)}),
			Topics: []string{"pengumuman"}, Channels: []string{"webchat"},
		})
		texts, _ := locales.Load("", nil)
		desk := flows.NewRouter(texts, slog.New(slog.DiscardHandler)).RegisterHandoff(flows.HandoffConfig{
			Store: b.Store.Handoffs(), Courier: &courier{}, NewID: store.NewHandoffID, Now: func() time.Time { return now }})
		api.EnableHandoffs(admin.HandoffConfig{Desk: desk, EmptyReply: flows.ErrEmptyReply})
		mux := http.NewServeMux()
		api.Register(mux)

		// A complaint of pupr in the state an action needs, fresh for each request.
		file := func(through ...domain.Status) *domain.Complaint {
			c := &domain.Complaint{Status: domain.StatusReceived, Category: "jalan", Agency: "pupr", Description: "jalan berlubang",
				Reporter:  domain.Reporter{Channel: "telegram", ChatID: "7", Key: "telegram:7"},
				CreatedAt: now.Add(-time.Hour), UpdatedAt: now.Add(-time.Hour),
				History: []domain.Event{{At: now.Add(-time.Hour), Status: domain.StatusReceived, By: "citizen"}}}
			got, _, err := cs.Create(ctx, c, fmt.Sprintf("routes-%d", confirmations.Add(1)))
			if err != nil {
				t.Fatal(err)
			}
			for _, to := range through {
				got, err = cs.Update(ctx, got.ID, func(c *domain.Complaint) error {
					return c.Do(mustAction(to), "sari", domain.ActionInput{Note: "ok"}, now)
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			return got
		}
		const (
			ok        = 0 // the route's success (2xx)
			forbidden = 403
			hidden    = 404
		)
		read := map[string]int{"sari": ok, "budi": ok, "dewi": ok, "bayu": ok, "eko": ok}
		readOne := map[string]int{"sari": ok, "budi": ok, "dewi": hidden, "bayu": ok, "eko": ok}
		triage := map[string]int{"sari": ok, "budi": forbidden, "dewi": forbidden, "bayu": forbidden, "eko": forbidden}
		work := map[string]int{"sari": ok, "budi": ok, "dewi": hidden, "bayu": forbidden, "eko": forbidden}
		bcast := map[string]int{"sari": ok, "budi": forbidden, "dewi": forbidden, "bayu": ok, "eko": forbidden}
		admins := map[string]int{"sari": ok, "budi": forbidden, "dewi": forbidden, "bayu": forbidden, "eko": forbidden}
		talk := map[string]int{"sari": ok, "budi": ok, "dewi": ok, "bayu": forbidden, "eko": forbidden}
		at := now.Add(time.Hour).Format(time.RFC3339)
		routes := []struct {
			method, path, body string
			before             []domain.Status // the complaint's state; nil: no complaint in the path
			want               map[string]int
			changes            bool // a success records the account in the complaint's history or notes
		}{
			{"GET", "/api/admin/complaints", "", nil, read, false},
			{"GET", "/api/admin/complaints?status=DITERIMA&overdue=true&sort=overdue", "", nil, read, false},
			{"GET", "/api/admin/complaints.csv", "", nil, read, false},
			{"GET", "/api/admin/agencies", "", nil, read, false},
			{"GET", "/api/admin/complaints/{id}", "", []domain.Status{}, readOne, false},
			{"POST", "/api/admin/complaints/{id}/verify", "", []domain.Status{}, triage, true},
			{"POST", "/api/admin/complaints/{id}/dispose", `{"agency":"dlh","note":"saluran"}`, []domain.Status{}, triage, true},
			{"POST", "/api/admin/complaints/{id}/reject", `{"reason":"di luar wilayah"}`, []domain.Status{}, triage, true},
			{"POST", "/api/admin/complaints/{id}/duplicate", `{"of":"{other}"}`, []domain.Status{}, triage, true},
			{"POST", "/api/admin/complaints/{id}/status", `{"status":"Diverifikasi"}`, []domain.Status{}, triage, true},
			{"POST", "/api/admin/complaints/{id}/process", "", []domain.Status{domain.StatusVerified}, work, true},
			{"POST", "/api/admin/complaints/{id}/finish", `{"note":"ditambal"}`, []domain.Status{domain.StatusVerified}, work, true},
			{"POST", "/api/admin/complaints/{id}/reopen", "", []domain.Status{domain.StatusVerified, domain.StatusDone}, work, true},
			{"POST", "/api/admin/complaints/{id}/notes", `{"text":"sudah survei"}`, []domain.Status{}, work, true},
			{"POST", "/api/admin/complaints/{id}/messages", `{"text":"terima kasih"}`, []domain.Status{}, work, true},
			{"POST", "/api/admin/complaints/{id}/status", `{"status":"diproses"}`, []domain.Status{domain.StatusVerified}, work, true},
			{"GET", "/api/admin/broadcasts", "", nil, read, false},
			{"POST", "/api/admin/broadcasts", `{"topics":["pengumuman"],"channels":["webchat"],"text":{"id":"Pengumuman"},"at":"` + at + `"}`, nil, bcast, false},
			{"GET", "/api/admin/conversations", "", nil, read, false},
			{"GET", "/api/admin/canned", "", nil, read, false},
			{"POST", "/api/admin/conversations/ho-none/take", "", nil, talk, false},
			{"GET", "/api/admin/reports?month=2026-11", "", nil, read, false},
			{"GET", "/api/admin/reports.csv", "", nil, read, false},
			{"GET", "/api/admin/audit", "", nil, admins, false},
			{"GET", "/api/admin/audit.csv", "", nil, admins, false},
		}
		anon := 0
		for _, rt := range routes {
			for _, r := range roles {
				path, body := rt.path, rt.body
				var c *domain.Complaint
				if rt.before != nil {
					c = file(rt.before...)
					path = strings.ReplaceAll(path, "{id}", c.ID)
					body = strings.ReplaceAll(body, "{other}", file().ID)
				}
				req := httptest.NewRequest(rt.method, path, strings.NewReader(body))
				anon++
				req.RemoteAddr = fmt.Sprintf("198.51.100.%d:4000", anon%250+1) // unknown callers are throttled per address
				if r.token != "" {
					req.Header.Set("Authorization", "Bearer "+r.token)
				}
				rec := httptest.NewRecorder()
				mux.ServeHTTP(rec, req)
				want, name := rt.want[r.name], rt.method+" "+rt.path+" as "+r.name
				if r.name == "nobody" {
					want = 401
				}
				switch {
				case want == ok && strings.HasSuffix(rt.path, "/take"):
					// no such conversation: let in, then not found
					if rec.Code != 404 {
						t.Errorf("%s: %d %s, want it let in (404 for the unknown conversation)", name, rec.Code, rec.Body)
					}
				case want == ok && (rec.Code < 200 || rec.Code > 299):
					t.Errorf("%s: %d %s, want success", name, rec.Code, rec.Body)
				case want != ok && rec.Code != want:
					t.Errorf("%s: %d %s, want %d", name, rec.Code, rec.Body, want)
				}
				if c == nil || !rt.changes {
					continue
				}
				after, _ := cs.Get(ctx, c.ID)
				changed := len(after.History) != len(c.History) || len(after.Notes) != len(c.Notes)
				if changed != (want == ok) {
					t.Errorf("%s: changed %v after %d", name, changed, rec.Code)
				}
				if changed && want == ok {
					by := after.History[len(after.History)-1].By
					if len(after.Notes) > 0 {
						by = after.Notes[len(after.Notes)-1].By
					}
					if by != r.name {
						t.Errorf("%s: recorded as %q, want the account %q", name, by, r.name)
					}
				}
			}
		}
	})
}

func mustAction(to domain.Status) domain.Action {
	a, _ := domain.ActionFor(to)
	return a
}
