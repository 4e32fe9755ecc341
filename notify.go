package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/bot/webchat"
	"github.com/layan-id/layan/bot/whatsapp"
	"github.com/layan-id/layan/domain"
	"github.com/layan-id/layan/flows"
	"github.com/layan-id/layan/locales"
	"github.com/layan-id/layan/store"
)

// notifier carries complaint news: to staff (the STAFF_NOTIFY chat, else the log),
// and to the citizen in their own conversation, as an event that the engine handles
// like any turn (so the news comes in their language, with the options to rate or
// reopen), sent through the shared sender.
type notifier struct {
	engine *bot.Engine
	sender *bot.Sender
	outbox *store.Outbox // for channels this replica cannot send on now
	texts  *locales.Catalog
	log    *slog.Logger
	staff  string // channel:chat, or ""
	loc    *time.Location
	wg     sync.WaitGroup // news being delivered in the background
	// agencies are the region's agencies by code; chats, each agency's staff chat
	// (agencies[].notify as channel:chat) where it has one.
	agencies map[string]domain.Agency
	chats    map[string]string
	now      func() time.Time // nil: time.Now
}

// wait waits for the news being delivered in the background.
func (n *notifier) wait() { n.wg.Wait() }

// StatusChanged tells the reporter, and the reporters of its duplicates (followers).
// It runs in the background: it may be called from a turn of the very conversation
// it must speak in (a staff member's own complaint).
func (n *notifier) StatusChanged(_ context.Context, c *domain.Complaint) {
	for _, r := range append([]domain.Reporter{c.Reporter}, c.Followers...) {
		n.wg.Go(func() { n.tell(c, r) })
	}
}

// tell delivers the news of the complaint's latest change to one reporter.
func (n *notifier) tell(c *domain.Complaint, r domain.Reporter) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	user := strings.TrimPrefix(r.Key, r.Channel+":")
	m := bot.Message{
		Channel: r.Channel, ChatID: r.ChatID, UserID: user,
		ID:   fmt.Sprintf("event:%s:%d", c.ID, len(c.History)), // once per change
		Kind: bot.KindEvent, Text: fmt.Sprintf("complaint:%s:%d", c.ID, len(c.History)), Time: time.Now(),
	}
	out, err := n.handleEvent(ctx, m)
	if err != nil || out.Failed || out.Duplicate {
		if err != nil || out.Failed {
			n.log.Error("complaint news not prepared", "complaint", c.ID, "err", err)
		}
		return
	}
	// Outside WhatsApp's 24-hour window the news goes as the approved template.
	status, _ := n.texts.Text(out.Lang, "complaint.status."+string(c.Status), nil)
	ctx = bot.WithTemplate(bot.WithLang(ctx, out.Lang), &bot.Template{
		Purposes: []string{"complaint_status"}, Params: map[string]string{"ticket": c.ID, "status": status},
	})
	if err := n.send(ctx, r.Channel, r.ChatID, out.Replies...); err != nil {
		n.log.Error("complaint news not delivered", "complaint", c.ID, "channel", r.Channel, "err", err)
	}
}

// handleEvent has the engine handle an event, trying 5 times from a pause of about
// 1 s (the chat may be busy or the store away: the event's id makes retries safe);
// it stops when ctx ends and does not pause after the last try.
func (n *notifier) handleEvent(ctx context.Context, m bot.Message) (bot.Outcome, error) {
	return bot.Retry(ctx, bot.Backoff(time.Second, 0), 5, func() (bot.Outcome, error) {
		out, err := n.engine.Handle(ctx, m)
		if err == nil && out.Failed {
			return out, errors.New("the turn failed")
		}
		return out, err
	}, nil)
}

// send delivers now when this replica can send on the channel, else leaves the
// message in the outbox for the replica that can (see drainOutbox).
func (n *notifier) send(ctx context.Context, channel, chatID string, replies ...bot.Reply) error {
	if n.sender.CanSend(channel) || n.outbox == nil {
		return n.sender.Send(ctx, channel, chatID, replies...)
	}
	q := store.Queued{ChatID: chatID, Replies: replies, Lang: bot.LangOf(ctx)}
	if t := bot.TemplateOf(ctx); t != nil {
		q.Template = &store.QueuedTemplate{Purposes: t.Purposes, Params: t.Params, Run: t.Run}
	}
	return n.outbox.Put(ctx, channel, q)
}

// sendQueued sends a message another replica left in the outbox, in the language and
// with the template it was queued with.
func (n *notifier) sendQueued(ctx context.Context, channel string, q store.Queued) error {
	if q.Lang != "" {
		ctx = bot.WithLang(ctx, q.Lang)
	}
	if t := q.Template; t != nil {
		ctx = bot.WithTemplate(ctx, &bot.Template{Purposes: t.Purposes, Params: t.Params, Run: t.Run})
	}
	return n.sender.Send(ctx, channel, q.ChatID, q.Replies...)
}

// drainOutbox sends, every two seconds, what other replicas left in the outbox for a
// channel this replica can send on, until ctx ends.
func (n *notifier) drainOutbox(ctx context.Context, channels []string) {
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for {
		for _, ch := range channels {
			for n.sender.CanSend(ch) && ctx.Err() == nil {
				q, ok, err := n.outbox.Take(ctx, ch)
				if err != nil || !ok {
					break
				}
				if err := n.sendQueued(ctx, ch, q); err != nil {
					n.log.Error("queued news not delivered", "channel", ch, "err", err)
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// NewComplaint alerts staff.
func (n *notifier) NewComplaint(ctx context.Context, c *domain.Complaint) {
	n.toStaff(ctx, c, "staff.new_complaint")
}

// Reopened alerts staff.
func (n *notifier) Reopened(ctx context.Context, c *domain.Complaint) {
	n.toStaff(ctx, c, "staff.reopened_alert")
}

func (n *notifier) toStaff(ctx context.Context, c *domain.Complaint, key string) {
	n.alert(ctx, n.staff, key, c.ID, n.staffText(key, map[string]any{
		"ID": c.ID, "Category": n.category(c), "Summary": flows.Summarize(c.Description),
		"Date": c.CreatedAt.In(n.loc).Format("02-01-2006 15:04"),
	}))
	// The log names the ticket and the category only: the description may hold
	// personal data.
	n.log.Info("staff alert", "kind", key, "complaint", c.ID, "category", c.Category)
}

// staffText renders a text for staff, in the default language.
func (n *notifier) staffText(key string, data map[string]any) string {
	text, err := n.texts.Text(locales.Default, key, data)
	if err != nil {
		n.log.Error("staff alert text", "key", key, "err", err)
	}
	return text
}

func (n *notifier) category(c *domain.Complaint) string {
	category, _ := n.texts.Text(locales.Default, "complaint.category."+c.Category, nil)
	return category
}

// alert sends a text to a staff chat (channel:chat; "" the log only) in the
// background, as the template for staff alerts outside WhatsApp's window.
func (n *notifier) alert(ctx context.Context, chat, kind, about, text string) {
	ch, to, ok := strings.Cut(chat, ":")
	if !ok {
		return
	}
	n.wg.Go(func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		ctx = bot.WithTemplate(ctx, &bot.Template{Purposes: []string{"staff_alert"}, Params: map[string]string{"text": text}})
		if err := n.send(ctx, ch, to, bot.Reply{Text: text}); err != nil {
			n.log.Error("staff alert not delivered", "kind", kind, "about", about, "channel", ch, "err", err)
		}
	})
}

// chatOf is where news of a complaint's deadline goes: its agency's chat during the
// agency's follow-up, when the agency has one; else STAFF_NOTIFY (verification and
// disposition are the admins').
func (n *notifier) chatOf(c *domain.Complaint) string {
	if chat := n.chats[c.Agency]; chat != "" && c.Phase == domain.PhaseFollowUp {
		return chat
	}
	return n.staff
}

// dueDay is the last day before a deadline (at midnight), as staff read it.
func (n *notifier) dueDay(due time.Time) string {
	return due.Add(-time.Second).In(n.loc).Format("02-01-2006")
}

// Overdue announces a complaint whose deadline passed, once (the store's claim).
func (n *notifier) Overdue(ctx context.Context, c *domain.Complaint) {
	key := "staff.overdue_alert"
	n.alert(ctx, n.chatOf(c), key, c.ID, n.staffText(key, map[string]any{
		"ID": c.ID, "Category": n.category(c), "Summary": flows.Summarize(c.Description),
		"Phase": n.staffText("staff.phase."+string(c.Phase), nil), "Due": n.dueDay(c.Due),
	}))
	n.log.Info("staff alert", "kind", key, "complaint", c.ID, "agency", c.Agency, "phase", c.Phase)
}

// digestMax is how many overdue complaints one digest names.
const digestMax = 20

// digestHour is when the daily digest of overdue complaints goes, in TZ_REGION, on
// working days.
const digestHour = 7

// digest sends the daily digest of overdue complaints: all of them to STAFF_NOTIFY,
// and each agency's to its own chat; nothing where none is overdue.
func (n *notifier) digest(ctx context.Context, cs deadlines, now time.Time) {
	targets := map[string]string{"": n.staff} // agency ("" all) → chat
	for code, chat := range n.chats {
		targets[code] = chat
	}
	for code, chat := range targets {
		if chat == "" {
			continue
		}
		res, err := cs.Inbox(ctx, domain.InboxQuery{Agency: code, Overdue: true, Sort: domain.SortOverdue, Size: digestMax}, now)
		if err != nil {
			n.log.Warn("daily digest of overdue complaints", "agency", code, "err", err)
			continue
		}
		if res.Total == 0 {
			continue
		}
		lines := []string{n.staffText("staff.digest", map[string]any{
			"Date": now.In(n.loc).Format("02-01-2006"), "Agency": n.agencies[code].Name, "Total": res.Total})}
		for _, c := range res.Complaints {
			lines = append(lines, n.staffText("staff.digest_line", map[string]any{"ID": c.ID, "Category": n.category(c),
				"Phase": n.staffText("staff.phase."+string(c.Phase), nil), "Due": n.dueDay(c.Due)}))
		}
		if more := res.Total - int64(len(res.Complaints)); more > 0 {
			lines = append(lines, n.staffText("staff.digest_more", map[string]any{"More": more}))
		}
		n.alert(ctx, chat, "digest", code, strings.Join(lines, "\n"))
		n.log.Info("staff alert", "kind", "digest", "agency", code, "overdue", res.Total)
	}
}

// staffNews sends staff a ready text (news about a channel, such as WhatsApp being
// logged out) and logs that it did.
func (n *notifier) staffNews(ctx context.Context, kind, text string) {
	n.log.Warn("staff alert", "kind", kind)
	ch, chat, ok := strings.Cut(n.staff, ":")
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	ctx = bot.WithTemplate(ctx, &bot.Template{Purposes: []string{"staff_alert"}, Params: map[string]string{"text": text}})
	if err := n.send(ctx, ch, chat, bot.Reply{Text: text}); err != nil {
		n.log.Error("staff alert not delivered", "kind", kind, "channel", ch, "err", err)
	}
}

// deadlines is what the deadline watch needs of the complaint store (*store.Complaints).
type deadlines interface {
	ClaimOverdue(ctx context.Context, now time.Time) ([]*domain.Complaint, error)
	ClaimDigest(ctx context.Context, day string) (bool, error)
	Inbox(ctx context.Context, q domain.InboxQuery, now time.Time) (domain.InboxPage, error)
}

// watchSLA announces, once, every complaint whose deadline passes, and sends the
// daily digest at digestHour on the calendar's working days; it looks every minute
// until ctx ends. Any number of replicas may run it: the store gives each
// announcement and each day's digest to one of them.
func (n *notifier) watchSLA(ctx context.Context, cs deadlines, cal domain.Calendar) {
	tick := time.NewTicker(time.Minute)
	defer tick.Stop()
	for {
		n.checkSLA(ctx, cs, cal)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (n *notifier) checkSLA(ctx context.Context, cs deadlines, cal domain.Calendar) {
	now := time.Now()
	if n.now != nil {
		now = n.now()
	}
	due, err := cs.ClaimOverdue(ctx, now)
	if err != nil && ctx.Err() == nil {
		n.log.Warn("look for overdue complaints", "err", err)
	}
	for _, c := range due {
		n.Overdue(ctx, c)
	}
	day, ok := cal.DigestDay(now, digestHour)
	if !ok {
		return
	}
	mine, err := cs.ClaimDigest(ctx, day)
	if err != nil && ctx.Err() == nil {
		n.log.Warn("claim the daily digest", "err", err)
	}
	if mine {
		n.digest(ctx, cs, now)
	}
}

// staffKeys turns STAFF_IDS into conversation keys (Message.Key); a web chat staff
// member is named by their token, whose conversation id is its hash.
func staffKeys(ids []string) map[string]bool {
	keys := map[string]bool{}
	for _, id := range ids {
		ch, who, _ := strings.Cut(id, ":")
		switch ch {
		case webchat.ChannelName:
			who = webchat.ChatID(who)
		case whatsapp.ChannelName:
			if phone, err := whatsapp.NormalizePhone(who); err == nil {
				who = phone // "+62 812-…" or "0812…" as the channel writes it
			}
		}
		keys[ch+":"+who] = true
	}
	return keys
}
