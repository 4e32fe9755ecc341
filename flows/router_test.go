package flows_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/domain"
	"github.com/layan-id/layan/flows"
	"github.com/layan-id/layan/locales"
	"github.com/layan-id/layan/store/storetest"
)

// probe is a flow the router has never heard of: it says what reached it.
type probe struct{}

func (probe) Start(_ context.Context, c *flows.Conv) error {
	c.Session.Flow = "probe"
	c.Turn.Say(bot.Reply{Text: "probe started"})
	return nil
}

func (probe) Continue(_ context.Context, c *flows.Conv, in flows.Input) error {
	c.Turn.Say(bot.Reply{Text: "probe continued: " + in.Text})
	return nil
}

// A flow registered from outside gets what it registers, through the same dispatch
// as Layan's own flows, in the documented order: its keywords start it, its options,
// commands, events and places reach it at every step; the router's own keywords come
// before a flow's; a form being filled in keeps a stray place.
func TestTheRouterDispatchesWhatFlowsRegister(t *testing.T) {
	texts, err := locales.Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	content := locales.Content("")
	region, err := flows.LoadRegion(content)
	if err != nil {
		t.Fatal(err)
	}
	b := storetest.Mini(t)
	r := flows.NewRouter(texts, slog.New(failOnError{slog.DiscardHandler, t}))
	r.RegisterComplaints(flows.ComplaintConfig{Store: b.Store.Complaints("TST", time.UTC), Region: region, Alerts: noAlerts{}})
	r.Register("probe", probe{})
	r.RegisterKeyword("keywords.tourism", "probe") // "wisata" starts the probe
	r.RegisterKeyword("keywords.cancel", "probe")  // "batal" stays the router's
	var heard []string
	r.HandleOption("probe:", func(_ context.Context, c *flows.Conv, id string) (bool, error) {
		heard = append(heard, "option "+id)
		return id != "probe:decline", nil
	})
	r.HandleCommand(func(_ context.Context, c *flows.Conv, text string) (bool, error) {
		if text != "/probe" {
			return false, nil
		}
		heard = append(heard, "command")
		return true, nil
	})
	r.HandleEvent("probe", func(_ context.Context, c *flows.Conv, arg string) error {
		heard = append(heard, "event "+arg+" in "+c.Session.Flow)
		return nil
	})
	r.HandleKind(bot.KindLocation, func(_ context.Context, c *flows.Conv, in flows.Input) (bool, error) {
		heard = append(heard, "place")
		return true, nil
	})

	s := &bot.Session{Greeted: true}
	send := func(m bot.Message) string {
		t.Helper()
		heard = nil
		m.Channel, m.ChatID, m.UserID, m.ID = "test", "1", "1", "m"
		if m.Kind == "" {
			m.Kind = bot.KindText
		}
		turn := &bot.Turn{Msg: m, Session: s}
		if err := r.Handle(context.Background(), turn); err != nil {
			t.Fatalf("%+v: %v", m, err)
		}
		var said []string
		for _, rep := range turn.Replies {
			said = append(said, rep.Text)
		}
		return strings.Join(said, " | ")
	}
	text := func(s string) bot.Message { return bot.Message{Text: s} }

	if got := send(text("wisata")); got != "probe started" || s.Flow != "probe" {
		t.Errorf("its keyword: %q in flow %q, want the probe started", got, s.Flow)
	}
	if got := send(text("apa saja")); !strings.HasPrefix(got, "probe continued") {
		t.Errorf("the next message: %q, want it continued", got)
	}
	if got := send(bot.Message{Kind: bot.KindOption, Option: "probe:1"}); len(heard) != 1 || heard[0] != "option probe:1" {
		t.Errorf("its option: heard %v (said %q)", heard, got)
	}
	if send(bot.Message{Kind: bot.KindOption, Option: "probe:decline"}); len(heard) != 1 || s.Flow != "probe" {
		t.Errorf("an option it declines: heard %v, flow %q; want it passed on to the flow", heard, s.Flow)
	}
	if send(text("/probe")); len(heard) != 1 || heard[0] != "command" {
		t.Errorf("its command: heard %v", heard)
	}
	if send(bot.Message{Kind: bot.KindEvent, Text: "probe:42"}); len(heard) != 1 || heard[0] != "event 42 in probe" || s.Flow != "probe" {
		t.Errorf("its event: heard %v, flow %q", heard, s.Flow)
	}
	if send(bot.Message{Kind: bot.KindLocation, Location: &domain.Location{Lat: -6.9, Lon: 109.7}}); len(heard) != 1 || heard[0] != "place" {
		t.Errorf("a place outside a step that asks for one: heard %v", heard)
	}
	if got := send(text("batal")); s.Flow != "" || !strings.Contains(got, "dibatalkan") {
		t.Errorf(`"batal", also a keyword of the probe: %q, flow %q; want the router's cancel first`, got, s.Flow)
	}

	send(text("lapor"))
	send(bot.Message{Kind: bot.KindOption, Option: "cat:jalan"})
	if got := send(bot.Message{Kind: bot.KindLocation, Location: &domain.Location{Lat: -6.9, Lon: 109.7}}); len(heard) != 0 || s.Flow != flows.FlowComplaint || s.Step != "description" {
		t.Errorf("a place while describing a complaint: heard %v, %q, flow %q step %q; want the form kept", heard, got, s.Flow, s.Step)
	}
}
