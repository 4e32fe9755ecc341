package flows

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/locales"
)

// Language per message. A whole sentence in the other language than the
// conversation's is answered in its own language, and the person is asked once, with
// two buttons, whether to go on in it for good (Session.LangOffered remembers the
// question). Declining keeps the conversation's language: short messages stay in it,
// and a later whole sentence in the other language is again answered in that
// language, without asking.

// Ids of the two buttons of the offer: switch:<lang> goes on in lang for good,
// switch:keep keeps the conversation's language.
const (
	optSwitch = "switch:"
	optKeep   = "switch:keep"
)

// messageLang returns the language to answer this message in when it is not the
// conversation's: the message is a whole sentence in another language (sentenceLang),
// and not something that is the same in any language: an option picked or named, a
// keyword, a command, a ticket, small talk, yes or no, a request for a language, a
// staff member's broadcast text.
func (r *Router) messageLang(s *bot.Session, in Input) string {
	if in.Kind != bot.KindText || in.Option != "" || in.Text == "" || r.traits(s.Flow).verbatim {
		return ""
	}
	if rd := in.reading.Intent; smallTalk[rd] || rd == "yes" || rd == "no" || rd == "ticket" || strings.HasPrefix(rd, "lang:") {
		return ""
	}
	if strings.HasPrefix(in.Text, "/") || r.anyKeyword(in.Text) {
		return ""
	}
	lang := sentenceLang(in.Text)
	if lang == "" || lang == r.texts.Lang(s.Lang) || !slices.Contains(locales.Languages(), lang) {
		return ""
	}
	return lang
}

// offerSwitch puts the question whether to go on in lang for good before the replies
// of this turn from the index from on, once per conversation: the answer's own options
// stay the ones a number or a typed label picks.
func (r *Router) offerSwitch(c *Conv, lang string, from int) {
	if c.Session.LangOffered || c.texts.Lang(c.Session.Lang) == lang || from > len(c.Replies) {
		return
	}
	c.Session.LangOffered = true
	offer := bot.Reply{Text: c.T("lang_switch.offer"), Options: []bot.Option{
		c.Opt(optSwitch+lang, "lang_switch.yes"), c.Opt(optKeep, "lang_switch.no")}}
	c.Replies = slices.Insert(c.Replies, from, offer)
}

// switchPicked handles the buttons of the offer, at any step: the flow in progress is
// kept and its step asked again in the language now in use.
func (r *Router) switchPicked(ctx context.Context, c *Conv, opt string) (bool, error) {
	if !strings.HasPrefix(opt, optSwitch) {
		return false, nil
	}
	if opt == optKeep {
		return true, r.aside(c, func() error {
			c.Say("lang_switch.kept")
			return nil
		})
	}
	lang := strings.TrimPrefix(opt, optSwitch)
	if !slices.Contains(locales.Languages(), lang) {
		return false, nil
	}
	return true, r.aside(c, func() error {
		c.Session.Lang = lang
		if r.subscriptions != nil { // broadcasts come in the new language too
			if err := r.subscriptions.SetLanguage(ctx, c.Msg.Key(), lang); err != nil {
				return fmt.Errorf("record language of subscriber: %w", err)
			}
		}
		c.Say("language.changed")
		if c.Session.Flow == "" {
			r.ShowMenu(c)
		}
		return nil
	})
}
