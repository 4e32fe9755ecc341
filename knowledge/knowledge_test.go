package knowledge_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/layan-id/layan/domain"
	"github.com/layan-id/layan/flows/faq"
	"github.com/layan-id/layan/knowledge"
	"github.com/layan-id/layan/locales"
	"github.com/layan-id/layan/store/storetest"
)

func newBase(t *testing.T, b storetest.Backend) *knowledge.Base {
	m, err := faq.Load(locales.Content(""))
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	return knowledge.New(faq.NewLive(m), b.Store.FAQBase(), b.Store.FAQStats(), func() time.Time { return at })
}

var cpns = domain.FAQEntry{ID: "cpns-daftar",
	Questions: map[string][]string{"id": {"syarat ikut seleksi cpns", "bagaimana cara daftar cpns", "kapan pendaftaran cpns dibuka"}},
	Answer:    map[string]string{"id": "Pendaftaran CPNS lewat portal SSCASN milik BKN."}}

func TestTryingADraftChangesNothingPublished(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		kb := newBase(t, b)
		before := kb.Live().Matcher()
		got, err := kb.Try(ctx, cpns, "syarat ikut seleksi cpns apa aja", "id")
		if err != nil {
			t.Fatal(err)
		}
		if got.Outcome != domain.FAQAnswered || got.ID != "cpns-daftar" || !strings.Contains(got.Answer, "SSCASN") {
			t.Errorf("try = %+v; want the draft's answer", got)
		}
		if kb.Live().Matcher() != before || kb.Live().Version() != 0 {
			t.Error("trying a draft changed the index people are answered from")
		}
		if v, _ := b.Store.FAQBase().Version(ctx); v != 0 {
			t.Errorf("trying a draft published version %d", v)
		}
		if r := kb.Live().Matcher().Match("syarat ikut seleksi cpns apa aja"); r.Answered && r.ID == "cpns-daftar" {
			t.Error("people are answered with the draft")
		}
		if _, ok, _ := kb.Entry(ctx, "cpns-daftar"); ok {
			t.Error("the draft is listed as an entry")
		}
	})
}

func TestAPublishedEntryIsAnsweredListedExportedAndItsChangeKept(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		kb := newBase(t, b)
		if _, err := kb.Publish(ctx, domain.FAQEntry{ID: "Bad id!", Questions: cpns.Questions, Answer: cpns.Answer}, "sari"); !errors.Is(err, domain.ErrFAQEntry) {
			t.Errorf("a bad id was published (%v)", err)
		}
		change, err := kb.Publish(ctx, cpns, "sari")
		if err != nil {
			t.Fatal(err)
		}
		if change.Before != nil || !slices.Equal(change.Fields, []string{"questions.id", "answer.id"}) {
			t.Errorf("change = %+v", change)
		}
		if r := kb.Live().Matcher().Match("syarat ikut seleksi cpns apa aja"); !r.Answered || r.ID != "cpns-daftar" {
			t.Errorf("after publishing: %+v", r)
		}
		e, ok, err := kb.Entry(ctx, "cpns-daftar")
		if err != nil || !ok || !e.Staff || e.File != faq.StaffFile {
			t.Errorf("entry = %+v, %v, %v", e, ok, err)
		}
		// Changing an entry of the files keeps it in its file and records what changed.
		all, _ := kb.Entries(ctx)
		first := all[0]
		edited := first.FAQEntry.Clone()
		edited.Tags = append(edited.Tags, "baru")
		change, err = kb.Publish(ctx, edited, "budi")
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(change.Fields, []string{"tags"}) || change.Before == nil {
			t.Errorf("change of %s = %+v; want the tags, with the entry before", first.ID, change)
		}
		hist, _ := kb.Changes(ctx, first.ID, 5)
		if len(hist) != 1 || hist[0].By != "budi" {
			t.Errorf("history of %s = %+v", first.ID, hist)
		}
		files, err := kb.Export(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(files[faq.StaffFile]), "cpns-daftar") || !strings.Contains(string(files[first.File]), "baru") {
			t.Errorf("export: staff file %q", files[faq.StaffFile])
		}
	})
}

func TestUnansweredQuestionsSayWhatTheyGetNow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		kb := newBase(t, b)
		b.Store.FAQStats().CountUnanswered(ctx, "syarat ikut seleksi cpns apa aja")
		qs, err := kb.Unanswered(ctx, true, 10)
		if err != nil || len(qs) != 1 || qs[0].Now.Outcome == domain.FAQAnswered {
			t.Fatalf("unanswered = %+v, %v", qs, err)
		}
		if _, err := kb.Publish(ctx, cpns, "sari"); err != nil {
			t.Fatal(err)
		}
		qs, _ = kb.Unanswered(ctx, false, 10)
		if len(qs) != 1 || qs[0].Now.Outcome != domain.FAQAnswered || qs[0].Now.ID != "cpns-daftar" {
			t.Errorf("after publishing: %+v", qs)
		}
	})
}
