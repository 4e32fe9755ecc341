package flows

import (
	"log/slog"
	"reflect"
	"strings"
	"testing"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/flows/intent"
	"github.com/layan-id/layan/locales"
)

// refOffers is Router.offers as it was (commit a8c3d49), word for word: the reference
// TestOffersAsBefore compares with. A change meant only to be cheaper leaves it alone;
// one meant to describe options differently makes the same change here.
func (r *Router) refOffers(opts []bot.Option) []intent.Offer {
	entries := 0
	for _, o := range opts {
		if strings.HasPrefix(o.ID, "faq:entry:") {
			entries++
		}
	}
	out := make([]intent.Offer, 0, len(opts))
	for _, o := range opts {
		of := intent.Offer{ID: o.ID, Label: o.Label, Roles: optionRoles[o.ID], Words: r.intents.OptionWords(o.ID)}
		switch {
		case strings.HasSuffix(o.ID, ":yes"):
			of.Roles = []string{"yes"}
		case strings.HasSuffix(o.ID, ":no"):
			of.Roles = []string{"no"}
		case strings.HasPrefix(o.ID, "faq:entry:") && entries == 1:
			of.Roles = []string{"yes"} // "Maksud Anda: …?" Ya / Bukan
		}
		for prefix, slot := range map[string]string{"cat:": "category", "sub:": "topic", "tourism:cat:": "tourism"} {
			if v, ok := strings.CutPrefix(o.ID, prefix); ok {
				of.Words = append(of.Words, r.intents.SlotWords(slot, v)...)
			}
		}
		out = append(out, of)
	}
	return out
}

// TestOffersAsBefore describes the options of every situation of the intent dev set,
// in both languages, and the tourism flow's lists, as the router did before: the
// intent reader is given the same offers.
func TestOffersAsBefore(t *testing.T) {
	texts, err := locales.Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	r := NewRouter(texts, slog.New(slog.DiscardHandler))
	var sets [][]bot.Option
	for _, sessions := range intentSituations(t, r) {
		for _, s := range sessions {
			sets = append(sets, s.Options)
		}
	}
	withWords := 0
	for _, opts := range sets {
		got, want := r.offers(opts), r.refOffers(opts)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("offers(%v) = %+v, before %+v", opts, got, want)
		}
		for _, o := range got {
			if len(o.Words) > 0 && strings.Contains(o.ID, ":") {
				withWords++
			}
		}
	}
	if withWords < 20 {
		t.Errorf("only %d offers have words: the comparison says little", withWords)
	}
}
