package staffweb_test

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/layan-id/layan/domain"
	"github.com/layan-id/layan/store/storetest"
)

// rowOf returns the text of the cells of the table row whose first cell is first.
func rowOf(body, first string) string {
	for _, row := range strings.Split(body, "<tr") {
		text := regexp.MustCompile(`<[^>]+>`).ReplaceAllString(row, "|")
		text = regexp.MustCompile(`\s*\|[\s|]*`).ReplaceAllString(text, "|")
		if strings.HasPrefix(strings.TrimPrefix(text, ">|"), first+"|") || strings.Contains(text, "|"+first+"|") {
			return text
		}
	}
	return ""
}

// The monthly report: leaders see the month's complaints by category and agency, an
// officer only their agency's, and the CSV is the same report for a spreadsheet.
func TestTheMonthlyReportPage(t *testing.T) {
	h := newHarness(t, storetest.Mini(t))
	month := time.Now().In(jakarta(t)).Format("2006-01")

	page := h.signIn("sari").get("/staff/reports")
	if page.status != http.StatusOK {
		t.Fatalf("the report page: %d", page.status)
	}
	// Two road complaints went to Dinas PUPR, one about rubbish to DLH; none finished.
	if row := rowOf(page.body, "Jalan rusak"); !strings.Contains(row, "|Dinas PUPR|2|0|0|") {
		t.Errorf("the road row reads %q, want Dinas PUPR with 2 filed", row)
	}
	if row := rowOf(page.body, "Sampah"); !strings.Contains(row, "|Dinas Lingkungan Hidup|1|") {
		t.Errorf("the rubbish row reads %q, want DLH with 1 filed", row)
	}
	if row := rowOf(page.body, "Jumlah"); !strings.Contains(row, "|Jumlah|3|") {
		t.Errorf("the total row reads %q, want 3 filed", row)
	}

	officer := h.signIn("budi").get("/staff/reports")
	if strings.Contains(officer.body, "Dinas Lingkungan Hidup") || !strings.Contains(rowOf(officer.body, "Jumlah"), "|Jumlah|2|") {
		t.Errorf("an officer of PUPR sees another agency's figures:\n%s", rowOf(officer.body, "Jumlah"))
	}

	csv := h.signIn("ani").get("/staff/reports.csv?month=" + month)
	if csv.status != http.StatusOK || !strings.HasPrefix(csv.header.Get("Content-Type"), "text/csv") ||
		!strings.Contains(csv.header.Get("Content-Disposition"), "report-"+month+".csv") {
		t.Fatalf("the CSV: %d %v", csv.status, csv.header)
	}
	if !strings.Contains(csv.body, month+",jalan,pupr,Dinas PUPR,2,") || !strings.Contains(csv.body, ",total,3,") {
		t.Errorf("the CSV lacks the road row or the total:\n%s", csv.body)
	}

	earlier := h.signIn("sari").get("/staff/reports?month=2020-01")
	if !strings.Contains(earlier.body, `id="report-empty"`) {
		t.Error("a month without complaints does not say so")
	}
	bad := h.signIn("sari").get("/staff/reports?month=kemarin")
	if bad.status != http.StatusOK || !strings.Contains(bad.body, "Bulan tidak dikenali") || !strings.Contains(bad.body, `value="`+month+`"`) {
		t.Errorf("a month that is not one: %d; want this month with a kind word", bad.status)
	}
}

// The audit log is the admins': they read and filter it and download it whole;
// nobody else gets it, and the menu shows it only to them.
func TestTheAuditLogPageIsTheAdmins(t *testing.T) {
	h := newHarness(t, storetest.Mini(t))
	ctx := context.Background()
	for _, e := range []domain.AuditEntry{
		{At: time.Now(), Account: "budi", Role: domain.RoleOfficer, Action: "complaint.finish", Target: h.road.ID, From: "10.0.0.7"},
		{At: time.Now(), Account: "eko", Role: domain.RoleBroadcaster, Action: "POST /staff/broadcasts", Target: "S1", From: "10.0.0.8", Status: 303},
	} {
		if err := h.b.Store.Audit().Record(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	admin := h.signIn("sari")
	all := admin.get("/staff/audit")
	if all.status != http.StatusOK || !strings.Contains(all.body, "complaint.finish") || !strings.Contains(all.body, "POST /staff/broadcasts") ||
		!strings.Contains(all.body, `href="/staff/audit"`) {
		t.Fatalf("the audit page for an admin: %d", all.status)
	}
	only := admin.get("/staff/audit?account=budi")
	if !strings.Contains(only.body, "complaint.finish") || strings.Contains(only.body, "POST /staff/broadcasts") {
		t.Error("filtering by account shows other accounts' actions")
	}
	csv := admin.get("/staff/audit.csv")
	if csv.status != http.StatusOK || !strings.Contains(csv.body, "budi,officer,complaint.finish,"+h.road.ID) {
		t.Errorf("the audit CSV: %d\n%s", csv.status, csv.body)
	}
	for _, name := range []string{"budi", "eko", "ani"} {
		c := h.signIn(name)
		if home := c.get("/staff/"); strings.Contains(home.body, `href="/staff/audit"`) {
			t.Errorf("%s's menu shows the audit log", name)
		}
		if a := c.get("/staff/audit"); a.status != http.StatusForbidden {
			t.Errorf("%s opened the audit log: %d", name, a.status)
		}
		if a := c.get("/staff/audit.csv"); a.status != http.StatusForbidden || strings.Contains(a.body, "complaint.finish") {
			t.Errorf("%s downloaded the audit log: %d", name, a.status)
		}
	}
	anon := h.client()
	if a := anon.get("/staff/audit"); a.status != http.StatusSeeOther || a.location() != "/staff/login" {
		t.Errorf("the audit page without a session: %d %s", a.status, a.location())
	}
	if a := anon.get("/staff/reports.csv"); a.status != http.StatusUnauthorized {
		t.Errorf("the report CSV without a session: %d", a.status)
	}
}
