package faq_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/layan-id/layan/domain"
	"github.com/layan-id/layan/flows/faq"
)

var cpns = domain.FAQEntry{ID: "cpns-daftar", Tags: []string{"imigrasi"},
	Questions: map[string][]string{"id": {"syarat ikut seleksi cpns", "bagaimana cara daftar cpns", "kapan pendaftaran cpns dibuka"}, "en": {"how do I apply for the civil service"}},
	Answer:    map[string]string{"id": "Pendaftaran CPNS lewat portal SSCASN milik BKN.\nSiapkan KTP-el, ijazah dan pas foto.", "en": "Apply on the SSCASN portal."}}

func TestAnEntryStaffAddIsAnsweredAndOneTheyChangeKeepsItsPlace(t *testing.T) {
	base := loadMatcher(t)
	if r := base.Match("syarat ikut seleksi cpns apa aja"); r.Answered && r.ID == "cpns-daftar" {
		t.Fatal("the base already answers the cpns question")
	}
	first := base.Entries()[0]
	changed := first.Domain()
	changed.Answer["id"] = "Jawaban baru dari petugas."
	m := base.With(faq.Overlay(base.Entries(), []domain.FAQEntry{cpns, changed}))
	if got := len(m.Entries()); got != len(base.Entries())+1 {
		t.Fatalf("%d entries, want the base's %d and one more", got, len(base.Entries()))
	}
	if e := m.Entries()[0]; e.ID != first.ID || e.Answer["id"] != "Jawaban baru dari petugas." || !e.Staff || faq.FileOf(&e) != faq.FileOf(&first) {
		t.Errorf("changed entry = %+v; want staff's answer in the first place of the same file", e)
	}
	r := m.Match("syarat ikut seleksi cpns apa aja")
	if !r.Answered || r.ID != "cpns-daftar" {
		t.Errorf("with the new entry, %q gives %+v; want cpns-daftar answered", "syarat ikut seleksi cpns apa aja", r)
	}
}

func TestRebuildingTheBaseAnswersEveryDevQuestionAlike(t *testing.T) {
	base := loadMatcher(t)
	rebuilt := base.With(faq.Overlay(base.Entries(), nil))
	for _, l := range readDevSet(t) {
		a, b := base.Match(l.question), rebuilt.Match(l.question)
		if a.ID != b.ID || a.Answered != b.Answered || a.Score != b.Score {
			t.Errorf("%q: base %s/%v/%.3f, rebuilt %s/%v/%.3f", l.question, a.ID, a.Answered, a.Score, b.ID, b.Answered, b.Score)
		}
	}
}

func TestExportWritesFilesTheLoaderReadsBackAlike(t *testing.T) {
	base := loadMatcher(t)
	changed := base.Entries()[3].Domain()
	changed.Questions["en"] = append(changed.Questions["en"], "a new English way: with \"quotes\" and a colon")
	want := faq.Overlay(base.Entries(), []domain.FAQEntry{cpns, changed})
	files, err := faq.Export(want)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := files[faq.StaffFile]; !ok {
		t.Errorf("files %v: want the new entry in %s", len(files), faq.StaffFile)
	}
	dir := t.TempDir()
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	got, err := faq.LoadKB(os.DirFS(dir), ".")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("read back %d entries, want %d", len(got), len(want))
	}
	byID := map[string]faq.Entry{}
	for _, e := range got {
		byID[e.ID] = e
	}
	for _, w := range want {
		g, ok := byID[w.ID]
		if !ok {
			t.Errorf("entry %s lost", w.ID)
			continue
		}
		if !reflect.DeepEqual(g.Domain(), w.Domain()) {
			t.Errorf("entry %s read back as %+v, want %+v", w.ID, g.Domain(), w.Domain())
		}
		if faq.FileOf(&g) != faq.FileOf(&w) {
			t.Errorf("entry %s in %s, want %s", w.ID, faq.FileOf(&g), faq.FileOf(&w))
		}
	}
}

// source is a store of staff entries in memory.
type source struct {
	mu      sync.Mutex
	version int64
	edits   []domain.FAQEntry
	fail    error
}

func (s *source) set(version int64, edits []domain.FAQEntry, fail error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.version, s.edits, s.fail = version, edits, fail
}

func (s *source) Version(context.Context) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.version, s.fail
}

func (s *source) Entries(context.Context) ([]domain.FAQEntry, int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.edits, s.version, s.fail
}

func TestAPublishedEntryReachesAFollowingIndexWithinAnInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		live := faq.NewLive(loadMatcher(t))
		src := &source{}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- live.Follow(ctx, src, 2*time.Second, slog.New(slog.DiscardHandler)) }()
		synctest.Wait()
		before := live.Matcher()
		if r := before.Match("syarat ikut seleksi cpns apa aja"); r.Answered && r.ID == "cpns-daftar" {
			t.Fatal("answered before it was published")
		}
		src.set(0, nil, errors.New("redis down"))
		time.Sleep(2 * time.Second)
		synctest.Wait()
		src.set(1, []domain.FAQEntry{cpns}, nil)
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if live.Version() != 1 {
			t.Fatalf("version %d after an interval, want 1", live.Version())
		}
		if r := live.Matcher().Match("syarat ikut seleksi cpns apa aja"); !r.Answered || r.ID != "cpns-daftar" {
			t.Errorf("after the publish: %+v, want cpns-daftar", r)
		}
		// A question that took the index before the swap is matched on the old one.
		if r := before.Match("syarat ikut seleksi cpns apa aja"); r.ID == "cpns-daftar" && r.Answered {
			t.Error("the index taken before the publish changed under it")
		}
		if live.Apply(1, nil) {
			t.Error("the same version was applied twice")
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Follow ended with %v", err)
		}
	})
}
