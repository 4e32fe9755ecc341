package main

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/bot/lanes"
	"github.com/layan-id/layan/domain"
	"github.com/layan-id/layan/flows"
)

// handoffConfig is what talking to a person reads from the environment.
type handoffConfig struct {
	Wait        time.Duration // HANDOFF_WAIT: how long a person waits before being told nobody came yet
	OfficeHours string        // OFFICE_HOURS: "" = the region's content, else DefaultOfficeHours
	HistoryDays int           // HISTORY_DAYS: how long recent messages and staff transcripts are kept
}

// load reads the variables through get and returns what is wrong with them, each
// naming its variable.
func (h *handoffConfig) load(get func(name, def string) string) []error {
	var errs []error
	wait, err := time.ParseDuration(get("HANDOFF_WAIT", "10m"))
	if err != nil || wait < time.Minute {
		errs = append(errs, fmt.Errorf("HANDOFF_WAIT: want a duration of a minute or more, such as 10m"))
	}
	h.Wait = wait
	h.OfficeHours = get("OFFICE_HOURS", "")
	if h.OfficeHours != "" {
		if _, err := flows.ParseOfficeHours(h.OfficeHours, nil, time.UTC); err != nil {
			errs = append(errs, fmt.Errorf("OFFICE_HOURS: %w", err))
		}
	}
	days, err := strconv.Atoi(get("HISTORY_DAYS", "30"))
	if err != nil || days < 1 || days > 365 {
		errs = append(errs, fmt.Errorf("HISTORY_DAYS: want a whole number of days from 1 to 365"))
	}
	h.HistoryDays = days
	return errs
}

// keep is how long recent messages and staff transcripts are kept.
func (h handoffConfig) keep() time.Duration { return time.Duration(h.HistoryDays) * 24 * time.Hour }

// historyLines is how many recent messages a session keeps (both sides).
const historyLines = 30

// handoffCourier carries handoff news like complaint news (see notifier): an event
// through the person's conversation, whose replies go out on their channel, and texts
// for the staff chat. It works in the background, in order: the news of one talk
// (joined, then what staff said) and the texts for staff each go out in the order
// they were told. It logs no message text.
type handoffCourier struct {
	n     *notifier
	lanes *lanes.Lanes
}

var _ flows.HandoffCourier = handoffCourier{}

func newHandoffCourier(n *notifier) handoffCourier { return handoffCourier{n: n, lanes: lanes.New(0)} }

// later runs work in the background behind the earlier work of key; notifier.wait
// waits for it too.
func (k handoffCourier) later(key string, work func()) {
	k.n.wg.Add(1)
	k.lanes.Submit(key, func() error { defer k.n.wg.Done(); work(); return nil }, nil)
}

// Tell implements flows.HandoffCourier.
func (k handoffCourier) Tell(_ context.Context, ho *domain.Handoff, event string) {
	n := k.n
	k.later("handoff:"+ho.ID, func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		m := bot.Message{
			Channel: ho.Channel, ChatID: ho.ChatID, UserID: strings.TrimPrefix(ho.Conv, ho.Channel+":"),
			ID: "event:handoff:" + event, Kind: bot.KindEvent, Text: "handoff:" + event, Time: time.Now(),
		}
		out, err := n.handleEvent(ctx, m)
		if err != nil || out.Failed {
			n.log.Error("handoff news not prepared", "handoff", ho.ID, "err", err)
			return
		}
		if out.Duplicate || len(out.Replies) == 0 {
			return
		}
		// Outside WhatsApp's 24-hour window a staff reply needs an approved template
		// (purpose "handoff_reply"); without one it is not sent there.
		ctx = bot.WithTemplate(bot.WithLang(ctx, out.Lang), &bot.Template{
			Purposes: []string{"handoff_reply"}, Params: map[string]string{"text": out.Replies[0].Text},
		})
		if err := n.send(ctx, ho.Channel, ho.ChatID, out.Replies...); err != nil {
			n.log.Error("handoff news not delivered", "handoff", ho.ID, "channel", ho.Channel, "err", err)
		}
	})
}

// Staff implements flows.HandoffCourier: the text goes to STAFF_NOTIFY, if set, about
// the handoff id (so that a reply to it in the Telegram staff group answers that
// person).
func (k handoffCourier) Staff(_ context.Context, id, text string) {
	n := k.n
	ch, chat, ok := strings.Cut(n.staff, ":")
	if !ok {
		return
	}
	k.later("staff", func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		ctx = bot.WithTemplate(ctx, &bot.Template{Purposes: []string{"staff_alert"}, Params: map[string]string{"text": text}})
		if err := n.send(ctx, ch, chat, bot.Reply{Text: text, About: flows.HandoffAbout(id)}); err != nil {
			n.log.Error("handoff staff news not delivered", "handoff", id, "channel", ch, "err", err)
		}
	})
}

// watchHandoffs tells people who waited longer than HANDOFF_WAIT that nobody came
// yet, looking every 30 seconds until ctx ends. Any number of replicas may run it:
// each person is told once.
func watchHandoffs(ctx context.Context, desk *flows.Desk, log *slog.Logger) {
	tick := time.NewTicker(30 * time.Second)
	defer tick.Stop()
	for {
		if n, err := desk.Expire(ctx); err != nil && ctx.Err() == nil {
			log.Warn("look for people waiting too long for staff", "err", err)
		} else if n > 0 {
			log.Info("people told that staff are busy", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
