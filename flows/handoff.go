package flows

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/domain"
	"github.com/layan-id/layan/locales"
)

// HandoffStore is what talking to a person needs of the store (*store.Handoffs).
type HandoffStore interface {
	Open(ctx context.Context, ho *domain.Handoff, before []bot.Line) (*domain.Handoff, bool, error)
	Get(ctx context.Context, id string) (*domain.Handoff, error)
	OpenFor(ctx context.Context, conv string) (*domain.Handoff, error)
	List(ctx context.Context, st domain.HandoffState, max int) ([]*domain.Handoff, error)
	Position(ctx context.Context, id string) (int, error)
	Take(ctx context.Context, id, who string, now time.Time) (*domain.Handoff, bool, error)
	Assign(ctx context.Context, id, to string) (*domain.Handoff, error)
	End(ctx context.Context, id, by string, now time.Time, keep time.Duration) (*domain.Handoff, bool, error)
	Append(ctx context.Context, id string, l bot.Line) (int64, error)
	Lines(ctx context.Context, id string, after int64) ([]bot.Line, int64, error)
	Line(ctx context.Context, id string, n int64) (bot.Line, error)
	Rate(ctx context.Context, id, conv string, rating int) error
	Overdue(ctx context.Context, before time.Time) ([]*domain.Handoff, error)
}

// HandoffCourier carries handoff news. Tell has the person's own conversation handle
// the event ("handoff:<id>:taken", "…:line:<n>", "…:ended", "…:timeout", a KindEvent
// message, so it is said in their language and their session follows) and delivers
// what it says on their channel; Staff sends a text about the handoff id to the staff
// chat (STAFF_NOTIFY) as a reply whose About is HandoffAbout(id), so that a staff
// member's answer to it (Message.InReplyTo, on Telegram) goes to that person.
// Both may be called inside a turn of another conversation: they must not wait for
// it (deliver in the background, the news of one talk in the order told) and they
// handle their own failures.
type HandoffCourier interface {
	Tell(ctx context.Context, ho *domain.Handoff, event string)
	Staff(ctx context.Context, id, text string)
}

// HandoffAbout is what a message about the handoff id is about (bot.Reply.About).
func HandoffAbout(id string) string { return "handoff:" + id }

// HandoffConfig is what talking to a person needs.
type HandoffConfig struct {
	Store   HandoffStore
	Courier HandoffCourier
	// Hours are the office hours (OFFICE_HOURS or the region's content).
	Hours OfficeHours
	// Wait is how long a person waits for staff before being told kindly that nobody
	// came yet (HANDOFF_WAIT); default 10 minutes.
	Wait time.Duration
	// Keep is how long an ended conversation's transcript is kept (HISTORY_DAYS);
	// default 30 days.
	Keep time.Duration
	// Staff reports whether a conversation key is a staff member's (for the chat
	// commands /antrian, /ambil, /balas, /akhiri).
	Staff    func(key string) bool
	Location *time.Location // the region's time zone, for dates people read; default UTC
	// Region is the region's extent: a place shared from far outside it is passed on
	// with a note to staff and to the person. Nil: not checked.
	Region *BBox
	NewID  func() string    // required: a new handoff id
	Now    func() time.Time // default time.Now
}

// The flow's steps.
const (
	stepHandoffWaiting = "waiting"
	stepHandoffActive  = "active"
	stepHandoffConfirm = "confirm_end"
)

// handoffFlow connects a person with a member of staff: a place in the queue during
// office hours, a message left for staff outside them. While staff handle the
// conversation the bot is quiet and passes everything on; "selesai" asks whether to
// end it, and ending it returns to the bot with a note and a rating.
// handoffState is the conversation with staff a person is in.
type handoffState struct {
	ID   string `json:"id"`
	Told bool   `json:"told,omitempty"` // the person was told their messages go to staff
}

// legacyHandoff reads the state of sessions saved before typed state.
func legacyHandoff(flow string, v map[string]string) (any, bool) {
	return handoffState{ID: v["id"], Told: v["told"] != ""}, flow == FlowHuman
}

type handoffFlow struct {
	cfg   HandoffConfig
	texts *locales.Catalog // for staff, who read the default language
	log   *slog.Logger
}

// RegisterHandoff adds talking to a person: the menu entry, the "human" intent, the
// button on the FAQ's no-match answer, the held conversation, and the staff chat
// commands. It returns the staff side (the queue, taking, replying, ending).
func (r *Router) RegisterHandoff(cfg HandoffConfig) *Desk {
	if cfg.Wait <= 0 {
		cfg.Wait = 10 * time.Minute
	}
	if cfg.Keep <= 0 {
		cfg.Keep = 30 * 24 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.Staff == nil {
		cfg.Staff = func(string) bool { return false }
	}
	f := &handoffFlow{cfg: cfg, texts: r.texts, log: r.log}
	r.Register(FlowHuman, f)
	r.handleLegacy(FlowHuman, legacyHandoff)
	r.AddMenuItem(MenuItem{FlowHuman, "menu.human"}, FlowLanguage)
	r.HandleCommand(f.staffCommand)
	r.HandleOption("handoff:leave", f.option)
	r.HandleOption("hrate:", f.option)
	r.HandleIntent("human", AlwaysInterrupts, func(ctx context.Context, c *Conv, _ Input) error { return f.Start(ctx, c) })
	r.HandleEvent("handoff", f.event)
	return &Desk{f: f}
}

// Start is a person asking for a member of staff.
func (f *handoffFlow) Start(ctx context.Context, c *Conv) error {
	open, err := f.cfg.Store.OpenFor(ctx, c.Msg.Key())
	if err != nil {
		return fmt.Errorf("look up open handoff: %w", err)
	}
	if open != nil {
		return f.joined(ctx, c, open)
	}
	now := f.cfg.Now()
	if !f.cfg.Hours.Open(now) {
		c.Leave()
		c.Turn.Say(bot.Reply{Text: c.T("handoff.closed", "Opens", f.opens(c, now)), Options: []bot.Option{
			c.Opt("handoff:leave", "handoff.leave"), c.Opt(FlowComplaint, "handoff.complaint"), c.Opt("menu", "faq.option_menu"),
		}})
		return nil
	}
	return f.open(ctx, c, false)
}

// Continue is reached only when the held conversation passed a message on to the
// router (see Hold); it never is in practice.
func (f *handoffFlow) Continue(ctx context.Context, c *Conv, in Input) error {
	c.Leave()
	return c.Fallback(ctx, in)
}

// Accepts implements the router's step check: while held, photos and places go to
// staff.
func (f *handoffFlow) Accepts(c *Conv, kind bot.Kind) bool {
	return kind == bot.KindImage || kind == bot.KindLocation
}

// opens says when the office opens next after now, as people read it.
func (f *handoffFlow) opens(c *Conv, now time.Time) string {
	at, ok := f.cfg.Hours.NextOpen(now)
	if !ok {
		return c.T("handoff.opens_unknown")
	}
	at = at.In(f.cfg.Location)
	days := strings.Split(c.T("handoff.days"), ",")
	day := ""
	if len(days) == 7 {
		day = strings.TrimSpace(days[at.Weekday()])
	}
	return c.T("handoff.opens", "Day", day, "Date", at.Format("02-01-2006"), "Time", at.Format("15.04"))
}

// open puts the person in the queue with the bot's transcript so far, and tells
// staff.
func (f *handoffFlow) open(ctx context.Context, c *Conv, afterHours bool) error {
	ho := &domain.Handoff{
		ID: f.cfg.NewID(), Conv: c.Msg.Key(), Channel: c.Msg.Channel, ChatID: c.Msg.ChatID, Lang: c.Lang(),
		Since: f.cfg.Now(), AfterHours: afterHours,
	}
	transcript, err := c.History(ctx)
	if err != nil {
		return fmt.Errorf("read the conversation for staff: %w", err)
	}
	got, created, err := f.cfg.Store.Open(ctx, ho, transcript)
	if err != nil {
		return fmt.Errorf("open handoff: %w", err)
	}
	if created {
		key := "handoff.staff.new"
		if afterHours {
			key = "handoff.staff.new_after_hours"
		}
		f.cfg.Courier.Staff(ctx, got.ID, f.staffText(key, "ID", got.ID, "Channel", got.Channel, "Lang", got.Lang))
	}
	return f.joined(ctx, c, got)
}

// joined puts the session in the held conversation ho and says where the person
// stands.
func (f *handoffFlow) joined(ctx context.Context, c *Conv, ho *domain.Handoff) error {
	from := len(c.Turn.Replies)
	defer func() { markStatus(c, from, stateStatus(ho)) }()
	c.Leave()
	c.Session.Flow, c.Session.Step = FlowHuman, stepHandoffWaiting
	saveState(c, FlowHuman, handoffState{ID: ho.ID})
	switch {
	case ho.State == domain.HandoffActive:
		c.Session.Step = stepHandoffActive
		c.Say("handoff.taken")
	case ho.AfterHours:
		c.Say("handoff.left")
	default:
		pos, err := f.cfg.Store.Position(ctx, ho.ID)
		if err != nil {
			return fmt.Errorf("place in queue: %w", err)
		}
		c.Say("handoff.queued", "Position", max(pos, 1))
	}
	return nil
}

// Hold handles a message while the person talks with staff (or waits for them). It
// reports false when the conversation has ended meanwhile, or the person chose
// something the bot does (a complaint, erasing their data): the router then handles
// the message as usual.
func (f *handoffFlow) Hold(ctx context.Context, c *Conv, in Input) (bool, error) {
	c.Session.Options = nil
	id := loadState[handoffState](c, FlowHuman).ID
	ho, err := f.cfg.Store.Get(ctx, id)
	if err == nil {
		// What is said while held tells the page where the talk stands.
		from := len(c.Turn.Replies)
		defer func() { markStatus(c, from, stateStatus(ho)) }()
	}
	if errors.Is(err, domain.ErrNotFound) {
		c.Leave()
		return false, nil
	}
	if err != nil {
		return true, fmt.Errorf("read handoff: %w", err)
	}
	if ho.State == domain.HandoffEnded {
		f.endedNote(c, ho, "handoff.ended_by_staff")
		return false, nil
	}
	switch {
	case in.Option == "handoff:end:yes":
		return true, f.endByCitizen(ctx, c, ho, true)
	case in.Option == "handoff:end:no":
		c.Session.Step = stateStep(ho)
		c.Say("handoff.continue")
		return true, nil
	case in.Option == "handoff:leave":
		c.Session.Step = stateStep(ho)
		c.Say("handoff.left")
		return true, nil
	case in.Option == FlowComplaint || c.IsWord(keyErase, in.Text) || c.IsWord(keyComplaint, in.Text):
		// The person chose what the bot does: the talk with staff ends quietly first.
		return false, f.endByCitizen(ctx, c, ho, false)
	case in.Option != "" || c.IsWord("keywords.handoff_end", in.Text) || c.IsWord(keyMenu, in.Text) || c.IsWord(keyCancel, in.Text):
		c.Session.Step = stepHandoffConfirm
		c.Ask("handoff.confirm_end", c.Opt("handoff:end:yes", "handoff.end_yes"), c.Opt("handoff:end:no", "handoff.end_no"))
		return true, nil
	}
	if c.Session.Step == stepHandoffConfirm {
		c.Session.Step = stateStep(ho) // anything else carries on the talk
	}
	switch in.Kind {
	case bot.KindSticker, bot.KindVoice, bot.KindUnsupported:
		c.Say("handoff.unreadable")
		return true, nil
	case bot.KindBadFile, bot.KindMediaFull:
		c.Say("bad_input." + unusable(c.Msg, in))
		return true, nil
	}
	if problem := unusable(c.Msg, in); problem != "" && in.Kind != bot.KindImage && in.Kind != bot.KindLocation {
		c.Say("bad_input."+problem, "Max", MaxText)
		return true, nil
	}
	if in.Kind == bot.KindLocation && (in.Location == nil || !validPoint(*in.Location)) {
		c.Say("handoff.location_invalid") // a device without a fix: nothing staff could use
		return true, nil
	}
	return f.forward(ctx, c, ho, in)
}

// stateStatus is what a page shows of a conversation in state ho.State
// (bot.Reply.Status).
func stateStatus(ho *domain.Handoff) string {
	switch ho.State {
	case domain.HandoffActive:
		return bot.StatusActive
	case domain.HandoffEnded:
		return bot.StatusEnded
	}
	return bot.StatusWaiting
}

// markStatus gives the replies of the turn from index from on that say nothing of
// the conversation's state the status st.
func markStatus(c *Conv, from int, st string) {
	for i := from; i < len(c.Turn.Replies); i++ {
		if c.Turn.Replies[i].Status == "" {
			c.Turn.Replies[i].Status = st
		}
	}
}

// stateStep is the step of a held conversation in state ho.State.
func stateStep(ho *domain.Handoff) string {
	if ho.State == domain.HandoffActive {
		return stepHandoffActive
	}
	return stepHandoffWaiting
}

// forward passes the person's message to staff; the first time it says so.
func (f *handoffFlow) forward(ctx context.Context, c *Conv, ho *domain.Handoff, in Input) (bool, error) {
	l := bot.Line{From: bot.FromCitizen, Text: in.Text, At: f.cfg.Now()}
	if in.Media != nil {
		l.Media = in.Media.Ref
	}
	far := false
	if p := in.Location; p != nil {
		l.Text = strings.TrimSpace(l.Text + " " + mapsLink(*p))
		if far = f.cfg.Region != nil && !f.cfg.Region.Contains(*p); far {
			l.Text += "\n" + f.staffText("handoff.staff.far")
		}
	} else if place, ok := c.Place(in.Text); ok {
		// A place of the region named in words: staff get its point on a map.
		l.Text += "\n" + f.staffText("handoff.staff.place", "Place", labelPlace(f.staffText, place.Name, place), "Link", mapsLink(place.Point))
	}
	if _, err := f.cfg.Store.Append(ctx, ho.ID, l); errors.Is(err, domain.ErrHandoffEnded) {
		f.endedNote(c, ho, "handoff.ended_by_staff")
		return false, nil
	} else if err != nil {
		return true, fmt.Errorf("pass message to staff: %w", err)
	}
	if ho.Assignee != "" && f.cfg.Staff(ho.Assignee) {
		// Held by a staff member in chat: they read it in the staff chat.
		text := l.Text
		if text == "" && l.Media != "" {
			text = "[foto]"
		}
		f.cfg.Courier.Staff(ctx, ho.ID, f.staffText("handoff.staff.citizen", "ID", ho.ID, "Text", text))
	}
	if far {
		c.Say("handoff.location_far")
	} else if st := loadState[handoffState](c, FlowHuman); !st.Told {
		st.Told = true
		saveState(c, FlowHuman, st)
		c.Say("handoff.forwarded")
	}
	return true, nil
}

// endByCitizen ends the talk at the person's request; with note, the person is told
// and asked for a rating.
func (f *handoffFlow) endByCitizen(ctx context.Context, c *Conv, ho *domain.Handoff, note bool) error {
	ended, _, err := f.cfg.Store.End(ctx, ho.ID, bot.FromCitizen, f.cfg.Now(), f.cfg.Keep)
	if err != nil && !errors.Is(err, domain.ErrNotFound) {
		return fmt.Errorf("end handoff: %w", err)
	}
	if ended == nil {
		ended = ho
	}
	if note {
		f.endedNote(c, ended, "handoff.ended")
		return nil
	}
	c.Leave()
	return nil
}

// endedNote returns the person to the bot with the note key and the rating options.
func (f *handoffFlow) endedNote(c *Conv, ho *domain.Handoff, key string) {
	c.Leave()
	opts := make([]bot.Option, 0, 5)
	for n := 1; n <= 5; n++ {
		opts = append(opts, bot.Option{ID: fmt.Sprintf("hrate:%s:%d", ho.ID, n), Label: strconv.Itoa(n)})
	}
	c.Turn.Say(bot.Reply{Text: c.T(key), Options: opts, Status: bot.StatusEnded})
}

// option handles the handoff's options outside the held conversation: leaving a
// message after hours ("handoff:leave") and rating ("hrate:<id>:<n>").
func (f *handoffFlow) option(ctx context.Context, c *Conv, opt string) (bool, error) {
	if opt == "handoff:leave" {
		return true, f.open(ctx, c, !f.cfg.Hours.Open(f.cfg.Now()))
	}
	rest, ok := strings.CutPrefix(opt, "hrate:")
	if !ok {
		return false, nil
	}
	i := strings.LastIndexByte(rest, ':')
	if i < 0 {
		return false, nil
	}
	n, err := strconv.Atoi(rest[i+1:])
	if err != nil || n < 1 || n > 5 {
		return false, nil
	}
	err = f.cfg.Store.Rate(ctx, rest[:i], c.Msg.Key(), n)
	if errors.Is(err, domain.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return true, fmt.Errorf("rate handoff: %w", err)
	}
	c.Say("handoff.rated")
	return true, nil
}

// event handles handoff news in the person's conversation (see HandoffCourier).
func (f *handoffFlow) event(ctx context.Context, c *Conv, arg string) error {
	id, what, _ := strings.Cut(arg, ":")
	mine := c.Session.Flow == FlowHuman && loadState[handoffState](c, FlowHuman).ID == id
	kept := c.Session.Options
	from := len(c.Turn.Replies)
	switch {
	case what == "taken":
		if mine {
			c.Session.Step = stepHandoffActive
			c.Say("handoff.taken")
			markStatus(c, from, bot.StatusActive)
		}
	case what == "timeout":
		if mine && c.Session.Step == stepHandoffWaiting {
			c.Ask("handoff.timeout", c.Opt("handoff:leave", "handoff.leave"), c.Opt(FlowComplaint, "handoff.complaint"),
				c.Opt("handoff:end:yes", "handoff.back_to_bot"))
			markStatus(c, from, bot.StatusWaiting)
			return nil
		}
	case what == "ended":
		if mine {
			ho, err := f.cfg.Store.Get(ctx, id)
			if err != nil {
				return fmt.Errorf("handoff event: %w", err)
			}
			f.endedNote(c, ho, "handoff.ended_by_staff")
			return nil
		}
	case strings.HasPrefix(what, "line:"):
		n, err := strconv.ParseInt(strings.TrimPrefix(what, "line:"), 10, 64)
		if err != nil {
			return fmt.Errorf("handoff event %q: %w", what, err)
		}
		l, err := f.cfg.Store.Line(ctx, id, n)
		if err != nil {
			return fmt.Errorf("handoff event: %w", err)
		}
		if l.From != bot.FromStaff {
			return nil
		}
		r := bot.Reply{Text: c.T("handoff.staff_says", "Text", l.Text), From: bot.FromStaff}
		if l.Media != "" {
			// A photo from staff: shown where the channel can show a kept photo,
			// elsewhere the person is told kindly that one was sent.
			r.Text = c.T("handoff.staff_photo_unsent")
			if slices.Contains(PhotoChannels, c.Msg.Channel) {
				r.Text = c.T("handoff.staff_photo")
				r.Media = &bot.Media{Ref: l.Media, MIME: mimeOf(l.Media)}
			}
		}
		if mine {
			r.Status = bot.StatusActive // staff speak: someone holds the talk
		}
		c.Turn.Say(r)
	default:
		return fmt.Errorf("unknown handoff event %q", what)
	}
	c.Session.Options = kept // news does not change what a number typed next picks
	return nil
}

// PhotoChannels are the channels that deliver a photo kept in the media store (a
// reply's Media.Ref is its name): the web chat shows it on the page, Telegram and
// both WhatsApp transports upload it. Elsewhere (the terminal) a staff photo is a
// kind note instead.
var PhotoChannels = []string{"webchat", "telegram", "whatsapp"}

// mimeOf guesses a kept photo's type from its name's extension.
func mimeOf(name string) string {
	switch {
	case strings.HasSuffix(name, ".png"):
		return "image/png"
	case strings.HasSuffix(name, ".webp"):
		return "image/webp"
	}
	return "image/jpeg"
}
