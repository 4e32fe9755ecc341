// Package staffweb is the staff workspace in the browser, under /staff/: signing in,
// the complaints desk (inbox, one complaint with its map, photos and history, and
// the actions on it), broadcasts and the tip of the day, the conversations that
// people handed to a member of staff, the monthly report and the audit log.
//
// Pages are rendered on the server (html/template) in Indonesian or English, with a
// few small embedded scripts and Leaflet (vendored in static/leaflet) for the map:
// no build step and nothing loaded from another site but the map tiles.
//
// Who may see and do what is decided here, on the server, for every page and every
// form, by the account's role (domain.Role) and, for an officer, their agency:
// without a session a page redirects (303) to /staff/login and a form or a photo is
// 401; a role that may not is 403; a complaint outside an officer's agency is 404.
// Every form carries the session's CSRF token; the sign-in form instead checks
// Origin and Sec-Fetch-Site.
package staffweb

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/layan-id/layan/bot/guard"
	"github.com/layan-id/layan/domain"
)

//go:embed templates static
var files embed.FS

// Texts renders the workspace's texts in a language, and says when a broadcast runs
// in words (*locales.Catalog is one).
type Texts interface {
	Text(lang, key string, data map[string]any) (string, error)
	Schedule(lang string, t domain.Timing) (string, error)
}

// Accounts are the staff accounts (*store.Staff). Verify answers
// domain.ErrBadCredentials for a wrong name or password or a disabled account, and a
// *domain.LockedError while the account is locked; Get answers an error for which
// errors.Is(err, domain.ErrNotFound) holds for no such account.
type Accounts interface {
	Verify(ctx context.Context, name, password string) (domain.StaffAccount, error)
	Get(ctx context.Context, name string) (domain.StaffAccount, error)
	SetPassword(ctx context.Context, name, password string) error
}

// Sessions keeps the web sessions where every replica finds them
// (*store.StaffSessions). Get keeps a session alive for another idle period; an
// unknown or expired token is an error for which errors.Is(err, domain.ErrNotFound)
// holds.
type Sessions interface {
	Create(ctx context.Context, name string, now time.Time, idle, max time.Duration) (string, domain.StaffSession, error)
	Get(ctx context.Context, token string, now time.Time, idle, max time.Duration) (domain.StaffSession, error)
	Delete(ctx context.Context, token string) error
	DeleteAll(ctx context.Context, name, keep string) error
}

// Defaults of Config.
const (
	DefaultIdle     = 30 * time.Minute
	DefaultLifetime = 12 * time.Hour
	DefaultTiles    = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
)

// Config is what the workspace needs. Texts, Accounts and Sessions are required;
// each section (complaints, broadcasts, conversations) is on when its part is set.
type Config struct {
	Texts    Texts
	Accounts Accounts
	Sessions Sessions

	Complaints *ComplaintsConfig
	Broadcasts *BroadcastsConfig
	Handoffs   *HandoffsConfig
	Knowledge  Knowledge // nil: no knowledge base pages
	Records    *RecordsConfig

	// Idle ends a session unused this long (STAFF_SESSION_IDLE); Lifetime ends any
	// session this long after signing in. Zero: DefaultIdle, DefaultLifetime.
	Idle, Lifetime time.Duration
	// HTTPS reports whether the client reached the service over HTTPS (clientip.HTTPS):
	// the session cookie is then Secure. Nil: only a TLS connection counts.
	HTTPS func(r *http.Request) bool
	// Guard limits wrong sign-ins per client address; nil: 10 tries, one back a
	// minute.
	Guard    *guard.Guard
	Location *time.Location   // dates as staff read them (TZ_REGION); nil: UTC
	Now      func() time.Time // nil: time.Now
	Logger   *slog.Logger     // nil: discard
	// MinPassword is the shortest new password accepted (store.MinPasswordLength).
	MinPassword int
	// Audit, when set, is told of every change made in the workspace, after it was
	// answered: each form sent (its route, the id in its path, the agency
	// it names as detail, the status answered; signing out is one) and each sign-in.
	// Never a password, a token or a text typed into a form.
	Audit func(r *http.Request, e AuditEntry)
}

// AuditEntry is one change made in the workspace, for the audit log.
type AuditEntry struct {
	Account domain.StaffAccount
	Action  string // the route: "POST /staff/complaints/{id}/dispose", "POST /staff/login"
	Target  string // the id in the path: a ticket, a broadcast, a conversation
	Detail  string // e.g. "agency=pupr"
	Status  int    // the status answered
}

// Server serves the workspace.
type Server struct {
	cfg   Config
	log   *slog.Logger
	now   func() time.Time
	loc   *time.Location
	guard *guard.Guard
	pages map[string]*template.Template
}

// New returns the workspace described by cfg.
func New(cfg Config) (*Server, error) {
	if cfg.Texts == nil || cfg.Accounts == nil || cfg.Sessions == nil {
		return nil, errors.New("staffweb: Texts, Accounts and Sessions are required")
	}
	s := &Server{cfg: cfg, log: cfg.Logger, now: cfg.Now, loc: cfg.Location, guard: cfg.Guard}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.loc == nil {
		s.loc = time.UTC
	}
	if s.cfg.Idle <= 0 {
		s.cfg.Idle = DefaultIdle
	}
	if s.cfg.Lifetime <= 0 {
		s.cfg.Lifetime = DefaultLifetime
	}
	if s.cfg.HTTPS == nil {
		s.cfg.HTTPS = func(r *http.Request) bool { return r.TLS != nil }
	}
	if s.guard == nil {
		s.guard = guard.New(guard.Config{Name: "staff sign-in", Logger: s.log, Tries: 10, Every: time.Minute})
	}
	if c := s.cfg.Complaints; c != nil && c.Tiles == "" {
		c.Tiles = DefaultTiles
	}
	var err error
	if s.pages, err = parsePages(); err != nil {
		return nil, err
	}
	return s, nil
}

// parsePages parses each page with the layout around it.
func parsePages() (map[string]*template.Template, error) {
	names, err := fs.Glob(files, "templates/*.html")
	if err != nil {
		return nil, err
	}
	layout, err := template.New("layout.html").Funcs(funcs()).ParseFS(files, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("staffweb: parse layout: %w", err)
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name == "layout" {
			continue
		}
		t, err := template.Must(layout.Clone()).ParseFS(files, n)
		if err != nil {
			return nil, fmt.Errorf("staffweb: parse %s: %w", n, err)
		}
		pages[name] = t
	}
	return pages, nil
}

// Register adds the workspace's routes to mux.
func (s *Server) Register(mux *http.ServeMux) {
	mux.Handle("GET /staff/static/", s.static())
	mux.HandleFunc("GET /staff/login", s.loginPage)
	mux.HandleFunc("POST /staff/login", s.login)
	mux.HandleFunc("POST /staff/logout", s.form(domain.PermRead, s.logout))
	mux.HandleFunc("GET /staff/lang/{lang}", s.setLang)
	mux.HandleFunc("GET /staff/password", s.page(domain.PermRead, s.passwordPage))
	mux.HandleFunc("POST /staff/password", s.form(domain.PermRead, s.changePassword))
	mux.HandleFunc("GET /staff/{$}", s.page(domain.PermRead, s.home))
	mux.HandleFunc("GET /staff", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/staff/", http.StatusMovedPermanently)
	})
	// Anything else under /staff/: the sign-in page without a session, 404 with one.
	mux.HandleFunc("/staff/", s.page(domain.PermRead, func(w http.ResponseWriter, r *http.Request, v *visit) {
		s.notFound(w, r, v)
	}))
	s.registerComplaints(mux)
	s.registerBroadcasts(mux)
	s.registerHandoffs(mux)
	s.registerKnowledge(mux)
	s.registerRecords(mux)
}

// home is the first page after signing in: the first section the role works in.
func (s *Server) home(w http.ResponseWriter, r *http.Request, v *visit) {
	switch {
	case s.cfg.Complaints != nil:
		s.inbox(w, r, v)
	case s.cfg.Broadcasts != nil:
		http.Redirect(w, r, "/staff/broadcasts", http.StatusSeeOther)
	case s.cfg.Handoffs != nil:
		http.Redirect(w, r, "/staff/conversations", http.StatusSeeOther)
	default:
		s.render(w, r, v, http.StatusOK, "empty", nil)
	}
}

// static serves the workspace's scripts, styles and Leaflet; directories are not
// listed.
func (s *Server) static() http.Handler {
	sub, _ := fs.Sub(files, "static")
	fileServer := http.StripPrefix("/staff/static/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "public, max-age=3600")
		fileServer.ServeHTTP(w, r)
	})
}

// view is what every page's template gets.
type view struct {
	T     tr
	Acc   domain.StaffAccount
	CSRF  string
	Path  string // the page's own path and query, for the language switch
	Nav   string // the section the page belongs to
	Can   map[string]bool
	Title string
	Tab   string // the tab of its section's sub-menu a page shows (the knowledge base's)
	Data  any
}

// render writes a page with the layout; the page's template is named after name.
func (s *Server) render(w http.ResponseWriter, r *http.Request, v *visit, status int, name string, data any) {
	t, ok := s.pages[name]
	if !ok {
		panic("staffweb: no page " + name)
	}
	vw := view{T: v.T, Acc: v.acc, CSRF: v.sess.CSRF, Path: r.URL.RequestURI(), Nav: navOf(name), Data: data,
		Can: map[string]bool{
			"complaints":    s.cfg.Complaints != nil,
			"broadcasts":    s.cfg.Broadcasts != nil,
			"conversations": s.cfg.Handoffs != nil,
			"broadcast":     v.acc.Role.Can(domain.PermBroadcasts),
			"converse":      v.acc.Role.Can(domain.PermConversation),
			"knowledge":     s.cfg.Knowledge != nil && v.acc.Role.Can(domain.PermKnowledge),
			"reports":       s.cfg.Records != nil && s.cfg.Records.Reports != nil,
			"audit":         s.cfg.Records != nil && s.cfg.Records.Audit != nil && v.acc.Role.Can(domain.PermAudit),
		}}
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, "layout", vw); err != nil {
		s.log.ErrorContext(r.Context(), "staff workspace: render page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	s.headers(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	io.WriteString(w, b.String())
}

// fragment writes one template of a page alone (the part a page's script fetches
// to show anew), without the layout.
func (s *Server) fragment(w http.ResponseWriter, r *http.Request, v *visit, page, name string, data any) {
	var b strings.Builder
	if err := s.pages[page].ExecuteTemplate(&b, name, view{T: v.T, Data: data}); err != nil {
		s.unavailable(w, r, v, err)
		return
	}
	s.headers(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	io.WriteString(w, b.String())
}

// headers are the security headers of every page: scripts and styles only from here,
// images from here and the map's tile server, no framing, no caching.
func (s *Server) headers(w http.ResponseWriter) {
	img := "'self' data: blob:"
	if c := s.cfg.Complaints; c != nil {
		if u, err := url.Parse(strings.NewReplacer("{s}", "a", "{z}", "0", "{x}", "0", "{y}", "0").Replace(c.Tiles)); err == nil && u.Host != "" {
			host := u.Host
			if strings.Contains(c.Tiles, "{s}.") {
				host = "*." + strings.SplitN(host, ".", 2)[1]
			}
			img += " " + u.Scheme + "://" + host
		}
	}
	w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src "+img+
		"; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Referrer-Policy", "same-origin")
	w.Header().Set("Cache-Control", "no-store")
}

func navOf(page string) string {
	switch {
	case strings.HasPrefix(page, "complaint") || page == "inbox":
		return "complaints"
	case strings.HasPrefix(page, "broadcast"):
		return "broadcasts"
	case strings.HasPrefix(page, "conversation"):
		return "conversations"
	case strings.HasPrefix(page, "kb"):
		return "kb"
	case page == "reports", page == "audit":
		return page
	}
	return ""
}

// notFound answers 404 with a page.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request, v *visit) {
	s.render(w, r, v, http.StatusNotFound, "error", errorPage{Key: "workspace.error.not_found"})
}

// forbidden answers 403 with a page.
func (s *Server) forbidden(w http.ResponseWriter, r *http.Request, v *visit) {
	s.render(w, r, v, http.StatusForbidden, "error", errorPage{Key: "workspace.error.forbidden"})
}

// unavailable answers 503 with a page and logs what failed.
func (s *Server) unavailable(w http.ResponseWriter, r *http.Request, v *visit, err error) {
	s.log.ErrorContext(r.Context(), "staff workspace: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	s.render(w, r, v, http.StatusServiceUnavailable, "error", errorPage{Key: "workspace.error.unavailable"})
}

type errorPage struct{ Key string }
