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
// replies (a list under the conversation's hash tag), plus a pub/sub channel that
// wakes the live stream of whichever replica serves the page.
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
func (w *WebChats) topic(id string) string    { return w.s.key("web", "push", id) }

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

// Push appends a reply to the conversation's inbox and wakes its live stream.
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
	if err := w.s.rdb.Publish(ctx, w.topic(id), "1").Err(); err != nil {
		return fmt.Errorf("store: wake web chat: %w", err)
	}
	return nil
}

// Drain removes and returns everything in the conversation's inbox, oldest first.
func (w *WebChats) Drain(ctx context.Context, id string) ([]bot.Reply, error) {
	key := w.inboxKey(id)
	var items *redis.StringSliceCmd
	_, err := w.s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		items = p.LRange(ctx, key, 0, -1)
		p.Del(ctx, key)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: drain web chat: %w", err)
	}
	out := make([]bot.Reply, 0, len(items.Val()))
	for _, raw := range items.Val() {
		var r bot.Reply
		if err := json.Unmarshal([]byte(raw), &r); err != nil {
			return nil, fmt.Errorf("store: decode pushed reply: %w", err)
		}
		out = append(out, r)
	}
	return out, nil
}

// Subscribe returns a channel that receives a signal whenever something is pushed to
// the conversation (several pushes may fold into one signal), and a function that
// ends the subscription. The subscription is active when Subscribe returns, so a
// Drain after it misses nothing.
func (w *WebChats) Subscribe(ctx context.Context, id string) (<-chan struct{}, func() error, error) {
	ps := w.s.rdb.Subscribe(ctx, w.topic(id))
	if _, err := ps.Receive(ctx); err != nil {
		ps.Close()
		return nil, nil, fmt.Errorf("store: subscribe to web chat: %w", err)
	}
	wake := make(chan struct{}, 1)
	go func() {
		defer close(wake)
		for range ps.Channel() {
			select {
			case wake <- struct{}{}:
			default:
			}
		}
	}()
	return wake, ps.Close, nil
}
