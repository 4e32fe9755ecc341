package flows

import (
	"io/fs"
	"strings"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/flows/intent"
	"github.com/layan-id/layan/locales"
)

// RegisterIntents makes the router read messages with r (intent.Load of the content,
// CONTENT_DIR included); NewRouter starts with the embedded intents.
func (r *Router) RegisterIntents(rd *intent.Reader) { r.intents = rd }

// LoadIntents reads intents.yaml from content (locales.Content).
func LoadIntents(content fs.FS) (*intent.Reader, error) { return intent.Load(content) }

func defaultIntents() *intent.Reader {
	rd, err := intent.Load(locales.Content(""))
	if err != nil {
		panic(err) // the embedded file is broken: the tests say so first
	}
	return rd
}

// optionRoles are the roles the options of the flows play, for answers such as "ya",
// "ga usah", "gak jadi", "udah": an id ending in ":yes" or ":no" plays that role.
var optionRoles = map[string][]string{
	"confirm":     {"yes"},
	"cancel":      {"cancel"},
	"loc:keep":    {"yes"},
	"loc:retry":   {"no"},
	"loc:skip":    {"no", "done"},
	"photos:done": {"no", "done"},
	"sub:done":    {"done"},
	"erase:no":    {"no", "cancel"},
	"faq:none":    {"no"},
}

// offers describes the options last offered for the reader: their roles and the words
// that pick them besides their labels.
func (r *Router) offers(opts []bot.Option) []intent.Offer {
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

// read reads a message in the context of the session: the options it was offered and
// the flow it is in.
func (r *Router) read(s *bot.Session, text string) intent.Reading {
	if r.intents == nil {
		return intent.Reading{}
	}
	ctx := intent.Context{Offers: r.offers(s.Options), Busy: s.Flow, Strict: s.Flow == "" || r.isMainMenu(s.Options)}
	return r.intents.Read(text, ctx)
}

// isMainMenu reports whether opts are the main menu, where people also type questions.
func (r *Router) isMainMenu(opts []bot.Option) bool {
	if len(opts) != len(r.menu) {
		return false
	}
	for i, m := range r.menu {
		if opts[i].ID != m.ID {
			return false
		}
	}
	return true
}
