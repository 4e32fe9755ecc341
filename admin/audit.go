package admin

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/layan-id/layan/bot/httpjson"
	"github.com/layan-id/layan/domain"
)

// AuditLog keeps the staff's actions (*store.Audit): Record appends one; List
// returns those a query picks, newest first, with the cursor of the next page; Each
// walks them all, oldest first.
type AuditLog interface {
	Record(ctx context.Context, e domain.AuditEntry) error
	List(ctx context.Context, q domain.AuditQuery) ([]domain.AuditEntry, string, error)
	Each(ctx context.Context, f func(domain.AuditEntry) error) error
}

func (s *Server) registerAudit(mux *http.ServeMux) {
	if s.audit == nil {
		return
	}
	mux.HandleFunc("GET /api/admin/audit", s.authorized(domain.PermAudit, s.listAudit))
	mux.HandleFunc("GET /api/admin/audit.csv", s.authorized(domain.PermAudit, s.exportAudit))
}

// auditDetail is where a handler leaves what the audit entry of its request should
// say besides the route (e.g. "agency=dlh").
type auditDetail struct{ text string }

type auditDetailKey struct{}

// noteAudit adds to the audit entry of the request.
func noteAudit(r *http.Request, format string, args ...any) {
	if d, ok := r.Context().Value(auditDetailKey{}).(*auditDetail); ok {
		d.text = strings.TrimSpace(d.text + " " + fmt.Sprintf(format, args...))
	}
}

// statusWriter remembers the status of an answer.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// audited runs h and records in the audit log a change it made (a request that is
// not a GET and was answered below 400): who, what, when and from which address.
func (s *Server) audited(acc domain.StaffAccount, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.audit == nil || r.Method == http.MethodGet {
			h(w, r)
			return
		}
		d := &auditDetail{}
		sw := &statusWriter{ResponseWriter: w}
		h(sw, r.WithContext(context.WithValue(r.Context(), auditDetailKey{}, d)))
		if sw.status == 0 || sw.status >= 400 {
			return
		}
		action := r.Pattern
		if a := r.PathValue("action"); a != "" {
			action = strings.Replace(action, "{action}", a, 1)
		}
		from, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			from = r.RemoteAddr
		}
		e := domain.AuditEntry{At: s.now(), Account: acc.Name, Role: acc.Role, Action: action,
			Target: r.PathValue("id"), Detail: d.text, From: from, Status: sw.status}
		if err := s.audit.Record(context.WithoutCancel(r.Context()), e); err != nil {
			s.log.ErrorContext(r.Context(), "admin API: audit entry not recorded", "action", action, "account", acc.Name, "err", err)
		}
	}
}

// AuditResponse is the answer of GET /api/admin/audit.
type AuditResponse struct {
	Entries []domain.AuditEntry `json:"entries"`
	// Next is the ?before= of the next (older) page; empty on the last.
	Next string `json:"next,omitempty"`
}

// listAudit: GET /api/admin/audit?account=&action=&before=&limit=, newest first.
func (s *Server) listAudit(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	q := domain.AuditQuery{Account: v.Get("account"), Action: v.Get("action"), Before: v.Get("before"), Limit: 100}
	if l := v.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 1000 {
			httpjson.Error(w, http.StatusBadRequest, "limit must be a whole number from 1 to 1000")
			return
		}
		q.Limit = n
	}
	entries, next, err := s.audit.List(r.Context(), q)
	if err != nil {
		s.unavailable(w, r, err)
		return
	}
	if entries == nil {
		entries = []domain.AuditEntry{}
	}
	httpjson.Write(w, http.StatusOK, AuditResponse{Entries: entries, Next: next})
}

// auditHeader names the audit export's columns.
var auditHeader = []string{"at", "account", "role", "action", "target", "detail", "from", "status"}

// exportAudit writes the whole audit log, oldest first, as CSV for a spreadsheet
// (as the complaints export: UTF-8 with a byte order mark, CRLF, formulas defused).
func (s *Server) exportAudit(w http.ResponseWriter, r *http.Request) {
	if err := WriteAuditCSV(r.Context(), w, s.audit, s.now(), s.loc); err != nil {
		s.log.ErrorContext(r.Context(), "admin API: audit export cut off", "err", err)
		panic(http.ErrAbortHandler) // the client sees a broken download, not a short file
	}
}

// WriteAuditCSV answers with the whole audit log, oldest first, as the download
// audit-<date>.csv (times in loc). An error means the download was cut off: the
// caller must abort the response (panic(http.ErrAbortHandler)), so the client sees a
// broken download, not a short file.
func WriteAuditCSV(ctx context.Context, w http.ResponseWriter, log AuditLog, now time.Time, loc *time.Location) error {
	cw := startCSV(w, "audit-"+now.In(loc).Format("20060102"))
	cw.Write(auditHeader)
	err := log.Each(ctx, func(e domain.AuditEntry) error {
		return cw.Write([]string{e.At.In(loc).Format("2006-01-02 15:04:05"), textCell(e.Account), textCell(string(e.Role)),
			textCell(e.Action), textCell(e.Target), textCell(e.Detail), textCell(e.From), strconv.Itoa(e.Status)})
	})
	cw.Flush()
	return err
}
