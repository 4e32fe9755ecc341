package admin_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/layan-id/layan/admin"
	"github.com/layan-id/layan/domain"
	"github.com/layan-id/layan/store/storetest"
)

// The monthly report counts the complaints filed in the month by category and
// agency (an officer's only theirs), as JSON and CSV; another month is apart.
func TestTheMonthlyReport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		staff := b.Store.Staff()
		staff.Add(ctx, domain.StaffAccount{Name: "dewi", Role: domain.RoleOfficer, Agency: "dlh"}, "kata-sandi-panjang")
		officer, _ := staff.NewToken(ctx, "dewi")
		f := &fixture{cs: b.Store.Complaints("BTG", jakarta(t)), told: &notifier{}, logs: &logBuffer{}}
		api := admin.New(admin.Config{Token: token, Complaints: f.cs, Accounts: staff, Reports: f.cs, Location: jakarta(t),
			Agencies: []domain.Agency{{Code: "pupr", Name: "Dinas PUPR"}, {Code: "dlh", Name: "DLH"}},
			Now:      func() time.Time { return now }, Logger: slog.New(slog.DiscardHandler)})
		mux := http.NewServeMux()
		api.Register(mux)
		// now is 27 Nov 2026 03:00 in Jakarta
		done := f.file(t, complaint(now.Add(-48*time.Hour), "jalan A"), domain.StatusVerified)
		f.cs.Update(ctx, done.ID, func(c *domain.Complaint) error { return c.Finish("budi", "ditambal", c.CreatedAt.Add(30*time.Hour)) })
		f.file(t, complaint(now.Add(-24*time.Hour), "jalan B"))
		sampah := complaint(now.Add(-time.Hour), "sampah")
		sampah.Category, sampah.Agency = "sampah", "dlh"
		f.file(t, sampah)
		f.file(t, complaint(now.AddDate(0, -1, 0), "jalan bulan lalu"))

		res := serveAs(mux, "192.0.2.1:1", "GET", "/api/admin/reports?month=2026-11", "Bearer "+token, "")
		var rep admin.ReportResponse
		if err := json.Unmarshal(res.body, &rep); err != nil || res.status != 200 {
			t.Fatalf("%d %s", res.status, res.body)
		}
		if rep.Month != "2026-11" || rep.Total.Received != 3 || len(rep.Rows) != 2 {
			t.Fatalf("report %+v", rep)
		}
		j := rep.Rows[0]
		if j.Category != "jalan" || j.AgencyName != "Dinas PUPR" || j.Received != 2 || j.Finished != 1 || j.MedianHoursToFinish != 30 {
			t.Errorf("jalan row %+v", j)
		}
		if res := serveAs(mux, "192.0.2.1:1", "GET", "/api/admin/reports?month=2026-10", "Bearer "+token, ""); !json.Valid(res.body) {
			t.Fatal(res.status)
		} else if json.Unmarshal(res.body, &rep); rep.Total.Received != 1 {
			t.Errorf("October: %+v", rep.Total)
		}
		res = serveAs(mux, "192.0.2.1:1", "GET", "/api/admin/reports?month=2026-11", "Bearer "+officer, "")
		json.Unmarshal(res.body, &rep)
		if rep.Total.Received != 1 || len(rep.Rows) != 1 || rep.Rows[0].Agency != "dlh" {
			t.Errorf("the dlh officer's report: %+v", rep)
		}
		rows := readCSV(t, serveAs(mux, "192.0.2.1:1", "GET", "/api/admin/reports.csv?month=2026-11", "Bearer "+token, ""), ',')
		if len(rows) != 4 || rows[0][1] != "category" || rows[3][3] != "total" || rows[3][4] != "3" {
			t.Errorf("CSV %q", rows)
		}
		if res := serveAs(mux, "192.0.2.1:1", "GET", "/api/admin/reports?month=11-2026", "Bearer "+token, ""); res.status != 400 {
			t.Errorf("a malformed month: %d", res.status)
		}
	})
}
