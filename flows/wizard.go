package flows

import (
	"context"
	"slices"
	"strings"

	"github.com/layan-id/layan/bot"
)

// wizard is the one shape of Layan's multi-step forms (a complaint, a broadcast): it
// asks one step at a time, checks each answer, goes one step back on "kembali" (from
// the first step, to the menu), lets the person change one part from the preview, and
// does nothing before the confirmation. S is the form's fields; the wizard keeps them
// with its own (formState) in Session.State under the flow's name, and the current
// step in Session.Step. It is a Flow (with Back, Resume, Accepts and the form's
// traits) that the router knows by its name only.
type wizard[S any] struct {
	name  string        // the flow's name (Session.Flow) and its state's
	steps []formStep[S] // in the order they are walked; follow-ups name their parent
	// Text keys: said when the form starts (optional), before the step when the form
	// carries on after an aside, and before the step asked again after input it
	// cannot use.
	intro, resume, pickOne string
	preview                formPreview[S]
	verbatim               bool // the texts typed are content kept as written (flowTraits)
	// fresh returns the fields of a new form (a draft's name); nil: the zero S.
	fresh func() S
	// legacy reads the Vars of a session saved before typed state, when the session
	// was in this form.
	legacy func(vars map[string]string) S
}

// formStep is one step of a form.
type formStep[S any] struct {
	name string
	// parent, for a follow-up question of a step (a place far away: is it right?):
	// "kembali" and the end of the follow-up treat it as its parent.
	parent string
	takes  bot.Kind // a kind of message besides text the step takes (a place, a photo)
	edit   string   // text key naming the part in "which part?"; "" for none
	ask    func(c *Conv, s *S)
	answer func(ctx context.Context, c *Conv, s *S, in Input) outcome
}

// outcome is what an answer to a step leads to.
type outcome struct {
	kind outcomeKind
	step string // for goTo
}

type outcomeKind int

const (
	onward      outcomeKind = iota // kept: the next step, or the preview when changing one part
	stay                           // the step said what is wrong or what it took, and waits
	notAnAnswer                    // input the step cannot use: the step is asked again
	jump                           // to another step (goTo)
)

var (
	kept    = outcome{kind: onward}
	waiting = outcome{kind: stay}
	useless = outcome{kind: notAnAnswer}
)

// goTo asks the step next.
func goTo(step string) outcome { return outcome{kind: jump, step: step} }

// formPreview is the last step: the whole form shown back with a confirmation, a
// change of one part (when edit is set) and cancelling.
type formPreview[S any] struct {
	step       string // its name (Session.Step)
	show       func(c *Conv, s *S) string
	confirm    string // the confirmation's option id; its label's text key is confirmKey
	confirmKey string
	editKey    string // the label of "change a part" (option "edit"), "" for none
	editStep   string // the step "which part?" (Session.Step)
	editPrompt string // its question's text key
	cancelKey  string // the label of cancelling (option "cancel")
	// done carries out the confirmed form and leaves the flow; or it says what no
	// longer holds and returns the step to ask again.
	done func(ctx context.Context, c *Conv, s *S) (again string, err error)
}

// formState is what the wizard keeps of a form in the session.
type formState[S any] struct {
	Editing bool `json:"editing,omitempty"` // changing one part: back to the preview after it
	Fields  S    `json:"fields"`
}

var (
	_ Flow     = (*wizard[struct{}])(nil)
	_ Backer   = (*wizard[struct{}])(nil)
	_ Resumer  = (*wizard[struct{}])(nil)
	_ Accepter = (*wizard[struct{}])(nil)
	_ traited  = (*wizard[struct{}])(nil)
)

// register makes the wizard the flow of its name, reading old sessions' Vars into it.
func (w *wizard[S]) register(r *Router) {
	r.Register(w.name, w)
	if w.legacy != nil {
		r.handleLegacy(w.name, func(flow string, vars map[string]string) (any, bool) {
			if flow != w.name {
				return nil, false
			}
			return formState[S]{Editing: vars["editing"] != "", Fields: w.legacy(vars)}, true
		})
	}
}

func (w *wizard[S]) traits() flowTraits { return flowTraits{form: true, verbatim: w.verbatim} }

// Start begins a new form.
func (w *wizard[S]) Start(_ context.Context, c *Conv) error {
	w.begin(c, w.new())
	return nil
}

func (w *wizard[S]) new() S {
	if w.fresh != nil {
		return w.fresh()
	}
	var s S
	return s
}

// begin leaves the active flow and begins the form with fields s.
func (w *wizard[S]) begin(c *Conv, s S) {
	c.Leave()
	c.Session.Flow = w.name
	if w.intro != "" {
		c.Say(w.intro)
	}
	st := formState[S]{Fields: s}
	w.ask(c, &st, w.steps[0].name)
	w.save(c, &st)
}

func (w *wizard[S]) load(c *Conv) formState[S] { return loadState[formState[S]](c, w.name) }

// save keeps the form, unless the turn left it.
func (w *wizard[S]) save(c *Conv, st *formState[S]) {
	if c.Session.Flow == w.name {
		saveState(c, w.name, *st)
	}
}

// step returns the step called name.
func (w *wizard[S]) step(name string) (formStep[S], bool) {
	i := slices.IndexFunc(w.steps, func(s formStep[S]) bool { return s.name == name })
	if i < 0 {
		return formStep[S]{}, false
	}
	return w.steps[i], true
}

// walk is the order of the steps a person walks, the preview last.
func (w *wizard[S]) walk() []string {
	var names []string
	for _, s := range w.steps {
		if s.parent == "" {
			names = append(names, s.name)
		}
	}
	return append(names, w.preview.step)
}

// ask asks the step called name and makes it the current step.
func (w *wizard[S]) ask(c *Conv, st *formState[S], name string) {
	c.Session.Step = name
	switch name {
	case w.preview.step:
		opts := []bot.Option{c.Opt(w.preview.confirm, w.preview.confirmKey)}
		if w.preview.editKey != "" {
			opts = append(opts, c.Opt("edit", w.preview.editKey))
		}
		opts = append(opts, c.Opt("cancel", w.preview.cancelKey))
		c.Turn.Say(bot.Reply{Text: w.preview.show(c, &st.Fields), Options: opts})
	case w.preview.editStep:
		var opts []bot.Option
		for _, s := range w.steps {
			if s.edit != "" {
				opts = append(opts, c.Opt("edit:"+s.name, s.edit))
			}
		}
		c.Ask(w.preview.editPrompt, opts...)
	default:
		if s, ok := w.step(name); ok {
			s.ask(c, &st.Fields)
		}
	}
}

// Continue takes the answer to the current step.
func (w *wizard[S]) Continue(ctx context.Context, c *Conv, in Input) error {
	st := w.load(c)
	var err error
	switch c.Session.Step {
	case w.preview.step:
		err = w.atPreview(ctx, c, &st, in)
	case w.preview.editStep:
		name, ok := strings.CutPrefix(in.Option, "edit:")
		if s, known := w.step(name); !ok || !known || s.edit == "" {
			w.repeat(c, &st)
			break
		}
		st.Editing = true
		w.ask(c, &st, name)
	default:
		s, ok := w.step(c.Session.Step)
		if !ok { // a step this version does not know: start again
			w.begin(c, w.new())
			return nil
		}
		w.follow(c, &st, s, s.answer(ctx, c, &st.Fields, in))
	}
	w.save(c, &st)
	return err
}

// follow does what an answer to step s led to.
func (w *wizard[S]) follow(c *Conv, st *formState[S], s formStep[S], o outcome) {
	switch o.kind {
	case onward:
		if st.Editing {
			st.Editing = false
			w.ask(c, st, w.preview.step)
			return
		}
		done := s.name
		if s.parent != "" {
			done = s.parent
		}
		walk := w.walk()
		w.ask(c, st, walk[slices.Index(walk, done)+1])
	case notAnAnswer:
		w.repeat(c, st)
	case jump:
		w.ask(c, st, o.step)
	}
}

// atPreview confirms, changes one part, cancels, or asks again.
func (w *wizard[S]) atPreview(ctx context.Context, c *Conv, st *formState[S], in Input) error {
	switch {
	case in.Option == w.preview.confirm:
		again, err := w.preview.done(ctx, c, &st.Fields)
		if err != nil || again == "" {
			return err
		}
		st.Editing = false
		w.ask(c, st, again)
	case in.Option == "edit" && w.preview.editKey != "":
		w.ask(c, st, w.preview.editStep)
	case in.Option == "cancel":
		c.Leave()
		c.Say("cancelled")
		c.ShowMenu()
	default:
		w.repeat(c, st)
	}
	return nil
}

// repeat asks the current step again, kindly, after input it cannot use.
func (w *wizard[S]) repeat(c *Conv, st *formState[S]) {
	c.Say(w.pickOne)
	w.ask(c, st, c.Session.Step)
}

// Back goes one step back: from a follow-up to the step before its parent, from
// "which part?" to the preview, from the first step out of the form to the menu.
func (w *wizard[S]) Back(_ context.Context, c *Conv) error {
	st := w.load(c)
	name := c.Session.Step
	if s, ok := w.step(name); ok && s.parent != "" {
		name = s.parent
	}
	walk := w.walk()
	switch i := slices.Index(walk, name); {
	case name == w.preview.editStep:
		w.ask(c, &st, w.preview.step)
	case i <= 0:
		c.Leave()
		c.ShowMenu()
		return nil
	default:
		st.Editing = false
		w.ask(c, &st, walk[i-1])
	}
	w.save(c, &st)
	return nil
}

// Resume asks the current step again after an aside, saying that the draft is kept.
func (w *wizard[S]) Resume(c *Conv) {
	st := w.load(c)
	if w.resume != "" {
		c.Say(w.resume)
	}
	w.ask(c, &st, c.Session.Step)
	w.save(c, &st)
}

// Accepts lets through the kinds of message the current step takes.
func (w *wizard[S]) Accepts(c *Conv, kind bot.Kind) bool {
	s, ok := w.step(c.Session.Step)
	return ok && s.takes == kind && kind != ""
}
