package faq

import (
	"context"
	"log/slog"
	"path"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/layan-id/layan/domain"
	"github.com/layan-id/layan/rungroup"
)

// StaffFile is the file Export puts the entries staff added in.
const StaffFile = "staff.yaml"

// EntryOf is a staff entry as the matcher reads it.
func EntryOf(e domain.FAQEntry) Entry {
	c := e.Clone()
	return Entry{ID: c.ID, Questions: c.Questions, Answer: c.Answer, Tags: c.Tags, Source: StaffFile, Staff: true}
}

// Domain is the entry as staff edit it.
func (e *Entry) Domain() domain.FAQEntry {
	return domain.FAQEntry{ID: e.ID, Questions: e.Questions, Answer: e.Answer, Tags: e.Tags}.Clone()
}

// Overlay is the knowledge base staff see and people are answered from: base in its
// order, each entry that staff changed replaced by their version (it keeps its place
// and file), then the entries staff added, by id.
func Overlay(base []Entry, edits []domain.FAQEntry) []Entry {
	byID := map[string]domain.FAQEntry{}
	for _, e := range edits {
		byID[e.ID] = e
	}
	out := make([]Entry, 0, len(base)+len(edits))
	for _, b := range base {
		if e, ok := byID[b.ID]; ok {
			n := EntryOf(e)
			n.Source = b.Source
			out = append(out, n)
			delete(byID, b.ID)
			continue
		}
		out = append(out, b)
	}
	added := slices.Sorted(func(yield func(string) bool) {
		for id := range byID {
			if !yield(id) {
				return
			}
		}
	})
	for _, id := range added {
		out = append(out, EntryOf(byID[id]))
	}
	return out
}

// FileOf is the file an entry is exported to: the base file it came from, or
// StaffFile.
func FileOf(e *Entry) string {
	file, _, _ := strings.Cut(e.Source, ":")
	if file == "" {
		return StaffFile
	}
	return path.Base(file)
}

// With returns a new matcher over entries, with m's lexicon.
func (m *Matcher) With(entries []Entry) *Matcher { return NewMatcher(entries, m.lexicon) }

// Matcher returns m itself: a fixed knowledge base is its own current index.
func (m *Matcher) Matcher() *Matcher { return m }

// Live is the index of a knowledge base that staff change while the service runs:
// the base (embedded files or CONTENT_DIR) under the staff's entries from the store.
// A new version is built aside and swapped in at once: a question is matched
// against the old index or the new one, never half of each. Safe for concurrent use.
type Live struct {
	base    *Matcher // the files alone
	cur     atomic.Pointer[Matcher]
	version atomic.Int64
	mu      sync.Mutex // one build at a time, versions only forward
}

// NewLive starts from the base alone (version 0).
func NewLive(base *Matcher) *Live {
	l := &Live{base: base}
	l.cur.Store(base)
	return l
}

// Matcher is the current index. Take it once per question and use that one.
func (l *Live) Matcher() *Matcher { return l.cur.Load() }

// Version is the version of the staff's entries in the current index.
func (l *Live) Version() int64 { return l.version.Load() }

// Base is the matcher over the files alone.
func (l *Live) Base() *Matcher { return l.base }

// Apply builds the index of the base under edits, which are of version, and swaps it
// in, unless the current index is already of that version or a newer one. It
// reports whether it swapped.
func (l *Live) Apply(version int64, edits []domain.FAQEntry) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if version <= l.version.Load() {
		return false
	}
	l.cur.Store(l.base.With(Overlay(l.base.entries, edits)))
	l.version.Store(version)
	return true
}

// Source is where the staff's entries are kept (*store.FAQBase).
type Source interface {
	Version(ctx context.Context) (int64, error)
	Entries(ctx context.Context) ([]domain.FAQEntry, int64, error)
}

// Refresh reads the version in src and, when it is newer than the index's, the
// entries, and applies them.
func (l *Live) Refresh(ctx context.Context, src Source) error {
	v, err := src.Version(ctx)
	if err != nil || v <= l.Version() {
		return err
	}
	edits, v, err := src.Entries(ctx)
	if err != nil {
		return err
	}
	l.Apply(v, edits)
	return nil
}

// Follow refreshes the index from src at once and then every interval until ctx
// ends, so that what staff publish on any replica reaches this one within about
// one interval. A store that fails is logged and tried again at the next tick. It
// returns nil when ctx ends.
func (l *Live) Follow(ctx context.Context, src Source, every time.Duration, log *slog.Logger) error {
	failing := false
	return rungroup.Every(every, func(ctx context.Context) {
		switch err := l.Refresh(ctx, src); {
		case err != nil && ctx.Err() == nil && !failing:
			log.Warn("faq: cannot read the knowledge base's staff entries; trying again", "err", err)
			failing = true
		case err == nil && failing:
			log.Info("faq: the knowledge base's staff entries can be read again")
			failing = false
		}
	})(ctx)
}
