package staffweb

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/layan-id/layan/domain"
)

// Knowledge is the FAQ's knowledge base in staff hands (*knowledge.Base). Publish
// answers a *domain.FAQProblem for an entry that cannot be published; Try stores
// nothing.
type Knowledge interface {
	Entries(ctx context.Context) ([]domain.FAQListed, error)
	Entry(ctx context.Context, id string) (domain.FAQListed, bool, error)
	Try(ctx context.Context, draft domain.FAQEntry, question, lang string) (domain.FAQTry, error)
	Publish(ctx context.Context, e domain.FAQEntry, by string) (domain.FAQChange, error)
	Changes(ctx context.Context, id string, n int) ([]domain.FAQChange, error)
	Export(ctx context.Context) (map[string][]byte, error)
	Unanswered(ctx context.Context, newest bool, n int) ([]domain.FAQUnanswered, error)
	Feedback(ctx context.Context) (map[string][2]int64, error)
}

// kbListed is how many questions, entries or changes one list shows at most.
const kbListed = 200

func (s *Server) registerKnowledge(mux *http.ServeMux) {
	if s.cfg.Knowledge == nil {
		return
	}
	mux.HandleFunc("GET /staff/kb", s.page(domain.PermKnowledge, s.kbUnanswered))
	mux.HandleFunc("GET /staff/kb/entries", s.page(domain.PermKnowledge, s.kbEntries))
	mux.HandleFunc("GET /staff/kb/new", s.page(domain.PermKnowledge, s.kbNew))
	mux.HandleFunc("GET /staff/kb/entries/{id}", s.page(domain.PermKnowledge, s.kbEntry))
	mux.HandleFunc("POST /staff/kb/entries", s.form(domain.PermKnowledge, s.kbSubmit))
	mux.HandleFunc("GET /staff/kb/history", s.page(domain.PermKnowledge, s.kbHistory))
	mux.HandleFunc("GET /staff/kb/export", s.file(domain.PermKnowledge, s.kbExport))
}

type kbUnansweredData struct {
	Newest    bool
	Questions []domain.FAQUnanswered
}

// kbUnanswered lists the questions the FAQ could not answer, the most frequent or
// the newest first, each with what it gets now and a way to make an entry of it.
func (s *Server) kbUnanswered(w http.ResponseWriter, r *http.Request, v *visit) {
	d := kbUnansweredData{Newest: r.URL.Query().Get("sort") == "newest"}
	var err error
	if d.Questions, err = s.cfg.Knowledge.Unanswered(r.Context(), d.Newest, kbListed); err != nil {
		s.unavailable(w, r, v, err)
		return
	}
	s.render(w, r, v, http.StatusOK, "kb", d)
}

type kbRow struct {
	E        domain.FAQListed
	Question string // its first Indonesian phrasing
	Helpful  int64
	Not      int64
}

// kbEntries lists the entries with what people said of their answers, those most
// often found unhelpful first.
func (s *Server) kbEntries(w http.ResponseWriter, r *http.Request, v *visit) {
	ctx := r.Context()
	all, err := s.cfg.Knowledge.Entries(ctx)
	if err != nil {
		s.unavailable(w, r, v, err)
		return
	}
	fb, err := s.cfg.Knowledge.Feedback(ctx)
	if err != nil {
		s.unavailable(w, r, v, err)
		return
	}
	rows := make([]kbRow, len(all))
	for i, e := range all {
		rows[i] = kbRow{E: e, Question: first(e.Questions["id"]), Helpful: fb[e.ID][0], Not: fb[e.ID][1]}
	}
	slices.SortStableFunc(rows, func(a, b kbRow) int {
		if a.Not != b.Not {
			return int(b.Not - a.Not)
		}
		return int((b.Helpful + b.Not) - (a.Helpful + a.Not))
	})
	s.render(w, r, v, http.StatusOK, "kb_entries", rows)
}

func first(list []string) string {
	if len(list) == 0 {
		return ""
	}
	return list[0]
}

// kbForm is the entry form as staff filled it in.
type kbForm struct {
	New                      bool // a new entry: its id must not exist yet
	ID                       string
	QuestionsID, QuestionsEN string // one phrasing a line
	AnswerID, AnswerEN       string
	Tags                     string // separated by commas
	Try                      string // the question to try
	TryLang                  string
}

func formOf(e domain.FAQEntry) kbForm {
	return kbForm{ID: e.ID, QuestionsID: strings.Join(e.Questions["id"], "\n"), QuestionsEN: strings.Join(e.Questions["en"], "\n"),
		AnswerID: e.Answer["id"], AnswerEN: e.Answer["en"], Tags: strings.Join(e.Tags, ", "), TryLang: "id"}
}

func readKBForm(form url.Values) kbForm {
	f := kbForm{New: form.Get("new") == "1", ID: strings.TrimSpace(form.Get("id")), QuestionsID: form.Get("questions_id"),
		QuestionsEN: form.Get("questions_en"), AnswerID: form.Get("answer_id"), AnswerEN: form.Get("answer_en"),
		Tags: form.Get("tags"), Try: strings.TrimSpace(form.Get("try")), TryLang: form.Get("try_lang")}
	if f.TryLang != "en" {
		f.TryLang = "id"
	}
	return f
}

// entry is the entry the form describes (cleaned by the domain's rules).
func (f kbForm) entry() domain.FAQEntry {
	e := domain.FAQEntry{ID: f.ID, Questions: map[string][]string{"id": strings.Split(f.QuestionsID, "\n"),
		"en": strings.Split(f.QuestionsEN, "\n")}, Answer: map[string]string{"id": f.AnswerID, "en": f.AnswerEN},
		Tags: strings.FieldsFunc(f.Tags, func(r rune) bool { return r == ',' || r == ' ' })}
	return e.Clean()
}

type kbEntryData struct {
	F       kbForm
	Listed  *domain.FAQListed // the entry as published, nil for a new one
	Tried   *domain.FAQTry
	Draft   bool // the draft is what the question gets
	Problem string
	Flash   string
	History []domain.FAQChange
}

// kbNew is the form for a new entry, from an unanswered question (?q=) when there
// is one: it is the first phrasing and the question to try.
func (s *Server) kbNew(w http.ResponseWriter, r *http.Request, v *visit) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if len([]rune(q)) > domain.MaxFAQQuestion {
		q = ""
	}
	s.render(w, r, v, http.StatusOK, "kb_entry", kbEntryData{F: kbForm{New: true, QuestionsID: q, Try: q, TryLang: "id"}})
}

// kbEntry is an entry's form as published, with its history.
func (s *Server) kbEntry(w http.ResponseWriter, r *http.Request, v *visit) {
	e, ok, err := s.cfg.Knowledge.Entry(r.Context(), r.PathValue("id"))
	if !ok && err == nil {
		err = domain.ErrNotFound
	}
	if !s.found(w, r, v, err) {
		return
	}
	s.showKBEntry(w, r, v, http.StatusOK, kbEntryData{F: formOf(e.FAQEntry), Listed: &e,
		Flash: doneFlash(r, "workspace.kb.done.", "publish")})
}

func (s *Server) showKBEntry(w http.ResponseWriter, r *http.Request, v *visit, status int, d kbEntryData) {
	if d.Listed != nil && d.History == nil {
		var err error
		if d.History, err = s.cfg.Knowledge.Changes(r.Context(), d.Listed.ID, 50); err != nil {
			s.unavailable(w, r, v, err)
			return
		}
	}
	s.render(w, r, v, status, "kb_entry", d)
}

// kbSubmit tries a question against the draft in the form (step "try": nothing is
// stored, the page comes back with what a person would get) or publishes it (step
// "publish": for every replica, then back to the entry's page).
func (s *Server) kbSubmit(w http.ResponseWriter, r *http.Request, v *visit) {
	ctx, kb := r.Context(), s.cfg.Knowledge
	f := readKBForm(r.PostForm)
	e := f.entry()
	v.target = e.ID
	d := kbEntryData{F: f}
	if !f.New {
		listed, ok, err := kb.Entry(ctx, e.ID)
		if err != nil {
			s.unavailable(w, r, v, err)
			return
		}
		if ok {
			d.Listed = &listed
		}
	}
	if r.PostForm.Get("step") != "publish" {
		if f.Try == "" {
			d.Problem = "workspace.kb.problem.try"
			s.showKBEntry(w, r, v, http.StatusBadRequest, d)
			return
		}
		tried, err := kb.Try(ctx, e, f.Try, f.TryLang)
		if err != nil {
			s.unavailable(w, r, v, err)
			return
		}
		d.Tried, d.Draft = &tried, tried.ID == e.ID && e.ID != "" || slices.Contains(tried.OfferIDs, e.ID) && e.ID != ""
		s.showKBEntry(w, r, v, http.StatusOK, d)
		return
	}
	if f.New {
		if _, taken, err := kb.Entry(ctx, e.ID); err != nil || taken {
			if err != nil {
				s.unavailable(w, r, v, err)
				return
			}
			d.Problem = "workspace.kb.problem.taken"
			s.showKBEntry(w, r, v, http.StatusConflict, d)
			return
		}
	}
	change, err := kb.Publish(ctx, e, v.acc.Name)
	var problem *domain.FAQProblem
	switch {
	case errors.As(err, &problem):
		d.Problem = "workspace.kb.problem." + problem.Reason
		s.showKBEntry(w, r, v, http.StatusBadRequest, d)
		return
	case err != nil:
		s.unavailable(w, r, v, err)
		return
	}
	v.detail = "changed=" + strings.Join(change.Fields, ",")
	s.log.InfoContext(ctx, "staff workspace: faq entry published", "entry", e.ID, "by", v.acc.Name, "changed", change.Fields)
	done(w, r, "/staff/kb/entries/"+url.PathEscape(e.ID), "publish")
}

// kbHistory lists the changes of the knowledge base, newest first.
func (s *Server) kbHistory(w http.ResponseWriter, r *http.Request, v *visit) {
	changes, err := s.cfg.Knowledge.Changes(r.Context(), "", kbListed)
	if err != nil {
		s.unavailable(w, r, v, err)
		return
	}
	s.render(w, r, v, http.StatusOK, "kb_history", changes)
}

// kbExport downloads the whole knowledge base as it is now (the files and the
// staff's entries) as the YAML files the project reads, in a zip under faq/.
func (s *Server) kbExport(w http.ResponseWriter, r *http.Request, v *visit) {
	files, err := s.cfg.Knowledge.Export(r.Context())
	if err != nil {
		s.unavailable(w, r, v, err)
		return
	}
	var b bytes.Buffer
	z := zip.NewWriter(&b)
	now := s.now()
	for _, name := range slices.Sorted(maps.Keys(files)) {
		f, err := z.CreateHeader(&zip.FileHeader{Name: "faq/" + name, Method: zip.Deflate, Modified: now})
		if err == nil {
			_, err = f.Write(files[name])
		}
		if err != nil {
			s.unavailable(w, r, v, err)
			return
		}
	}
	if err := z.Close(); err != nil {
		s.unavailable(w, r, v, err)
		return
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="faq-`+now.In(s.loc).Format("2006-01-02")+`.zip"`)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(b.Bytes()))
}
