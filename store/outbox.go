package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/layan-id/layan/bot"
)

// Outbox keeps messages for a channel that this replica cannot send on now (WhatsApp
// on a replica that does not hold the connection), for the replica that can.
type Outbox struct{ s *Store }

// Outbox returns the outbox.
func (s *Store) Outbox() *Outbox { return &Outbox{s: s} }

// Queued is one message waiting in the outbox: the replies, and what the sender knew
// of them (the person's language, and the template that stands in for them outside
// WhatsApp's 24-hour window), so that the replica that drains the outbox sends them as
// this one would have.
type Queued struct {
	ChatID   string          `json:"chat_id"`
	Replies  []bot.Reply     `json:"replies"`
	Lang     string          `json:"lang,omitempty"`
	Template *QueuedTemplate `json:"template,omitempty"`
}

// QueuedTemplate is a bot.Template as the outbox keeps it.
type QueuedTemplate struct {
	Purposes []string          `json:"purposes"`
	Params   map[string]string `json:"params,omitempty"`
	Run      string            `json:"run,omitempty"`
}

func (o *Outbox) key(channel string) string { return o.s.key("outbox", channel) }

// Put queues a message for a chat (q.ChatID) of a channel.
func (o *Outbox) Put(ctx context.Context, channel string, q Queued) error {
	b, err := json.Marshal(q)
	if err != nil {
		return fmt.Errorf("store: encode outbox message: %w", err)
	}
	if err := o.s.rdb.RPush(ctx, o.key(channel), b).Err(); err != nil {
		return fmt.Errorf("store: queue outbox message: %w", err)
	}
	return nil
}

// Take removes and returns the oldest queued message of a channel, or false.
func (o *Outbox) Take(ctx context.Context, channel string) (Queued, bool, error) {
	raw, err := o.s.rdb.LPop(ctx, o.key(channel)).Bytes()
	if errors.Is(err, redis.Nil) {
		return Queued{}, false, nil
	}
	if err != nil {
		return Queued{}, false, fmt.Errorf("store: take outbox message: %w", err)
	}
	var q Queued
	if err := json.Unmarshal(raw, &q); err != nil {
		return Queued{}, false, fmt.Errorf("store: decode outbox message: %w", err)
	}
	return q, true, nil
}
