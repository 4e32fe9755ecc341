package flows

import (
	"context"
	"fmt"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/locales"
)

// comingSoon stands in the menu for a flow that a later release brings: it says so
// honestly and shows the menu again.
type comingSoon struct{ key string }

func (f comingSoon) Start(_ context.Context, c *Conv) error {
	c.Say(f.key)
	c.ShowMenu()
	return nil
}

func (f comingSoon) Continue(ctx context.Context, c *Conv, _ Input) error { return f.Start(ctx, c) }

// helpFlow explains the keywords; it keeps the active flow, so a person can ask for
// help in the middle of something and carry on.
type helpFlow struct{}

func (f helpFlow) Start(_ context.Context, c *Conv) error {
	if c.Session.Flow == "" {
		c.Turn.Say(bot.Reply{Text: c.T("help")})
		c.ShowMenu()
		return nil
	}
	c.Say("help")
	return nil
}

func (f helpFlow) Continue(ctx context.Context, c *Conv, _ Input) error { return f.Start(ctx, c) }

// languageFlow lets a person choose Indonesian or English; the choice is remembered
// in their session.
type languageFlow struct{}

func (f languageFlow) Start(_ context.Context, c *Conv) error {
	c.Session.Flow, c.Session.Step = FlowLanguage, "choose"
	opts := make([]bot.Option, 0, len(locales.Languages()))
	for _, lang := range locales.Languages() {
		opts = append(opts, bot.Option{ID: "lang:" + lang, Label: c.Label(lang, "lang.name")})
	}
	c.Ask("language.prompt", opts...)
	return nil
}

// Continue is reached only by text that is not one of the offered languages (those
// are handled by the router at every step): ask again.
func (f languageFlow) Continue(ctx context.Context, c *Conv, _ Input) error {
	c.Say("not_understood")
	return f.Start(ctx, c)
}

// setLanguage switches the person's language, confirms in it, and shows the menu.
func setLanguage(ctx context.Context, c *Conv, r *Router, lang string) error {
	c.Leave()
	c.Session.Lang = c.texts.Lang(lang)
	if r.subscriptions != nil { // broadcasts come in the new language too
		if err := r.subscriptions.SetLanguage(ctx, c.Msg.Key(), c.Session.Lang); err != nil {
			return fmt.Errorf("record language of subscriber: %w", err)
		}
	}
	c.Say("language.changed")
	c.ShowMenu()
	return nil
}

// Eraser forgets what the store keeps about a person (*store.Privacy is one).
type Eraser interface {
	// NotePhoto remembers that the conversation conv sent the stored photo name.
	NotePhoto(ctx context.Context, conv, name string) error
	// Erase forgets the conversation conv, all but its filed complaints.
	Erase(ctx context.Context, conv string) error
}

// RegisterEraser makes "hapus data saya" forget, through e, everything the store
// keeps about the person but their filed complaints: without it only the session and
// the subscriptions go.
func (r *Router) RegisterEraser(e Eraser) { r.eraser = e }

// eraseFlow deletes what Layan keeps about the person, after they confirm: their
// session (language, flow state, drafts), subscriptions, and through the Eraser the
// memory of their messages with the answers given, their web chat token and inbox,
// and the photos no filed complaint holds. Filed complaints stay (locales: privacy).
// The next message starts afresh with a greeting.
type eraseFlow struct{}

func (f eraseFlow) Start(_ context.Context, c *Conv) error {
	c.Session.Flow, c.Session.Step = FlowErase, "confirm"
	c.Ask("erase.confirm", c.Opt("erase:yes", "erase.yes"), c.Opt("erase:no", "erase.no"))
	return nil
}

func (f eraseFlow) Continue(ctx context.Context, c *Conv, in Input) error {
	switch in.Option {
	case "erase:yes":
		if subs := c.r.subscriptions; subs != nil {
			if err := subs.UnsubscribeAll(ctx, c.Msg.Key()); err != nil {
				return fmt.Errorf("erase subscriptions: %w", err)
			}
		}
		if e := c.r.eraser; e != nil {
			if err := e.Erase(ctx, c.Msg.Key()); err != nil {
				return fmt.Errorf("erase conversation: %w", err)
			}
		}
		c.Say("erase.done")
		c.Forget()
	case "erase:no":
		c.Leave()
		c.Say("erase.kept")
		c.ShowMenu()
	default:
		c.Say("not_understood")
		return f.Start(ctx, c)
	}
	return nil
}
