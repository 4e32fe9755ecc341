package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Queue is the store's one reliable queue: at least once, with acknowledgement. It is
// a Redis stream read through the consumer group "workers":
//
//   - Enqueue appends an entry; once it returns nil the entry survives this process.
//   - Read hands each entry to one consumer only; the entry stays in the stream,
//     pending for that consumer, until it is acknowledged.
//   - Ack deletes finished entries.
//   - Reclaim hands a consumer the entries another consumer took more than minIdle
//     ago and never acknowledged: a replica that died between taking an entry and
//     finishing it (or lost Redis meanwhile) loses nothing; another finishes it.
//
// So every entry is finished at least once; whoever finishes it must make a repeat
// harmless (the engine's dedupe, a delivery that checks). The stream holds only what
// is not yet finished, so a stream restored from a backup without its group (backups
// do not keep groups), or replayed by the embedded store (consumer-group reads run
// beside the journal there), is simply read again from its start: at least once
// still. Each queue is one key, so it lives in one slot of a Redis Cluster.
//
// The Telegram webhook's updates, the Cloud API webhook's payloads and the outbox
// (news for the replica that can send on a channel) are queues.
type Queue struct {
	s    *Store
	key  string
	what string // what the entries are, for errors: "telegram updates"
	max  int64  // beyond about this many entries the oldest go; 0: no bound
	// fromList: the key may still hold a list of entries, as an older version wrote
	// it; the first command that meets it turns it into the stream, in order.
	fromList bool
}

const (
	queueGroup = "workers"
	queueField = "u"
)

func (s *Store) queue(key, what string, max int64) *Queue {
	return &Queue{s: s, key: key, what: what, max: max}
}

// Enqueue appends one entry. When it returns nil the entry is in Redis.
func (q *Queue) Enqueue(ctx context.Context, raw []byte) error {
	args := make([]any, 0, 8)
	args = append(args, "xadd", q.key)
	if q.max > 0 {
		args = append(args, "maxlen", "~", q.max)
	}
	args = append(args, "*", queueField, raw)
	// In a pipeline with the entries that other requests add at the same moment.
	if err := q.do(ctx, func() error { return q.s.batch.do(ctx, redis.NewStringCmd(ctx, args...)) }); err != nil {
		return fmt.Errorf("store: queue %s: %w", q.what, err)
	}
	return nil
}

// Read returns up to count entries that no consumer has taken yet, and gives them to
// consumer; it waits up to block (at least 1 ms) when there are none. ids[i] is the
// id of raws[i], for Ack.
func (q *Queue) Read(ctx context.Context, consumer string, count int, block time.Duration) (ids []string, raws [][]byte, err error) {
	block = max(block, time.Millisecond)
	err = q.withGroup(ctx, func() error {
		streams, err := q.s.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{
			Group: queueGroup, Consumer: consumer, Streams: []string{q.key, ">"},
			Count: int64(count), Block: block,
		}).Result()
		if errors.Is(err, redis.Nil) {
			return nil
		}
		for _, s := range streams {
			ids, raws = appendMessages(ids, raws, s.Messages)
		}
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("store: read %s: %w", q.what, err)
	}
	return ids, raws, nil
}

// Reclaim gives consumer up to count entries that another consumer took more than
// minIdle ago without acknowledging them, oldest first.
func (q *Queue) Reclaim(ctx context.Context, consumer string, count int, minIdle time.Duration) (ids []string, raws [][]byte, err error) {
	err = q.withGroup(ctx, func() error {
		msgs, _, err := q.s.rdb.XAutoClaim(ctx, &redis.XAutoClaimArgs{
			Stream: q.key, Group: queueGroup, Consumer: consumer,
			MinIdle: minIdle, Start: "0-0", Count: int64(count),
		}).Result()
		ids, raws = appendMessages(ids, raws, msgs)
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("store: take over %s: %w", q.what, err)
	}
	return ids, raws, nil
}

// Ack marks entries as finished and deletes them.
func (q *Queue) Ack(ctx context.Context, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	for chunk := range slices.Chunk(ids, 1000) { // unpack in Lua takes a few thousand at most
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		// In a pipeline with what other workers acknowledge at the same moment.
		if err := q.s.batch.run(ctx, ackScript, []string{q.key}, args...).Err(); err != nil {
			return fmt.Errorf("store: acknowledge %s: %w", q.what, err)
		}
	}
	return nil
}

// ackScript acknowledges entries and deletes them, in one step. KEYS: the queue.
// ARGV: the entries' ids. A missing group (a stream restored or replayed without it)
// does not keep the entries from being deleted.
var ackScript = redis.NewScript(`
redis.pcall('XACK', KEYS[1], '` + queueGroup + `', unpack(ARGV))
return redis.call('XDEL', KEYS[1], unpack(ARGV))
`)

// Queued returns how many entries wait in the queue, taken or not.
func (q *Queue) Queued(ctx context.Context) (int64, error) {
	var n int64
	err := q.do(ctx, func() (err error) { n, err = q.s.rdb.XLen(ctx, q.key).Result(); return err })
	if err != nil {
		return 0, fmt.Errorf("store: count %s: %w", q.what, err)
	}
	return n, nil
}

// do runs f, and once more after turning an older version's list into the stream
// when f found one.
func (q *Queue) do(ctx context.Context, f func() error) error {
	err := f()
	if !q.fromList || err == nil || !strings.HasPrefix(err.Error(), "WRONGTYPE") {
		return err
	}
	if err := fromListScript.Run(ctx, q.s.rdb, []string{q.key}, queueField).Err(); err != nil {
		return fmt.Errorf("turn the list into a stream: %w", err)
	}
	return f()
}

// fromListScript turns a list of entries into a stream of them, in order, in one
// step. KEYS: the queue. ARGV: the field. Returns how many entries it moved.
var fromListScript = redis.NewScript(`
if redis.call('TYPE', KEYS[1]).ok ~= 'list' then return 0 end
local items = redis.call('LRANGE', KEYS[1], 0, -1)
redis.call('DEL', KEYS[1])
for _, v in ipairs(items) do redis.call('XADD', KEYS[1], '*', ARGV[1], v) end
return #items
`)

// withGroup runs f, and once more after creating the consumer group when f found
// none (a new queue, or one restored from a backup).
func (q *Queue) withGroup(ctx context.Context, f func() error) error {
	err := q.do(ctx, f)
	if !isNoGroup(err) {
		return err
	}
	// From the start of the stream: it only holds entries not yet finished.
	if err := q.s.rdb.XGroupCreateMkStream(ctx, q.key, queueGroup, "0").Err(); err != nil && !isBusyGroup(err) {
		return fmt.Errorf("create the consumer group: %w", err)
	}
	return f()
}

func isNoGroup(err error) bool   { return err != nil && strings.HasPrefix(err.Error(), "NOGROUP") }
func isBusyGroup(err error) bool { return err != nil && strings.HasPrefix(err.Error(), "BUSYGROUP") }

func appendMessages(ids []string, raws [][]byte, msgs []redis.XMessage) ([]string, [][]byte) {
	for _, m := range msgs {
		raw, _ := m.Values[queueField].(string)
		ids = append(ids, m.ID)
		raws = append(raws, []byte(raw))
	}
	return ids, raws
}

// News returns the queue of complaint news waiting to be told to reporters (news).
func (s *Store) News() *Queue { return s.queue(s.key("news"), "complaint news", 100_000) }
