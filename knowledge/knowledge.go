// Package knowledge is the knowledge base in staff hands: the FAQ's entries as they
// are now (the embedded files or CONTENT_DIR under the entries staff added or
// changed, which the store keeps), trying a question against a draft entry before
// it is published, publishing (every replica follows the store's version and
// rebuilds its index, faq.Live), the history of changes, the export as the
// knowledge base's YAML files, and what people asked that got no answer and what
// they thought of the answers.
package knowledge

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/layan-id/layan/domain"
	"github.com/layan-id/layan/flows/faq"
)

// Edits is where the staff's entries are kept (*store.FAQBase).
type Edits interface {
	faq.Source
	Publish(ctx context.Context, e domain.FAQEntry, before *domain.FAQEntry, by string, at time.Time) (int64, error)
	Changes(ctx context.Context, id string, n int) ([]domain.FAQChange, error)
}

// Stats are the FAQ's counts of unanswered questions and feedback (*store.FAQStats).
type Stats interface {
	TopUnanswered(ctx context.Context, n int) ([]domain.FAQQuestion, error)
	NewestUnanswered(ctx context.Context, n int) ([]domain.FAQQuestion, error)
	Feedback(ctx context.Context) (map[string][2]int64, error)
}

// Base is the knowledge base of a running service.
type Base struct {
	live  *faq.Live
	edits Edits
	stats Stats
	now   func() time.Time
}

// New returns the knowledge base over live's index, the staff's entries and the
// FAQ's counts; now nil is time.Now.
func New(live *faq.Live, edits Edits, stats Stats, now func() time.Time) *Base {
	if now == nil {
		now = time.Now
	}
	return &Base{live: live, edits: edits, stats: stats, now: now}
}

// Live is the index people are answered from.
func (b *Base) Live() *faq.Live { return b.live }

// Entries are the knowledge base's entries as people are answered now, in file
// order, the entries staff added last.
func (b *Base) Entries(ctx context.Context) ([]domain.FAQListed, error) {
	if err := b.live.Refresh(ctx, b.edits); err != nil {
		return nil, fmt.Errorf("knowledge: read the staff's entries: %w", err)
	}
	entries := b.live.Matcher().Entries()
	out := make([]domain.FAQListed, len(entries))
	for i := range entries {
		out[i] = domain.FAQListed{FAQEntry: entries[i].Domain(), File: faq.FileOf(&entries[i]), Staff: entries[i].Staff}
	}
	return out, nil
}

// Entry is one entry as people are answered now; ok is false for no such entry.
func (b *Base) Entry(ctx context.Context, id string) (domain.FAQListed, bool, error) {
	all, err := b.Entries(ctx)
	if err != nil {
		return domain.FAQListed{}, false, err
	}
	i := slices.IndexFunc(all, func(e domain.FAQListed) bool { return e.ID == id })
	if i < 0 {
		return domain.FAQListed{}, false, nil
	}
	return all[i], true, nil
}

// Try says what a person asking question in lang would get if draft (cleaned, not
// saved) were published with the rest of the knowledge base as it is now. Nothing
// is stored and the index people are answered from stays as it is. A draft with
// no id or no Indonesian phrasing is left out, so the question is tried against the
// knowledge base alone.
func (b *Base) Try(ctx context.Context, draft domain.FAQEntry, question, lang string) (domain.FAQTry, error) {
	if err := b.live.Refresh(ctx, b.edits); err != nil {
		return domain.FAQTry{}, fmt.Errorf("knowledge: read the staff's entries: %w", err)
	}
	cur := b.live.Matcher()
	m := cur
	if d := draft.Clean(); d.ID != "" && len(d.Questions["id"]) > 0 {
		if d.Answer["id"] == "" {
			d.Answer["id"] = "…" // the matcher needs none to find the entry
		}
		m = cur.With(faq.Overlay(cur.Entries(), []domain.FAQEntry{d}))
	}
	return tryOn(m, question, lang), nil
}

// tryOn is what m answers a person asking question in lang, as the chat's FAQ
// (flows.askFlow) answers it.
func tryOn(m *faq.Matcher, question, lang string) domain.FAQTry {
	r := m.Match(question)
	t := domain.FAQTry{Question: question, Score: r.Score, Outcome: domain.FAQNone}
	label := func(e *faq.Entry) string {
		if qs := e.Questions[lang]; len(qs) > 0 {
			return qs[0]
		}
		return e.Questions["id"][0]
	}
	offer := func(es ...*faq.Entry) {
		for _, e := range es {
			if e != nil {
				t.Offered, t.OfferIDs = append(t.Offered, label(e)), append(t.OfferIDs, e.ID)
			}
		}
	}
	switch {
	case r.Answered:
		t.Outcome, t.ID = domain.FAQAnswered, r.ID
		t.Answer, _ = r.Entry.AnswerIn(lang)
		offer(r.Also)
	case len(r.Candidates) > 0:
		t.Outcome = domain.FAQSuggested
		offer(r.Candidates...)
	default:
		offer(r.Near...)
	}
	return t
}

// Publish checks e (cleaned) and publishes it as by's: stored with its change,
// the version raised for every replica, and this replica's index rebuilt before it
// returns. A problem with the entry is a *domain.FAQProblem (errors.Is
// domain.ErrFAQEntry). It returns the change recorded.
func (b *Base) Publish(ctx context.Context, e domain.FAQEntry, by string) (domain.FAQChange, error) {
	e = e.Clean()
	if err := e.Check(); err != nil {
		return domain.FAQChange{}, err
	}
	var before *domain.FAQEntry
	prev, ok, err := b.Entry(ctx, e.ID)
	if err != nil {
		return domain.FAQChange{}, err
	}
	if ok {
		before = &prev.FAQEntry
	}
	at := b.now()
	if _, err := b.edits.Publish(ctx, e, before, by, at); err != nil {
		return domain.FAQChange{}, err
	}
	if err := b.live.Refresh(ctx, b.edits); err != nil {
		return domain.FAQChange{}, fmt.Errorf("knowledge: rebuild the index after publishing %s: %w", e.ID, err)
	}
	return domain.FAQChange{At: at, By: by, ID: e.ID, Fields: e.Changes(before), Before: before, After: e}, nil
}

// Changes are the newest n published changes, newest first: of one entry, or of all
// with id "".
func (b *Base) Changes(ctx context.Context, id string, n int) ([]domain.FAQChange, error) {
	return b.edits.Changes(ctx, id, n)
}

// Export is the whole knowledge base as it is now, as its YAML files (name →
// content; faq.Export): each entry in the file it came from, the entries staff
// added in faq.StaffFile.
func (b *Base) Export(ctx context.Context) (map[string][]byte, error) {
	if err := b.live.Refresh(ctx, b.edits); err != nil {
		return nil, fmt.Errorf("knowledge: read the staff's entries: %w", err)
	}
	return faq.Export(b.live.Matcher().Entries())
}

// Unanswered are up to n questions the FAQ could not answer, the newest or the most
// frequent first, each with what the knowledge base answers to it now (Now; its
// Outcome is FAQAnswered once an entry answers it).
func (b *Base) Unanswered(ctx context.Context, newest bool, n int) ([]domain.FAQUnanswered, error) {
	read := b.stats.TopUnanswered
	if newest {
		read = b.stats.NewestUnanswered
	}
	qs, err := read(ctx, n)
	if err != nil {
		return nil, err
	}
	if err := b.live.Refresh(ctx, b.edits); err != nil {
		return nil, fmt.Errorf("knowledge: read the staff's entries: %w", err)
	}
	m := b.live.Matcher()
	out := make([]domain.FAQUnanswered, len(qs))
	for i, q := range qs {
		out[i] = domain.FAQUnanswered{FAQQuestion: q, Now: tryOn(m, q.Question, "id")}
	}
	return out, nil
}

// Feedback is, per entry id, how many people said its answer helped and how many
// not.
func (b *Base) Feedback(ctx context.Context) (map[string][2]int64, error) {
	return b.stats.Feedback(ctx)
}
