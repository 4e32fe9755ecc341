package flows

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/domain"
)

// BroadcastCreator stores a new broadcast (*store.Broadcasts is one).
type BroadcastCreator interface {
	Create(ctx context.Context, bc *domain.Broadcast) (string, error)
}

// staffBroadcastFlow lets staff schedule a broadcast from chat ("/siaran"): a form
// (wizard) of topic, Indonesian text, English text (or none), when (now, a date and
// time, or a cron schedule), then a preview to schedule or cancel. The texts are kept
// as written (verbatim), and checked by the domain's rules (domain.BroadcastRules)
// as the staff API checks them.
type staffBroadcastFlow struct {
	store  BroadcastCreator
	topics []string
	staff  func(key string) bool
	loc    *time.Location
	now    func() time.Time
	form   *wizard[broadcastDraft]
}

// The steps of /siaran (Session.Step keeps these names).
const (
	stepTopic   = "topic"
	stepTextID  = "text_id"
	stepTextEN  = "text_en"
	stepWhen    = "when"
	stepPreview = "preview"
)

// broadcastDraft is a broadcast being written in chat.
type broadcastDraft struct {
	Topic  string     `json:"topic,omitempty"`
	TextID string     `json:"text_id,omitempty"`
	TextEN string     `json:"text_en,omitempty"`
	Now    bool       `json:"now,omitempty"` // at the moment of the confirmation, or
	At     *time.Time `json:"at,omitempty"`  // at a time, or
	Cron   string     `json:"cron,omitempty"`
}

// legacyBroadcast reads a draft as sessions saved it before typed state.
func legacyBroadcast(v map[string]string) broadcastDraft {
	d := broadcastDraft{Topic: v["topic"], TextID: v["text_id"], TextEN: v["text_en"], Now: v["at"] == "now", Cron: v["cron"]}
	if at, err := time.Parse(time.RFC3339, v["at"]); err == nil {
		d.At = &at
	}
	return d
}

// RegisterStaffBroadcasts adds "/siaran" ("/broadcast") for staff.
func (r *Router) RegisterStaffBroadcasts(store BroadcastCreator, topics []string, staff func(string) bool, loc *time.Location, now func() time.Time) {
	if now == nil {
		now = time.Now
	}
	f := &staffBroadcastFlow{store: store, topics: topics, staff: staff, loc: loc, now: now}
	f.form = &wizard[broadcastDraft]{
		name: FlowBroadcast, resume: "broadcast.resume", pickOne: "complaint.pick_one", verbatim: true,
		legacy: legacyBroadcast,
		steps: []formStep[broadcastDraft]{
			{name: stepTopic, ask: f.askTopic, answer: f.topic},
			{name: stepTextID, ask: f.askTextID, answer: f.text("id")},
			{name: stepTextEN, ask: f.askTextEN, answer: f.text("en")},
			{name: stepWhen, ask: f.askWhen, answer: f.when},
		},
		preview: formPreview[broadcastDraft]{
			step: stepPreview, show: f.preview, confirm: "send", confirmKey: "broadcast.send", cancelKey: "complaint.cancel",
			done: f.create,
		},
	}
	f.form.register(r)
	r.HandleCommand(f.command)
}

// command starts the flow for staff typing /siaran; for anyone else the command does
// not exist.
func (f *staffBroadcastFlow) command(ctx context.Context, c *Conv, text string) (bool, error) {
	cmd := strings.ToLower(strings.TrimSpace(text))
	if (cmd != "/siaran" && cmd != "/broadcast") || !f.staff(c.Msg.Key()) {
		return false, nil
	}
	return true, f.form.Start(ctx, c)
}

func (f *staffBroadcastFlow) askTopic(c *Conv, _ *broadcastDraft) {
	var opts []bot.Option
	for _, t := range f.topics {
		opts = append(opts, c.Opt("topic:"+t, "subscribe.topic."+t+".name"))
	}
	c.Ask("broadcast.ask_topic", opts...)
}

func (f *staffBroadcastFlow) topic(_ context.Context, _ *Conv, d *broadcastDraft, in Input) outcome {
	t, ok := strings.CutPrefix(in.Option, "topic:")
	if !ok || (domain.BroadcastRules{Topics: f.topics}).CheckTopics([]string{t}) != nil {
		return useless
	}
	d.Topic = t
	return kept
}

func (f *staffBroadcastFlow) askTextID(c *Conv, _ *broadcastDraft) { c.Say("broadcast.ask_text_id") }

func (f *staffBroadcastFlow) askTextEN(c *Conv, _ *broadcastDraft) {
	c.Ask("broadcast.ask_text_en", c.Opt("skip", "complaint.skip"))
}

// text is the answer to the step of the text in lang (id or en); the English one may
// be skipped.
func (f *staffBroadcastFlow) text(lang string) func(context.Context, *Conv, *broadcastDraft, Input) outcome {
	return func(_ context.Context, c *Conv, d *broadcastDraft, in Input) outcome {
		text, into := strings.TrimSpace(in.Text), &d.TextID
		if lang == "en" {
			into = &d.TextEN
			if in.Option == "skip" || c.IsWord(keySkip, text) {
				*into = ""
				return kept
			}
		}
		if problem := textProblem(lang, text); problem != "" {
			c.Say(problem, "Max", domain.MaxBroadcastText)
			return waiting
		}
		*into = text
		return kept
	}
}

func (f *staffBroadcastFlow) askWhen(c *Conv, _ *broadcastDraft) {
	c.Ask("broadcast.ask_when", c.Opt("now", "broadcast.now"))
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

// when reads "now", a date and time ("29-11-2026 06:00") or a cron schedule, checked
// by the domain's rules.
func (f *staffBroadcastFlow) when(_ context.Context, c *Conv, d *broadcastDraft, in Input) outcome {
	text := strings.TrimSpace(in.Text)
	var next broadcastDraft // one way of saying when, replacing any other
	switch {
	case in.Option == "now" || strings.EqualFold(text, "sekarang") || strings.EqualFold(text, "now"):
		next.Now = true
	case strings.Count(text, " ") >= 4:
		next.Cron = text
	default:
		at, err := time.ParseInLocation("02-01-2006 15:04", text, f.loc)
		if err != nil {
			c.Say("broadcast.bad_when")
			return waiting
		}
		next.At = &at
	}
	if !next.Now {
		if problem := timingProblem(domain.CheckBroadcastTiming(next.At, next.Cron, nil, f.now())); problem != "" {
			c.Say(problem)
			return waiting
		}
	}
	d.Now, d.At, d.Cron = next.Now, next.At, next.Cron
	return kept
}

// preview is the broadcast as it will be scheduled, its time in words ("setiap hari
// kerja pukul 06.00"), never raw cron.
func (f *staffBroadcastFlow) preview(c *Conv, d *broadcastDraft) string {
	when := c.T("broadcast.now")
	if !d.Now {
		when = c.Schedule((&domain.Broadcast{At: d.At, Cron: d.Cron}).Timing(f.loc, f.now()))
	}
	en := d.TextEN
	if en == "" {
		en = c.T("complaint.none")
	}
	return c.T("broadcast.preview", "Category", c.T("subscribe.topic."+d.Topic+".name"),
		"Description", d.TextID, "Summary", en, "Date", when)
}

// create schedules the confirmed broadcast, after the domain's rules: a time that
// passed while the preview waited, or a topic no longer there, sends the person back
// to that step.
func (f *staffBroadcastFlow) create(ctx context.Context, c *Conv, d *broadcastDraft) (string, error) {
	if !f.staff(c.Msg.Key()) { // no longer staff since the flow began
		c.Leave()
		return "", c.Fallback(ctx, Input{Text: c.Msg.Text})
	}
	now := f.now()
	bc := &domain.Broadcast{
		Topics: []string{d.Topic}, Text: map[string]string{"id": d.TextID},
		State: domain.BroadcastActive, CreatedAt: now, CreatedBy: c.Msg.Key(), At: d.At, Cron: d.Cron,
	}
	if d.Now {
		bc.At = &now
	}
	if d.TextEN != "" {
		bc.Text["en"] = d.TextEN
	}
	if err := (domain.BroadcastRules{Topics: f.topics}).Check(bc, now); err != nil {
		var p *domain.BroadcastProblem
		errors.As(err, &p)
		switch {
		case p != nil && p.Field == "topics":
			c.Say("complaint.pick_one")
			return stepTopic, nil
		case p != nil && p.Field == "text":
			lang := cmp.Or(p.Value, "id")
			c.Say(textProblem(lang, bc.Text[lang]), "Max", domain.MaxBroadcastText)
			return "text_" + lang, nil
		}
		c.Say(timingProblem(err))
		return stepWhen, nil
	}
	id, err := f.store.Create(ctx, bc)
	if err != nil {
		return "", fmt.Errorf("schedule broadcast: %w", err)
	}
	c.Leave()
	c.Say("broadcast.scheduled", "ID", id)
	return "", nil
}
