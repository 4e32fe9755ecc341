package admin

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/layan-id/layan/bot/httpjson"
	"github.com/layan-id/layan/domain"
)

// Reports reads the complaints a report covers (*store.Complaints): those filed in
// [from, to) of one agency ("" all).
type Reports interface {
	Filed(ctx context.Context, from, to time.Time, agency string) ([]*domain.Complaint, error)
}

// ReportResponse is the answer of GET /api/admin/reports: the complaints filed in the
// month, by category and agency, and what became of them by now.
type ReportResponse struct {
	Month string           `json:"month"` // 2026-11
	Rows  []ReportRowView  `json:"rows"`
	Total domain.ReportRow `json:"total"`
}

// ReportRowView is a report row with its agency's name.
type ReportRowView struct {
	domain.ReportRow
	AgencyName string `json:"agency_name,omitempty"`
}

func (s *Server) registerReports(mux *http.ServeMux) {
	if s.reports == nil {
		return
	}
	mux.HandleFunc("GET /api/admin/reports", s.authorized(domain.PermRead, s.report))
	mux.HandleFunc("GET /api/admin/reports.csv", s.authorized(domain.PermRead, s.reportCSV))
}

// ErrBadMonth is BuildReport's error for a month that is not YYYY-MM.
var ErrBadMonth = errors.New("month must be a month such as 2026-11")

// BuildReport computes the report of month (YYYY-MM in loc; "" this month) over the
// complaints of agency ("" all), naming each row's agency from agencies; now decides
// which are overdue.
func BuildReport(ctx context.Context, rs Reports, agencies []domain.Agency, month, agency string, now time.Time, loc *time.Location) (ReportResponse, error) {
	here := now.In(loc)
	from := time.Date(here.Year(), here.Month(), 1, 0, 0, 0, 0, loc)
	if month != "" {
		t, err := time.ParseInLocation("2006-01", month, loc)
		if err != nil {
			return ReportResponse{}, ErrBadMonth
		}
		from = t
	}
	cs, err := rs.Filed(ctx, from, from.AddDate(0, 1, 0), agency)
	if err != nil {
		return ReportResponse{}, err
	}
	rows, total := domain.Report(cs, now)
	out := ReportResponse{Month: from.Format("2006-01"), Rows: make([]ReportRowView, 0, len(rows)), Total: total}
	for _, row := range rows {
		v := ReportRowView{ReportRow: row}
		for _, a := range agencies {
			if a.Code == row.Agency {
				v.AgencyName = a.Name
			}
		}
		out.Rows = append(out.Rows, v)
	}
	return out, nil
}

// buildReport reads ?month= (YYYY-MM in TZ_REGION; default this month) and computes
// the report, within an officer's agency; or writes the error and reports false.
func (s *Server) buildReport(w http.ResponseWriter, r *http.Request) (ReportResponse, bool) {
	rep, err := BuildReport(r.Context(), s.reports, s.agencies, r.URL.Query().Get("month"), scope(account(r)), s.now(), s.loc)
	switch {
	case errors.Is(err, ErrBadMonth):
		httpjson.Error(w, http.StatusBadRequest, err.Error())
		return ReportResponse{}, false
	case err != nil:
		s.unavailable(w, r, err)
		return ReportResponse{}, false
	}
	return rep, true
}

// report: GET /api/admin/reports?month=2026-11.
func (s *Server) report(w http.ResponseWriter, r *http.Request) {
	if rep, ok := s.buildReport(w, r); ok {
		httpjson.Write(w, http.StatusOK, rep)
	}
}

// reportHeader names the report export's columns.
var reportHeader = []string{"month", "category", "agency", "agency_name", "received", "finished", "rejected", "overdue",
	"median_hours_to_finish", "rated", "average_rating"}

// reportCSV: GET /api/admin/reports.csv?month=2026-11, the same rows and a total row,
// for a spreadsheet (UTF-8 with a byte order mark, CRLF).
func (s *Server) reportCSV(w http.ResponseWriter, r *http.Request) {
	if rep, ok := s.buildReport(w, r); ok {
		WriteReportCSV(w, rep)
	}
}

// WriteReportCSV answers with rep as the download report-<month>.csv: its rows and a
// total row, for a spreadsheet (UTF-8 with a byte order mark, CRLF).
func WriteReportCSV(w http.ResponseWriter, rep ReportResponse) {
	cw := startCSV(w, "report-"+rep.Month)
	cw.Write(reportHeader)
	row := func(v ReportRowView) []string {
		f := func(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
		return []string{rep.Month, textCell(v.Category), textCell(v.Agency), textCell(v.AgencyName), strconv.Itoa(v.Received),
			strconv.Itoa(v.Finished), strconv.Itoa(v.Rejected), strconv.Itoa(v.Overdue), f(v.MedianHoursToFinish),
			strconv.Itoa(v.Rated), f(v.AverageRating)}
	}
	for _, v := range rep.Rows {
		cw.Write(row(v))
	}
	cw.Write(row(ReportRowView{ReportRow: rep.Total, AgencyName: "total"}))
	cw.Flush()
}
