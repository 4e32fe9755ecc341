package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Telegram keeps the Telegram channel's state:
//
//   - tg:updates  the queue of received updates, a stream read through the consumer
//     group "workers". An entry is acknowledged and deleted only once it has been
//     handled, and an entry taken by a worker that died is claimed again by another,
//     so an update that reached the queue is handled at least once (the engine's
//     dedupe makes that exactly once for the person). The stream holds only what is
//     not yet handled, so a stream restored from a backup without its group (backups
//     do not keep groups) is simply read again from its start.
//   - tg:poller   the lease of the one process that may long-poll the Bot API.
//   - tg:opt:KEY  the full id of an option whose id does not fit in callback_data.
//   - tg:about:CHAT:MESSAGE  what a message the bot sent is about (bot.Reply.About,
//     such as a talk with staff announced in the staff group), so that a reply to it
//     can be traced back.
type Telegram struct{ s *Store }

// Telegram returns the Telegram channel's store.
func (s *Store) Telegram() *Telegram { return &Telegram{s: s} }

const (
	tgGroup = "workers"
	// tgQueueMax bounds the queue when no worker runs for a long time; beyond it the
	// oldest entries go (Telegram itself gives up on an update after 24 h).
	tgQueueMax = 100_000
	tgField    = "u"
)

func (t *Telegram) queueKey() string          { return t.s.key("tg", "updates") }
func (t *Telegram) leaseKey() string          { return t.s.key("tg", "poller") }
func (t *Telegram) optionKey(k string) string { return t.s.key("tg", "opt", k) }
func (t *Telegram) aboutKey(chat int64, message int) string {
	return t.s.key("tg", "about", strconv.FormatInt(chat, 10)+":"+strconv.Itoa(message))
}

// Enqueue appends one raw update to the queue. When it returns nil the update is in
// Redis and survives this process.
func (t *Telegram) Enqueue(ctx context.Context, raw []byte) error {
	err := t.s.rdb.XAdd(ctx, &redis.XAddArgs{
		Stream: t.queueKey(), MaxLen: tgQueueMax, Approx: true, Values: []any{tgField, raw},
	}).Err()
	if err != nil {
		return fmt.Errorf("store: queue telegram update: %w", err)
	}
	return nil
}

// Read returns up to count queued updates that no worker has taken yet, and gives
// them to consumer; it waits up to block (at least 1 ms) when there are none. ids[i]
// is the queue id of raws[i], for Ack.
func (t *Telegram) Read(ctx context.Context, consumer string, count int, block time.Duration) (ids []string, raws [][]byte, err error) {
	block = max(block, time.Millisecond)
	for range 2 {
		var streams []redis.XStream
		streams, err = t.s.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{
			Group: tgGroup, Consumer: consumer, Streams: []string{t.queueKey(), ">"},
			Count: int64(count), Block: block,
		}).Result()
		if errors.Is(err, redis.Nil) {
			return nil, nil, nil
		}
		if isNoGroup(err) {
			if err = t.createGroup(ctx); err != nil {
				return nil, nil, err
			}
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("store: read telegram queue: %w", err)
		}
		for _, s := range streams {
			ids, raws = appendMessages(ids, raws, s.Messages)
		}
		return ids, raws, nil
	}
	return nil, nil, fmt.Errorf("store: read telegram queue: %w", err)
}

// Reclaim gives consumer up to count updates that another worker took more than
// minIdle ago without acknowledging them (it crashed or lost Redis), oldest first.
func (t *Telegram) Reclaim(ctx context.Context, consumer string, count int, minIdle time.Duration) (ids []string, raws [][]byte, err error) {
	for range 2 {
		var msgs []redis.XMessage
		msgs, _, err = t.s.rdb.XAutoClaim(ctx, &redis.XAutoClaimArgs{
			Stream: t.queueKey(), Group: tgGroup, Consumer: consumer,
			MinIdle: minIdle, Start: "0-0", Count: int64(count),
		}).Result()
		if isNoGroup(err) {
			if err = t.createGroup(ctx); err != nil {
				return nil, nil, err
			}
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("store: reclaim telegram updates: %w", err)
		}
		ids, raws = appendMessages(ids, raws, msgs)
		return ids, raws, nil
	}
	return nil, nil, fmt.Errorf("store: reclaim telegram updates: %w", err)
}

// Ack marks queued updates as handled and deletes them.
func (t *Telegram) Ack(ctx context.Context, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := t.s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.XAck(ctx, t.queueKey(), tgGroup, ids...)
		p.XDel(ctx, t.queueKey(), ids...)
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: acknowledge telegram updates: %w", err)
	}
	return nil
}

// Queued returns how many updates wait in the queue, taken or not (for tests and
// health checks).
func (t *Telegram) Queued(ctx context.Context) (int64, error) {
	n, err := t.s.rdb.XLen(ctx, t.queueKey()).Result()
	if err != nil {
		return 0, fmt.Errorf("store: count telegram queue: %w", err)
	}
	return n, nil
}

func (t *Telegram) createGroup(ctx context.Context) error {
	// From the start of the stream: the stream only holds updates not yet handled.
	err := t.s.rdb.XGroupCreateMkStream(ctx, t.queueKey(), tgGroup, "0").Err()
	if err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
		return fmt.Errorf("store: create telegram queue group: %w", err)
	}
	return nil
}

func isNoGroup(err error) bool { return err != nil && strings.HasPrefix(err.Error(), "NOGROUP") }

func appendMessages(ids []string, raws [][]byte, msgs []redis.XMessage) ([]string, [][]byte) {
	for _, m := range msgs {
		raw, _ := m.Values[tgField].(string)
		ids = append(ids, m.ID)
		raws = append(raws, []byte(raw))
	}
	return ids, raws
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
