package staffweb

import (
	"errors"
	"net/http"
	"time"

	"github.com/layan-id/layan/admin"
	"github.com/layan-id/layan/domain"
)

// RecordsConfig enables the pages for leaders and admins: the monthly report of the
// complaints (any member of staff; an officer sees their agency's) and the audit log
// of the staff's actions (admins).
type RecordsConfig struct {
	Reports  admin.Reports  // nil: no report page
	Audit    admin.AuditLog // nil: no audit page
	Agencies []domain.Agency
}

// AuditPageSize is how many entries one page of the audit log shows.
const AuditPageSize = 50

func (s *Server) registerRecords(mux *http.ServeMux) {
	c := s.cfg.Records
	if c == nil {
		return
	}
	if c.Reports != nil {
		mux.HandleFunc("GET /staff/reports", s.page(domain.PermRead, s.reportPage))
		mux.HandleFunc("GET /staff/reports.csv", s.file(domain.PermRead, s.reportCSV))
	}
	if c.Audit != nil {
		mux.HandleFunc("GET /staff/audit", s.page(domain.PermAudit, s.auditPage))
		mux.HandleFunc("GET /staff/audit.csv", s.file(domain.PermAudit, s.auditCSV))
	}
}

// reportView is the report page's data.
type reportView struct {
	Report admin.ReportResponse
	Prev   string // the month before, YYYY-MM
	Next   string // the month after; "" when that is still to come
	Bad    bool   // the month asked for was not a month: this month is shown
}

// report computes the report of ?month= within an officer's agency.
func (s *Server) report(r *http.Request, v *visit) (admin.ReportResponse, bool, error) {
	agency := ""
	if v.acc.Role == domain.RoleOfficer {
		agency = v.acc.Agency
	}
	c := s.cfg.Records
	rep, err := admin.BuildReport(r.Context(), c.Reports, c.Agencies, r.URL.Query().Get("month"), agency, s.now(), s.loc)
	if errors.Is(err, admin.ErrBadMonth) {
		rep, err = admin.BuildReport(r.Context(), c.Reports, c.Agencies, "", agency, s.now(), s.loc)
		return rep, true, err
	}
	return rep, false, err
}

// reportPage: GET /staff/reports?month=2026-11, the month's complaints by category
// and agency and what became of them by now.
func (s *Server) reportPage(w http.ResponseWriter, r *http.Request, v *visit) {
	rep, bad, err := s.report(r, v)
	if err != nil {
		s.unavailable(w, r, v, err)
		return
	}
	month, _ := time.ParseInLocation("2006-01", rep.Month, s.loc)
	view := reportView{Report: rep, Bad: bad, Prev: month.AddDate(0, -1, 0).Format("2006-01")}
	if next := month.AddDate(0, 1, 0); !next.After(s.now()) {
		view.Next = next.Format("2006-01")
	}
	s.render(w, r, v, http.StatusOK, "reports", view)
}

// reportCSV: GET /staff/reports.csv?month=2026-11, the report as the staff API's
// CSV.
func (s *Server) reportCSV(w http.ResponseWriter, r *http.Request, v *visit) {
	rep, _, err := s.report(r, v)
	if err != nil {
		s.unavailable(w, r, v, err)
		return
	}
	admin.WriteReportCSV(w, rep)
}

// auditView is the audit page's data.
type auditView struct {
	Entries []domain.AuditEntry
	Account string // the filters asked for
	Action  string
	Next    string // ?before= of the next, older page; "" on the last
}

// auditPage: GET /staff/audit?account=&action=&before=, the newest entries first.
func (s *Server) auditPage(w http.ResponseWriter, r *http.Request, v *visit) {
	q := r.URL.Query()
	view := auditView{Account: q.Get("account"), Action: q.Get("action")}
	var err error
	view.Entries, view.Next, err = s.cfg.Records.Audit.List(r.Context(), domain.AuditQuery{
		Account: view.Account, Action: view.Action, Before: q.Get("before"), Limit: AuditPageSize})
	if err != nil {
		s.unavailable(w, r, v, err)
		return
	}
	s.render(w, r, v, http.StatusOK, "audit", view)
}

// auditCSV: GET /staff/audit.csv, the whole log as the staff API's CSV.
func (s *Server) auditCSV(w http.ResponseWriter, r *http.Request, v *visit) {
	if err := admin.WriteAuditCSV(r.Context(), w, s.cfg.Records.Audit, s.now(), s.loc); err != nil {
		s.log.ErrorContext(r.Context(), "staff workspace: audit export cut off", "err", err)
		panic(http.ErrAbortHandler) // a broken download, not a short file
	}
}
