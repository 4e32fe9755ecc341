package main

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
	news   *store.Queue  // complaint news waiting to be told; nil: told at once, in memory
	texts  *locales.Catalog
	log    *slog.Logger
	staff  string // channel:chat, or ""
	loc    *time.Location
	wg     sync.WaitGroup // news being delivered in the background
	// claimAfter is how long outbox news another replica took and never acknowledged
	// waits before this one takes it over; 0: the queue worker's default.
	claimAfter time.Duration
}

// wait waits for the news being delivered in the background.
func (n *notifier) wait() { n.wg.Wait() }

// statusNews is complaint news as the news queue keeps it: what telling the
// reporter needs, once per change of the complaint.
type statusNews struct {
	Complaint string        `json:"complaint"`
	Change    int           `json:"change"` // len(History) after the change
	Status    domain.Status `json:"status"`
	Channel   string        `json:"channel"`
	ChatID    string        `json:"chat_id"`
	Key       string        `json:"key"` // the reporter's conversation
}

// StatusChanged tells the reporter. With a news queue the news is queued (it
// outlives this process: any replica's deliverNews tells it, and news a replica took
// and never finished is taken over by another); without one, or when queueing
// fails, it is told in the background here. Either way it never waits for a
// conversation: it may be called from a turn of the very conversation it must speak
// in (a staff member's own complaint).
func (n *notifier) StatusChanged(ctx context.Context, c *domain.Complaint) {
	news := statusNews{
		Complaint: c.ID, Change: len(c.History), Status: c.Status,
		Channel: c.Reporter.Channel, ChatID: c.Reporter.ChatID, Key: c.Reporter.Key,
	}
	if n.news != nil {
		raw, err := json.Marshal(news)
		if err == nil {
			qctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			err = n.news.Enqueue(qctx, raw)
			cancel()
		}
		if err == nil {
			return
		}
		n.log.Warn("complaint news not queued; telling it from here", "complaint", c.ID, "err", err)
	}
	n.wg.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		n.tellStatus(ctx, news)
	})
}

// deliverNews tells the complaint news in the news queue until ctx ends, each
// reporter's news in order; news this replica could not prepare (the store away) is
// tried again after claimAfter, news older than a day is dropped.
func (n *notifier) deliverNews(ctx context.Context) {
	if n.news == nil {
		return
	}
	jobs, release := bot.Grace(ctx, 10*time.Second)
	defer release()
	inbox.New(inbox.Config{
		Name: "complaint news", Item: "item", Queue: n.news, Lanes: lanes.New(16), Consumer: inbox.ConsumerName(),
		MaxAge: 24 * time.Hour, ClaimAfter: n.claimAfter, Log: n.log,
		Open: func(_ string, raw []byte) ([]inbox.Job, error) {
			var news statusNews
			if err := json.Unmarshal(raw, &news); err != nil {
				return nil, err
			}
			return []inbox.Job{{Lane: news.Key, Run: func(ctx context.Context) error {
				ctx, cancel := context.WithTimeout(ctx, time.Minute)
				defer cancel()
				return n.tellStatus(ctx, news)
			}}}, nil
		},
	}).Run(ctx, jobs)
}

// tellStatus has the engine prepare the news in the reporter's conversation (an
// event, so it comes in their language with the options to rate or reopen) and
// sends it. An error means it could not be prepared and is worth trying again; news
// already prepared (a repeat) is not sent again, and a send that fails is logged.
func (n *notifier) tellStatus(ctx context.Context, news statusNews) error {
	user := strings.TrimPrefix(news.Key, news.Channel+":")
	m := bot.Message{
		Channel: news.Channel, ChatID: news.ChatID, UserID: user,
		ID:   fmt.Sprintf("event:%s:%d", news.Complaint, news.Change), // once per change
		Kind: bot.KindEvent, Text: fmt.Sprintf("complaint:%s:%d", news.Complaint, news.Change), Time: time.Now(),
	}
	out, err := n.handleEvent(ctx, m)
	if err != nil {
		n.log.Error("complaint news not prepared", "complaint", news.Complaint, "err", err)
		return err
	}
	if out.Duplicate {
		return nil
	}
	// Outside WhatsApp's 24-hour window the news goes as the approved template.
	status, _ := n.texts.Text(out.Lang, "complaint.status."+string(news.Status), nil)
	ctx = bot.WithTemplate(bot.WithLang(ctx, out.Lang), &bot.Template{
		Purposes: []string{"complaint_status"}, Params: map[string]string{"ticket": news.Complaint, "status": status},
	})
	if err := n.send(ctx, news.Channel, news.ChatID, out.Replies...); err != nil {
		n.log.Error("complaint news not delivered", "complaint", news.Complaint, "channel", news.Channel, "err", err)
	}
	return nil
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

// drainOutbox sends what other replicas left in the outbox for the channels this
// replica can send on, until ctx ends: each message is taken by one replica and
// acknowledged once sent, and one a replica took and never acknowledged (it died
// before sending) is taken over by another after claimAfter (default 2 minutes). A message the channel
// refuses for good is dropped; one that could not go out now is tried again.
func (n *notifier) drainOutbox(ctx context.Context, channels []string) {
	var wg sync.WaitGroup
	for _, ch := range channels {
		w := inbox.New(inbox.Config{
			Name: "outbox " + ch, Item: "message", Queue: n.outbox.Queue(ch), Lanes: lanes.New(0),
			Consumer: inbox.ConsumerName(), Gate: func() bool { return n.sender.CanSend(ch) },
			MaxAge: 24 * time.Hour, ClaimAfter: n.claimAfter, Log: n.log,
			Open: func(_ string, raw []byte) ([]inbox.Job, error) {
				q, err := store.DecodeQueued(raw)
				if err != nil {
					return nil, err
				}
				return []inbox.Job{{Lane: q.ChatID, Run: func(ctx context.Context) error {
					err := n.sendQueued(ctx, ch, q)
					if err != nil && bot.KindOf(err) != bot.ErrTemporary {
						n.log.Error("queued news not delivered", "channel", ch, "err", err)
						return nil // refused for good: trying again changes nothing
					}
					return err
				}}}, nil
			},
		})
		wg.Go(func() { w.Run(ctx, context.WithoutCancel(ctx)) })
	}
	wg.Wait()
}

// NewComplaint alerts staff.
func (n *notifier) NewComplaint(ctx context.Context, c *domain.Complaint) {
	n.toStaff(ctx, c, "staff.new_complaint")
}

// Reopened alerts staff.
func (n *notifier) Reopened(ctx context.Context, c *domain.Complaint) {
	n.toStaff(ctx, c, "staff.reopened_alert")
}

// Overdue alerts staff that a complaint waits too long for verification.
func (n *notifier) Overdue(ctx context.Context, c *domain.Complaint) {
	n.toStaff(ctx, c, "staff.sla_alert")
}

func (n *notifier) toStaff(ctx context.Context, c *domain.Complaint, key string) {
	category, _ := n.texts.Text(locales.Default, "complaint.category."+c.Category, nil)
	text, err := n.texts.Text(locales.Default, key, map[string]any{
		"ID": c.ID, "Category": category, "Summary": flows.Summarize(c.Description),
		"Date": c.CreatedAt.In(n.loc).Format("02-01-2006 15:04"),
	})
	if err != nil {
		n.log.Error("staff alert text", "err", err)
	}
	// The log names the ticket and the category only: the description may hold
	// personal data.
	n.log.Info("staff alert", "kind", key, "complaint", c.ID, "category", c.Category)
	ch, chat, ok := strings.Cut(n.staff, ":")
	if !ok {
		return
	}
	n.wg.Go(func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		ctx = bot.WithTemplate(ctx, &bot.Template{Purposes: []string{"staff_alert"}, Params: map[string]string{"text": text}})
		if err := n.send(ctx, ch, chat, bot.Reply{Text: text}); err != nil {
			n.log.Error("staff alert not delivered", "complaint", c.ID, "channel", ch, "err", err)
		}
	})
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

// watchSLA alerts staff, once, of every complaint still unverified after sla; it
// looks every minute until ctx ends. Any number of replicas may run it.
func (n *notifier) watchSLA(ctx context.Context, complaints interface {
	Overdue(context.Context, time.Time) ([]*domain.Complaint, error)
}, sla time.Duration) {
	tick := time.NewTicker(time.Minute)
	defer tick.Stop()
	for {
		due, err := complaints.Overdue(ctx, time.Now().Add(-sla))
		if err != nil && ctx.Err() == nil {
			n.log.Warn("look for overdue complaints", "err", err)
		}
		for _, c := range due {
			n.Overdue(ctx, c)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
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
