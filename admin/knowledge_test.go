package admin_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/layan-id/layan/admin"
	"github.com/layan-id/layan/bot/guard"
	"github.com/layan-id/layan/domain"
	"github.com/layan-id/layan/flows/faq"
	"github.com/layan-id/layan/knowledge"
	"github.com/layan-id/layan/locales"
	"github.com/layan-id/layan/store/storetest"
)

// The knowledge base's routes are the admins': 401 without a token, 403 for every
// other role; an admin's publish is answered at once, with what changed.
func TestTheKnowledgeBaseRoutesAreForAdmins(t *testing.T) {
	b := storetest.Mini(t)
	ctx := context.Background()
	tokens := map[domain.Role]string{}
	for _, acc := range []domain.StaffAccount{{Name: "sari", Role: domain.RoleAdmin}, {Name: "budi", Role: domain.RoleOfficer, Agency: "pupr"},
		{Name: "dewi", Role: domain.RoleBroadcaster}, {Name: "eko", Role: domain.RoleViewer}} {
		if err := b.Store.Staff().Add(ctx, acc, "kata-sandi-panjang"); err != nil {
			t.Fatal(err)
		}
		tokens[acc.Role], _ = b.Store.Staff().NewToken(ctx, acc.Name)
	}
	m, err := faq.Load(locales.Content(""))
	if err != nil {
		t.Fatal(err)
	}
	kb := knowledge.New(faq.NewLive(m), b.Store.FAQBase(), b.Store.FAQStats(), nil)
	srv := admin.New(admin.Config{Complaints: b.Store.Complaints("BTG", jakarta(t)), Accounts: b.Store.Staff(), Audit: b.Store.Audit(),
		Guard: guard.New(guard.Config{Name: "test", Tries: 100})}) // the 401s below are on purpose
	srv.EnableKnowledge(kb)
	mux := http.NewServeMux()
	srv.Register(mux)
	do := func(tok, method, path, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		return rec
	}
	entry := `{"questions":{"id":["syarat ikut seleksi cpns"]},"answer":{"id":"Pendaftaran CPNS lewat portal SSCASN milik BKN."}}`
	routes := []struct{ method, path, body string }{
		{"GET", "/api/admin/faq/entries", ""}, {"PUT", "/api/admin/faq/entries/cpns-daftar", entry},
		{"POST", "/api/admin/faq/try", `{"entry":` + entry[:len(entry)-1] + `,"id":"cpns-daftar"},"question":"syarat cpns"}`},
		{"GET", "/api/admin/faq/changes", ""}, {"GET", "/api/admin/faq/unanswered?sort=newest", ""},
	}
	for _, r := range routes {
		if got := do("", r.method, r.path, r.body).Code; got != http.StatusUnauthorized {
			t.Errorf("%s %s without a token: %d, want 401", r.method, r.path, got)
		}
		for _, role := range []domain.Role{domain.RoleOfficer, domain.RoleBroadcaster, domain.RoleViewer} {
			if got := do(tokens[role], r.method, r.path, r.body).Code; got != http.StatusForbidden {
				t.Errorf("%s %s as %s: %d, want 403", r.method, r.path, role, got)
			}
		}
	}
	if v, _ := b.Store.FAQBase().Version(ctx); v != 0 {
		t.Fatalf("refused requests published version %d", v)
	}
	for _, r := range routes {
		if got := do(tokens[domain.RoleAdmin], r.method, r.path, r.body); got.Code != http.StatusOK {
			t.Errorf("%s %s as admin: %d %s", r.method, r.path, got.Code, got.Body)
		}
	}
	if r := kb.Live().Matcher().Match("syarat ikut seleksi cpns apa aja"); !r.Answered || r.ID != "cpns-daftar" {
		t.Errorf("after the admin's publish: %+v", r)
	}
	var changes struct{ Changes []domain.FAQChange }
	json.Unmarshal(do(tokens[domain.RoleAdmin], "GET", "/api/admin/faq/changes?id=cpns-daftar", "").Body.Bytes(), &changes)
	if len(changes.Changes) != 1 || changes.Changes[0].By != "sari" {
		t.Errorf("changes = %+v; want sari's publish", changes)
	}
	var audit []domain.AuditEntry
	b.Store.Audit().Each(ctx, func(e domain.AuditEntry) error { audit = append(audit, e); return nil })
	if !slices.ContainsFunc(audit, func(e domain.AuditEntry) bool {
		return e.Account == "sari" && e.Action == "PUT /api/admin/faq/entries/{id}" && e.Target == "cpns-daftar" && strings.Contains(e.Detail, "changed=questions.id,answer.id")
	}) {
		t.Errorf("the audit log does not hold sari's publish: %+v", audit)
	}
	if got := do(tokens[domain.RoleAdmin], "PUT", "/api/admin/faq/entries/Bad!", entry); got.Code != http.StatusBadRequest {
		t.Errorf("a bad id: %d, want 400", got.Code)
	}
}
