package flows

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/domain"
)

// Subscriptions is what the subscription flow keeps (*store.Broadcasts is one).
type Subscriptions interface {
	Subscribe(ctx context.Context, r domain.Recipient, topic string) error
	Unsubscribe(ctx context.Context, key, topic string) error
	UnsubscribeAll(ctx context.Context, key string) error
	Topics(ctx context.Context, key string) ([]string, error)
	SetLanguage(ctx context.Context, key, lang string) error
}

// subscribeFlow lets a person choose the topics they receive broadcasts on. Nobody
// receives a broadcast they did not choose; "berhenti"/"stop" leaves every topic at
// once, at any step.
type subscribeFlow struct {
	subs   Subscriptions
	topics []string
}

// RegisterSubscriptions adds the subscription flow ("subscribe", also "langganan")
// and "berhenti"/"stop", for the topics of the region.
func (r *Router) RegisterSubscriptions(subs Subscriptions, topics []string) {
	f := &subscribeFlow{subs: subs, topics: topics}
	r.Register(FlowSubscribe, f)
	r.Register(FlowUnsubscribe, unsubscribeFlow{f})
	r.RegisterKeyword("keywords.subscribe", FlowSubscribe)
	r.RegisterKeyword("keywords.unsubscribe", FlowUnsubscribe)
	r.HandleIntent("subscribe", NeverInterrupts, func(ctx context.Context, c *Conv, in Input) error {
		return f.join(ctx, c, in.reading.Slot)
	})
	r.HandleIntent("unsubscribe", NeverInterrupts, func(ctx context.Context, c *Conv, in Input) error {
		return f.leave(ctx, c, in.reading.Slot)
	})
	r.subscriptions = subs
}

func (f *subscribeFlow) Start(ctx context.Context, c *Conv) error {
	return f.show(ctx, c)
}

// show lists the topics with the person's choices, each offered as a switch.
func (f *subscribeFlow) show(ctx context.Context, c *Conv) error {
	mine, err := f.subs.Topics(ctx, c.Msg.Key())
	if err != nil {
		return fmt.Errorf("read subscriptions: %w", err)
	}
	lines := []string{c.T("subscribe.intro")}
	var opts []bot.Option
	for _, t := range f.topics {
		on := slices.Contains(mine, t)
		mark, action := "subscribe.off", "subscribe.join"
		if on {
			mark, action = "subscribe.on", "subscribe.leave"
		}
		lines = append(lines, c.T(mark)+" "+c.T("subscribe.topic."+t+".name")+": "+c.T("subscribe.topic."+t+".desc"))
		opts = append(opts, bot.Option{ID: "sub:" + t, Label: c.T(action) + " " + c.T("subscribe.topic."+t+".name")})
	}
	opts = append(opts, c.Opt("sub:done", "subscribe.done"))
	c.Session.Flow, c.Session.Step = FlowSubscribe, "choose"
	c.Turn.Say(bot.Reply{Text: strings.Join(lines, "\n"), Options: opts})
	return nil
}

func (f *subscribeFlow) Continue(ctx context.Context, c *Conv, in Input) error {
	topic, ok := strings.CutPrefix(in.Option, "sub:")
	switch {
	case ok && topic == "done":
		c.Leave()
		c.Say("subscribe.saved")
		return nil
	case ok && slices.Contains(f.topics, topic):
		mine, err := f.subs.Topics(ctx, c.Msg.Key())
		if err != nil {
			return fmt.Errorf("read subscriptions: %w", err)
		}
		if slices.Contains(mine, topic) {
			err = f.subs.Unsubscribe(ctx, c.Msg.Key(), topic)
		} else {
			err = f.subs.Subscribe(ctx, domain.Recipient{Key: c.Msg.Key(), Channel: c.Msg.Channel, ChatID: c.Msg.ChatID, Lang: c.Chosen()}, topic)
		}
		if err != nil {
			return fmt.Errorf("change subscription: %w", err)
		}
		return f.show(ctx, c)
	}
	c.Leave()
	return c.Fallback(ctx, in) // a question in the middle: answer it
}

// unsubscribeFlow leaves every topic at once.
type unsubscribeFlow struct{ f *subscribeFlow }

func (u unsubscribeFlow) Start(ctx context.Context, c *Conv) error {
	if err := u.f.subs.UnsubscribeAll(ctx, c.Msg.Key()); err != nil {
		return fmt.Errorf("unsubscribe: %w", err)
	}
	c.Leave()
	c.Say("subscribe.stopped")
	return nil
}

func (u unsubscribeFlow) Continue(ctx context.Context, c *Conv, _ Input) error {
	return u.Start(ctx, c)
}

// join subscribes the person to topic, when it is one of the region's, and shows
// their choices; without a topic it only shows them ("langganan tips wisata").
func (f *subscribeFlow) join(ctx context.Context, c *Conv, topic string) error {
	if slices.Contains(f.topics, topic) {
		r := domain.Recipient{Key: c.Msg.Key(), Channel: c.Msg.Channel, ChatID: c.Msg.ChatID, Lang: c.Chosen()}
		if err := f.subs.Subscribe(ctx, r, topic); err != nil {
			return fmt.Errorf("subscribe to %s: %w", topic, err)
		}
		c.Leave()
		c.Say("subscribe.joined", "Category", c.T("subscribe.topic."+topic+".name"))
	}
	return f.show(ctx, c)
}

// leave unsubscribes the person from topic ("berhenti langganan pengumuman"), or
// from every topic when the words named none.
func (f *subscribeFlow) leave(ctx context.Context, c *Conv, topic string) error {
	if !slices.Contains(f.topics, topic) {
		return unsubscribeFlow{f}.Start(ctx, c)
	}
	if err := f.subs.Unsubscribe(ctx, c.Msg.Key(), topic); err != nil {
		return fmt.Errorf("unsubscribe from %s: %w", topic, err)
	}
	c.Leave()
	c.Say("subscribe.left", "Category", c.T("subscribe.topic."+topic+".name"))
	return nil
}
