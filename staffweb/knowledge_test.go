package staffweb_test

import (
	"archive/zip"
	"context"
	"html"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/layan-id/layan/flows/faq"
	"github.com/layan-id/layan/store/storetest"
)

const cpnsQuestion = "syarat ikut seleksi cpns apa aja"

// cpnsForm is the form of a new entry, as an admin fills it in.
func cpnsForm(step string) url.Values {
	return url.Values{"new": {"1"}, "id": {"cpns-daftar"}, "questions_id": {"syarat ikut seleksi cpns\r\nbagaimana cara daftar cpns"},
		"questions_en": {"how do I apply for the civil service"}, "answer_id": {"Pendaftaran CPNS lewat portal SSCASN milik BKN."},
		"tags": {"kepegawaian, cpns"}, "try": {cpnsQuestion}, "try_lang": {"id"}, "step": {step}}
}

// Only admins edit the knowledge base: the others get 403 on every page and form,
// and their menu does not show it; without a session, pages go to the sign-in
// page and the download and the form are 401.
func TestTheKnowledgeBaseIsForAdminsOnly(t *testing.T) {
	h := newHarness(t, storetest.Mini(t))
	pages := []string{"/staff/kb", "/staff/kb?sort=newest", "/staff/kb/entries", "/staff/kb/new?q=x", "/staff/kb/entries/ktp-hilang", "/staff/kb/history"}
	for _, name := range []string{"budi", "eko", "ani"} {
		c := h.signIn(name)
		if home := c.get("/staff/broadcasts"); strings.Contains(home.body, `id="nav-kb"`) {
			t.Errorf("%s's menu shows the knowledge base", name)
		}
		for _, p := range append(pages, "/staff/kb/export") {
			if a := c.get(p); a.status != http.StatusForbidden {
				t.Errorf("%s GET %s: %d, want 403", name, p, a.status)
			}
		}
		if a := c.post("/staff/kb/entries", cpnsForm("publish")); a.status != http.StatusForbidden {
			t.Errorf("%s publishing: %d, want 403", name, a.status)
		}
	}
	anon := h.client()
	for _, p := range pages {
		if a := anon.get(p); a.status != http.StatusSeeOther || a.location() != "/staff/login" {
			t.Errorf("GET %s without a session: %d %s", p, a.status, a.location())
		}
	}
	if a := anon.get("/staff/kb/export"); a.status != http.StatusUnauthorized {
		t.Errorf("the download without a session: %d, want 401", a.status)
	}
	if a := anon.post("/staff/kb/entries", cpnsForm("publish")); a.status != http.StatusUnauthorized {
		t.Errorf("publishing without a session: %d, want 401", a.status)
	}
	admin := h.signIn("sari")
	if home := admin.get("/staff/broadcasts"); !strings.Contains(home.body, `id="nav-kb"`) {
		t.Error("the admin's menu does not show the knowledge base")
	}
	for _, p := range pages {
		if a := admin.get(p); a.status != http.StatusOK {
			t.Errorf("admin GET %s: %d", p, a.status)
		}
	}
	if v, _ := h.b.Store.FAQBase().Version(context.Background()); v != 0 {
		t.Errorf("refused forms published version %d", v)
	}
}

func TestAKnowledgeBaseFormWithoutTheCSRFTokenChangesNothing(t *testing.T) {
	h := newHarness(t, storetest.Mini(t))
	c := h.signIn("sari")
	form := cpnsForm("publish")
	form.Set("csrf", "not-the-token")
	if a := c.post("/staff/kb/entries", form); a.status != http.StatusForbidden {
		t.Errorf("without the token: %d, want 403", a.status)
	}
	if _, ok, _ := h.kb.Entry(context.Background(), "cpns-daftar"); ok {
		t.Error("the entry was published without the CSRF token")
	}
}

// An admin finds an unanswered question, makes an entry from it, tries it against
// the draft (nothing published), publishes it, and the matcher answers it; the
// change is in the entry's history, the history page and the audit log.
func TestAnEntryFromAnUnansweredQuestionTriedThenPublished(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		h := newHarness(t, b)
		ctx := context.Background()
		for range 3 {
			b.Store.FAQStats().CountUnanswered(ctx, cpnsQuestion)
		}
		b.Store.FAQStats().CountUnanswered(ctx, "resep nasi megono")
		c := h.signIn("sari")
		list := c.get("/staff/kb")
		link := `href="/staff/kb/new?q=` + url.QueryEscape(cpnsQuestion)
		if !strings.Contains(list.body, cpnsQuestion) || !strings.Contains(html.UnescapeString(list.body), strings.ReplaceAll(link, "+", "%20")) &&
			!strings.Contains(html.UnescapeString(list.body), link) {
			t.Fatalf("the unanswered question and its link are not listed:\n%s", list.body)
		}
		if strings.Index(list.body, cpnsQuestion) > strings.Index(list.body, "resep nasi megono") {
			t.Error("the question asked three times is not first")
		}
		draft := c.get("/staff/kb/new?q=" + url.QueryEscape(cpnsQuestion))
		if !strings.Contains(draft.body, ">"+cpnsQuestion+"</textarea>") {
			t.Errorf("the new entry's form does not start from the question")
		}

		tried := c.post("/staff/kb/entries", cpnsForm("try"))
		if tried.status != http.StatusOK || !strings.Contains(tried.body, `id="tried-answer">Pendaftaran CPNS lewat portal SSCASN`) ||
			!strings.Contains(tried.body, "dari draf ini") {
			t.Fatalf("trying the draft: %d\n%s", tried.status, tried.body)
		}
		if v, _ := b.Store.FAQBase().Version(ctx); v != 0 {
			t.Fatalf("trying published version %d", v)
		}
		if r := h.kb.Live().Matcher().Match(cpnsQuestion); r.Answered && r.ID == "cpns-daftar" {
			t.Fatal("trying the draft changed what people are answered")
		}

		published := c.post("/staff/kb/entries", cpnsForm("publish"))
		if published.status != http.StatusSeeOther || published.location() != "/staff/kb/entries/cpns-daftar?done=publish" {
			t.Fatalf("publishing: %d %s\n%s", published.status, published.location(), published.body)
		}
		if r := h.kb.Live().Matcher().Match(cpnsQuestion); !r.Answered || r.ID != "cpns-daftar" {
			t.Errorf("after publishing, the matcher answers %+v", r)
		}
		page := c.get(published.location())
		if !strings.Contains(page.body, `id="flash"`) || !strings.Contains(page.body, "<td data-label=\"Oleh\">sari</td>") {
			t.Errorf("the entry's page after publishing:\n%s", page.body)
		}
		if hist := c.get("/staff/kb/history"); !strings.Contains(hist.body, "cpns-daftar") || !strings.Contains(hist.body, "jawaban (Indonesia)") {
			t.Errorf("the history page:\n%s", hist.body)
		}
		if now := c.get("/staff/kb"); !strings.Contains(now.body, "terjawab oleh cpns-daftar") {
			t.Errorf("the unanswered question does not say it is answered now")
		}
		if again := c.post("/staff/kb/entries", cpnsForm("publish")); again.status != http.StatusConflict {
			t.Errorf("a new entry with a code taken: %d, want 409", again.status)
		}
		audited := h.audited.all()
		if !slices.ContainsFunc(audited, func(e string) bool {
			return strings.HasPrefix(e, "sari admin POST /staff/kb/entries cpns-daftar changed=questions.id,questions.en,answer.id,tags 303")
		}) {
			t.Errorf("audit log: %q", audited)
		}
	})
}

func TestBadEntriesAreRefusedWithTheReason(t *testing.T) {
	h := newHarness(t, storetest.Mini(t))
	c := h.signIn("sari")
	for field, want := range map[string]string{"id": "Kode entri harus", "questions_id": "paling sedikit satu pertanyaan", "answer_id": "Tuliskan jawaban"} {
		form := cpnsForm("publish")
		form.Set(field, "")
		if field == "id" {
			form.Set(field, "Kode Salah!")
		}
		if a := c.post("/staff/kb/entries", form); a.status != http.StatusBadRequest || !strings.Contains(a.body, want) {
			t.Errorf("without %s: %d, want 400 saying %q", field, a.status, want)
		}
	}
	if v, _ := h.b.Store.FAQBase().Version(context.Background()); v != 0 {
		t.Errorf("refused entries published version %d", v)
	}
}

func TestFeedbackPerEntryAndTheExport(t *testing.T) {
	h := newHarness(t, storetest.Mini(t))
	ctx := context.Background()
	st := h.b.Store.FAQStats()
	st.CountFeedback(ctx, "ktp-hilang", true)
	st.CountFeedback(ctx, "ktp-hilang", false)
	st.CountFeedback(ctx, "ktp-hilang", false)
	c := h.signIn("sari")
	list := c.get("/staff/kb/entries")
	row := list.body[strings.Index(list.body, `data-id="ktp-hilang"`):]
	row = row[:strings.Index(row, "</tr>")]
	if !strings.Contains(row, `class="helpful">1<`) || !strings.Contains(row, `class="not-helpful">2<`) {
		t.Errorf("ktp-hilang's row: %s", row)
	}
	if strings.Index(list.body, `data-id="ktp-hilang"`) > strings.Index(list.body, `data-id=`) {
		t.Error("the entry found unhelpful most often is not first")
	}
	if a := c.post("/staff/kb/entries", cpnsForm("publish")); a.status != http.StatusSeeOther {
		t.Fatalf("publishing: %d", a.status)
	}
	res, err := c.c.Get(h.srv.URL + "/staff/kb/export")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/zip" {
		t.Fatalf("export: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	z, err := zip.NewReader(strings.NewReader(string(body)), int64(len(body)))
	if err != nil {
		t.Fatal(err)
	}
	var entries []faq.Entry
	for _, f := range z.File {
		r, _ := f.Open()
		b, _ := io.ReadAll(r)
		r.Close()
		es, err := faq.ParseKB(f.Name, b)
		if err != nil {
			t.Fatalf("%s does not load: %v", f.Name, err)
		}
		entries = append(entries, es...)
	}
	all, _ := h.kb.Entries(ctx)
	if len(entries) != len(all) || !slices.ContainsFunc(entries, func(e faq.Entry) bool {
		return e.ID == "cpns-daftar" && strings.HasPrefix(e.Source, "faq/"+faq.StaffFile)
	}) {
		t.Errorf("the export holds %d entries (want %d), the new one in faq/%s", len(entries), len(all), faq.StaffFile)
	}
}
