// Package flows holds Layan's conversations: the router that every message passes
// through, and one flow per file. The router knows no flow by its type: each flow is
// registered under a name (the Flow… constants, kept in Session.Flow) and registers
// what it adds at every step (keywords, options, texts such as a ticket number,
// requests in plain words, a place or photo sent outside a step, staff commands,
// news about a person); Router's doc says in which order they are tried. Flows talk
// to people only through texts in package locales, to the router only through Conv,
// and to the world only through narrow interfaces, so they are tested as transcripts
// (testdata/*.txt) without any platform.
package flows

import (
	"context"
	"fmt"
	"hash/fnv"
	"log/slog"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/domain"
	"github.com/layan-id/layan/flows/intent"
	"github.com/layan-id/layan/locales"
)

// Input is the person's message as a flow sees it: the text, and the option it
// picked, whether by button, by number or by the option's words.
type Input struct {
	Text     string
	Option   string
	Kind     bot.Kind
	Location *domain.Location
	Media    *bot.Media
	// reading is what the intent reader took the text to be.
	reading intent.Reading
	// offered is whether the message answers a step that offered options.
	offered bool
}

// Flow is one conversation, such as choosing a language or filing a complaint. While a
// flow is active (Session.Flow is its name) every message that is not a global keyword
// goes to its Continue.
type Flow interface {
	// Start begins the flow, from the menu or a keyword.
	Start(ctx context.Context, c *Conv) error
	// Continue handles the next message of the flow.
	Continue(ctx context.Context, c *Conv, in Input) error
}

// flowTraits say how the router treats messages while a flow is active.
type flowTraits struct {
	// form: the flow fills in a draft step by step. A request in plain words for
	// another flow is read as the step's answer (only those that may interrupt, see
	// Interrupts), a place or photo sent at a step that does not take one is refused
	// kindly instead of leaving the draft, and news keep the step's options.
	form bool
	// verbatim: the person's text is content to keep as written (a broadcast's
	// text): it is not read for intents nor for its language; only keywords, commands
	// and the offered options' own labels count.
	verbatim bool
}

// traited is a flow with traits other than the default.
type traited interface{ traits() flowTraits }

// traits returns the traits of the flow name.
func (r *Router) traits(name string) flowTraits {
	if t, ok := r.flows[name].(traited); ok {
		return t.traits()
	}
	return flowTraits{}
}

// Conv is a turn with the means to speak (localised texts in the person's language)
// and to use what the router offers every flow: the menu, the FAQ, other flows, the
// keywords, asides. Flows reach the router only through it. The turn's ReplyLang,
// when set, is the language of this message, which is answered in it although the
// conversation is in another (see messageLang); the channel then adds its own words
// in it too.
type Conv struct {
	*bot.Turn
	texts *locales.Catalog
	log   *slog.Logger
	r     *Router
}

// Lang is the language the bot speaks in this turn: the person's, or the language of
// their message when it is a whole sentence in another.
func (c *Conv) Lang() string {
	if c.ReplyLang != "" {
		return c.texts.Lang(c.ReplyLang)
	}
	return c.Chosen()
}

// Chosen is the person's language, the one that outlives the turn: what is stored for
// them (a subscription, a complaint's news) is in it.
func (c *Conv) Chosen() string { return c.texts.Lang(c.Session.Lang) }

// T renders a text in the person's language; kv are alternating names and values.
func (c *Conv) T(key string, kv ...any) string {
	data := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		name, _ := kv[i].(string)
		data[name] = kv[i+1]
	}
	s, err := c.texts.Text(c.Lang(), key, data)
	if err != nil {
		c.log.Error("text missing or broken", "err", err)
	}
	return s
}

// V renders one of the wordings of a text: key itself or key_2, key_3… when the
// locales have them, chosen by the person's message, so the same sentence does not
// come back word for word each time while a conversation replays the same way.
// Only for the bot's sentences, never for option labels.
func (c *Conv) V(key string, kv ...any) string {
	n := 1
	for c.texts.Has(fmt.Sprintf("%s_%d", key, n+1)) {
		n++
	}
	if n > 1 {
		h := fnv.New32a()
		h.Write([]byte(c.Msg.Text + c.Msg.ID))
		if i := int(h.Sum32() % uint32(n)); i > 0 {
			key = fmt.Sprintf("%s_%d", key, i+1)
		}
	}
	return c.T(key, kv...)
}

// Schedule says when a broadcast runs, in words in the person's language.
func (c *Conv) Schedule(t domain.Timing) string {
	s, err := c.texts.Schedule(c.Lang(), t)
	if err != nil {
		c.log.Error("text missing or broken", "err", err)
	}
	return s
}

// Say says a localised text.
func (c *Conv) Say(key string, kv ...any) { c.Turn.Say(bot.Reply{Text: c.T(key, kv...)}) }

// Ask says a localised text with options.
func (c *Conv) Ask(key string, opts ...bot.Option) {
	c.Turn.Say(bot.Reply{Text: c.T(key), Options: opts})
}

// Opt is an option whose label is a localised text.
func (c *Conv) Opt(id, key string) bot.Option { return bot.Option{ID: id, Label: c.T(key)} }

// Leave ends the active flow.
func (c *Conv) Leave() { c.Session.Reset() }

// ShowMenu offers the main menu.
func (c *Conv) ShowMenu() { c.r.ShowMenu(c) }

// StartFlow leaves the active flow and starts the flow name (a Flow… constant).
func (c *Conv) StartFlow(ctx context.Context, name string) error {
	f, ok := c.r.flows[name]
	if !ok {
		return fmt.Errorf("no flow %q", name)
	}
	c.Leave()
	return f.Start(ctx, c)
}

// Fallback handles a message no step of the flow can use, outside any flow: a
// question for the FAQ, or "not understood" and the menu.
func (c *Conv) Fallback(ctx context.Context, in Input) error { return c.r.unclaimed(ctx, c, in) }

// Question hands text that reads as a question (three words or more) to the FAQ,
// leaving the active flow, and reports whether it did.
func (c *Conv) Question(ctx context.Context, text string) (bool, error) {
	a, ok := c.r.asker()
	if !ok || !looksLikeQuestion(text) {
		return false, nil
	}
	c.Leave()
	return true, a.Ask(ctx, c, text)
}

// Has reports whether the flow name is registered (not only announced as coming).
func (c *Conv) Has(name string) bool {
	_, ok := c.r.flows[name]
	return ok && !c.r.soon[name]
}

// IsWord reports whether text is one of the keywords under key ("keywords.skip").
func (c *Conv) IsWord(key, text string) bool { return c.r.isWord(key, text) }

// Label renders a text in the language lang, whatever the person's (a language's name).
func (c *Conv) Label(lang, key string) string { return c.r.label(lang, key) }

// SetLanguage makes lang the person's language, tells their subscriptions, confirms in
// it and shows the menu.
func (c *Conv) SetLanguage(ctx context.Context, lang string) error {
	return setLanguage(ctx, c, c.r, lang)
}

// Aside does something that is not part of the active flow (a ticket shown, the
// office's contacts), then puts the flow back where it was and asks its step again.
func (c *Conv) Aside(do func() error) error { return c.r.aside(c, do) }

// InForm reports whether the person is filling in a form (a complaint, a broadcast):
// see flowTraits.
func (c *Conv) InForm() bool { return c.r.traits(c.Session.Flow).form }
