package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Telegram keeps the Telegram channel's state:
//
//   - tg:updates  the queue of received updates (a Queue: acknowledged once
//     handled, taken over from a worker that died), so an update that reached the
//     queue is handled at least once; the engine's dedupe makes that exactly once for
//     the person.
//   - tg:poller   the lease of the one process that may long-poll the Bot API.
//   - tg:opt:KEY  the full id of an option whose id does not fit in callback_data.
//   - tg:about:CHAT:MESSAGE  what a message the bot sent is about (bot.Reply.About,
//     such as a talk with staff announced in the staff group), so that a reply to it
//     can be traced back.
type Telegram struct {
	*Queue // tg:updates
	s      *Store
}

// Telegram returns the Telegram channel's store.
func (s *Store) Telegram() *Telegram {
	return &Telegram{Queue: s.queue(s.key("tg", "updates"), "telegram updates", tgQueueMax), s: s}
}

// tgQueueMax bounds the queue when no worker runs for a long time; beyond it the
// oldest entries go (Telegram itself gives up on an update after 24 h).
const tgQueueMax = 100_000

func (t *Telegram) leaseKey() string          { return t.s.key("tg", "poller") }
func (t *Telegram) optionKey(k string) string { return t.s.key("tg", "opt", k) }
func (t *Telegram) aboutKey(chat int64, message int) string {
	return t.s.key("tg", "about", strconv.FormatInt(chat, 10)+":"+strconv.Itoa(message))
}

// leaseScript takes the lease when free and renews it when owner holds it.
// KEYS: lease. ARGV: owner, ttl ms. Returns 1 when owner holds the lease.
var leaseScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v == false then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
if v == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
return 0
`)

// TakeLease makes owner the one process that may poll the Bot API for ttl, or
// renews its lease; it reports false while another owner holds it.
func (t *Telegram) TakeLease(ctx context.Context, owner string, ttl time.Duration) (bool, error) {
	n, err := leaseScript.Run(ctx, t.s.rdb, []string{t.leaseKey()}, owner, ttl.Milliseconds()).Int()
	if err != nil {
		return false, fmt.Errorf("store: take telegram poller lease: %w", err)
	}
	return n == 1, nil
}

// DropLease gives up owner's lease (nothing happens when another owner holds it).
func (t *Telegram) DropLease(ctx context.Context, owner string) error {
	if err := releaseScript.Run(ctx, t.s.rdb, []string{t.leaseKey()}, owner).Err(); err != nil {
		return fmt.Errorf("store: drop telegram poller lease: %w", err)
	}
	return nil
}

// SaveOption remembers for ttl that the short key stands for the option id.
func (t *Telegram) SaveOption(ctx context.Context, key, id string, ttl time.Duration) error {
	if err := t.s.rdb.Set(ctx, t.optionKey(key), id, ttl).Err(); err != nil {
		return fmt.Errorf("store: save telegram option key: %w", err)
	}
	return nil
}

// Option returns the option id a short key stands for, or "" when it is unknown or
// expired.
func (t *Telegram) Option(ctx context.Context, key string) (string, error) {
	id, err := t.s.rdb.Get(ctx, t.optionKey(key)).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("store: look up telegram option key: %w", err)
	}
	return id, nil
}

// SaveAbout remembers for ttl what the bot's message in chat is about.
func (t *Telegram) SaveAbout(ctx context.Context, chat int64, message int, about string, ttl time.Duration) error {
	if err := t.s.rdb.Set(ctx, t.aboutKey(chat, message), about, ttl).Err(); err != nil {
		return fmt.Errorf("store: remember what a telegram message is about: %w", err)
	}
	return nil
}

// About returns what the bot's message in chat is about, or "" when nothing was
// remembered (or it expired).
func (t *Telegram) About(ctx context.Context, chat int64, message int) (string, error) {
	about, err := t.s.rdb.Get(ctx, t.aboutKey(chat, message)).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("store: look up what a telegram message is about: %w", err)
	}
	return about, nil
}
