package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/layan-id/layan/bot/httpjson"
	"github.com/layan-id/layan/domain"
)

// ComplaintView is a complaint as the staff API shows it: the record, whether its
// running deadline has passed, and its agency's name.
type ComplaintView struct {
	*domain.Complaint
	Overdue    bool   `json:"overdue"`
	AgencyName string `json:"agency_name,omitempty"`
}

// InboxResponse is the answer of GET /api/admin/complaints.
type InboxResponse struct {
	Complaints []ComplaintView         `json:"complaints"`
	Page       int                     `json:"page"`
	PageSize   int                     `json:"page_size"`
	Total      int64                   `json:"total"`
	Counts     map[domain.Status]int64 `json:"counts"`  // per status, within the agency asked for (an officer: theirs)
	Overdue    int64                   `json:"overdue"` // overdue, within the same agency
}

func (s *Server) registerComplaints(mux *http.ServeMux) {
	// "complaints.csv" and "complaints/{id}" never overlap: {id} is a segment of its
	// own below "complaints/", so the export cannot be taken for a complaint id.
	mux.HandleFunc("GET /api/admin/complaints", s.authorized(domain.PermRead, s.list))
	mux.HandleFunc("GET /api/admin/complaints.csv", s.authorized(domain.PermRead, s.exportCSV))
	mux.HandleFunc("GET /api/admin/complaints/{id}", s.authorized(domain.PermRead, s.get))
	mux.HandleFunc("POST /api/admin/complaints/{id}/status", s.authorized(domain.PermComplaints, s.changeStatus))
	mux.HandleFunc("POST /api/admin/complaints/{id}/{action}", s.authorized(domain.PermComplaints, s.act))
	mux.HandleFunc("GET /api/admin/agencies", s.authorized(domain.PermRead, s.listAgencies))
}

// complaintView shows a complaint to staff.
func (s *Server) complaintView(c *domain.Complaint) ComplaintView {
	v := ComplaintView{Complaint: c, Overdue: c.Overdue(s.now())}
	for _, a := range s.agencies {
		if a.Code == c.Agency {
			v.AgencyName = a.Name
		}
	}
	return v
}

// scope is the agency an account's queries are limited to ("" none): an officer's.
func scope(acc domain.StaffAccount) string {
	if acc.Role == domain.RoleOfficer {
		return acc.Agency
	}
	return ""
}

// inboxQuery reads the inbox's query parameters, or writes a 400 and reports false.
func (s *Server) inboxQuery(w http.ResponseWriter, r *http.Request) (domain.InboxQuery, bool) {
	v := r.URL.Query()
	q := domain.InboxQuery{Category: v.Get("category"), Agency: v.Get("agency"), Text: strings.TrimSpace(v.Get("q")),
		Page: 1, Size: PageSize, Sort: domain.Sort(v.Get("sort"))}
	if st := v.Get("status"); st != "" {
		parsed, ok := domain.ParseStatus(st)
		if !ok {
			httpjson.Error(w, http.StatusBadRequest, "status must be one of: "+statusList(domain.Statuses()))
			return q, false
		}
		q.Status = parsed
	}
	switch q.Sort {
	case "", domain.SortNewest, domain.SortOverdue:
	default:
		httpjson.Error(w, http.StatusBadRequest, `sort must be "newest" or "overdue"`)
		return q, false
	}
	switch strings.ToLower(v.Get("overdue")) {
	case "", "0", "false", "no":
	case "1", "true", "yes":
		q.Overdue = true
	default:
		httpjson.Error(w, http.StatusBadRequest, `overdue must be "true" or "false"`)
		return q, false
	}
	for _, d := range []struct {
		name string
		to   *time.Time
		next int // "to" is the whole day: up to the next one's start
	}{{"from", &q.From, 0}, {"to", &q.To, 1}} {
		if raw := v.Get(d.name); raw != "" {
			day, err := time.ParseInLocation(time.DateOnly, raw, s.loc)
			if err != nil {
				httpjson.Error(w, http.StatusBadRequest, d.name+" must be a date such as 2026-12-01")
				return q, false
			}
			*d.to = day.AddDate(0, 0, d.next)
		}
	}
	for _, p := range []struct {
		name     string
		to       *int
		min, max int
	}{{"page", &q.Page, 1, MaxPage}, {"size", &q.Size, 1, domain.MaxInboxPage}} {
		if raw := v.Get(p.name); raw != "" {
			n, err := strconv.Atoi(raw)
			if err != nil || n < p.min || n > p.max {
				httpjson.Error(w, http.StatusBadRequest, fmt.Sprintf("%s must be a whole number from %d to %d", p.name, p.min, p.max))
				return q, false
			}
			*p.to = n
		}
	}
	if a := scope(account(r)); a != "" {
		q.Agency = a // an officer sees their agency's complaints, whatever is asked
	}
	return q, true
}

// list is the inbox: GET /api/admin/complaints?status=&category=&agency=&overdue=&
// from=&to=&q=&sort=&page=&size=.
func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	q, ok := s.inboxQuery(w, r)
	if !ok {
		return
	}
	res, err := s.complaints.Inbox(r.Context(), q, s.now())
	if err != nil {
		s.unavailable(w, r, err)
		return
	}
	out := InboxResponse{Complaints: make([]ComplaintView, 0, len(res.Complaints)), Page: q.Page, PageSize: q.Size,
		Total: res.Total, Counts: res.Counts, Overdue: res.Overdue}
	for _, c := range res.Complaints {
		out.Complaints = append(out.Complaints, s.complaintView(c))
	}
	httpjson.Write(w, http.StatusOK, out)
}

// visible reads a complaint the account may see, or writes the 404 (also for one
// outside an officer's agency) or 503 and reports false.
func (s *Server) visible(w http.ResponseWriter, r *http.Request, id string) (*domain.Complaint, bool) {
	c, err := s.complaints.Get(r.Context(), id)
	if err == nil && !c.VisibleTo(account(r)) {
		err = domain.ErrNotFound
	}
	if errors.Is(err, domain.ErrNotFound) {
		httpjson.Error(w, http.StatusNotFound, "complaint not found")
		return nil, false
	}
	if err != nil {
		s.unavailable(w, r, err)
		return nil, false
	}
	return c, true
}

func (s *Server) get(w http.ResponseWriter, r *http.Request) {
	if c, ok := s.visible(w, r, r.PathValue("id")); ok {
		httpjson.Write(w, http.StatusOK, s.complaintView(c))
	}
}

func (s *Server) listAgencies(w http.ResponseWriter, r *http.Request) {
	as := s.agencies
	if as == nil {
		as = []domain.Agency{}
	}
	httpjson.Write(w, http.StatusOK, map[string][]domain.Agency{"agencies": as})
}

// ActionRequest is the body of POST /api/admin/complaints/{id}/{action}; each action
// reads its fields: dispose "agency" (and "note", why), finish "note", reject
// "reason" (or "note"), duplicate "of", notes and messages "text". "by" names who
// acted for ADMIN_TOKEN only; a staff account is recorded by its name.
type ActionRequest struct {
	Note   string `json:"note"`
	Reason string `json:"reason"`
	Agency string `json:"agency"`
	Of     string `json:"of"`
	Text   string `json:"text"`
	By     string `json:"by"`
}

// actionPaths are the actions by the last segment of their route.
var actionPaths = map[string]domain.Action{
	"verify": domain.ActVerify, "dispose": domain.ActDispose, "process": domain.ActProcess,
	"finish": domain.ActFinish, "reject": domain.ActReject, "reopen": domain.ActReopen,
	"duplicate": domain.ActDuplicate, "notes": domain.ActNote, "messages": domain.ActMessage,
}

// act takes one action on a complaint: POST /api/admin/complaints/{id}/{action}.
func (s *Server) act(w http.ResponseWriter, r *http.Request) {
	action, ok := actionPaths[r.PathValue("action")]
	if !ok {
		httpjson.Error(w, http.StatusNotFound, "no such action; one of: verify, dispose, process, finish, reject, reopen, duplicate, notes, messages")
		return
	}
	var req ActionRequest
	if !readBody(w, r, &req, true) {
		return
	}
	in := domain.ActionInput{Note: firstOf(req.Text, req.Reason, req.Note), Agency: strings.TrimSpace(req.Agency)}
	s.apply(w, r, action, in, strings.ToUpper(strings.TrimSpace(req.Of)), req.By)
}

type statusRequest struct {
	Status string `json:"status"`
	Note   string `json:"note"`
	By     string `json:"by"`
}

// changeStatus moves a complaint to another status (any case): the action of that
// status, with its role check. The lifecycle is checked before the note: a change
// that is not allowed at all is a 409 even without its note; an allowed finish
// (selesai) or rejection (ditolak) without a note is a 400, since no status of the
// complaint would make that request succeed.
func (s *Server) changeStatus(w http.ResponseWriter, r *http.Request) {
	var req statusRequest
	if !readJSON(w, r, &req) {
		return
	}
	to, ok := domain.ParseStatus(req.Status)
	if !ok {
		httpjson.Error(w, http.StatusBadRequest, `"status" must be one of: `+statusList(domain.Statuses()))
		return
	}
	action, ok := domain.ActionFor(to)
	if !ok { // diterima: a complaint never becomes it again
		if c, found := s.visible(w, r, r.PathValue("id")); found {
			err := fmt.Errorf("%w: from %s to %s", domain.ErrIllegalTransition, c.Status, to)
			httpjson.Error(w, http.StatusConflict, explain(err, c, s.now()))
		}
		return
	}
	s.apply(w, r, action, domain.ActionInput{Note: req.Note}, "", req.By)
}

// apply takes action on the complaint of the request's path for the account the
// request was let in as, tells the citizen, and answers the complaint as it is now.
// A role that may not take it gets 403; a complaint the account may not see, 404.
func (s *Server) apply(w http.ResponseWriter, r *http.Request, action domain.Action, in domain.ActionInput, of, reqBy string) {
	acc := account(r)
	if !acc.Role.Can(action.Permission()) {
		httpjson.Error(w, http.StatusForbidden, fmt.Sprintf("forbidden: the %s role may not %s a complaint", acc.Role, action))
		return
	}
	by, ok := staffName(w, r, reqBy)
	if !ok {
		return
	}
	in.Note = strings.TrimSpace(in.Note)
	for _, a := range s.agencies {
		in.Agencies = append(in.Agencies, a.Code)
	}
	ctx, id, now := r.Context(), r.PathValue("id"), s.now()
	hidden := fmt.Errorf("complaint %s: %w", id, domain.ErrNotFound)
	var refusal string // why the change was refused, for the staff member
	var updated *domain.Complaint
	var err error
	if action == domain.ActDuplicate {
		if of == "" {
			httpjson.Error(w, http.StatusBadRequest, `"of" must name the original complaint's ticket`)
			return
		}
		var seen domain.Complaint // the duplicate as it was, to say why it cannot be marked
		updated, _, err = s.complaints.MarkDuplicate(ctx, id, of, by, now, func(dup, o *domain.Complaint) error {
			if !dup.VisibleTo(acc) || !o.VisibleTo(acc) {
				return hidden
			}
			seen = *dup
			return nil
		})
		if err != nil {
			refusal = explain(err, &seen, now)
		}
	} else {
		updated, err = s.complaints.Update(ctx, id, func(c *domain.Complaint) error {
			if !c.VisibleTo(acc) {
				return hidden
			}
			if err := c.Do(action, by, in, now); err != nil {
				refusal = explain(err, c, now)
				return err
			}
			return nil
		})
	}
	switch {
	case errors.Is(err, domain.ErrNotFound):
		httpjson.Error(w, http.StatusNotFound, "complaint not found")
		return
	case errors.Is(err, domain.ErrIllegalTransition), errors.Is(err, domain.ErrBadDuplicate):
		httpjson.Error(w, http.StatusConflict, refusal)
		return
	case errors.Is(err, domain.ErrNoteRequired), errors.Is(err, domain.ErrUnknownAgency):
		httpjson.Error(w, http.StatusBadRequest, refusal)
		return
	case err != nil:
		s.unavailable(w, r, err)
		return
	}
	s.log.InfoContext(ctx, "admin API: complaint changed", "id", updated.ID, "action", action, "status", updated.Status, "by", by)
	noteAudit(r, "action=%s status=%s", action, updated.Status)
	if action == domain.ActDispose {
		noteAudit(r, "agency=%s", updated.Agency)
	}
	if action == domain.ActDuplicate {
		noteAudit(r, "of=%s", of)
	}
	if by != account(r).Name {
		noteAudit(r, "by=%q", by) // ADMIN_TOKEN naming who acted
	}
	if s.notifier != nil && action != domain.ActNote {
		s.notifier.StatusChanged(context.WithoutCancel(ctx), updated)
	}
	httpjson.Write(w, http.StatusOK, s.complaintView(updated))
}

func firstOf(ss ...string) string {
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			return s
		}
	}
	return ""
}
