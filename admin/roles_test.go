package admin_test

import (
	"context"
	"encoding/json"
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
	"github.com/layan-id/layan/store/storetest"
)

// Each role gets what it may do and a 403 for the rest; with accounts the API is on
// without ADMIN_TOKEN; a change records the account, not the "by" the client sent.
func TestPersonalTokensAndRoles(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		staff := b.Store.Staff()
		tokens := map[domain.Role]string{}
		for _, acc := range []domain.StaffAccount{
			{Name: "sari", Role: domain.RoleAdmin}, {Name: "budi", Role: domain.RoleOfficer, Agency: "pupr"},
			{Name: "dewi", Role: domain.RoleBroadcaster}, {Name: "eko", Role: domain.RoleViewer},
		} {
			if err := staff.Add(ctx, acc, "kata-sandi-panjang"); err != nil {
				t.Fatal(err)
			}
			tok, err := staff.NewToken(ctx, acc.Name)
			if err != nil {
				t.Fatal(err)
			}
			tokens[acc.Role] = tok
		}
		f := &fixture{cs: b.Store.Complaints("BTG", jakarta(t)), told: &notifier{}, logs: &logBuffer{}}
		f.server = admin.New(admin.Config{
			Complaints: f.cs, Notifier: f.told, Accounts: staff, Location: jakarta(t),
			Now: func() time.Time { return now }, Logger: slog.New(slog.NewTextHandler(f.logs, nil)),
		})
		f.server.EnableBroadcasts(admin.BroadcastConfig{
			Store: b.Store.Broadcasts(), Scheduler: broadcast.New(broadcast.Config{Location: jakarta(t)}),
			Topics: []string{"pengumuman"}, Channels: []string{"webchat"},
		})
		mux := http.NewServeMux()
		f.server.Register(mux)
		do := func(tok, method, path, body string) *httptest.ResponseRecorder {
			req := httptest.NewRequest(method, path, strings.NewReader(body))
			if tok != "" {
				req.Header.Set("Authorization", "Bearer "+tok)
			}
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, req)
			return rec
		}
		bcast := fmt.Sprintf(`{"topics":["pengumuman"],"channels":["webchat"],"text":{"id":"Pengumuman"},"at":%q}`, now.Add(time.Hour).Format(time.RFC3339))
		want := map[domain.Role][3]int{ // read, change a complaint, broadcast
			domain.RoleAdmin:       {200, 200, 201},
			domain.RoleOfficer:     {200, 200, 403},
			domain.RoleBroadcaster: {200, 403, 201},
			domain.RoleViewer:      {200, 403, 403},
		}
		for role, codes := range want {
			c := f.fileAt(t, 10, domain.StatusVerified)
			got := [3]int{
				do(tokens[role], "GET", "/api/admin/complaints/"+c.ID, "").Code,
				do(tokens[role], "POST", "/api/admin/complaints/"+c.ID+"/status", `{"status":"diproses","by":"orang lain"}`).Code,
				do(tokens[role], "POST", "/api/admin/broadcasts", bcast).Code,
			}
			if got != codes {
				t.Errorf("%s: read, change, broadcast = %v, want %v", role, got, codes)
			}
			after, _ := f.cs.Get(ctx, c.ID)
			changed := after.Status == domain.StatusInProgress
			if changed != (codes[1] == 200) {
				t.Errorf("%s: complaint is %s after the answer %d", role, after.Status, got[1])
			}
			if changed {
				last := after.History[len(after.History)-1]
				acc, _ := staff.ByToken(ctx, tokens[role])
				if last.By != acc.Name {
					t.Errorf("%s: change recorded as %q, want the account %q", role, last.By, acc.Name)
				}
			}
		}
		res := do(tokens[domain.RoleViewer], "POST", "/api/admin/complaints/x/status", `{"status":"diverifikasi"}`)
		var e struct{ Error string }
		json.Unmarshal(res.Body.Bytes(), &e)
		if res.Code != 403 || !strings.Contains(e.Error, "viewer") {
			t.Errorf("viewer's change: %d %q, want 403 naming the role", res.Code, e.Error)
		}
		if res := do("lyn_not-a-token", "GET", "/api/admin/complaints", ""); res.Code != 401 {
			t.Errorf("unknown token: %d, want 401", res.Code)
		}
		if res := do("", "GET", "/api/admin/complaints", ""); res.Code != 401 {
			t.Errorf("no token: %d, want 401", res.Code)
		}
		staff.Disable(ctx, "sari")
		if res := do(tokens[domain.RoleAdmin], "GET", "/api/admin/complaints", ""); res.Code != 401 {
			t.Errorf("token of a disabled account: %d, want 401", res.Code)
		}
	})
}

// ADMIN_TOKEN stays an admin and may still name who acted.
func TestAdminTokenStillNamesWhoActed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		f := newFixture(t, b, token)
		c := f.fileAt(t, 5)
		res := f.call(t, "POST", "/api/admin/complaints/"+c.ID+"/status", "Bearer "+token, `{"status":"diverifikasi","by":"Budi (Dinas PU)"}`)
		if res.status != 200 {
			t.Fatalf("= %d %s", res.status, res.body)
		}
		after, _ := f.cs.Get(context.Background(), c.ID)
		if by := after.History[len(after.History)-1].By; by != "Budi (Dinas PU)" {
			t.Errorf("recorded as %q", by)
		}
	})
}

// A workspace session lets its pages read (the live streams a browser opens without
// a token), with its account's role, and never change anything: a change needs a
// token, whatever the cookie.
func TestAWorkspaceSessionOnlyReads(t *testing.T) {
	cs := storetest.Mini(t).Store.Complaints("BTG", jakarta(t))
	sessions := map[string]domain.StaffAccount{
		"viewer-session": {Name: "ani", Role: domain.RoleViewer},
		"admin-session":  {Name: "sari", Role: domain.RoleAdmin},
	}
	server := admin.New(admin.Config{Token: token, Complaints: cs, Session: func(r *http.Request) (domain.StaffAccount, bool, error) {
		c, err := r.Cookie("layan_staff")
		if err != nil {
			return domain.StaffAccount{}, false, nil
		}
		acc, ok := sessions[c.Value]
		return acc, ok, nil
	}})
	mux := http.NewServeMux()
	server.Register(mux)
	do := func(cookie, method, path string) int {
		req := httptest.NewRequest(method, path, strings.NewReader(`{"status":"diverifikasi"}`))
		if cookie != "" {
			req.AddCookie(&http.Cookie{Name: "layan_staff", Value: cookie})
		}
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		return rec.Code
	}
	if got := do("viewer-session", "GET", "/api/admin/complaints"); got != 200 {
		t.Errorf("a viewer's session reading: %d, want 200", got)
	}
	if got := do("admin-session", "POST", "/api/admin/complaints/x/status"); got != 401 {
		t.Errorf("an admin's session changing a complaint without a token: %d, want 401", got)
	}
	if got := do("stolen-or-old", "GET", "/api/admin/complaints"); got != 401 {
		t.Errorf("an unknown session: %d, want 401", got)
	}
	if got := do("", "GET", "/api/admin/complaints"); got != 401 {
		t.Errorf("no session: %d, want 401", got)
	}
}
