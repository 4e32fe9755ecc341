package flows

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/flows/faq"
)

// FAQStats counts what the FAQ could not answer and what people thought of its
// answers, so staff can see where the knowledge base falls short.
type FAQStats interface {
	CountUnanswered(ctx context.Context, question string) error
	CountFeedback(ctx context.Context, entryID string, helpful bool) error
}

// FAQObserver, when the FAQStats given to RegisterFAQ is one too, is told the outcome of
// every question asked (for metrics): "answered", "suggested" (did you mean…) or
// "none".
type FAQObserver interface {
	FAQOutcome(outcome string)
}

// askFlow answers questions from the knowledge base: directly when the matcher is
// sure, with "did you mean" options when it is unsure, and with a kind "I cannot
// answer that yet" and next steps when nothing matches. Every answer asks whether it
// helped. Free text that no other flow claims also comes here.
type askFlow struct {
	index FAQIndex
	stats FAQStats
}

// FAQIndex gives the current index of the knowledge base: a *faq.Matcher (fixed) or
// a *faq.Live (which staff change while the service runs). A message takes it once
// and uses that one throughout.
type FAQIndex interface {
	Matcher() *faq.Matcher
}

// askState is what the FAQ remembers: the question it offered entries for, or the
// entry it answered (for the feedback).
type askState struct {
	Question string `json:"question,omitempty"`
	Entry    string `json:"entry,omitempty"`
}

// legacyAsk reads the state of sessions saved before typed state.
func legacyAsk(flow string, v map[string]string) (any, bool) {
	return askState{Question: v["question"], Entry: v["entry"]}, flow == FlowFAQ
}

// RegisterFAQ adds answering questions from the knowledge base index: the menu
// entry, the "tanya" keywords, and every text no flow claims.
func (r *Router) RegisterFAQ(index FAQIndex, stats FAQStats) {
	r.Register(FlowFAQ, &askFlow{index: index, stats: stats})
	r.handleLegacy(FlowFAQ, legacyAsk)
}

func (f *askFlow) Start(_ context.Context, c *Conv) error {
	c.Session.Flow, c.Session.Step = FlowFAQ, "question"
	c.Say("faq.prompt")
	return nil
}

func (f *askFlow) Continue(ctx context.Context, c *Conv, in Input) error {
	switch {
	case in.Option == "faq:yes" || in.Option == "faq:no":
		return f.feedback(ctx, c, in.Option == "faq:yes")
	case in.Option == "faq:none":
		return f.noMatch(ctx, c, loadState[askState](c, FlowFAQ).Question, nil)
	case strings.HasPrefix(in.Option, "faq:entry:"):
		entries := f.index.Matcher().Entries()
		for i := range entries {
			if e := &entries[i]; "faq:entry:"+e.ID == in.Option {
				return f.answer(c, e, nil)
			}
		}
	}
	if in.Text == "" {
		return f.Start(ctx, c)
	}
	if isNumber(in.Text) { // a pick from options no longer offered
		c.Leave()
		c.Say("not_understood")
		c.ShowMenu()
		return nil
	}
	return f.Ask(ctx, c, in.Text)
}

// Ask answers one question.
func (f *askFlow) Ask(ctx context.Context, c *Conv, question string) error {
	r := f.index.Matcher().Match(question)
	if o, ok := f.stats.(FAQObserver); ok {
		switch {
		case r.Answered:
			o.FAQOutcome("answered")
		case len(r.Candidates) > 0:
			o.FAQOutcome("suggested")
		default:
			o.FAQOutcome("none")
		}
	}
	switch {
	case r.Answered:
		return f.answer(c, r.Entry, r.Also)
	case len(r.Candidates) == 1:
		// One likely entry: "Maksud Anda: …?" Ya / Bukan.
		e := r.Candidates[0]
		c.Session.Flow, c.Session.Step = FlowFAQ, "choose"
		saveState(c, FlowFAQ, askState{Question: question})
		c.Turn.Say(bot.Reply{Text: c.T("faq.did_you_mean_one", "Description", f.label(c, e)), Options: []bot.Option{
			{ID: "faq:entry:" + e.ID, Label: c.T("faq.mean_yes")}, c.Opt("faq:none", "faq.not_this")}})
		return nil
	case len(r.Candidates) > 0:
		c.Session.Flow, c.Session.Step = FlowFAQ, "choose"
		saveState(c, FlowFAQ, askState{Question: question})
		opts := make([]bot.Option, 0, len(r.Candidates)+1)
		for _, e := range r.Candidates {
			opts = append(opts, bot.Option{ID: "faq:entry:" + e.ID, Label: f.label(c, e)})
		}
		opts = append(opts, c.Opt("faq:none", "faq.none_of_these"))
		c.Ask("faq.did_you_mean", opts...)
		return nil
	}
	return f.noMatch(ctx, c, question, r.Near)
}

// answer gives an entry's answer in the person's language (Indonesian with a note
// when the entry has none in theirs), with two small feedback buttons instead of a
// question, and the entry almost as likely, when there is one, as a third.
func (f *askFlow) answer(c *Conv, e, also *faq.Entry) error {
	text, own := e.AnswerIn(c.Lang())
	if !own {
		text += "\n\n" + c.T("faq.only_indonesian")
	}
	c.Session.Flow, c.Session.Step = FlowFAQ, "feedback"
	saveState(c, FlowFAQ, askState{Entry: e.ID})
	opts := []bot.Option{c.Opt("faq:yes", "faq.yes"), c.Opt("faq:no", "faq.no")}
	if also != nil {
		text += "\n\n" + c.T("faq.or_maybe", "Description", f.label(c, also))
		opts = append([]bot.Option{{ID: "faq:entry:" + also.ID, Label: f.label(c, also)}}, opts...)
	}
	c.Turn.Say(bot.Reply{Text: text, Options: opts})
	return nil
}

func (f *askFlow) feedback(ctx context.Context, c *Conv, helpful bool) error {
	id := loadState[askState](c, FlowFAQ).Entry
	if id != "" {
		if err := f.stats.CountFeedback(ctx, id, helpful); err != nil {
			return fmt.Errorf("count feedback: %w", err)
		}
	}
	c.Session.Flow, c.Session.Step = FlowFAQ, "question"
	dropState(c, FlowFAQ)
	if helpful {
		c.Turn.Say(bot.Reply{Text: c.V("faq.thanks")})
		return nil
	}
	c.Turn.Say(bot.Reply{Text: c.V("faq.sorry"), Options: f.nextSteps(c)})
	return nil
}

// noMatch says kindly that there is no answer, names the nearest entries when there
// are any (as buttons), offers the next steps and counts the question for staff.
func (f *askFlow) noMatch(ctx context.Context, c *Conv, question string, near []*faq.Entry) error {
	if question != "" {
		if err := f.stats.CountUnanswered(ctx, question); err != nil {
			return fmt.Errorf("count unanswered question: %w", err)
		}
	}
	c.Session.Flow, c.Session.Step = FlowFAQ, "question"
	dropState(c, FlowFAQ)
	noMatch := "faq.no_match"
	if c.Lang() == "en" {
		noMatch = "faq.no_match_visitor"
	}
	if len(near) > 0 {
		opts := make([]bot.Option, 0, len(near)+2)
		for _, e := range near {
			opts = append(opts, bot.Option{ID: "faq:entry:" + e.ID, Label: f.label(c, e)})
		}
		c.Turn.Say(bot.Reply{Text: c.V("faq.no_match_near"), Options: append(opts, f.nextSteps(c)...)})
		return nil
	}
	c.Turn.Say(bot.Reply{Text: c.V(noMatch) + "\n" + c.T("faq.contact"), Options: f.nextSteps(c)})
	return nil
}

// nextSteps fit the person: a citizen may file a complaint, a visitor writing in
// English is more likely after tourism.
func (f *askFlow) nextSteps(c *Conv) []bot.Option {
	opts := []bot.Option{c.Opt(FlowComplaint, "faq.option_complaint"), c.Opt("menu", "faq.option_menu")}
	if c.Lang() == "en" {
		opts[0] = c.Opt(FlowTourism, "faq.option_tourism")
	}
	if c.Has(FlowHuman) { // a person can answer what the FAQ cannot
		opts = slices.Insert(opts, 1, c.Opt(FlowHuman, "faq.option_human"))
	}
	return opts
}

// label is how an entry is offered: its first phrasing in the person's language.
func (f *askFlow) label(c *Conv, e *faq.Entry) string {
	if qs := e.Questions[c.Lang()]; len(qs) > 0 {
		return qs[0]
	}
	return e.Questions["id"][0]
}
