// Package admin is Layan's staff JSON API, behind personal tokens of staff accounts
// (their role decides what they may do) or the shared ADMIN_TOKEN (an admin). With
// neither the API is off and none of its routes exist.
//
//	GET  /api/admin/complaints?status=&category=&agency=&overdue=&from=&to=&q=&sort=&page=&size=
//	                                           the inbox (complaints.go): a page, the total, counts per status
//	GET  /api/admin/complaints/{id}            one complaint: history, internal notes, agency, deadline
//	POST /api/admin/complaints/{id}/{action}   verify, dispose, process, finish, reject, reopen,
//	                                           duplicate, notes, messages (ActionRequest)
//	POST /api/admin/complaints/{id}/status     {"status": "diverifikasi", "note": "..."}: that status's action
//	GET  /api/admin/complaints.csv             every complaint (an officer's: their agency's), for a spreadsheet
//	GET  /api/admin/agencies                   the region's agencies
//	GET  /api/admin/reports?month=, .csv       the leaders' monthly report (reports.go)
//	GET  /api/admin/audit?…, audit.csv         the audit log, admins only (audit.go)
//
// Every route checks the role on the server: 401 without identity, 403 for a role
// that may not (domain.Role.Can, domain.Action.Permission), 404 for a complaint
// outside an officer's agency (domain.Complaint.VisibleTo). Every change is recorded
// under the account and, with Config.Audit, in the audit log.
//
// and, with EnableHandoffs, the conversations of people who asked for a member of
// staff (see handoff.go): the queue, taking one, its messages, replying, handing it
// on, ending it, canned replies, and live streams of the queue and of a conversation.
//
// Every request carries "Authorization: Bearer <token>"; a missing or wrong token gets
// 401 {"error":"unauthorized"} and nothing more. A client address that presented a few
// wrong tokens is refused for a while with 429 and Retry-After, whatever it presents;
// wrong tokens are logged as one summary line a minute. Other errors are JSON
// {"error": "..."} too, and change nothing: 400 for a request that can never succeed
// as written (bad JSON, unknown status, a finish or rejection without its note), 404
// for an unknown complaint, 409 when the complaint's current status does not allow
// the change (the message says which changes it does allow), 413 for a body over
// 16 KiB, 503 when the store does not answer.
package admin

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/layan-id/layan/bot/guard"
	"github.com/layan-id/layan/bot/httpjson"
	"github.com/layan-id/layan/domain"
)

// PageSize is how many complaints one page of the inbox holds unless ?size= asks for
// another number (at most domain.MaxInboxPage).
const PageSize = 50

// MaxPage is the highest page number the list accepts (50 million complaints).
const MaxPage = 1_000_000

// MaxBody is the largest request body the API reads.
const MaxBody = 16 << 10

// MaxBy is the longest staff name ("by") a status change may carry, in characters.
const MaxBy = 64

// DefaultBy is who a status change is recorded as when the request names nobody.
const DefaultBy = "admin-api"

// Complaints is the complaint store the API reads and changes; *store.Complaints is
// one. Get, Update and MarkDuplicate report a complaint that does not exist with an
// error for which errors.Is(err, domain.ErrNotFound) holds. Update and MarkDuplicate
// change the records and their indexes atomically, and change nothing when f returns
// an error (returned as it is). Inbox answers the inbox's queries at now.
type Complaints interface {
	Inbox(ctx context.Context, q domain.InboxQuery, now time.Time) (domain.InboxPage, error)
	Get(ctx context.Context, id string) (*domain.Complaint, error)
	Update(ctx context.Context, id string, f func(*domain.Complaint) error) (*domain.Complaint, error)
	MarkDuplicate(ctx context.Context, id, of, by string, at time.Time, f func(dup, orig *domain.Complaint) error) (*domain.Complaint, *domain.Complaint, error)
}

// Notifier tells the citizen that their complaint's status changed. It is called once
// after each successful change, before the staff member gets the answer, with a
// context that is not cancelled when they hang up; it should return quickly (queue
// the message) and handle its own failures.
type Notifier interface {
	StatusChanged(ctx context.Context, c *domain.Complaint)
}

// Config is what the API needs.
type Config struct {
	// Token is the bearer token staff present (ADMIN_TOKEN). Empty turns the API off.
	Token      string
	Complaints Complaints
	Notifier   Notifier         // may be nil: nobody is told
	Now        func() time.Time // nil: time.Now
	Logger     *slog.Logger     // nil: discard
	// Location is the time zone of the dates in the CSV export and its file name
	// (TZ_REGION); nil: UTC.
	Location *time.Location
	// Guard throttles client addresses that present wrong tokens; nil: one with
	// guard's defaults, logging to Logger.
	Guard *guard.Guard
	// Accounts finds the staff account of a personal token; nil: only Token lets
	// anyone in. With accounts the API is on even without Token.
	Accounts Accounts
	// Agencies are the region's agencies (region.yaml), to which complaints are
	// passed; none: disposition is refused.
	Agencies []domain.Agency
	// Audit, when set, records every change made through the API (who, what, when,
	// from which address) and serves the log to admins (GET /api/admin/audit).
	Audit AuditLog
	// Reports, when set, serves the leaders' monthly reports (GET /api/admin/reports).
	Reports Reports
	// Session finds the account of a request signed in to the staff workspace (its
	// cookie), for the reads its pages make, such as the live streams that a
	// browser's EventSource opens without a bearer token. It is asked only for GET
	// and HEAD requests without an Authorization header: changes always need a token
	// (the workspace's own forms carry a CSRF token instead). ok is false without a
	// good session. Nil: no session lets anyone in. A session does not turn the API
	// on: without Token and Accounts it stays off.
	Session func(r *http.Request) (acc domain.StaffAccount, ok bool, err error)
}

// Accounts finds staff accounts by personal API token; *store.Staff is one. An
// unknown token or a disabled account is an error for which errors.Is(err,
// domain.ErrNotFound) holds.
type Accounts interface {
	ByToken(ctx context.Context, token string) (domain.StaffAccount, error)
}

// adminTokenAccount is who presents ADMIN_TOKEN: an admin without an account.
var adminTokenAccount = domain.StaffAccount{Name: DefaultBy, Role: domain.RoleAdmin}

type accountKey struct{}

// account returns the staff account a request was let in as.
func account(r *http.Request) domain.StaffAccount {
	acc, _ := r.Context().Value(accountKey{}).(domain.StaffAccount)
	return acc
}

// Server serves the staff API.
type Server struct {
	tokenSum   [sha256.Size]byte
	enabled    bool
	hasToken   bool
	complaints Complaints
	notifier   Notifier
	now        func() time.Time
	log        *slog.Logger
	loc        *time.Location
	broadcasts *BroadcastConfig // nil: no broadcast routes
	handoffs   *HandoffConfig   // nil: no conversation routes
	knowledge  Knowledge        // nil: no knowledge base routes
	guard      *guard.Guard
	accounts   Accounts
	agencies   []domain.Agency
	audit      AuditLog
	reports    Reports
	session    func(r *http.Request) (domain.StaffAccount, bool, error)
}

// New returns the staff API described by cfg.
func New(cfg Config) *Server {
	s := &Server{
		tokenSum:   sha256.Sum256([]byte(cfg.Token)),
		enabled:    cfg.Token != "" || cfg.Accounts != nil,
		session:    cfg.Session,
		hasToken:   cfg.Token != "",
		accounts:   cfg.Accounts,
		agencies:   cfg.Agencies,
		audit:      cfg.Audit,
		reports:    cfg.Reports,
		complaints: cfg.Complaints,
		notifier:   cfg.Notifier,
		now:        cfg.Now,
		log:        cfg.Logger,
		loc:        cfg.Location,
		guard:      cfg.Guard,
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.loc == nil {
		s.loc = time.UTC
	}
	if s.guard == nil {
		s.guard = guard.New(guard.Config{Name: "admin API", Logger: s.log})
	}
	return s
}

// Enabled reports whether the API is on, that is whether a token is configured.
func (s *Server) Enabled() bool { return s.enabled }

// Register adds the API's routes to mux; with the API off it adds nothing, so every
// /api/admin/ path answers as the mux answers unknown paths (404).
func (s *Server) Register(mux *http.ServeMux) {
	if !s.enabled {
		return
	}
	if s.complaints == nil {
		panic("admin: Config.Complaints is required when Config.Token or Config.Accounts is set")
	}
	s.registerComplaints(mux)
	s.registerAudit(mux)
	s.registerReports(mux)
	s.registerBroadcasts(mux)
	s.registerHandoffs(mux)
	s.registerKnowledge(mux)
}

// authorized lets a request through to h only with the right bearer token. The
// comparison takes the same time whatever the presented token is. A client that
// presented too many wrong tokens is refused before its token is looked at.
//
// The token is ADMIN_TOKEN (an admin) or a staff account's personal token (that
// account's role); a role that may not do perm gets 403.
func (s *Server) authorized(perm domain.Permission, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if wait := s.guard.Throttled(r); wait > 0 {
			w.Header().Set("Retry-After", guard.RetryAfter(wait))
			httpjson.Error(w, http.StatusTooManyRequests, "too many wrong tokens from this address; try again later")
			return
		}
		admit := func(acc domain.StaffAccount) {
			if !acc.Role.Can(perm) {
				httpjson.Error(w, http.StatusForbidden, fmt.Sprintf("forbidden: the %s role may not do this", acc.Role))
				return
			}
			s.audited(acc, h)(w, r.WithContext(context.WithValue(r.Context(), accountKey{}, acc)))
		}
		if s.session != nil && r.Header.Get("Authorization") == "" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			acc, ok, err := s.session(r)
			if err != nil {
				s.unavailable(w, r, err)
				return
			}
			if ok {
				admit(acc)
				return
			}
		}
		presented, ok := bearer(r.Header.Get("Authorization"))
		reason := "no bearer token"
		if ok {
			acc, found, err := s.identify(r.Context(), presented)
			if err != nil {
				s.unavailable(w, r, err)
				return
			}
			if found {
				admit(acc)
				return
			}
			reason = "wrong token"
		}
		// Summed up once a minute, never the token itself: a near miss may be the real
		// one mistyped.
		s.guard.Fail(r, reason)
		w.Header().Set("WWW-Authenticate", "Bearer")
		httpjson.Error(w, http.StatusUnauthorized, "unauthorized")
	}
}

// identify returns the account a presented token belongs to.
func (s *Server) identify(ctx context.Context, presented string) (domain.StaffAccount, bool, error) {
	sum := sha256.Sum256([]byte(presented))
	if s.hasToken && subtle.ConstantTimeCompare(sum[:], s.tokenSum[:]) == 1 {
		return adminTokenAccount, true, nil
	}
	if s.accounts == nil {
		return domain.StaffAccount{}, false, nil
	}
	acc, err := s.accounts.ByToken(ctx, presented)
	if errors.Is(err, domain.ErrNotFound) {
		return domain.StaffAccount{}, false, nil
	}
	if err != nil {
		return domain.StaffAccount{}, false, err
	}
	return acc, true, nil
}

// bearer returns the credentials of an "Authorization: Bearer <token>" header; the
// scheme is case-insensitive (RFC 7235).
func bearer(header string) (string, bool) {
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// readJSON reads a request body of at most MaxBody bytes holding one JSON object into
// v, or writes the error (413 too large, 400 unreadable or not one object) and reports
// false.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool { return readBody(w, r, v, false) }

// readBody is readJSON; with optional, an empty body is an empty object.
func readBody(w http.ResponseWriter, r *http.Request, v any, optional bool) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			httpjson.Error(w, http.StatusRequestEntityTooLarge, "request body is larger than 16 KiB")
			return false
		}
		httpjson.Error(w, http.StatusBadRequest, "request body could not be read")
		return false
	}
	if optional && len(bytes.TrimSpace(body)) == 0 {
		return true
	}
	if err := json.Unmarshal(body, v); err != nil {
		httpjson.Error(w, http.StatusBadRequest, "request body is not one valid JSON object")
		return false
	}
	return true
}

// explain says why a status change was refused and, for an illegal one, which
// changes the complaint does allow.
func explain(err error, c *domain.Complaint, at time.Time) string {
	if !errors.Is(err, domain.ErrIllegalTransition) {
		return err.Error()
	}
	var next []domain.Status
	for _, to := range domain.Statuses() {
		probe := *c
		probe.History = slices.Clone(c.History)
		if probe.Transition(to, "", "probe", at) == nil {
			next = append(next, to)
		}
	}
	if len(next) == 0 {
		return fmt.Sprintf("%v; a complaint that is %s cannot change any more", err, c.Status)
	}
	return fmt.Sprintf("%v; from %s it can become: %s", err, c.Status, statusList(next))
}

// checkBy returns why a staff name cannot be recorded, or "". The names the system
// itself records ("citizen", "system") are refused so that the history stays true.
func checkBy(by string) string {
	if utf8.RuneCountInString(by) > MaxBy {
		return fmt.Sprintf(`"by" is at most %d characters`, MaxBy)
	}
	if strings.ContainsFunc(by, unicode.IsControl) {
		return `"by" must be one line of text`
	}
	if by == "citizen" || by == "system" {
		return fmt.Sprintf(`"by" may not be %q: that name is kept for the history's own entries`, by)
	}
	return ""
}

func known(s domain.Status) bool { return slices.Contains(domain.Statuses(), s) }

func statusList(ss []domain.Status) string {
	names := make([]string, len(ss))
	for i, s := range ss {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

func (s *Server) unavailable(w http.ResponseWriter, r *http.Request, err error) {
	s.log.ErrorContext(r.Context(), "admin API request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	httpjson.Error(w, http.StatusServiceUnavailable, "the service is busy, please try again")
}
