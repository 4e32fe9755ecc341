// Package flows holds Layan's conversations: the router that every message passes
// through (bad input, first contact, keywords that work at every step, the main menu)
// and one flow per file. Flows talk to people only through texts in package locales
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

// Conv is a turn with the means to speak: localised texts in the person's language.
// The turn's ReplyLang, when set, is the language of this message, which is answered
// in it although the conversation is in another (see messageLang); the channel then
// adds its own words in it too.
type Conv struct {
	*bot.Turn
	texts *locales.Catalog
	log   *slog.Logger
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
