package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/layan-id/layan/bot"
)

// Outbox keeps messages for a channel that this replica cannot send on now (WhatsApp
// on a replica that does not hold the connection), for the replica that can: one
// Queue per channel (outbox:CHANNEL), so a message is delivered at least once even
// when the replica draining it dies between taking it and sending it.
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

// Queue returns the outbox of one channel. Its entries decode with DecodeQueued.
func (o *Outbox) Queue(channel string) *Queue {
	q := o.s.queue(o.key(channel), "outbox messages", 0)
	q.fromList = true
	return q
}

// Put queues a message for a chat (q.ChatID) of a channel.
func (o *Outbox) Put(ctx context.Context, channel string, q Queued) error {
	b, err := json.Marshal(q)
	if err != nil {
		return fmt.Errorf("store: encode outbox message: %w", err)
	}
	return o.Queue(channel).Enqueue(ctx, b)
}

// DecodeQueued reads an outbox entry.
func DecodeQueued(raw []byte) (Queued, error) {
	var q Queued
	if err := json.Unmarshal(raw, &q); err != nil {
		return Queued{}, fmt.Errorf("store: decode outbox message: %w", err)
	}
	return q, nil
}
