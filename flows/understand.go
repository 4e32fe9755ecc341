package flows

import (
	"context"
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
	"desc:keep":   {"yes", "done"},
}

// slotOptions are the options whose ids name a value of a slot of the reader, by the
// prefix of their ids; the slot's words for the value pick them too. (No id has two
// of the prefixes: "cat:" begins no other.)
var slotOptions = [...]struct{ prefix, slot string }{{"cat:", "category"}, {"sub:", "topic"}, {"tourism:cat:", "tourism"}}

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
		for _, s := range slotOptions {
			if v, ok := strings.CutPrefix(o.ID, s.prefix); ok {
				if ws := r.intents.SlotWords(s.slot, v); len(of.Words) == 0 {
					of.Words = ws // the reader's, not a copy: the reader only reads an offer
				} else {
					of.Words = append(of.Words, ws...)
				}
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
	return r.intents.Read(text, r.readerContext(s))
}

// readerContext is what the reader is told of the conversation s: the options last
// offered, the flow under way, and whether a label must be typed whole (the main menu,
// where people also type questions).
func (r *Router) readerContext(s *bot.Session) intent.Context {
	return intent.Context{Offers: r.offers(s.Options), Busy: s.Flow, Strict: s.Flow == "" || r.isMainMenu(s.Options)}
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

// smallTalk are the intents answered with a short reply of their own
// ("smalltalk.<name>"), whatever the person is doing.
var smallTalk = map[string]bool{"greet": true, "thanks": true, "ack": true, "bye": true, "who": true,
	"laugh": true, "sorry": true, "angry": true}

// understood does what the message asks for when the intent reader recognised a
// request or small talk; it reports whether it did. In a form only small talk and the
// requests that may interrupt it are taken (HandleIntent); anything else is the
// step's answer.
func (r *Router) understood(ctx context.Context, c *Conv, in Input) (bool, error) {
	rd := in.reading
	if in.Option != "" || rd.Intent == "" || rd.Intent == "yes" || rd.Intent == "no" {
		return false, nil // yes or no that no offered option takes: the step asks again
	}
	if c.InForm() && !smallTalk[rd.Intent] {
		switch r.requests[rd.Intent].interrupts {
		case NeverInterrupts:
			return false, nil
		case InterruptsAtChoice:
			if !in.offered {
				return false, nil
			}
		}
	}
	return true, r.do(ctx, c, in)
}

// do carries out a recognised intent: small talk, or the request's handler; a request
// nobody handles goes to the FAQ, which decides.
func (r *Router) do(ctx context.Context, c *Conv, in Input) error {
	name := in.reading.Intent
	if smallTalk[name] {
		return c.Aside(func() error { r.smallTalk(c, name); return nil })
	}
	if route, ok := r.requests[name]; ok {
		return route.h(ctx, c, in)
	}
	return r.unclaimed(ctx, c, in)
}

// smallTalk answers greetings, thanks and the like in a few warm words, never with
// "cannot answer". Outside any flow a greeting or "who are you" shows the menu, and
// anger gets the way to a complaint and to the office.
func (r *Router) smallTalk(c *Conv, name string) {
	switch {
	case name == "angry":
		c.Turn.Say(bot.Reply{Text: c.T("smalltalk.angry"), Options: []bot.Option{
			c.Opt(FlowComplaint, "faq.option_complaint"), c.Opt("menu", "faq.option_menu")}})
	case c.Session.Flow == "" && (name == "greet" || name == "who"):
		c.Say("smalltalk." + name)
		r.ShowMenu(c)
	default:
		c.Say("smalltalk." + name)
	}
}

// Resumer is a flow that can ask its current step again, after an aside.
type Resumer interface {
	Resume(c *Conv)
}

// aside does something that is not part of the person's flow (a greeting, a ticket
// shown, the office's contacts) and then puts the flow back where it was: a draft is
// not lost, and the step is asked again, so the way back is right there.
func (r *Router) aside(c *Conv, do func() error) error {
	flow, step, state := c.Session.Flow, c.Session.Step, c.Session.State
	if err := do(); err != nil {
		return err
	}
	if flow == "" || c.Session.Flow != "" && c.Session.Flow != flow {
		return nil
	}
	c.Session.Flow, c.Session.Step, c.Session.State = flow, step, state
	if rs, ok := r.flows[flow].(Resumer); ok {
		rs.Resume(c)
	}
	return nil
}
