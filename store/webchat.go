package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/layan-id/layan/bot"
)

// Web chat keys: a registered conversation id (web:<id>) and its inbox of pushed
// replies (a list under the conversation's hash tag), plus one pub/sub channel that
// carries the ids of conversations with new replies to every replica.
const (
	webChatTTL  = 90 * 24 * time.Hour // a conversation unused this long is forgotten
	webInboxTTL = 7 * 24 * time.Hour  // pushed messages nobody fetched
	webInboxMax = 200                 // the newest kept when nobody fetches
)

// WebChats keeps web chat conversations and their inboxes.
type WebChats struct{ s *Store }

// WebChats returns the web chat store.
func (s *Store) WebChats() *WebChats { return &WebChats{s: s} }

func (w *WebChats) chatKey(id string) string  { return w.s.key("web", id) }
func (w *WebChats) inboxKey(id string) string { return w.s.convKey("webchat:"+id, "inbox") }
func (w *WebChats) topic() string             { return w.s.key("web", "push") }

// Register records a new conversation id.
func (w *WebChats) Register(ctx context.Context, id string) error {
	if err := w.s.rdb.Set(ctx, w.chatKey(id), 1, webChatTTL).Err(); err != nil {
		return fmt.Errorf("store: register web chat: %w", err)
	}
	return nil
}

// Known reports whether id is a registered conversation, and keeps it alive.
func (w *WebChats) Known(ctx context.Context, id string) (bool, error) {
	ok, err := w.s.rdb.Expire(ctx, w.chatKey(id), webChatTTL).Result()
	if err != nil {
		return false, fmt.Errorf("store: look up web chat: %w", err)
	}
	return ok, nil
}

// Push appends a reply to the conversation's inbox and wakes its live streams,
// wherever they are served. Only a failure to store the reply is an error: a stream
// that misses the wake-up finds the reply at its next heartbeat.
func (w *WebChats) Push(ctx context.Context, id string, r bot.Reply) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("store: encode pushed reply: %w", err)
	}
	key := w.inboxKey(id)
	_, err = w.s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.RPush(ctx, key, b)
		p.LTrim(ctx, key, -webInboxMax, -1)
		p.Expire(ctx, key, webInboxTTL)
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: push to web chat: %w", err)
	}
	w.s.rdb.Publish(ctx, w.topic(), id) // best effort, see above
	return nil
}

// Pending returns up to max replies waiting in the conversation's inbox, oldest
// first, without removing them, and how many inbox items they took (an item that
// cannot be read is skipped but counted, so Ack removes it too).
func (w *WebChats) Pending(ctx context.Context, id string, max int) ([]bot.Reply, int, error) {
	items, err := w.s.rdb.LRange(ctx, w.inboxKey(id), 0, int64(max)-1).Result()
	if err != nil {
		return nil, 0, fmt.Errorf("store: read web chat inbox: %w", err)
	}
	out := make([]bot.Reply, 0, len(items))
	for _, raw := range items {
		var r bot.Reply
		if json.Unmarshal([]byte(raw), &r) == nil {
			out = append(out, r)
		}
	}
	return out, len(items), nil
}

// Ack removes the first n items of the conversation's inbox, once they were delivered.
func (w *WebChats) Ack(ctx context.Context, id string, n int) error {
	if n == 0 {
		return nil
	}
	if err := w.s.rdb.LTrim(ctx, w.inboxKey(id), int64(n), -1).Err(); err != nil {
		return fmt.Errorf("store: acknowledge web chat inbox: %w", err)
	}
	return nil
}

// Pushes returns the ids of conversations as replies are pushed to them, from every
// replica, over one subscription for the whole process, and a function that ends it.
// The subscription is active when Pushes returns.
func (w *WebChats) Pushes(ctx context.Context) (<-chan string, func() error, error) {
	ps := w.s.rdb.Subscribe(ctx, w.topic())
	if _, err := ps.Receive(ctx); err != nil {
		ps.Close()
		return nil, nil, fmt.Errorf("store: subscribe to web chat pushes: %w", err)
	}
	ids := make(chan string, 64)
	go func() {
		defer close(ids)
		for m := range ps.Channel() {
			ids <- m.Payload
		}
	}()
	return ids, ps.Close, nil
}
