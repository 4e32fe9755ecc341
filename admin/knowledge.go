package admin

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/layan-id/layan/bot/httpjson"
	"github.com/layan-id/layan/domain"
)

// Knowledge is the FAQ's knowledge base in staff hands (*knowledge.Base).
type Knowledge interface {
	Entries(ctx context.Context) ([]domain.FAQListed, error)
	Publish(ctx context.Context, e domain.FAQEntry, by string) (domain.FAQChange, error)
	Try(ctx context.Context, draft domain.FAQEntry, question, lang string) (domain.FAQTry, error)
	Changes(ctx context.Context, id string, n int) ([]domain.FAQChange, error)
	Unanswered(ctx context.Context, newest bool, n int) ([]domain.FAQUnanswered, error)
}

// EnableKnowledge adds the knowledge base's routes (admins only): GET
// /api/admin/faq/entries, PUT /api/admin/faq/entries/{id} (publish), POST
// /api/admin/faq/try, GET /api/admin/faq/changes[?id=] and GET
// /api/admin/faq/unanswered[?sort=newest].
func (s *Server) EnableKnowledge(k Knowledge) { s.knowledge = k }

func (s *Server) registerKnowledge(mux *http.ServeMux) {
	if s.knowledge == nil {
		return
	}
	mux.HandleFunc("GET /api/admin/faq/entries", s.authorized(domain.PermKnowledge, s.faqEntries))
	mux.HandleFunc("PUT /api/admin/faq/entries/{id}", s.authorized(domain.PermKnowledge, s.faqPublish))
	mux.HandleFunc("POST /api/admin/faq/try", s.authorized(domain.PermKnowledge, s.faqTry))
	mux.HandleFunc("GET /api/admin/faq/changes", s.authorized(domain.PermKnowledge, s.faqChanges))
	mux.HandleFunc("GET /api/admin/faq/unanswered", s.authorized(domain.PermKnowledge, s.faqUnanswered))
}

func (s *Server) faqEntries(w http.ResponseWriter, r *http.Request) {
	all, err := s.knowledge.Entries(r.Context())
	if err != nil {
		s.unavailable(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"entries": all})
}

// faqPublish publishes the entry in the body (domain.FAQEntry; its id is the path's)
// under the account's name, for every replica.
func (s *Server) faqPublish(w http.ResponseWriter, r *http.Request) {
	var e domain.FAQEntry
	if !readJSON(w, r, &e) {
		return
	}
	e.ID = r.PathValue("id")
	change, err := s.knowledge.Publish(r.Context(), e, account(r).Name)
	var problem *domain.FAQProblem
	switch {
	case errors.As(err, &problem):
		httpjson.Error(w, http.StatusBadRequest, "entry: "+problem.Reason)
		return
	case err != nil:
		s.unavailable(w, r, err)
		return
	}
	noteAudit(r, "changed=%s", strings.Join(change.Fields, ","))
	httpjson.Write(w, http.StatusOK, change)
}

type tryRequest struct {
	Entry    domain.FAQEntry `json:"entry"`
	Question string          `json:"question"`
	Lang     string          `json:"lang"`
}

// faqTry says what a person would get for a question if the draft entry were
// published; nothing is stored.
func (s *Server) faqTry(w http.ResponseWriter, r *http.Request) {
	var req tryRequest
	if !readJSON(w, r, &req) {
		return
	}
	if req.Lang != "en" {
		req.Lang = "id"
	}
	if req.Question == "" {
		httpjson.Error(w, http.StatusBadRequest, `"question" is required`)
		return
	}
	got, err := s.knowledge.Try(r.Context(), req.Entry, req.Question, req.Lang)
	if err != nil {
		s.unavailable(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, got)
}

func (s *Server) faqChanges(w http.ResponseWriter, r *http.Request) {
	changes, err := s.knowledge.Changes(r.Context(), r.URL.Query().Get("id"), listLimit(r))
	if err != nil {
		s.unavailable(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"changes": changes})
}

func (s *Server) faqUnanswered(w http.ResponseWriter, r *http.Request) {
	qs, err := s.knowledge.Unanswered(r.Context(), r.URL.Query().Get("sort") == "newest", listLimit(r))
	if err != nil {
		s.unavailable(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"questions": qs})
}

// listLimit is ?limit= from 1 to 1000, 100 when absent or unreadable.
func listLimit(r *http.Request) int {
	if n, err := strconv.Atoi(r.URL.Query().Get("limit")); err == nil && n >= 1 && n <= 1000 {
		return n
	}
	return 100
}
