package flows

import (
	"context"
	"fmt"
	"log/slog"
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

// MenuItem is one entry of the main menu: the id of the flow it starts and the text
// key of its label.
type MenuItem struct {
	ID       string
	LabelKey string
}

// Router is the bot.Handler every message passes through. In order it:
//
//  1. answers input it cannot use (stickers, voice notes, empty, too long, control
//     characters) kindly, changing nothing;
//  2. greets a person on first contact, offering English when they wrote English;
//  3. obeys the keywords that work at every step (menu, cancel, back, help,
//     language, privacy, erase my data, ask) and menu picks;
//  4. hands everything else to the active flow, or to the FAQ as a question.
type Router struct {
	texts      *locales.Catalog
	log        *slog.Logger
	menu       []MenuItem
	flows      map[string]Flow
	complaints *complaintFlow    // nil until RegisterComplaints
	places     *Gazetteer        // typed places of the region (RegisterPlaces); nil: none
	keywords   map[string]string // text key of a keyword list → flow it starts
	// subscriptions, when registered, learn a person's new language and forget a
	// person who erases their data.
	subscriptions Subscriptions
	// eraser, when registered, notes the photos a person sends and forgets the rest of
	// what the store keeps about a person who erases their data.
	eraser Eraser
	// intents reads what a message asks for before the flows and the FAQ see it.
	intents *intent.Reader
	// handoff, when registered, connects people with staff (RegisterHandoff).
	handoff *handoffFlow
}

var _ bot.Handler = (*Router)(nil)

// NewRouter returns a router with the main menu of issue-2 Layan: every menu entry
// whose flow is not registered with Register says honestly that it is coming.
func NewRouter(texts *locales.Catalog, log *slog.Logger) *Router {
	r := &Router{texts: texts, log: log, flows: map[string]Flow{}, keywords: map[string]string{}, intents: defaultIntents()}
	r.menu = []MenuItem{
		{"faq", "menu.faq"},
		{"complaint", "menu.complaint"},
		{"status", "menu.status"},
		{"tourism", "menu.tourism"},
		{"subscribe", "menu.subscribe"},
		{"language", "menu.language"},
		{"help", "menu.help"},
	}
	for _, id := range []string{"faq", "complaint", "status", "tourism", "subscribe"} {
		r.flows[id] = comingSoon{key: "coming_soon." + id, menu: r}
	}
	r.flows["language"] = languageFlow{menu: r}
	r.flows["help"] = helpFlow{menu: r}
	r.flows["erase"] = eraseFlow{menu: r}
	return r
}

// Register makes f the flow started by the menu entry or keyword id.
func (r *Router) Register(id string, f Flow) { r.flows[id] = f }

// RegisterKeyword makes the keywords of the text key (a comma-separated list, such as
// "keywords.tourism") start the flow id at every step.
func (r *Router) RegisterKeyword(textKey, id string) { r.keywords[textKey] = id }

// Handle implements bot.Handler.
func (r *Router) Handle(ctx context.Context, t *bot.Turn) error {
	c := &Conv{Turn: t, texts: r.texts, log: r.log}
	if t.Msg.Kind == bot.KindEvent {
		return r.event(ctx, c)
	}
	in := r.input(t)
	if m := t.Msg.Media; m != nil && m.Ref != "" && r.eraser != nil {
		// Bookkeeping only: a photo not noted is still pruned within a day.
		if err := r.eraser.NotePhoto(ctx, t.Msg.Key(), m.Ref); err != nil {
			r.log.WarnContext(ctx, "note photo for erasure", "err", err)
		}
	}

	if r.handoff != nil && t.Session.Flow == handoffID {
		// Talking with staff: the bot is quiet and passes everything on.
		if handled, err := r.handoff.held(ctx, c, in); handled || err != nil {
			return err
		}
	}
	if t.Msg.Kind == bot.KindLocation && !r.accepts(c, t.Msg.Kind) && t.Session.Greeted && t.Session.Flow != "complaint" {
		// A place shared outside any step that asks for one: show what is near it.
		if f, ok := r.flows["tourism"].(*tourismFlow); ok && t.Msg.Location != nil {
			c.Leave()
			c.Session.Flow = "tourism"
			f.located(c, t.Msg.Location)
			return nil
		}
	}
	if problem := unusable(t.Msg, in); problem != "" && !r.accepts(c, t.Msg.Kind) {
		c.Say("bad_input."+problem, "Max", MaxText)
		return nil // the options offered before still stand
	}
	// Options answer the message that offered them: this turn offers its own, or none.
	t.Session.Options = nil
	if r.complaints != nil {
		if handled, err := r.complaints.staffCommand(ctx, c, in.Text); handled || err != nil {
			t.Session.Greeted = true // staff need no welcome
			return err
		}
	}
	if handled, err := r.staffBroadcastCommand(ctx, c, in.Text); handled || err != nil {
		t.Session.Greeted = true
		return err
	}
	if r.handoff != nil {
		if handled, err := r.handoff.staffCommand(ctx, c, in.Text); handled || err != nil {
			t.Session.Greeted = true
			return err
		}
	}
	if !t.Session.Greeted {
		return r.firstContact(ctx, c, in)
	}
	// A whole sentence in the other language is answered in it, with the offer
	// (once) to go on in it.
	c.lang = r.messageLang(t.Session, in)
	from := len(t.Replies)
	if err := r.answer(ctx, c, in); err != nil || c.lang == "" {
		return err
	}
	r.offerSwitch(c, c.lang, from)
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

// unclaimed handles a message outside any flow that is no keyword: a question for the
// FAQ when there is one, else "not understood" and the menu.
func (r *Router) unclaimed(ctx context.Context, c *Conv, in Input) error {
	if a, ok := r.flows["faq"].(Asker); ok && in.Text != "" && !isNumber(in.Text) {
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
	if r.anyKeyword(in.Text) || strings.HasPrefix(in.Text, "/") || t.Session.Flow == "staff-broadcast" {
		// A keyword of every step ("kembali", "batal", "wisata") and a command are
		// what they say; only an option's own label (or number) takes precedence.
		norm := fold.Label(in.Text)
		for i, o := range t.Session.Options {
			if fold.Label(o.Label) == norm || norm == strconv.Itoa(i+1) {
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
	if r.keyword(text) != "" {
		return true
	}
	for key := range r.keywords {
		if r.isWord(key, text) {
			return true
		}
	}
	return false
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
		return "unsupported" // no flow of this issue takes media or places
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
	if _, ok := r.flows["faq"].(Asker); ok && in.Option == "" && in.reading.Intent == "" && looksLikeQuestion(in.Text) {
		// "ktp ku ilang gmn" as a first message deserves its answer, not just a menu.
		return r.unclaimed(ctx, c, in)
	}
	r.ShowMenu(c)
	return nil
}

// isWord reports whether text is one of the keywords under key.
func (r *Router) isWord(key, text string) bool {
	norm := fold.Label(text)
	for _, w := range r.texts.Words(key) {
		if norm == w {
			return true
		}
	}
	return false
}

// ticketAsked recognises "status BTG-261127-0042" or a ticket number by itself.
func (r *Router) ticketAsked(text string) (string, bool) {
	if r.complaints == nil {
		return "", false
	}
	fields := strings.Fields(fold.Label(text))
	switch {
	case len(fields) == 1 && ticketPattern.MatchString(fields[0]):
		return fields[0], true
	case len(fields) == 2 && r.isWord("keywords.status", fields[0]) && ticketPattern.MatchString(fields[1]):
		return fields[1], true
	}
	return "", false
}

// Accepts implements bot.StepAccepter: whether the session's flow takes a message of
// this kind (a photo, a place) at its current step.
func (r *Router) Accepts(s *bot.Session, kind bot.Kind) bool {
	return r.accepts(&Conv{Turn: &bot.Turn{Session: s}, texts: r.texts, log: r.log}, kind)
}

var _ bot.StepAccepter = (*Router)(nil)

// accepts reports whether the active flow takes a message of this kind (a photo, a
// place) at its current step.
func (r *Router) accepts(c *Conv, kind bot.Kind) bool {
	f, ok := r.flows[c.Session.Flow].(interface{ Accepts(*Conv, bot.Kind) bool })
	return ok && f.Accepts(c, kind)
}

// event handles news about the person (KindEvent), which is not something they said:
// no greeting, no keywords, and their flow stays where it is.
func (r *Router) event(ctx context.Context, c *Conv) error {
	kind, arg, _ := strings.Cut(c.Msg.Text, ":")
	if kind == "complaint" && r.complaints != nil {
		return r.complaints.event(ctx, c, arg)
	}
	if kind == "handoff" && r.handoff != nil {
		return r.handoff.event(ctx, c, arg)
	}
	return fmt.Errorf("unknown event %q", kind)
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

// global handles what works at every step: keywords, menu picks and language picks.
func (r *Router) global(ctx context.Context, c *Conv, in Input) (bool, error) {
	if handled, err := r.switchPicked(ctx, c, in.Option); handled || err != nil {
		return handled, err
	}
	if lang, ok := strings.CutPrefix(in.Option, "lang:"); ok {
		return true, setLanguage(ctx, c, r, lang)
	}
	if f, ok := r.flows[in.Option]; ok && r.isMenu(in.Option) {
		c.Leave()
		return true, f.Start(ctx, c)
	}
	if in.Option == "" {
		for _, lang := range locales.Languages() {
			if fold.Label(in.Text) == fold.Label(r.label(lang, "lang.name")) {
				return true, setLanguage(ctx, c, r, lang) // "English", "Bahasa Indonesia" work at every step
			}
		}
	}
	if r.complaints != nil && in.Option != "" {
		if handled, err := r.complaints.option(ctx, c, in.Option); handled || err != nil {
			return handled, err
		}
	}
	if r.handoff != nil && in.Option != "" {
		if handled, err := r.handoff.option(ctx, c, in.Option); handled || err != nil {
			return handled, err
		}
	}
	if id, ok := r.ticketAsked(in.Text); ok {
		return true, (&statusFlow{complaints: r.complaints}).one(ctx, c, id)
	}
	if in.Option == "" {
		for key, id := range r.keywords {
			if f, ok := r.flows[id]; ok && r.isWord(key, in.Text) {
				c.Leave()
				return true, f.Start(ctx, c)
			}
		}
	}
	word := r.keyword(in.Text)
	if in.Option == "menu" {
		word = "menu"
	} else if in.Option != "" {
		return false, nil
	}
	return r.doKeyword(ctx, c, word)
}

// doKeyword does what a keyword of every step ("menu", "batal", ...) asks.
func (r *Router) doKeyword(ctx context.Context, c *Conv, word string) (bool, error) {
	switch word {
	case "menu":
		c.Leave()
		r.ShowMenu(c)
	case "cancel":
		c.Leave()
		c.Say("cancelled")
		r.ShowMenu(c)
	case "back":
		if b, ok := r.flows[c.Session.Flow].(interface {
			Back(context.Context, *Conv) error
		}); ok {
			return true, b.Back(ctx, c)
		}
		c.Leave()
		r.ShowMenu(c)
	case "help":
		return true, r.flows["help"].Start(ctx, c)
	case "language":
		c.Leave()
		return true, r.flows["language"].Start(ctx, c)
	case "privacy":
		c.Say("privacy")
	case "erase":
		c.Leave()
		return true, r.flows["erase"].Start(ctx, c)
	case "ask", "complaint", "status":
		flow := map[string]string{"ask": "faq", "complaint": "complaint", "status": "status"}[word]
		c.Leave()
		return true, r.flows[flow].Start(ctx, c)
	default:
		return false, nil
	}
	return true, nil
}

// keyword returns which global keyword text is ("menu", "cancel" ...), or "".
func (r *Router) keyword(text string) string {
	norm := fold.Label(text)
	for _, k := range []string{"menu", "cancel", "back", "help", "language", "privacy", "erase", "ask", "complaint", "status"} {
		for _, w := range r.texts.Words("keywords." + k) {
			if norm == w {
				return k
			}
		}
	}
	return ""
}

func (r *Router) isMenu(id string) bool {
	for _, m := range r.menu {
		if m.ID == id {
			return true
		}
	}
	return false
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
