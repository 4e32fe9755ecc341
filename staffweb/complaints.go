package staffweb

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/layan-id/layan/domain"
)

// Complaints is the complaint store the desk reads and changes (*store.Complaints).
// Get and Update report a complaint that does not exist with domain.ErrNotFound;
// Update changes nothing when f returns an error. MarkDuplicate closes id as a
// duplicate of of, both records in one step (f may refuse first). Inbox answers the
// inbox's queries at now.
type Complaints interface {
	Get(ctx context.Context, id string) (*domain.Complaint, error)
	Update(ctx context.Context, id string, f func(*domain.Complaint) error) (*domain.Complaint, error)
	MarkDuplicate(ctx context.Context, id, of, by string, at time.Time, f func(dup, orig *domain.Complaint) error) (*domain.Complaint, *domain.Complaint, error)
	Inbox(ctx context.Context, q domain.InboxQuery, now time.Time) (domain.InboxPage, error)
}

// Photos opens the photos kept with complaints by name (*store.Media).
type Photos interface {
	Open(name string) (*os.File, error)
}

// Notifier tells the citizen (and those who follow the complaint) of a change, a
// message from staff included (as admin.Notifier): called once after each change,
// it returns quickly.
type Notifier interface {
	StatusChanged(ctx context.Context, c *domain.Complaint)
}

// ComplaintsConfig enables the complaints desk.
type ComplaintsConfig struct {
	Store    Complaints
	Photos   Photos   // nil: photos are listed but not shown
	Notifier Notifier // nil: nobody is told
	// Agencies are the agencies (OPD) complaints go to; Categories the complaint
	// categories, in order.
	Agencies   []domain.Agency
	Categories []string
	// Tiles is the map's tile URL template ({z}/{x}/{y}, optionally {s});
	// "": DefaultTiles.
	Tiles string
}

// PageSize is how many complaints one page of the inbox shows.
const PageSize = 25

func (s *Server) registerComplaints(mux *http.ServeMux) {
	if s.cfg.Complaints == nil {
		return
	}
	mux.HandleFunc("GET /staff/complaints", s.page(domain.PermRead, s.inbox))
	mux.HandleFunc("GET /staff/complaints/{id}", s.page(domain.PermRead, s.complaint))
	mux.HandleFunc("GET /staff/complaints/{id}/photos/{name}", s.file(domain.PermRead, s.photo))
	mux.HandleFunc("POST /staff/complaints/{id}/{action}", s.form(domain.PermComplaints, s.complaintAction))
}

// file wraps a GET handler of something that is not a page (a photo): 401 without a
// session, 403 for a role that may not.
func (s *Server) file(perm domain.Permission, h func(http.ResponseWriter, *http.Request, *visit)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, err := s.identify(r)
		switch {
		case err != nil:
			s.unavailable(w, r, s.anonymous(r), err)
		case v == nil:
			s.unauthorized(w, r)
		case !v.acc.Role.Can(perm):
			s.forbidden(w, r, v)
		default:
			h(w, r, v)
		}
	}
}

// visible reports whether the member of staff may see the complaint: an officer
// only their agency's.
func (s *Server) visible(v *visit, c *domain.Complaint) bool { return c.VisibleTo(v.acc) }

// load returns the complaint of the request's {id} if the member of staff may see
// it, else answers 404 (also for one outside an officer's agency: they do not learn
// that it exists) and returns nil.
func (s *Server) load(w http.ResponseWriter, r *http.Request, v *visit) *domain.Complaint {
	c, err := s.cfg.Complaints.Store.Get(r.Context(), r.PathValue("id"))
	switch {
	case !s.found(w, r, v, err):
		return nil
	case !s.visible(v, c):
		s.notFound(w, r, v)
		return nil
	}
	return c
}

// inboxData is what the inbox page shows.
type inboxData struct {
	Q          domain.InboxQuery
	From, To   string // the date filters as typed
	Rows       []inboxRow
	Total      int64
	Counts     []statusCount
	AllCount   int64
	Overdue    int64
	Pages      int
	Prev, Next string // links, "" when none
	Categories []string
	Agencies   []domain.Agency
	Statuses   []domain.Status
	Officer    bool
}

type inboxRow struct {
	C       *domain.Complaint
	Agency  string
	Overdue bool
}

type statusCount struct {
	Status domain.Status
	N      int64
	Link   string
	On     bool
}

// inbox lists complaints with filters, counts per status, order and pages.
func (s *Server) inbox(w http.ResponseWriter, r *http.Request, v *visit) {
	cc := s.cfg.Complaints
	q, from, to := s.inboxQuery(r.URL.Query())
	if v.acc.Role == domain.RoleOfficer {
		q.Agency = v.acc.Agency
	}
	now := s.now()
	page, err := cc.Store.Inbox(r.Context(), q, now)
	if err != nil {
		s.unavailable(w, r, v, err)
		return
	}
	d := inboxData{Q: q, From: from, To: to, Total: page.Total, Overdue: page.Overdue, Categories: cc.Categories,
		Agencies: cc.Agencies, Statuses: domain.Statuses(), Officer: v.acc.Role == domain.RoleOfficer}
	for _, c := range page.Complaints {
		if !s.visible(v, c) {
			continue // never shown outside the officer's agency, whatever the store answered
		}
		d.Rows = append(d.Rows, inboxRow{C: c, Agency: s.agencyName(c.Agency), Overdue: c.Overdue(now)})
	}
	link := func(change func(url.Values)) string {
		vals := r.URL.Query()
		vals.Del("page")
		change(vals)
		return "/staff/?" + vals.Encode()
	}
	for _, st := range domain.Statuses() {
		d.AllCount += page.Counts[st]
		d.Counts = append(d.Counts, statusCount{Status: st, N: page.Counts[st], On: q.Status == st,
			Link: link(func(v url.Values) { v.Set("status", string(st)) })})
	}
	d.Pages = max(1, int((page.Total+int64(q.Size)-1)/int64(q.Size)))
	if q.Page > 1 {
		d.Prev = link(func(v url.Values) { v.Set("page", strconv.Itoa(q.Page-1)) })
	}
	if q.Page < d.Pages {
		d.Next = link(func(v url.Values) { v.Set("page", strconv.Itoa(q.Page+1)) })
	}
	s.render(w, r, v, http.StatusOK, "inbox", d)
}

// inboxQuery reads the inbox's filters; a value it cannot read filters nothing.
// Status names are read in any case.
func (s *Server) inboxQuery(vals url.Values) (q domain.InboxQuery, from, to string) {
	q = domain.InboxQuery{Page: 1, Size: PageSize, Sort: domain.SortNewest}
	if st, ok := domain.ParseStatus(vals.Get("status")); ok {
		q.Status = st
	}
	if c := vals.Get("category"); slices.Contains(s.cfg.Complaints.Categories, c) {
		q.Category = c
	}
	if a := vals.Get("agency"); a == domain.NoAgency || s.agencyName(a) != "" {
		q.Agency = a
	}
	q.Overdue = vals.Get("overdue") == "1"
	if vals.Get("sort") == string(domain.SortOverdue) {
		q.Sort = domain.SortOverdue
	}
	q.Text = strings.TrimSpace(vals.Get("q"))
	if utf8.RuneCountInString(q.Text) > 100 {
		q.Text = string([]rune(q.Text)[:100])
	}
	if t, err := time.ParseInLocation("2006-01-02", vals.Get("from"), s.loc); err == nil {
		q.From, from = t, vals.Get("from")
	}
	if t, err := time.ParseInLocation("2006-01-02", vals.Get("to"), s.loc); err == nil {
		q.To, to = t.AddDate(0, 0, 1), vals.Get("to")
	}
	if p, err := strconv.Atoi(vals.Get("page")); err == nil && p > 1 && p <= 1_000_000 {
		q.Page = p
	}
	return q, from, to
}

// agencyName is an agency's name, or "" for no known agency.
func (s *Server) agencyName(code string) string {
	for _, a := range s.cfg.Complaints.Agencies {
		if a.Code == code {
			return a.Name
		}
	}
	return ""
}

// complaintData is what one complaint's page shows.
type complaintData struct {
	C        *domain.Complaint
	Agency   string
	Overdue  bool
	Lat, Lon string // the pin, "" without a location
	MapLink  string
	Tiles    string
	Photos   []string // links to the photos
	Timeline []entry
	// Actions this member of staff may take on it now.
	Actions  map[string]bool
	Agencies []domain.Agency
	Flash    string // a text key: what the last action did
	Problem  string // a text key: why the last action was refused
}

// entry is one line of a complaint's timeline: a change of its history (what the
// citizen is told), or an internal note.
type entry struct {
	At       time.Time
	By       string
	Status   domain.Status
	Kind     domain.EventKind
	Agency   string // the agency's name, for a disposition
	Ref      string // the original, for a duplicate
	Text     string
	Internal bool
}

func (s *Server) complaint(w http.ResponseWriter, r *http.Request, v *visit) {
	c := s.load(w, r, v)
	if c == nil {
		return
	}
	s.showComplaint(w, r, v, c, http.StatusOK, doneFlash(r, "workspace.complaint.done.", slices.Collect(maps.Keys(actionPaths()))...), "")
}

// showComplaint renders a complaint's page, with what the last action did (flash)
// or why it was refused (problem), both text keys of workspace.complaint.*.
func (s *Server) showComplaint(w http.ResponseWriter, r *http.Request, v *visit, c *domain.Complaint, status int, flash, problem string) {
	cc := s.cfg.Complaints
	d := complaintData{C: c, Agency: s.agencyName(c.Agency), Tiles: cc.Tiles, Agencies: cc.Agencies,
		Overdue: c.Overdue(s.now()), Actions: s.actions(v, c), Flash: flash, Problem: problem}
	if l := c.Location; l != nil {
		d.Lat, d.Lon = strconv.FormatFloat(l.Lat, 'f', 6, 64), strconv.FormatFloat(l.Lon, 'f', 6, 64)
		d.MapLink = fmt.Sprintf("https://www.openstreetmap.org/?mlat=%s&mlon=%s#map=17/%s/%s", d.Lat, d.Lon, d.Lat, d.Lon)
	}
	for _, p := range c.Photos {
		d.Photos = append(d.Photos, "/staff/complaints/"+url.PathEscape(c.ID)+"/photos/"+url.PathEscape(p))
	}
	for _, e := range c.History {
		d.Timeline = append(d.Timeline, entry{At: e.At, By: e.By, Status: e.Status, Kind: e.Kind, Agency: s.agencyName(e.Agency),
			Ref: e.Ref, Text: e.Note})
	}
	for _, n := range c.Notes {
		e := entry{At: n.At, By: n.By, Text: n.Text, Internal: n.Kind != domain.NoteMessage}
		if !e.Internal {
			e.Kind = domain.EventMessage // a message kept with the notes before messages were history
		}
		d.Timeline = append(d.Timeline, e)
	}
	slices.SortStableFunc(d.Timeline, func(a, b entry) int { return a.At.Compare(b.At) })
	s.render(w, r, v, status, "complaint", d)
}

// actionPaths are the actions by the last segment of their form's path.
func actionPaths() map[string]domain.Action {
	return map[string]domain.Action{
		"verify": domain.ActVerify, "dispose": domain.ActDispose, "process": domain.ActProcess, "finish": domain.ActFinish,
		"reject": domain.ActReject, "reopen": domain.ActReopen, "duplicate": domain.ActDuplicate,
		"message": domain.ActMessage, "note": domain.ActNote,
	}
}

// actions says which actions the member of staff may take on c now: what their
// role may do (triage is the admins'; officers work on their agency's complaints)
// and what the complaint's state allows.
func (s *Server) actions(v *visit, c *domain.Complaint) map[string]bool {
	can := map[string]bool{}
	if !s.visible(v, c) {
		return can
	}
	now := s.now()
	for path, a := range actionPaths() {
		if !v.acc.Role.Can(a.Permission()) {
			continue
		}
		probe := *c
		probe.History, probe.Notes = slices.Clone(c.History), slices.Clone(c.Notes)
		in := domain.ActionInput{Note: "probe"}
		switch a {
		case domain.ActDispose:
			can[path] = !c.Status.Closed() && len(s.cfg.Complaints.Agencies) > 0
			continue
		case domain.ActDuplicate:
			can[path] = c.DuplicateOf == "" && !c.Status.Closed()
			continue
		}
		can[path] = probe.Do(a, v.acc.Name, in, now) == nil
	}
	return can
}

// complaintAction takes one action on a complaint and goes back to its page (303);
// a refused one (not allowed now, its note missing, an unknown agency) is shown on
// the page with 409 or 400 and changes nothing. A role that may not is 403; a
// complaint the account may not see, 404.
func (s *Server) complaintAction(w http.ResponseWriter, r *http.Request, v *visit) {
	action, ok := actionPaths()[r.PathValue("action")]
	if !ok {
		s.notFound(w, r, v)
		return
	}
	c := s.load(w, r, v)
	if c == nil {
		return
	}
	if !v.acc.Role.Can(action.Permission()) {
		s.forbidden(w, r, v)
		return
	}
	text := strings.TrimSpace(strings.ReplaceAll(r.PostForm.Get("text"), "\r\n", "\n"))
	if utf8.RuneCountInString(text) > domain.MaxNote {
		s.showComplaint(w, r, v, c, http.StatusBadRequest, "", "workspace.complaint.problem.too_long")
		return
	}
	ctx, by, now := r.Context(), v.acc.Name, s.now()
	cc := s.cfg.Complaints
	in := domain.ActionInput{Note: text, Agency: r.PostForm.Get("agency")}
	for _, a := range cc.Agencies {
		in.Agencies = append(in.Agencies, a.Code)
	}
	hidden := fmt.Errorf("complaint %s: %w", c.ID, domain.ErrNotFound) // passed to another agency meanwhile
	var updated *domain.Complaint
	var err error
	if action == domain.ActDuplicate {
		of := strings.ToUpper(strings.TrimSpace(r.PostForm.Get("of")))
		updated, _, err = cc.Store.MarkDuplicate(ctx, c.ID, of, by, now, func(dup, orig *domain.Complaint) error {
			if !s.visible(v, dup) || !s.visible(v, orig) {
				return hidden
			}
			return nil
		})
		if errors.Is(err, domain.ErrNotFound) && of != "" {
			s.showComplaint(w, r, v, c, http.StatusBadRequest, "", "workspace.complaint.problem.no_original")
			return
		}
	} else {
		updated, err = cc.Store.Update(ctx, c.ID, func(c *domain.Complaint) error {
			if !s.visible(v, c) {
				return hidden
			}
			return c.Do(action, by, in, now)
		})
	}
	switch {
	case errors.Is(err, domain.ErrNoteRequired):
		s.showComplaint(w, r, v, c, http.StatusBadRequest, "", "workspace.complaint.problem.need_"+string(action))
		return
	case errors.Is(err, domain.ErrUnknownAgency):
		s.showComplaint(w, r, v, c, http.StatusBadRequest, "", "workspace.complaint.problem.need_dispose")
		return
	case errors.Is(err, domain.ErrBadDuplicate):
		s.showComplaint(w, r, v, c, http.StatusConflict, "", "workspace.complaint.problem.bad_duplicate")
		return
	case errors.Is(err, domain.ErrIllegalTransition):
		s.showComplaint(w, r, v, c, http.StatusConflict, "", "workspace.complaint.problem.not_now")
		return
	case !s.found(w, r, v, err):
		return
	}
	s.log.InfoContext(ctx, "staff workspace: complaint "+string(action), "complaint", c.ID, "by", by, "status", updated.Status)
	if action != domain.ActNote && cc.Notifier != nil {
		cc.Notifier.StatusChanged(context.WithoutCancel(ctx), updated)
	}
	done(w, r, "/staff/complaints/"+url.PathEscape(c.ID), r.PathValue("action"))
}

// photo serves one photo of a complaint the member of staff may see. Its name is the
// media store's random name and must be one of the complaint's: no other file, and
// no photo of another complaint, is reachable this way.
func (s *Server) photo(w http.ResponseWriter, r *http.Request, v *visit) {
	c := s.load(w, r, v)
	if c == nil {
		return
	}
	name := r.PathValue("name")
	if s.cfg.Complaints.Photos == nil || !slices.Contains(c.Photos, name) {
		s.notFound(w, r, v)
		return
	}
	f, err := s.cfg.Complaints.Photos.Open(name)
	if !s.found(w, r, v, err) {
		return
	}
	defer f.Close()
	w.Header().Set("Cache-Control", "private, no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; sandbox")
	http.ServeContent(w, r, "", time.Time{}, f)
}
