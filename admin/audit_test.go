package admin_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/layan-id/layan/admin"
	"github.com/layan-id/layan/domain"
	"github.com/layan-id/layan/store/storetest"
)

// Every change through the API is in the audit log with who, what, when and from
// which address; reads and refused requests are not. Only admins read the log, as
// JSON pages or as CSV.
func TestTheAuditLogRecordsEveryChange(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		staff := b.Store.Staff()
		tokens := map[string]string{}
		for _, acc := range []domain.StaffAccount{{Name: "sari", Role: domain.RoleAdmin}, {Name: "budi", Role: domain.RoleOfficer, Agency: "pupr"}} {
			staff.Add(ctx, acc, "kata-sandi-panjang")
			tokens[acc.Name], _ = staff.NewToken(ctx, acc.Name)
		}
		f := &fixture{cs: b.Store.Complaints("BTG", jakarta(t)), told: &notifier{}, logs: &logBuffer{}}
		api := admin.New(admin.Config{Complaints: f.cs, Notifier: f.told, Accounts: staff, Location: jakarta(t),
			Agencies: []domain.Agency{{Code: "pupr", Name: "Dinas PUPR"}, {Code: "dlh", Name: "DLH"}}, Audit: b.Store.Audit(),
			Now: func() time.Time { return now }, Logger: slog.New(slog.DiscardHandler)})
		mux := http.NewServeMux()
		api.Register(mux)
		c := f.fileAt(t, 30)
		as := func(who, method, path, body string) response {
			return serveAs(mux, "203.0.113.7:5555", method, path, "Bearer "+tokens[who], body)
		}
		as("sari", "GET", "/api/admin/complaints/"+c.ID, "")
		as("sari", "POST", "/api/admin/complaints/"+c.ID+"/verify", "")
		as("budi", "POST", "/api/admin/complaints/"+c.ID+"/dispose", `{"agency":"dlh"}`) // 403: not recorded
		as("sari", "POST", "/api/admin/complaints/"+c.ID+"/dispose", `{"agency":"dlh","note":"saluran"}`)
		as("sari", "POST", "/api/admin/complaints/"+c.ID+"/finish", ``) // 400: not recorded

		res := as("sari", "GET", "/api/admin/audit", "")
		if res.status != 200 {
			t.Fatalf("audit: %d %s", res.status, res.body)
		}
		var log admin.AuditResponse
		json.Unmarshal(res.body, &log)
		if len(log.Entries) != 2 {
			t.Fatalf("%d entries, want the verification and the disposition: %s", len(log.Entries), res.body)
		}
		d, v := log.Entries[0], log.Entries[1]
		if d.Account != "sari" || d.Role != domain.RoleAdmin || d.Action != "POST /api/admin/complaints/{id}/dispose" ||
			d.Target != c.ID || !strings.Contains(d.Detail, "agency=dlh") || d.From != "203.0.113.7" || !d.At.Equal(now) || d.Status != 200 {
			t.Errorf("newest entry %+v", d)
		}
		if v.Action != "POST /api/admin/complaints/{id}/verify" || v.Target != c.ID {
			t.Errorf("older entry %+v", v)
		}
		if res := as("sari", "GET", "/api/admin/audit?action=POST+/api/admin/complaints/{id}/verify", ""); !strings.Contains(string(res.body), "verify") || strings.Contains(string(res.body), "dispose") {
			t.Errorf("filtered by action: %s", res.body)
		}
		page := as("sari", "GET", "/api/admin/audit?limit=1", "")
		var first admin.AuditResponse
		json.Unmarshal(page.body, &first)
		second := as("sari", "GET", "/api/admin/audit?limit=1&before="+first.Next, "")
		if len(first.Entries) != 1 || first.Next == "" || !strings.Contains(string(second.body), "verify") {
			t.Errorf("pages: %s then %s", page.body, second.body)
		}
		if res := as("budi", "GET", "/api/admin/audit", ""); res.status != 403 {
			t.Errorf("an officer read the audit log: %d", res.status)
		}
		csv := as("sari", "GET", "/api/admin/audit.csv", "")
		rows := readCSV(t, csv, ',')
		if len(rows) != 3 || rows[0][0] != "at" || rows[2][1] != "sari" || rows[2][6] != "203.0.113.7" {
			t.Errorf("CSV: %q", rows)
		}
	})
}
