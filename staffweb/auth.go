package staffweb

import (
	"cmp"
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/layan-id/layan/bot/guard"
	"github.com/layan-id/layan/domain"
)

// Cookie names: the session (HttpOnly, SameSite=Strict, Secure over HTTPS) and the
// language chosen (not a secret).
const (
	SessionCookie = "layan_staff"
	LangCookie    = "layan_staff_lang"
)

// MaxForm is the largest form body read (a broadcast's two texts fit well).
const MaxForm = 64 << 10

// visit is one request of a member of staff: who, their session and language.
type visit struct {
	acc   domain.StaffAccount
	sess  domain.StaffSession
	token string
	T     tr
	// What a form's handler adds to its audit entry: the record it acted on when its
	// path names none, and a detail (never a text typed into the form).
	target, detail string
}

type visitKey struct{}

// page wraps a GET handler: without a session it redirects (303) to the sign-in
// page; a role that may not do perm gets 403.
func (s *Server) page(perm domain.Permission, h func(http.ResponseWriter, *http.Request, *visit)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, err := s.identify(r)
		if err != nil {
			s.unavailable(w, r, s.anonymous(r), err)
			return
		}
		if v == nil {
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				http.Redirect(w, r, "/staff/login", http.StatusSeeOther)
				return
			}
			s.unauthorized(w, r)
			return
		}
		if !v.acc.Role.Can(perm) {
			s.forbidden(w, r, v)
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), visitKey{}, v)), v)
	}
}

// form wraps a POST handler: without a session it answers 401, without the
// session's CSRF token 403, and a role that may not do perm 403.
func (s *Server) form(perm domain.Permission, h func(http.ResponseWriter, *http.Request, *visit)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, MaxForm)
		v, err := s.identify(r)
		if err != nil {
			s.unavailable(w, r, s.anonymous(r), err)
			return
		}
		if v == nil {
			s.unauthorized(w, r)
			return
		}
		if err := r.ParseForm(); err != nil {
			s.render(w, r, v, http.StatusBadRequest, "error", errorPage{Key: "workspace.error.bad_form"})
			return
		}
		got := r.PostForm.Get("csrf")
		if got == "" {
			got = r.Header.Get("X-CSRF-Token") // the scripts' requests
		}
		if subtle.ConstantTimeCompare([]byte(got), []byte(v.sess.CSRF)) != 1 {
			s.render(w, r, v, http.StatusForbidden, "error", errorPage{Key: "workspace.error.csrf"})
			return
		}
		rec := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			detail, target := v.detail, cmp.Or(r.PathValue("id"), v.target)
			if a := r.PostForm.Get("agency"); a != "" && len(a) <= 32 {
				detail = "agency=" + a
			}
			action := r.Pattern // as the staff API names its changes
			if a := r.PathValue("action"); a != "" {
				action = strings.Replace(action, "{action}", a, 1)
			}
			s.audit(r, AuditEntry{Account: v.acc, Action: action, Target: target, Detail: detail, Status: rec.status})
		}()
		if !v.acc.Role.Can(perm) {
			s.forbidden(rec, r, v)
			return
		}
		h(rec, r, v)
	}
}

// statusWriter remembers the status a handler answered, for the audit log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	w.status = status
	w.ResponseWriter.WriteHeader(status)
}

// audit tells Config.Audit of a change, if it listens.
func (s *Server) audit(r *http.Request, e AuditEntry) {
	if s.cfg.Audit != nil {
		s.cfg.Audit(r, e)
	}
}

// unauthorized answers 401 to a form or file asked for without a session.
func (s *Server) unauthorized(w http.ResponseWriter, r *http.Request) {
	s.headers(w)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusUnauthorized)
	t := s.tr(s.lang(r))
	w.Write([]byte(t.S("workspace.error.signed_out") + "\n"))
}

// identify returns the member of staff a request comes from, or nil without a good
// session (none, expired, or its account gone or disabled). An error is the store's.
func (s *Server) identify(r *http.Request) (*visit, error) {
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" {
		return nil, nil
	}
	ctx := r.Context()
	sess, err := s.cfg.Sessions.Get(ctx, c.Value, s.now(), s.cfg.Idle, s.cfg.Lifetime)
	if errors.Is(err, domain.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	acc, err := s.cfg.Accounts.Get(ctx, sess.Name)
	if errors.Is(err, domain.ErrNotFound) || err == nil && acc.Disabled {
		s.cfg.Sessions.Delete(ctx, c.Value)
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &visit{acc: acc, sess: sess, token: c.Value, T: s.tr(s.lang(r))}, nil
}

// Account returns the account of a request's session, for the staff API's live
// streams that the workspace's pages open (admin.Config.Session). ok is false
// without a good session.
func (s *Server) Account(r *http.Request) (acc domain.StaffAccount, ok bool, err error) {
	v, err := s.identify(r)
	if err != nil || v == nil {
		return domain.StaffAccount{}, false, err
	}
	return v.acc, true, nil
}

// anonymous is the visit of someone not signed in, for the pages they may see.
func (s *Server) anonymous(r *http.Request) *visit { return &visit{T: s.tr(s.lang(r))} }

// lang is the language of the workspace for a request: the one chosen, else the
// browser's, else Indonesian.
func (s *Server) lang(r *http.Request) string {
	if c, err := r.Cookie(LangCookie); err == nil && (c.Value == "id" || c.Value == "en") {
		return c.Value
	}
	return preferredLang(r.Header.Get("Accept-Language"))
}

// preferredLang picks id or en from an Accept-Language header: the first of them
// named, else id.
func preferredLang(header string) string {
	for _, part := range strings.Split(header, ",") {
		tag, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		base, _, _ := strings.Cut(strings.ToLower(tag), "-")
		if base == "id" || base == "en" {
			return base
		}
	}
	return "id"
}

// setLang keeps the language chosen and goes back to the page it was chosen on.
func (s *Server) setLang(w http.ResponseWriter, r *http.Request) {
	lang := r.PathValue("lang")
	if lang != "id" && lang != "en" {
		http.NotFound(w, r)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: LangCookie, Value: lang, Path: "/staff/", MaxAge: 365 * 24 * 3600,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.cfg.HTTPS(r)})
	http.Redirect(w, r, localPath(r.URL.Query().Get("next")), http.StatusSeeOther)
}

// localPath returns next when it is a path of the workspace, else /staff/: a link
// can never send staff to another site.
func localPath(next string) string {
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || !strings.HasPrefix(u.Path, "/staff/") ||
		strings.HasPrefix(next, "//") || strings.Contains(next, "\\") {
		return "/staff/"
	}
	return u.RequestURI()
}

type loginData struct {
	Username string
	Error    string // a text key
	Until    string // the end of a lockout
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	if v, err := s.identify(r); err == nil && v != nil {
		http.Redirect(w, r, "/staff/", http.StatusSeeOther)
		return
	}
	s.render(w, r, s.anonymous(r), http.StatusOK, "login", loginData{})
}

// sameOrigin reports whether a sign-in comes from the workspace's own page: its
// Sec-Fetch-Site is same-origin and its Origin is this host, where the browser sends
// them. A request with neither (a script, an old browser) passes.
func sameOrigin(r *http.Request, https bool) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return false
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	scheme := "http"
	if https {
		scheme = "https"
	}
	return origin == scheme+"://"+r.Host
}

// login checks a name and password, starts a session and goes to the workspace. A
// client address that tried too many wrong passwords waits (429) before its next
// try is even looked at; an account with 10 wrong passwords in a row is locked for
// 15 minutes (the store's count, across replicas).
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, MaxForm)
	anon := s.anonymous(r)
	if !sameOrigin(r, s.cfg.HTTPS(r)) {
		s.render(w, r, anon, http.StatusForbidden, "error", errorPage{Key: "workspace.error.csrf"})
		return
	}
	if err := r.ParseForm(); err != nil {
		s.render(w, r, anon, http.StatusBadRequest, "error", errorPage{Key: "workspace.error.bad_form"})
		return
	}
	name := strings.ToLower(strings.TrimSpace(r.PostForm.Get("username")))
	password := r.PostForm.Get("password")
	if utf8.RuneCountInString(name) > 64 {
		name = ""
	}
	if wait := s.guard.Throttled(r); wait > 0 {
		w.Header().Set("Retry-After", guard.RetryAfter(wait))
		s.render(w, r, anon, http.StatusTooManyRequests, "login", loginData{Username: name, Error: "workspace.login.throttled"})
		return
	}
	ctx := r.Context()
	acc, err := s.cfg.Accounts.Verify(ctx, name, password)
	var locked *domain.LockedError
	switch {
	case errors.As(err, &locked):
		s.guard.Fail(r, "locked account")
		s.log.WarnContext(ctx, "staff sign-in refused: account locked", "account", name, "until", locked.Until)
		s.render(w, r, anon, http.StatusForbidden, "login", loginData{Username: name, Error: "workspace.login.locked",
			Until: locked.Until.In(s.loc).Format("15.04")})
		return
	case errors.Is(err, domain.ErrBadCredentials):
		s.guard.Fail(r, "wrong name or password")
		s.render(w, r, anon, http.StatusUnauthorized, "login", loginData{Username: name, Error: "workspace.login.wrong"})
		return
	case err != nil:
		s.unavailable(w, r, anon, err)
		return
	}
	token, _, err := s.cfg.Sessions.Create(ctx, acc.Name, s.now(), s.cfg.Idle, s.cfg.Lifetime)
	if err != nil {
		s.unavailable(w, r, anon, err)
		return
	}
	s.setSession(w, r, token)
	s.log.InfoContext(ctx, "staff signed in", "account", acc.Name, "role", acc.Role)
	s.audit(r, AuditEntry{Account: acc, Action: r.Pattern, Status: http.StatusSeeOther})
	http.Redirect(w, r, "/staff/", http.StatusSeeOther)
}

// setSession sets (or, with "", clears) the session cookie.
func (s *Server) setSession(w http.ResponseWriter, r *http.Request, token string) {
	c := &http.Cookie{Name: SessionCookie, Value: token, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: s.cfg.HTTPS(r)}
	if token == "" {
		c.MaxAge = -1
	}
	http.SetCookie(w, c)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request, v *visit) {
	if err := s.cfg.Sessions.Delete(r.Context(), v.token); err != nil {
		s.unavailable(w, r, v, err)
		return
	}
	s.setSession(w, r, "")
	s.log.InfoContext(r.Context(), "staff signed out", "account", v.acc.Name)
	http.Redirect(w, r, "/staff/login", http.StatusSeeOther)
}

type passwordData struct {
	Error, Done string // text keys
	Min         int
}

func (s *Server) passwordPage(w http.ResponseWriter, r *http.Request, v *visit) {
	s.render(w, r, v, http.StatusOK, "password", passwordData{Min: s.cfg.MinPassword})
}

// changePassword replaces the password after checking the current one (a wrong one
// counts towards the lockout like a wrong sign-in) and ends the account's other
// sessions.
func (s *Server) changePassword(w http.ResponseWriter, r *http.Request, v *visit) {
	ctx := r.Context()
	current, next, again := r.PostForm.Get("current"), r.PostForm.Get("new"), r.PostForm.Get("again")
	fail := func(status int, key string) {
		s.render(w, r, v, status, "password", passwordData{Error: key, Min: s.cfg.MinPassword})
	}
	if wait := s.guard.Throttled(r); wait > 0 {
		w.Header().Set("Retry-After", guard.RetryAfter(wait))
		fail(http.StatusTooManyRequests, "workspace.login.throttled")
		return
	}
	_, err := s.cfg.Accounts.Verify(ctx, v.acc.Name, current)
	var locked *domain.LockedError
	switch {
	case errors.As(err, &locked), errors.Is(err, domain.ErrBadCredentials):
		s.guard.Fail(r, "wrong current password")
		fail(http.StatusForbidden, "workspace.password.wrong_current")
		return
	case err != nil:
		s.unavailable(w, r, v, err)
		return
	}
	switch {
	case next != again:
		fail(http.StatusBadRequest, "workspace.password.mismatch")
		return
	case utf8.RuneCountInString(next) < s.cfg.MinPassword:
		fail(http.StatusBadRequest, "workspace.password.short")
		return
	case next == current:
		fail(http.StatusBadRequest, "workspace.password.same")
		return
	}
	if err := s.cfg.Accounts.SetPassword(ctx, v.acc.Name, next); err != nil {
		s.unavailable(w, r, v, err)
		return
	}
	if err := s.cfg.Sessions.DeleteAll(ctx, v.acc.Name, v.token); err != nil {
		s.unavailable(w, r, v, err)
		return
	}
	s.log.InfoContext(ctx, "staff password changed; other sessions ended", "account", v.acc.Name)
	s.render(w, r, v, http.StatusOK, "password", passwordData{Done: "workspace.password.done", Min: s.cfg.MinPassword})
}
