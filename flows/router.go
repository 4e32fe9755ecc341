package flows

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/flows/fold"
	"github.com/layan-id/layan/flows/intent"
	"github.com/layan-id/layan/locales"
)

// MaxText is the longest text a person may send, in characters (Telegram's own limit).
const MaxText = 4096

// The names of the flows: what Session.Flow holds while one is active (sessions keep
// them, so they never change), and the ids of the menu entries and options that
// start them.
const (
	FlowFAQ         = "faq"
	FlowComplaint   = "complaint"
	FlowStatus      = "status"
	FlowTourism     = "tourism"
	FlowNearby      = "tourism_nearby" // the tourism flow, started at the request for a place
	FlowSubscribe   = "subscribe"
	FlowUnsubscribe = "unsubscribe"
	FlowLanguage    = "language"
	FlowHelp        = "help"
	FlowErase       = "erase"
	FlowHuman       = "human" // talking to a member of staff
	FlowBroadcast   = "staff-broadcast"
)

// The keyword lists (text keys) the router itself obeys at every step, and "skip",
// which the steps that may be skipped accept.
const (
	keyMenu      = "keywords.menu"
	keyCancel    = "keywords.cancel"
	keyBack      = "keywords.back"
	keyHelp      = "keywords.help"
	keyLanguage  = "keywords.language"
	keyPrivacy   = "keywords.privacy"
	keyErase     = "keywords.erase"
	keyAsk       = "keywords.ask"
	keyComplaint = "keywords.complaint"
	keyStatus    = "keywords.status"
	keySkip      = "keywords.skip"
)

// MenuItem is one entry of the main menu: the id of the flow it starts and the text
// key of its label.
type MenuItem struct {
	ID       string
	LabelKey string
}

// Router is the bot.Handler every message passes through. It knows no flow by its
// type: flows register what they add (Register, RegisterKeyword, HandleOption,
// HandleText, HandleIntent, HandleKind, HandleCommand, HandleEvent), and the router
// dispatches. A message is handled in this order:
//
//  1. news about the person (KindEvent) goes to the handler of its kind;
//  2. a flow that holds the conversation (Holder: talking to staff) takes it first;
//  3. a place or photo sent outside a step that takes one goes to the handler of its
//     kind (a place: what is near it), unless a form is being filled in;
//  4. input no flow can use (stickers, voice notes, empty, too long, control
//     characters) is answered kindly, changing nothing;
//  5. staff commands ("/daftar", "/siaran", …), for staff only;
//  6. a person's first message is greeted, then handled as below;
//  7. what works at every step: options (the language offer, a language, a menu
//     entry, "menu", then the options flows registered, in the order registered),
//     then text (a language's name, the texts flows registered such as a ticket
//     number, then the keywords: the router's own, menu, cancel, back, help,
//     language, privacy, erase, ask, complaint, status, then the flows' in the order
//     registered);
//  8. a request in plain words or small talk (the intent reader; in a form only
//     those that may interrupt it);
//  9. the active flow's Continue; outside any flow, the FAQ as a question.
type Router struct {
	texts   *locales.Catalog
	log     *slog.Logger
	intents *intent.Reader // reads what a message asks for before the flows see it
	menu    []MenuItem
	flows   map[string]Flow
	soon    map[string]bool // flows in the menu not registered yet: they say they are coming

	options  []optionRoute
	phrases  []TextHandler
	keywords []keywordRoute
	requests map[string]intentRoute
	kinds    map[bot.Kind]KindHandler
	commands []CommandHandler
	events   map[string]EventHandler
	legacy   map[string]legacyReader // state names → readers of old sessions' Vars
	places   *Gazetteer              // typed places of the region (RegisterPlaces); nil: none

	// subscriptions, when registered, learn a person's new language and forget a
	// person who erases their data.
	subscriptions Subscriptions
	// eraser, when registered, notes the photos a person sends and forgets the rest of
	// what the store keeps about a person who erases their data.
	eraser Eraser
}

var _ bot.Handler = (*Router)(nil)

// OptionHandler handles an option picked at any step. It reports false when it does
// not take the option after all (a rating out of range): the router goes on.
type OptionHandler func(ctx context.Context, c *Conv, id string) (bool, error)

// TextHandler handles text that means the same at any step (a ticket number); it
// reports whether it did.
type TextHandler func(ctx context.Context, c *Conv, text string) (bool, error)

// IntentHandler carries out a request in plain words (Input.reading says which).
type IntentHandler func(ctx context.Context, c *Conv, in Input) error

// KindHandler handles a message of a kind (a place, a photo) sent outside any step
// that takes one; it reports false when it cannot use this one.
type KindHandler func(ctx context.Context, c *Conv, in Input) (bool, error)

// CommandHandler handles a staff command ("/daftar"). It reports false for any other
// text, and for anyone who may not use the command: to them it does not exist.
type CommandHandler func(ctx context.Context, c *Conv, text string) (bool, error)

// EventHandler handles news about the person: a KindEvent message "<kind>:<arg>".
type EventHandler func(ctx context.Context, c *Conv, arg string) error

// Interrupts says whether a request in plain words may interrupt a form being filled
// in (the draft is kept and the step asked again after it), or is read as the
// step's answer ("mau lapor jalan rusak" in a description is the description).
type Interrupts int

// How requests treat forms.
const (
	NeverInterrupts Interrupts = iota
	AlwaysInterrupts
	InterruptsAtChoice // only at a step that offered options, where it cannot be an answer
)

type optionRoute struct {
	id string // an id, or a prefix ending in ':'
	h  OptionHandler
}

type keywordRoute struct {
	key string // text key of the word list
	do  func(ctx context.Context, c *Conv) error
}

type intentRoute struct {
	h          IntentHandler
	interrupts Interrupts
}

// NewRouter returns a router with the main menu: every menu entry whose flow is not
// registered says honestly that it is coming.
func NewRouter(texts *locales.Catalog, log *slog.Logger) *Router {
	r := &Router{texts: texts, log: log, flows: map[string]Flow{}, soon: map[string]bool{}, intents: defaultIntents(),
		requests: map[string]intentRoute{}, kinds: map[bot.Kind]KindHandler{}, events: map[string]EventHandler{},
		legacy: map[string]legacyReader{}}
	r.menu = []MenuItem{
		{FlowFAQ, "menu.faq"},
		{FlowComplaint, "menu.complaint"},
		{FlowStatus, "menu.status"},
		{FlowTourism, "menu.tourism"},
		{FlowSubscribe, "menu.subscribe"},
		{FlowLanguage, "menu.language"},
		{FlowHelp, "menu.help"},
	}
	for _, id := range []string{FlowFAQ, FlowComplaint, FlowStatus, FlowTourism, FlowSubscribe} {
		r.flows[id], r.soon[id] = comingSoon{key: "coming_soon." + id}, true
	}
	r.flows[FlowLanguage] = languageFlow{}
	r.flows[FlowHelp] = helpFlow{}
	r.flows[FlowErase] = eraseFlow{}
	r.registerBasics()
	return r
}

// registerBasics registers what the router itself does at every step: the language
// offer and languages, the menu, its keywords and the requests for them.
func (r *Router) registerBasics() {
	r.HandleOption(optSwitch, r.switchPicked)
	r.HandleOption("lang:", func(ctx context.Context, c *Conv, id string) (bool, error) {
		return true, c.SetLanguage(ctx, strings.TrimPrefix(id, "lang:"))
	})
	r.HandleText(func(ctx context.Context, c *Conv, text string) (bool, error) {
		for _, lang := range locales.Languages() {
			if fold.Is(r.label(lang, "lang.name"), fold.Label(text)) {
				return true, c.SetLanguage(ctx, lang) // "English", "Bahasa Indonesia" work at every step
			}
		}
		return false, nil
	})
	menu := func(_ context.Context, c *Conv) error { c.Leave(); c.ShowMenu(); return nil }
	cancel := func(_ context.Context, c *Conv) error { c.Leave(); c.Say("cancelled"); c.ShowMenu(); return nil }
	back := func(ctx context.Context, c *Conv) error {
		if b, ok := r.flows[c.Session.Flow].(Backer); ok {
			return b.Back(ctx, c)
		}
		return menu(ctx, c)
	}
	help := func(ctx context.Context, c *Conv) error { return r.flows[FlowHelp].Start(ctx, c) }
	privacy := func(_ context.Context, c *Conv) error { c.Say("privacy"); return nil }
	start := func(flow string) func(context.Context, *Conv) error {
		return func(ctx context.Context, c *Conv) error { return c.StartFlow(ctx, flow) }
	}
	for _, k := range []keywordRoute{
		{keyMenu, menu}, {keyCancel, cancel}, {keyBack, back}, {keyHelp, help},
		{keyLanguage, start(FlowLanguage)}, {keyPrivacy, privacy}, {keyErase, start(FlowErase)},
		{keyAsk, start(FlowFAQ)}, {keyComplaint, start(FlowComplaint)}, {keyStatus, start(FlowStatus)},
	} {
		r.keywords = append(r.keywords, k)
	}
	r.HandleOption("menu", func(ctx context.Context, c *Conv, _ string) (bool, error) { return true, menu(ctx, c) })
	// The same, asked in plain words ("ga jadi", "balik ke menu").
	for name, do := range map[string]func(context.Context, *Conv) error{"cancel": cancel, "menu": menu, "back": back, "erase": start(FlowErase)} {
		r.HandleIntent(name, AlwaysInterrupts, func(ctx context.Context, c *Conv, _ Input) error { return do(ctx, c) })
	}
	for name, do := range map[string]func(context.Context, *Conv) error{"help": help, "privacy": privacy} {
		r.HandleIntent(name, AlwaysInterrupts, func(ctx context.Context, c *Conv, _ Input) error {
			return c.Aside(func() error { return do(ctx, c) })
		})
	}
	for _, lang := range locales.Languages() {
		r.HandleIntent("lang:"+lang, AlwaysInterrupts, func(ctx context.Context, c *Conv, _ Input) error {
			if c.Session.Flow == "" {
				return c.SetLanguage(ctx, lang)
			}
			return c.Aside(func() error {
				c.Session.Lang = c.texts.Lang(lang)
				c.Say("language.changed")
				return nil
			})
		})
	}
	// Without a person to talk to (RegisterHandoff), the office's contacts.
	r.HandleIntent("human", AlwaysInterrupts, func(_ context.Context, c *Conv, _ Input) error {
		return c.Aside(func() error { c.Say("human.contacts"); return nil })
	})
}

// Register makes f the flow named name (a Flow… constant): started by its menu entry,
// its keywords and its option, and continued while Session.Flow is name.
func (r *Router) Register(name string, f Flow) {
	r.flows[name] = f
	delete(r.soon, name)
}

// RegisterKeyword makes the keywords of the text key (a comma-separated list, such as
// "keywords.tourism") start the flow name at every step.
func (r *Router) RegisterKeyword(textKey, name string) {
	r.keywords = append(r.keywords, keywordRoute{key: textKey, do: func(ctx context.Context, c *Conv) error {
		return c.StartFlow(ctx, name)
	}})
}

// HandleOption makes h handle, at every step, the option id, or every option whose id
// starts with id when id ends in ':'. Options are tried in the order registered.
func (r *Router) HandleOption(id string, h OptionHandler) {
	r.options = append(r.options, optionRoute{id: id, h: h})
}

// HandleText makes h see, at every step, text that picked no option, before the
// keywords.
func (r *Router) HandleText(h TextHandler) { r.phrases = append(r.phrases, h) }

// HandleIntent makes h carry out the request in plain words name (an intent of
// intents.yaml: "status", "tip", "subscribe", …); interrupts says whether it may
// interrupt a form. A request nobody handles goes to the FAQ.
func (r *Router) HandleIntent(name string, interrupts Interrupts, h IntentHandler) {
	r.requests[name] = intentRoute{h: h, interrupts: interrupts}
}

// HandleKind makes h handle a message of kind (bot.KindLocation, bot.KindImage) sent
// outside a step that takes one, when no form is being filled in.
func (r *Router) HandleKind(kind bot.Kind, h KindHandler) { r.kinds[kind] = h }

// HandleCommand adds a staff command handler; handlers are tried in the order added.
func (r *Router) HandleCommand(h CommandHandler) { r.commands = append(r.commands, h) }

// HandleEvent makes h handle the news about a person of kind ("complaint:…").
func (r *Router) HandleEvent(kind string, h EventHandler) { r.events[kind] = h }

// AddMenuItem puts an entry in the main menu before the entry before (at the end when
// there is none); an entry already there stays where it is.
func (r *Router) AddMenuItem(item MenuItem, before string) {
	if r.isMenu(item.ID) {
		return
	}
	at := slices.IndexFunc(r.menu, func(m MenuItem) bool { return m.ID == before })
	if at < 0 {
		at = len(r.menu)
	}
	r.menu = slices.Insert(r.menu, at, item)
}

// Holder is a flow that holds the conversation while it is active (talking to
// staff): it sees every message first, and reports false for one the router is to
// handle as usual.
type Holder interface {
	Hold(ctx context.Context, c *Conv, in Input) (bool, error)
}

// Backer is a flow that goes one step back on "kembali"; any other flow is left for
// the menu.
type Backer interface {
	Back(ctx context.Context, c *Conv) error
}

// Accepter is a flow that takes messages of some kinds (a photo, a place) at some
// steps.
type Accepter interface {
	Accepts(c *Conv, kind bot.Kind) bool
}

// Handle implements bot.Handler.
func (r *Router) Handle(ctx context.Context, t *bot.Turn) error {
	c := &Conv{Turn: t, texts: r.texts, log: r.log, r: r}
	r.upgrade(t.Session)
	if t.Msg.Kind == bot.KindEvent {
		kind, arg, _ := strings.Cut(t.Msg.Text, ":")
		if h, ok := r.events[kind]; ok {
			return h(ctx, c, arg)
		}
		return fmt.Errorf("unknown event %q", kind)
	}
	in := r.input(t)
	if m := t.Msg.Media; m != nil && m.Ref != "" && r.eraser != nil {
		// Bookkeeping only: a photo not noted is still pruned within a day.
		if err := r.eraser.NotePhoto(ctx, t.Msg.Key(), m.Ref); err != nil {
			r.log.WarnContext(ctx, "note photo for erasure", "err", err)
		}
	}
	if h, ok := r.flows[t.Session.Flow].(Holder); ok {
		if handled, err := h.Hold(ctx, c, in); handled || err != nil {
			return err
		}
	}
	if h, ok := r.kinds[t.Msg.Kind]; ok && t.Session.Greeted && !r.accepts(c, t.Msg.Kind) && !c.InForm() {
		if handled, err := h(ctx, c, in); handled || err != nil {
			return err
		}
	}
	if problem := unusable(t.Msg, in); problem != "" && !r.accepts(c, t.Msg.Kind) {
		c.Say("bad_input."+problem, "Max", MaxText)
		return nil // the options offered before still stand
	}
	// Options answer the message that offered them: this turn offers its own, or none.
	t.Session.Options = nil
	for _, cmd := range r.commands {
		if handled, err := cmd(ctx, c, in.Text); handled || err != nil {
			t.Session.Greeted = true // staff need no welcome
			return err
		}
	}
	if !t.Session.Greeted {
		return r.firstContact(ctx, c, in)
	}
	// A whole sentence in the other language is answered in it, with the offer
	// (once) to go on in it.
	c.ReplyLang = r.messageLang(t.Session, in)
	from := len(t.Replies)
	if err := r.answer(ctx, c, in); err != nil || c.ReplyLang == "" {
		return err
	}
	r.offerSwitch(c, c.ReplyLang, from)
	return nil
}

// answer does what a message of a greeted person asks.
func (r *Router) answer(ctx context.Context, c *Conv, in Input) error {
	if handled, err := r.global(ctx, c, in); handled || err != nil {
		return err
	}
	if handled, err := r.understood(ctx, c, in); handled || err != nil {
		return err
	}
	if f, ok := r.flows[c.Session.Flow]; ok {
		return f.Continue(ctx, c, in)
	}
	return r.unclaimed(ctx, c, in)
}

// Asker is a flow that can take a free question (the FAQ): text that no flow claims
// goes to it.
type Asker interface {
	Ask(ctx context.Context, c *Conv, question string) error
}

// asker is the FAQ, when one is registered.
func (r *Router) asker() (Asker, bool) {
	a, ok := r.flows[FlowFAQ].(Asker)
	return a, ok
}

// unclaimed handles a message outside any flow that is no keyword: a question for the
// FAQ when there is one, else "not understood" and the menu.
func (r *Router) unclaimed(ctx context.Context, c *Conv, in Input) error {
	if a, ok := r.asker(); ok && in.Text != "" && !isNumber(in.Text) {
		return a.Ask(ctx, c, in.Text)
	}
	c.Say("not_understood")
	r.ShowMenu(c)
	return nil
}

// input resolves what the person picked: a button press, or the number, the label
// typed loosely, or a yes or no that answers one of the offered options; and what
// else the text asks for (intent.Reading).
func (r *Router) input(t *bot.Turn) Input {
	in := Input{Text: t.Text(), Option: t.Msg.Option, Kind: t.Msg.Kind, Location: t.Msg.Location, Media: t.Msg.Media,
		offered: len(t.Session.Options) > 0}
	if in.Option != "" || in.Text == "" {
		return in
	}
	if r.anyKeyword(in.Text) || strings.HasPrefix(in.Text, "/") || r.traits(t.Session.Flow).verbatim {
		// A keyword of every step ("kembali", "batal", "wisata") and a command are
		// what they say, and a text to keep as written is not read for intents; only
		// an option's own label (or number) takes precedence.
		norm := fold.Label(in.Text)
		for i, o := range t.Session.Options {
			if fold.Is(o.Label, norm) || norm == strconv.Itoa(i+1) {
				in.Option = o.ID
			}
		}
		return in
	}
	in.reading = r.read(t.Session, in.Text)
	in.Option = in.reading.Option
	return in
}

// anyKeyword reports whether text is one of the keywords that work at every step.
func (r *Router) anyKeyword(text string) bool {
	label := fold.Label(text)
	return slices.ContainsFunc(r.keywords, func(k keywordRoute) bool { return r.isLabel(k.key, label) })
}

// unusable names the bad_input text for a message no flow can use, or "".
func unusable(m bot.Message, in Input) string {
	switch m.Kind {
	case bot.KindSticker:
		return "sticker"
	case bot.KindVoice:
		return "voice"
	case bot.KindBadFile:
		return "bad_file"
	case bot.KindMediaFull:
		return "media_full"
	case bot.KindImage:
		return "photo" // a photo outside the steps that take one
	case bot.KindUnsupported, bot.KindLocation:
		return "unsupported" // a place outside the steps and handlers that take one
	}
	switch {
	case in.Text == "" && in.Option == "":
		return "empty"
	case !utf8.ValidString(in.Text):
		return "control"
	case utf8.RuneCountInString(in.Text) > MaxText:
		return "too_long"
	}
	for _, r := range in.Text {
		if unicode.IsControl(r) && r != '\n' && r != '\t' && r != '\r' {
			return "control"
		}
	}
	return ""
}

// firstContact greets, then does what the first message asked: a keyword, a menu
// entry or a question. A first message in clear English is answered in English, with
// the offer of Indonesian.
func (r *Router) firstContact(ctx context.Context, c *Conv, in Input) error {
	c.Session.Greeted = true
	if lang, ok := strings.CutPrefix(in.Option, "lang:"); ok {
		// A client that knows the person's language (the web page) opens with it.
		c.Session.Lang = c.texts.Lang(lang)
		c.Say("greeting")
		r.ShowMenu(c)
		return nil
	}
	english := c.Session.Lang == "" && looksEnglish(in.Text)
	if english {
		c.Session.Lang = "en" // answer a tourist in English at once, and offer Indonesian
	}
	c.Say("greeting")
	if english {
		c.Session.LangOffered = true // the one question of language per conversation
		c.Turn.Say(bot.Reply{Text: c.T("indonesian_offer"),
			Options: []bot.Option{{ID: "lang:id", Label: r.label("id", "lang.name")}}})
	}
	if handled, err := r.global(ctx, c, in); handled || err != nil {
		return err
	}
	if rd := in.reading; rd.Intent != "" && !smallTalk[rd.Intent] && rd.Intent != "yes" && rd.Intent != "no" {
		return r.do(ctx, c, in)
	}
	if _, ok := r.asker(); ok && in.Option == "" && in.reading.Intent == "" && looksLikeQuestion(in.Text) {
		// "ktp ku ilang gmn" as a first message deserves its answer, not just a menu.
		return r.unclaimed(ctx, c, in)
	}
	r.ShowMenu(c)
	return nil
}

// isWord reports whether text is one of the keywords under key.
func (r *Router) isWord(key, text string) bool { return r.isLabel(key, fold.Label(text)) }

// isLabel is isWord of a text in fold.Label's form already: for comparing one text
// with every keyword, folded once.
func (r *Router) isLabel(key, label string) bool { return slices.Contains(r.texts.Words(key), label) }

// Accepts implements bot.StepAccepter: whether the session's flow takes a message of
// this kind (a photo, a place) at its current step.
func (r *Router) Accepts(s *bot.Session, kind bot.Kind) bool {
	return r.accepts(&Conv{Turn: &bot.Turn{Session: s}, texts: r.texts, log: r.log, r: r}, kind)
}

var _ bot.StepAccepter = (*Router)(nil)

// accepts reports whether the active flow takes a message of this kind (a photo, a
// place) at its current step.
func (r *Router) accepts(c *Conv, kind bot.Kind) bool {
	f, ok := r.flows[c.Session.Flow].(Accepter)
	return ok && f.Accepts(c, kind)
}

// isNumber reports whether text is only a number: a pick from options that are no
// longer offered, not a question.
func isNumber(text string) bool {
	_, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(text), "."))
	return err == nil
}

// looksLikeQuestion tells a first message that asks something from a mere greeting:
// it has at least three words.
func looksLikeQuestion(text string) bool { return len(strings.Fields(text)) >= 3 }

// global handles what works at every step (see Router): options, then text.
func (r *Router) global(ctx context.Context, c *Conv, in Input) (bool, error) {
	if in.Option != "" {
		if f, ok := r.flows[in.Option]; ok && r.isMenu(in.Option) {
			c.Leave()
			return true, f.Start(ctx, c)
		}
		for _, o := range r.options {
			if in.Option != o.id && !(strings.HasSuffix(o.id, ":") && strings.HasPrefix(in.Option, o.id)) {
				continue
			}
			if handled, err := o.h(ctx, c, in.Option); handled || err != nil {
				return handled, err
			}
		}
		return false, nil
	}
	for _, h := range r.phrases {
		if handled, err := h(ctx, c, in.Text); handled || err != nil {
			return handled, err
		}
	}
	label := fold.Label(in.Text)
	for _, k := range r.keywords {
		if r.isLabel(k.key, label) {
			return true, k.do(ctx, c)
		}
	}
	return false, nil
}

func (r *Router) isMenu(id string) bool {
	return slices.ContainsFunc(r.menu, func(m MenuItem) bool { return m.ID == id })
}

// Apology is the reply for a message that could not be handled (bot.EngineConfig.Apology).
func (r *Router) Apology(lang string) bot.Reply {
	return bot.Reply{Text: r.label(lang, "apology")}
}

// ShowMenu offers the main menu.
func (r *Router) ShowMenu(c *Conv) {
	opts := make([]bot.Option, len(r.menu))
	for i, m := range r.menu {
		opts[i] = c.Opt(m.ID, m.LabelKey)
	}
	c.Ask("menu.prompt", opts...)
}

// label renders a text in a given language (for options that name a language).
func (r *Router) label(lang, key string) string {
	s, err := r.texts.Text(lang, key, nil)
	if err != nil {
		r.log.Error("text missing or broken", "err", err)
	}
	return s
}
