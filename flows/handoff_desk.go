package flows

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/domain"
	"github.com/layan-id/layan/locales"
)

// Desk is the staff side of talking to a person: the queue, taking a conversation
// (one staff member at a time, across replicas), answering, handing it on and
// ending it. The staff JSON API and the staff chat commands both use it; what staff
// say reaches the person through HandoffCourier.Tell, in their conversation.
type Desk struct{ f *handoffFlow }

// ErrEmptyReply is returned for a reply without text, or one longer than MaxText.
var ErrEmptyReply = errors.New("a reply needs a text of at most 4096 characters")

// Queue lists conversations of a state: waiting and active ones longest waiting
// first, ended ones newest first.
func (d *Desk) Queue(ctx context.Context, st domain.HandoffState, max int) ([]*domain.Handoff, error) {
	return d.f.cfg.Store.List(ctx, st, max)
}

// Get returns one conversation.
func (d *Desk) Get(ctx context.Context, id string) (*domain.Handoff, error) {
	return d.f.cfg.Store.Get(ctx, id)
}

// Transcript returns the conversation's lines numbered after after (0: all kept),
// oldest first: the bot's transcript before the handoff, then both sides; and the
// number of the last line.
func (d *Desk) Transcript(ctx context.Context, id string, after int64) ([]bot.Line, int64, error) {
	if _, err := d.f.cfg.Store.Get(ctx, id); err != nil {
		return nil, 0, err
	}
	return d.f.cfg.Store.Lines(ctx, id, after)
}

// Take gives the conversation to who; domain.ErrHandoffHeld when someone else holds
// it. The person is told that a member of staff joined.
func (d *Desk) Take(ctx context.Context, id, who string) (*domain.Handoff, error) {
	ho, taken, err := d.f.cfg.Store.Take(ctx, id, who, d.f.cfg.Now())
	if err != nil {
		return nil, err
	}
	if taken {
		d.f.cfg.Courier.Tell(ctx, ho, id+":taken")
	}
	return ho, nil
}

// Reply sends text from who to the person, taking the conversation first when it
// waits; domain.ErrHandoffHeld when someone else holds it.
func (d *Desk) Reply(ctx context.Context, id, who, text string) (*domain.Handoff, error) {
	text = strings.TrimSpace(text)
	if text == "" || utf8.RuneCountInString(text) > MaxText {
		return nil, ErrEmptyReply
	}
	return d.say(ctx, id, bot.Line{From: bot.FromStaff, Text: text, By: who})
}

// Photo sends a stored photo (its name in the media store) from who to the person.
func (d *Desk) Photo(ctx context.Context, id, who, name string) (*domain.Handoff, error) {
	return d.say(ctx, id, bot.Line{From: bot.FromStaff, Media: name, By: who})
}

func (d *Desk) say(ctx context.Context, id string, l bot.Line) (*domain.Handoff, error) {
	ho, err := d.Take(ctx, id, l.By)
	if err != nil {
		return nil, err
	}
	l.At = d.f.cfg.Now()
	n, err := d.f.cfg.Store.Append(ctx, id, l)
	if err != nil {
		return nil, err
	}
	d.f.cfg.Courier.Tell(ctx, ho, fmt.Sprintf("%s:line:%d", id, n))
	return ho, nil
}

// Assign hands the conversation to the staff member to, or back to the queue when
// to is "".
func (d *Desk) Assign(ctx context.Context, id, to string) (*domain.Handoff, error) {
	return d.f.cfg.Store.Assign(ctx, id, strings.TrimSpace(to))
}

// End ends the conversation: the person is back with the bot, told so and asked
// for a rating. Ending an ended one changes nothing.
func (d *Desk) End(ctx context.Context, id, who string) (*domain.Handoff, error) {
	ho, ended, err := d.f.cfg.Store.End(ctx, id, who, d.f.cfg.Now(), d.f.cfg.Keep)
	if err != nil {
		return nil, err
	}
	if ended {
		d.f.cfg.Courier.Tell(ctx, ho, id+":ended")
	}
	return ho, nil
}

// Expire tells, once, every person who has waited longer than HANDOFF_WAIT in office
// hours that nobody came yet; their request stays in the queue. Any number of
// replicas may call it; it returns how many were told.
func (d *Desk) Expire(ctx context.Context) (int, error) {
	due, err := d.f.cfg.Store.Overdue(ctx, d.f.cfg.Now().Add(-d.f.cfg.Wait))
	for _, ho := range due {
		d.f.cfg.Courier.Tell(ctx, ho, ho.ID+":timeout")
	}
	return len(due), err
}

// Canned returns the canned replies in a language (content: canned.<lang>.yaml).
func (d *Desk) Canned(lang string) []domain.Canned {
	texts := d.f.texts
	lang = texts.Lang(lang)
	var out []domain.Canned
	for _, k := range texts.Keys(lang) {
		if id, ok := strings.CutPrefix(k, "canned."); ok {
			text, _ := texts.Text(lang, k, nil)
			out = append(out, domain.Canned{ID: id, Text: text})
		}
	}
	slices.SortFunc(out, func(a, b domain.Canned) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// CannedText returns the canned reply id in a language.
func (d *Desk) CannedText(lang, id string) (string, bool) {
	for _, c := range d.Canned(lang) {
		if c.ID == id {
			return c.Text, true
		}
	}
	return "", false
}

// staffText renders a text for staff, in the default language.
func (f *handoffFlow) staffText(key string, kv ...any) string {
	data := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		name, _ := kv[i].(string)
		data[name] = kv[i+1]
	}
	s, err := f.texts.Text(locales.Default, key, data)
	if err != nil {
		f.log.Error("text missing or broken", "err", err)
	}
	return s
}

// staffCommand handles the conversation commands of staff in chat: /antrian
// (/queue), /ambil <id> (/take), /balas <id> <text> (/reply), /akhiri <id> (/end).
// For everyone else they do not exist. A text that answers a message about a
// handoff (Message.InReplyTo, a reply in the Telegram staff group) is /balas to it.
func (f *handoffFlow) staffCommand(ctx context.Context, c *Conv, text string) (bool, error) {
	if id, ok := strings.CutPrefix(c.Msg.InReplyTo, HandoffAbout("")); ok && id != "" && !strings.HasPrefix(text, "/") {
		return true, f.staffAnswer(ctx, c, id, text)
	}
	if !strings.HasPrefix(text, "/") || !f.cfg.Staff(c.Msg.Key()) {
		return false, nil
	}
	fields := strings.Fields(strings.TrimPrefix(text, "/"))
	if len(fields) == 0 {
		return false, nil
	}
	cmd, _, _ := strings.Cut(strings.ToLower(fields[0]), "@")
	d, who := &Desk{f: f}, c.Msg.Key()
	switch cmd {
	case "antrian", "queue":
		return true, f.staffQueue(ctx, c)
	case "ambil", "take", "balas", "reply", "akhiri", "end":
	default:
		return false, nil
	}
	if len(fields) < 2 || (cmd == "balas" || cmd == "reply") && len(fields) < 3 {
		c.Say("handoff.staff.usage")
		return true, nil
	}
	id := strings.ToLower(fields[1])
	var err error
	switch cmd {
	case "ambil", "take":
		_, err = d.Take(ctx, id, who)
		if err == nil {
			c.Turn.Say(bot.Reply{Text: c.T("handoff.staff.taken", "ID", id), About: HandoffAbout(id)})
		}
	case "balas", "reply":
		// The text as typed, after the command and the id.
		rest := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(text), "/"+fields[0]))
		rest = strings.TrimSpace(strings.TrimPrefix(rest, fields[1]))
		_, err = d.Reply(ctx, id, who, rest)
		if err == nil {
			c.Turn.Say(bot.Reply{Text: c.T("handoff.staff.sent", "ID", id), About: HandoffAbout(id)})
		}
	case "akhiri", "end":
		var ho *domain.Handoff
		ho, err = d.Get(ctx, id)
		if err == nil && ho.State != domain.HandoffEnded && ho.Assignee != "" && ho.Assignee != who {
			err = domain.ErrHandoffHeld
		}
		if err == nil {
			_, err = d.End(ctx, id, who)
		}
		if err == nil {
			c.Say("handoff.staff.closed", "ID", id)
		}
	}
	return true, staffRefusal(c, id, err)
}

// staffRefusal tells a staff member kindly why what they did about the handoff id
// failed with err (nil: nothing to say); an error the store gave is returned.
func staffRefusal(c *Conv, id string, err error) error {
	switch {
	case err == nil:
	case errors.Is(err, domain.ErrHandoffHeld):
		c.Say("handoff.staff.held", "ID", id)
	case errors.Is(err, domain.ErrNotFound), errors.Is(err, domain.ErrHandoffEnded):
		c.Say("handoff.staff.gone", "ID", id)
	case errors.Is(err, ErrEmptyReply):
		c.Say("handoff.staff.usage")
	default:
		return fmt.Errorf("staff handoff command: %w", err)
	}
	return nil
}

// staffAnswer sends text, written in answer to a message about the handoff id, to
// that person: it takes the conversation when it waits, and is refused kindly when a
// colleague holds it or it has ended. Only staff may answer; the message of anyone
// else in the staff chat is not passed on.
func (f *handoffFlow) staffAnswer(ctx context.Context, c *Conv, id, text string) error {
	if !f.cfg.Staff(c.Msg.Key()) {
		c.Say("handoff.staff.not_staff")
		return nil
	}
	_, err := (&Desk{f: f}).Reply(ctx, id, c.Msg.Key(), text)
	if errors.Is(err, domain.ErrHandoffHeld) {
		c.Say("handoff.staff.answer_held", "ID", id)
		return nil
	}
	if err == nil {
		c.Turn.Say(bot.Reply{Text: c.T("handoff.staff.sent", "ID", id), About: HandoffAbout(id)})
	}
	return staffRefusal(c, id, err)
}

func (f *handoffFlow) staffQueue(ctx context.Context, c *Conv) error {
	list, err := f.cfg.Store.List(ctx, domain.HandoffWaiting, 20)
	if err != nil {
		return fmt.Errorf("staff handoff queue: %w", err)
	}
	if len(list) == 0 {
		c.Say("handoff.staff.queue_empty")
		return nil
	}
	lines := []string{c.T("handoff.staff.queue", "Total", len(list))}
	for _, ho := range list {
		lines = append(lines, c.T("handoff.staff.queue_line", "ID", ho.ID, "Channel", ho.Channel, "Lang", ho.Lang,
			"Since", ho.Since.In(f.cfg.Location).Format("02-01-2006 15:04"), "Text", Summarize(ho.LastText)))
	}
	c.Turn.Say(bot.Reply{Text: strings.Join(lines, "\n")})
	return nil
}
