package staffweb

import (
	"errors"
	"net/http"
	"net/url"
	"slices"

	"github.com/layan-id/layan/domain"
)

// found reports whether a read of what a page or form is about succeeded; if not, it
// has answered: 404 for domain.ErrNotFound (also what an account may not see), 503
// for any other error.
func (s *Server) found(w http.ResponseWriter, r *http.Request, v *visit, err error) bool {
	switch {
	case errors.Is(err, domain.ErrNotFound):
		s.notFound(w, r, v)
		return false
	case err != nil:
		s.unavailable(w, r, v, err)
		return false
	}
	return true
}

// done goes back to a page after a form did what it asked (303, so that a reload
// does not send the form again), naming the action for the page's message
// (doneFlash).
func done(w http.ResponseWriter, r *http.Request, page, action string) {
	http.Redirect(w, r, page+"?done="+url.QueryEscape(action), http.StatusSeeOther)
}

// doneFlash is the text key prefix+action of the message a page shows after done
// redirected to it, or "" when the request names no action of actions.
func doneFlash(r *http.Request, prefix string, actions ...string) string {
	if a := r.URL.Query().Get("done"); a != "" && slices.Contains(actions, a) {
		return prefix + a
	}
	return ""
}
