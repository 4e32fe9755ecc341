package flows

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/domain"
)

// BroadcastCreator stores a new broadcast (*store.Broadcasts is one).
type BroadcastCreator interface {
	Create(ctx context.Context, bc *domain.Broadcast) (string, error)
}

// staffBroadcastFlow lets staff schedule a broadcast from chat ("/siaran"): topic,
// Indonesian text, English text (or none), when (now, a date and time, or a cron
// schedule), then a preview to send or cancel.
type staffBroadcastFlow struct {
	store  BroadcastCreator
	topics []string
	staff  func(key string) bool
	loc    *time.Location
	now    func() time.Time
}

// RegisterStaffBroadcasts adds "/siaran" ("/broadcast") for staff.
func (r *Router) RegisterStaffBroadcasts(store BroadcastCreator, topics []string, staff func(string) bool, loc *time.Location, now func() time.Time) {
	if now == nil {
		now = time.Now
	}
	f := &staffBroadcastFlow{store: store, topics: topics, staff: staff, loc: loc, now: now}
	r.Register(FlowBroadcast, f)
	r.HandleCommand(f.command)
}

// command starts the flow for staff typing /siaran; for anyone else the command does
// not exist.
func (f *staffBroadcastFlow) command(ctx context.Context, c *Conv, text string) (bool, error) {
	cmd := strings.ToLower(strings.TrimSpace(text))
	if (cmd != "/siaran" && cmd != "/broadcast") || !f.staff(c.Msg.Key()) {
		return false, nil
	}
	return true, f.Start(ctx, c)
}

// traits: a broadcast is a form whose texts are kept as written.
func (f *staffBroadcastFlow) traits() flowTraits { return flowTraits{form: true, verbatim: true} }

func (f *staffBroadcastFlow) Start(_ context.Context, c *Conv) error {
	c.Leave()
	c.Session.Flow = FlowBroadcast
	f.ask(c, "topic")
	return nil
}

func (f *staffBroadcastFlow) ask(c *Conv, step string) {
	c.Session.Step = step
	switch step {
	case "topic":
		var opts []bot.Option
		for _, t := range f.topics {
			opts = append(opts, c.Opt("topic:"+t, "subscribe.topic."+t+".name"))
		}
		c.Ask("broadcast.ask_topic", opts...)
	case "text_id":
		c.Say("broadcast.ask_text_id")
	case "text_en":
		c.Ask("broadcast.ask_text_en", c.Opt("skip", "complaint.skip"))
	case "when":
		c.Ask("broadcast.ask_when", c.Opt("now", "broadcast.now"))
	}
}

func (f *staffBroadcastFlow) Continue(ctx context.Context, c *Conv, in Input) error {
	text := strings.TrimSpace(in.Text)
	switch c.Session.Step {
	case "topic":
		t, ok := strings.CutPrefix(in.Option, "topic:")
		if !ok || !slices.Contains(f.topics, t) {
			c.Say("complaint.pick_one")
			f.ask(c, "topic")
			return nil
		}
		c.Session.Set("topic", t)
		f.ask(c, "text_id")
	case "text_id":
		if problem := textProblem("id", text); problem != "" {
			c.Say(problem, "Max", domain.MaxBroadcastText)
			return nil
		}
		c.Session.Set("text_id", text)
		f.ask(c, "text_en")
	case "text_en":
		if in.Option != "skip" && !c.IsWord(keySkip, text) {
			if problem := textProblem("en", text); problem != "" {
				c.Say(problem, "Max", domain.MaxBroadcastText)
				return nil
			}
			c.Session.Set("text_en", text)
		}
		f.ask(c, "when")
	case "when":
		if problem := f.when(c, in.Option, text); problem != "" {
			c.Say(problem)
			return nil
		}
		f.preview(c)
	case "preview":
		switch in.Option {
		case "send":
			return f.create(ctx, c)
		case "cancel":
			c.Leave()
			c.Say("cancelled")
			return nil
		}
		f.preview(c)
	}
	return nil
}

// textProblem returns the text key of what is wrong with a broadcast's text in lang
// (domain.CheckBroadcastText), or "". Typed in chat, a text also needs three words:
// "ok" or "tes" sent by mistake is no announcement.
func textProblem(lang, text string) string {
	err := domain.CheckBroadcastText(lang, text)
	var p *domain.BroadcastProblem
	if errors.As(err, &p) && p.Reason == domain.LongText {
		return "broadcast.text_long"
	}
	if err != nil || len(strings.Fields(text)) < 3 {
		return "broadcast.text_short"
	}
	return ""
}

// timingProblem returns the text key of what the domain finds wrong with a broadcast's
// time (domain.CheckBroadcastTiming), or "".
func timingProblem(err error) string {
	var p *domain.BroadcastProblem
	switch {
	case err == nil:
		return ""
	case errors.As(err, &p) && p.Reason == domain.PastTime:
		return "broadcast.past"
	}
	return "broadcast.bad_when"
}

// when reads "now", a date and time ("29-11-2026 06:00") or a cron schedule, and
// returns the text key of the problem, or "".
func (f *staffBroadcastFlow) when(c *Conv, option, text string) string {
	switch {
	case option == "now" || strings.EqualFold(text, "sekarang") || strings.EqualFold(text, "now"):
		c.Session.Set("at", "now") // the moment of the confirmation
		return ""
	case strings.Count(text, " ") >= 4:
		if problem := timingProblem(domain.CheckBroadcastTiming(nil, text, nil, f.now())); problem != "" {
			return problem
		}
		c.Session.Set("cron", text)
		return ""
	}
	at, err := time.ParseInLocation("02-01-2006 15:04", text, f.loc)
	if err != nil {
		return "broadcast.bad_when"
	}
	if problem := timingProblem(domain.CheckBroadcastTiming(&at, "", nil, f.now())); problem != "" {
		return problem
	}
	c.Session.Set("at", at.Format(time.RFC3339))
	return ""
}

func (f *staffBroadcastFlow) preview(c *Conv) {
	c.Session.Step = "preview"
	when := c.Session.Get("cron")
	if c.Session.Get("at") == "now" {
		when = c.T("broadcast.now")
	} else if at, err := time.Parse(time.RFC3339, c.Session.Get("at")); err == nil {
		when = at.In(f.loc).Format("02-01-2006 15:04")
	}
	en := c.Session.Get("text_en")
	if en == "" {
		en = c.T("complaint.none")
	}
	c.Turn.Say(bot.Reply{
		Text: c.T("broadcast.preview", "Category", c.T("subscribe.topic."+c.Session.Get("topic")+".name"),
			"Description", c.Session.Get("text_id"), "Summary", en, "Date", when),
		Options: []bot.Option{c.Opt("send", "broadcast.send"), c.Opt("cancel", "complaint.cancel")},
	})
}

func (f *staffBroadcastFlow) create(ctx context.Context, c *Conv) error {
	if !f.staff(c.Msg.Key()) { // no longer staff since the flow began
		c.Leave()
		return c.Fallback(ctx, Input{Text: c.Msg.Text})
	}
	if c.Session.Get("at") == "now" {
		c.Session.Set("at", f.now().Format(time.RFC3339))
	}
	bc := &domain.Broadcast{
		Topics: []string{c.Session.Get("topic")}, Text: map[string]string{"id": c.Session.Get("text_id")},
		State: domain.BroadcastActive, CreatedAt: f.now(), CreatedBy: c.Msg.Key(), Cron: c.Session.Get("cron"),
	}
	if en := c.Session.Get("text_en"); en != "" {
		bc.Text["en"] = en
	}
	if at, err := time.Parse(time.RFC3339, c.Session.Get("at")); err == nil {
		bc.At = &at
	}
	if err := (domain.BroadcastRules{Topics: f.topics}).Check(bc, f.now()); err != nil {
		// Confirmed after its time had passed, or the content changed meanwhile.
		var p *domain.BroadcastProblem
		errors.As(err, &p)
		switch {
		case p != nil && p.Field == "topics":
			c.Say("complaint.pick_one")
			f.ask(c, "topic")
		case p != nil && p.Field == "text":
			lang := cmp.Or(p.Value, "id")
			c.Say(textProblem(lang, bc.Text[lang]), "Max", domain.MaxBroadcastText)
			f.ask(c, "text_"+lang)
		default:
			c.Say(timingProblem(err))
			f.ask(c, "when")
		}
		return nil
	}
	id, err := f.store.Create(ctx, bc)
	if err != nil {
		return fmt.Errorf("schedule broadcast: %w", err)
	}
	c.Leave()
	c.Say("broadcast.scheduled", "ID", id)
	return nil
}
