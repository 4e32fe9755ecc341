// Package notify carries the news that happens outside a person's own turn:
//
//   - complaint news to the reporter and handoff news to a person talking to staff,
//     each as an event turn of their own conversation (a bot.KindEvent message through
//     the engine), so it comes in their language, with the options to answer, and
//     their session follows;
//   - alerts to staff in the STAFF_NOTIFY chat: new and reopened complaints, complaints
//     past their deadline (a follow-up in its agency's own chat) and the daily digest
//     of the overdue, people asking for a person, trouble with a channel (else only
//     the log names them);
//   - the outbox: what this replica cannot send on a channel now (WhatsApp on a replica
//     that does not hold the connection) waits there, with its recipient's language
//     and template, for the replica that can; and the news queue, where complaint
//     news waits until a replica has told it. Both are store.Queues: what a replica
//     took and never finished (it died) is taken over by another.
//
// News is delivered in the background, since it may be made inside a turn of the very
// conversation it must speak in. Run drains the outbox and watches for overdue
// complaints until its context ends, then waits for the news still in flight.
package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/bot/inbox"
	"github.com/layan-id/layan/bot/lanes"
	"github.com/layan-id/layan/domain"
	"github.com/layan-id/layan/flows"
	"github.com/layan-id/layan/locales"
	"github.com/layan-id/layan/store"
)

// Engine handles one message; *bot.Engine is one.
type Engine interface {
	Handle(ctx context.Context, m bot.Message) (bot.Outcome, error)
}

// Sender sends replies; *bot.Sender is one.
type Sender interface {
	// CanSend reports whether this replica can send on a channel now.
	CanSend(channel string) bool
	Send(ctx context.Context, to bot.Recipient, replies ...bot.Reply) error
}

// Outbox keeps messages for a channel until a replica that can send on it has sent
// them; *store.Outbox is one.
type Outbox interface {
	Put(ctx context.Context, channel string, q store.Queued) error
	// Queue is the reliable queue of one channel's messages (store.DecodeQueued reads
	// an entry): a message taken and never acknowledged is taken over later.
	Queue(channel string) *store.Queue
}

// Texts renders the staff alerts; *locales.Catalog is one.
type Texts interface {
	Text(lang, key string, data map[string]any) (string, error)
}

// Complaints is what the deadline watch needs of the complaint store;
// *store.Complaints is one. ClaimOverdue gives each passed deadline to one caller
// across replicas, ClaimDigest each day's digest; Inbox lists the overdue.
type Complaints interface {
	ClaimOverdue(ctx context.Context, now time.Time) ([]*domain.Complaint, error)
	ClaimDigest(ctx context.Context, day string) (bool, error)
	Inbox(ctx context.Context, q domain.InboxQuery, now time.Time) (domain.InboxPage, error)
}

// Config is what a Notifier needs. Engine, Sender and Texts are required.
type Config struct {
	Engine Engine
	Sender Sender
	Texts  Texts
	// Outbox keeps news for channels this replica cannot send on now; nil: such news
	// goes to the sender, which fails it.
	Outbox Outbox
	// Channels are the channels whose outbox Run drains (those this service runs).
	Channels []string
	// News is the queue complaint news waits in until a replica has told it (Run
	// tells it); nil: StatusChanged tells it at once, in the background, and news in
	// flight when the process dies is lost.
	News *store.Queue
	// ClaimAfter is how long an outbox message or a piece of news another replica
	// took and never acknowledged (it died) waits before this one takes it over;
	// default 2 minutes.
	ClaimAfter time.Duration
	// Staff is the STAFF_NOTIFY chat (its language is left empty: staff read the
	// default); no Channel: staff alerts go to the log only.
	Staff bot.Recipient
	// Complaints and Calendar: Run announces, once, every complaint whose deadline
	// passes (domain.SLA), and sends the daily digest of the overdue at DigestHour on
	// the calendar's working days. Nil Complaints: no watch.
	Complaints Complaints
	Calendar   domain.Calendar
	// Agencies are the region's agencies; AgencyChats the staff chat of those that
	// have one (agencies[].notify), where their overdue follow-ups and digest go.
	Agencies    []domain.Agency
	AgencyChats map[string]bot.Recipient
	Now         func() time.Time // nil: time.Now
	Location    *time.Location   // dates in staff alerts; default UTC
	Logger      *slog.Logger     // default slog.Default()
}

// The notifier's rhythm.
const (
	drainEvery  = 2 * time.Second
	slaEvery    = time.Minute
	newsTimeout = time.Minute // one piece of news, from the event to the last reply sent
	eventTries  = 5           // an event turn is tried this often (the chat may be busy)
	eventPause  = time.Second // before the second try; doubling
)

// Notifier carries news to people and staff. It implements flows.Alerts,
// flows.HandoffCourier and admin's Notifier. Its methods return at once and deliver
// in the background; Wait (or Run's return) waits for that.
type Notifier struct {
	cfg      Config
	log      *slog.Logger
	wg       sync.WaitGroup // news being delivered in the background
	lanes    *lanes.Lanes   // news that must keep its order: one talk's, the staff chat's
	consumer string         // this replica among the queues' consumers
}

var (
	_ flows.Alerts         = (*Notifier)(nil)
	_ flows.HandoffCourier = (*Notifier)(nil)
)

// New returns a Notifier.
func New(cfg Config) (*Notifier, error) {
	if cfg.Engine == nil || cfg.Sender == nil || cfg.Texts == nil {
		return nil, fmt.Errorf("notify: engine, sender and texts are required")
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.ClaimAfter <= 0 {
		cfg.ClaimAfter = 2 * time.Minute
	}
	return &Notifier{cfg: cfg, log: cfg.Logger, lanes: lanes.New(0), consumer: inbox.ConsumerName()}, nil
}

// Run tells the complaint news in the news queue as it comes, drains the outbox of
// the configured channels every two seconds and looks for overdue complaints every
// minute, until ctx ends; then it waits for the news still being delivered and
// returns nil. Any number of replicas may run it.
func (n *Notifier) Run(ctx context.Context) error {
	defer n.Wait()
	if n.cfg.News != nil {
		n.wg.Go(func() { n.deliverNews(ctx) })
	}
	drain := time.NewTicker(drainEvery)
	defer drain.Stop()
	sla := time.NewTicker(slaEvery)
	defer sla.Stop()
	n.DrainOutbox(ctx)
	n.CheckSLA(ctx)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-drain.C:
			n.DrainOutbox(ctx)
		case <-sla.C:
			n.CheckSLA(ctx)
		}
	}
}

// Wait waits for the news being delivered in the background.
func (n *Notifier) Wait() { n.wg.Wait() }

// statusNews is complaint news for one reporter as the news queue keeps it: what
// telling them needs, once per change of the complaint.
type statusNews struct {
	Complaint string        `json:"complaint"`
	Change    int           `json:"change"` // len(History) after the change
	Status    domain.Status `json:"status"`
	Channel   string        `json:"channel"`
	ChatID    string        `json:"chat_id"`
	Key       string        `json:"key"` // the reporter's conversation
}

// StatusChanged tells the reporter of the complaint's last change, and the reporters of
// its duplicates, who follow it (flows.Alerts). With a news queue the news is queued
// (it outlives this process: Run tells it, on any replica, and news a replica took
// and never finished is taken over by another); without one, or when queueing fails,
// it is told in the background here. Either way it never waits for a conversation: it
// may be called from a turn of the very conversation it must speak in. Outside
// WhatsApp's 24-hour window the news goes as the approved complaint_status template.
func (n *Notifier) StatusChanged(ctx context.Context, c *domain.Complaint) {
	for _, r := range append([]domain.Reporter{c.Reporter}, c.Followers...) {
		news := statusNews{
			Complaint: c.ID, Change: len(c.History), Status: c.Status,
			Channel: r.Channel, ChatID: r.ChatID, Key: r.Key,
		}
		if n.cfg.News != nil {
			raw, err := json.Marshal(news)
			if err == nil {
				qctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
				err = n.cfg.News.Enqueue(qctx, raw)
				cancel()
			}
			if err == nil {
				continue
			}
			n.log.Warn("complaint news not queued; telling it from here", "complaint", c.ID, "err", err)
		}
		n.background(func(ctx context.Context) { n.tellStatus(ctx, news) })
	}
}

// deliverNews tells the complaint news in the news queue until ctx ends, each
// reporter's news in order; news that could not be prepared (the store away) is tried
// again after ClaimAfter, news older than a day is dropped.
func (n *Notifier) deliverNews(ctx context.Context) {
	jobs, release := bot.Grace(ctx, 10*time.Second)
	defer release()
	inbox.New(inbox.Config{
		Name: "complaint news", Item: "item", Queue: n.cfg.News, Lanes: lanes.New(16), Consumer: n.consumer,
		MaxAge: 24 * time.Hour, ClaimAfter: n.cfg.ClaimAfter, Log: n.log,
		Open: func(_ string, raw []byte) ([]inbox.Job, error) {
			var news statusNews
			if err := json.Unmarshal(raw, &news); err != nil {
				return nil, err
			}
			return []inbox.Job{{Lane: news.Key, Run: func(ctx context.Context) error {
				ctx, cancel := context.WithTimeout(ctx, newsTimeout)
				defer cancel()
				return n.tellStatus(ctx, news)
			}}}, nil
		},
	}).Run(ctx, jobs)
}

// tellStatus has the engine prepare the news in the reporter's conversation and
// sends it. An error means it could not be prepared and is worth trying again; news
// prepared before (a repeat) is not sent again, and a send that fails is logged.
func (n *Notifier) tellStatus(ctx context.Context, news statusNews) error {
	m := bot.Message{
		Channel: news.Channel, ChatID: news.ChatID, UserID: strings.TrimPrefix(news.Key, news.Channel+":"),
		ID:   fmt.Sprintf("event:%s:%d", news.Complaint, news.Change), // once per change
		Kind: bot.KindEvent, Text: fmt.Sprintf("complaint:%s:%d", news.Complaint, news.Change),
	}
	out, ok, err := n.event(ctx, m, "complaint", news.Complaint)
	if !ok || len(out.Replies) == 0 {
		return err
	}
	status, _ := n.cfg.Texts.Text(out.To.Lang, "complaint.status."+string(news.Status), nil)
	out.To.Template = &bot.Template{
		Purposes: []string{"complaint_status"}, Params: map[string]string{"ticket": news.Complaint, "status": status},
	}
	if err := n.send(ctx, out.To, out.Replies...); err != nil {
		n.log.Error("complaint news not delivered", "complaint", news.Complaint, "channel", out.To.Channel, "err", err)
	}
	return nil
}

// Tell has the person of a handoff hear of it in their own conversation
// (flows.HandoffCourier). Outside WhatsApp's 24-hour window a staff reply goes as the
// approved handoff_reply template; without one it is not sent there.
func (n *Notifier) Tell(_ context.Context, ho *domain.Handoff, event string) {
	m := bot.Message{
		Channel: ho.Channel, ChatID: ho.ChatID, UserID: strings.TrimPrefix(ho.Conv, ho.Channel+":"),
		ID: "event:handoff:" + event, Kind: bot.KindEvent, Text: "handoff:" + event,
	}
	// The news of one talk goes out in the order told: the note that staff joined
	// before their first reply.
	n.inOrder("handoff:"+ho.ID, func(ctx context.Context) {
		out, ok, _ := n.event(ctx, m, "handoff", ho.ID)
		if !ok || len(out.Replies) == 0 {
			return
		}
		out.To.Template = &bot.Template{
			Purposes: []string{"handoff_reply"}, Params: map[string]string{"text": out.Replies[0].Text},
		}
		if err := n.send(ctx, out.To, out.Replies...); err != nil {
			n.log.Error("handoff news not delivered", "handoff", ho.ID, "channel", out.To.Channel, "err", err)
		}
	})
}

// event has the engine handle an event message, tried eventTries times from a pause
// of about eventPause (the chat may be busy or the store away: the event's id makes
// a retry safe), never pausing after the last try; ok is false when there is nothing
// to send (failed, logged and returned, or handled before).
func (n *Notifier) event(ctx context.Context, m bot.Message, what, id string) (bot.Outcome, bool, error) {
	out, err := bot.Retry(ctx, bot.Backoff(eventPause, 0), eventTries, func() (bot.Outcome, error) {
		m.Time = time.Now()
		out, err := n.cfg.Engine.Handle(ctx, m)
		if err == nil && out.Failed {
			return out, errors.New("the turn failed")
		}
		return out, err
	}, nil)
	if err != nil {
		n.log.Error(what+" news not prepared", what, id, "err", err)
		return out, false, err
	}
	return out, !out.Duplicate, nil
}

// NewComplaint alerts staff (flows.Alerts).
func (n *Notifier) NewComplaint(ctx context.Context, c *domain.Complaint) {
	n.complaintAlert(ctx, c, "staff.new_complaint")
}

// Reopened alerts staff (flows.Alerts).
func (n *Notifier) Reopened(ctx context.Context, c *domain.Complaint) {
	n.complaintAlert(ctx, c, "staff.reopened_alert")
}

func (n *Notifier) complaintAlert(_ context.Context, c *domain.Complaint, key string) {
	text := n.staffText(key, map[string]any{
		"ID": c.ID, "Category": n.category(c), "Summary": flows.Summarize(c.Description),
		"Date": c.CreatedAt.In(n.cfg.Location).Format("02-01-2006 15:04"),
	})
	// The log names the ticket and the category only: the description may hold
	// personal data.
	n.log.Info("staff alert", "kind", key, "complaint", c.ID, "category", c.Category)
	n.background(func(ctx context.Context) { n.toStaff(ctx, n.cfg.Staff, "complaint "+c.ID, bot.Reply{Text: text}) })
}

// staffText renders a text for staff, in the default language.
func (n *Notifier) staffText(key string, data map[string]any) string {
	text, err := n.cfg.Texts.Text(locales.Default, key, data)
	if err != nil {
		n.log.Error("staff alert text", "key", key, "err", err)
	}
	return text
}

func (n *Notifier) category(c *domain.Complaint) string {
	category, _ := n.cfg.Texts.Text(locales.Default, "complaint.category."+c.Category, nil)
	return category
}

// chatOf is where news of a complaint's deadline goes: its agency's chat during the
// agency's follow-up, when the agency has one; else STAFF_NOTIFY (verification and
// disposition are the admins').
func (n *Notifier) chatOf(c *domain.Complaint) bot.Recipient {
	if chat, ok := n.cfg.AgencyChats[c.Agency]; ok && c.Phase == domain.PhaseFollowUp {
		return chat
	}
	return n.cfg.Staff
}

// dueDay is the last day before a deadline (at midnight), as staff read it.
func (n *Notifier) dueDay(due time.Time) string {
	return due.Add(-time.Second).In(n.cfg.Location).Format("02-01-2006")
}

// Overdue announces a complaint whose deadline passed (once: the store's claim), to
// its agency's chat during the agency's follow-up, else to STAFF_NOTIFY.
func (n *Notifier) Overdue(_ context.Context, c *domain.Complaint) {
	key := "staff.overdue_alert"
	text := n.staffText(key, map[string]any{
		"ID": c.ID, "Category": n.category(c), "Summary": flows.Summarize(c.Description),
		"Phase": n.staffText("staff.phase."+string(c.Phase), nil), "Due": n.dueDay(c.Due),
	})
	n.log.Info("staff alert", "kind", key, "complaint", c.ID, "agency", c.Agency, "phase", c.Phase)
	to := n.chatOf(c)
	n.background(func(ctx context.Context) { n.toStaff(ctx, to, "complaint "+c.ID, bot.Reply{Text: text}) })
}

// DigestHour is when the daily digest of overdue complaints goes, in the calendar's
// time zone, on working days.
const DigestHour = 7

// digestMax is how many overdue complaints one digest names.
const digestMax = 20

// digest sends the daily digest of overdue complaints: all of them to STAFF_NOTIFY,
// and each agency's to its own chat; nothing where none is overdue.
func (n *Notifier) digest(ctx context.Context, now time.Time) {
	targets := map[string]bot.Recipient{"": n.cfg.Staff} // agency ("" all) → chat
	for code, chat := range n.cfg.AgencyChats {
		targets[code] = chat
	}
	names := map[string]string{}
	for _, a := range n.cfg.Agencies {
		names[a.Code] = a.Name
	}
	for code, chat := range targets {
		if chat.Channel == "" {
			continue
		}
		res, err := n.cfg.Complaints.Inbox(ctx, domain.InboxQuery{Agency: code, Overdue: true, Sort: domain.SortOverdue, Size: digestMax}, now)
		if err != nil {
			n.log.Warn("daily digest of overdue complaints", "agency", code, "err", err)
			continue
		}
		if res.Total == 0 {
			continue
		}
		lines := []string{n.staffText("staff.digest", map[string]any{
			"Date": now.In(n.cfg.Location).Format("02-01-2006"), "Agency": names[code], "Total": res.Total})}
		for _, c := range res.Complaints {
			lines = append(lines, n.staffText("staff.digest_line", map[string]any{"ID": c.ID, "Category": n.category(c),
				"Phase": n.staffText("staff.phase."+string(c.Phase), nil), "Due": n.dueDay(c.Due)}))
		}
		if more := res.Total - int64(len(res.Complaints)); more > 0 {
			lines = append(lines, n.staffText("staff.digest_more", map[string]any{"More": more}))
		}
		text := strings.Join(lines, "\n")
		n.log.Info("staff alert", "kind", "digest", "agency", code, "overdue", res.Total)
		n.background(func(ctx context.Context) { n.toStaff(ctx, chat, "digest", bot.Reply{Text: text}) })
	}
}

// Staff sends a text to the staff chat, if there is one (flows.HandoffCourier), in
// the order the handoff told it; id names the talk it is about.
func (n *Notifier) Staff(_ context.Context, id, text string) {
	n.inOrder("staff", func(ctx context.Context) {
		n.toStaff(ctx, n.cfg.Staff, "handoff", bot.Reply{Text: text, About: flows.HandoffAbout(id)})
	})
}

// StaffNews sends staff a ready text about a channel (WhatsApp logged out, the Cloud
// API refusing the token) and logs its kind at Warn. It returns once the text is
// sent or has failed.
func (n *Notifier) StaffNews(ctx context.Context, kind, text string) {
	n.log.Warn("staff alert", "kind", kind)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), newsTimeout)
	defer cancel()
	n.toStaff(ctx, n.cfg.Staff, kind, bot.Reply{Text: text})
}

// toStaff sends r to a staff chat (none: the log only), as the staff_alert template
// outside WhatsApp's window; about names what it is about in the log.
func (n *Notifier) toStaff(ctx context.Context, to bot.Recipient, about string, r bot.Reply) {
	if to.Channel == "" {
		return
	}
	to.Template = &bot.Template{Purposes: []string{"staff_alert"}, Params: map[string]string{"text": r.Text}}
	if err := n.send(ctx, to, r); err != nil {
		n.log.Error("staff alert not delivered", "about", about, "channel", to.Channel, "err", err)
	}
}

// background runs f with a context of its own, bounded by newsTimeout; Wait waits
// for it.
func (n *Notifier) background(f func(ctx context.Context)) {
	n.wg.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), newsTimeout)
		defer cancel()
		f(ctx)
	})
}

// inOrder runs f like background, behind the earlier work of key.
func (n *Notifier) inOrder(key string, f func(ctx context.Context)) {
	n.wg.Add(1)
	n.lanes.Submit(key, func() error {
		defer n.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), newsTimeout)
		defer cancel()
		f(ctx)
		return nil
	}, nil)
}

// send delivers now when this replica can send on the recipient's channel, else
// leaves the message in the outbox, with the recipient's language and template, for the replica that can (see DrainOutbox).
func (n *Notifier) send(ctx context.Context, to bot.Recipient, replies ...bot.Reply) error {
	if n.cfg.Sender.CanSend(to.Channel) || n.cfg.Outbox == nil {
		return n.cfg.Sender.Send(ctx, to, replies...)
	}
	q := store.Queued{ChatID: to.ChatID, Replies: replies, Lang: to.Lang}
	if t := to.Template; t != nil {
		q.Template = &store.QueuedTemplate{Purposes: t.Purposes, Params: t.Params, Run: t.Run}
	}
	return n.cfg.Outbox.Put(ctx, to.Channel, q)
}

// DrainOutbox sends what other replicas left in the outbox for each configured
// channel this replica can send on now, each in the language and with the template it
// was queued with (one queued without a language goes in the default one), and
// acknowledges it. A message another replica took and never acknowledged (it died
// before sending) is taken over once it has waited ClaimAfter; one that could not go
// out now stays for a later drain; one the channel refuses for good is dropped.
func (n *Notifier) DrainOutbox(ctx context.Context) {
	if n.cfg.Outbox == nil {
		return
	}
	for _, ch := range n.cfg.Channels {
		q := n.cfg.Outbox.Queue(ch)
		reclaim := true
		for n.cfg.Sender.CanSend(ch) && ctx.Err() == nil {
			var ids []string
			var raws [][]byte
			var err error
			if reclaim {
				ids, raws, err = q.Reclaim(ctx, n.consumer, 100, n.cfg.ClaimAfter)
				reclaim = err == nil && len(ids) > 0
			}
			if err == nil && len(ids) == 0 {
				ids, raws, err = q.Read(ctx, n.consumer, 100, time.Millisecond)
			}
			if err != nil || len(ids) == 0 {
				break
			}
			for i, id := range ids {
				if n.sendQueued(ctx, ch, raws[i]) {
					if err := q.Ack(ctx, id); err != nil {
						n.log.Warn("acknowledge queued news (it may be sent again)", "channel", ch, "err", err)
					}
				}
			}
		}
	}
}

// sendQueued sends one outbox message; false when it could not go out now and is
// worth another try.
func (n *Notifier) sendQueued(ctx context.Context, ch string, raw []byte) bool {
	q, err := store.DecodeQueued(raw)
	if err != nil {
		n.log.Error("queued news dropped", "channel", ch, "err", err)
		return true
	}
	to := bot.Recipient{Channel: ch, ChatID: q.ChatID, Lang: q.Lang}
	if t := q.Template; t != nil {
		to.Template = &bot.Template{Purposes: t.Purposes, Params: t.Params, Run: t.Run}
	}
	if err := n.cfg.Sender.Send(ctx, to, q.Replies...); err != nil {
		n.log.Error("queued news not delivered", "channel", ch, "err", err)
		return bot.KindOf(err) != bot.ErrTemporary
	}
	return true
}

// CheckSLA announces, once, every complaint whose deadline passed, and sends the
// daily digest when it is due (DigestHour on a working day; once a day across
// replicas).
func (n *Notifier) CheckSLA(ctx context.Context) {
	if n.cfg.Complaints == nil {
		return
	}
	now := time.Now()
	if n.cfg.Now != nil {
		now = n.cfg.Now()
	}
	due, err := n.cfg.Complaints.ClaimOverdue(ctx, now)
	if err != nil && ctx.Err() == nil {
		n.log.Warn("look for overdue complaints", "err", err)
	}
	for _, c := range due {
		n.Overdue(ctx, c)
	}
	day, ok := n.cfg.Calendar.DigestDay(now, DigestHour)
	if !ok {
		return
	}
	mine, err := n.cfg.Complaints.ClaimDigest(ctx, day)
	if err != nil && ctx.Err() == nil {
		n.log.Warn("claim the daily digest", "err", err)
	}
	if mine {
		n.digest(ctx, now)
	}
}
