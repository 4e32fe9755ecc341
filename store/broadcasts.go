package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/layan-id/layan/domain"
)

// Broadcasts keeps subscribers, broadcasts and their runs. All its keys share one
// hash tag ({bc}), so a run's recipients are taken from the topic sets in one step,
// also on Redis Cluster.
//
// Subscribers: {bc}:r:<key> (a recipient: channel, chat, language), {bc}:t:<topic>
// (the keys subscribed to a topic), {bc}:m:<key> (a key's topics).
// Broadcasts: {bc}:b:<id> (JSON), {bc}:all (ids by creation). Runs: {bc}:fired:<run>
// (claimed once across replicas), {bc}:run:<run> (state and counters),
// {bc}:runs:<id> (a broadcast's runs by time), {bc}:rcpt:<run> (recipients not yet
// taken), {bc}:d:<run> (each taken recipient's fate: inflight, sent, failed, skipped),
// {bc}:active (runs being delivered). A run id is <broadcast id>:<unix seconds>.
type Broadcasts struct{ s *Store }

// Broadcasts returns the broadcast store.
func (s *Store) Broadcasts() *Broadcasts { return &Broadcasts{s: s} }

func (b *Broadcasts) key(parts ...string) string {
	return b.s.prefix + "{bc}:" + strings.Join(parts, ":")
}

// --- subscribers ---

// Subscribe adds a recipient to a topic (and remembers where and in which language to
// reach them).
func (b *Broadcasts) Subscribe(ctx context.Context, r domain.Recipient, topic string) error {
	_, err := b.s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, b.key("r", r.Key), "channel", r.Channel, "chat", r.ChatID, "lang", r.Lang)
		p.SAdd(ctx, b.key("t", topic), r.Key)
		p.SAdd(ctx, b.key("m", r.Key), topic)
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: subscribe: %w", err)
	}
	return nil
}

// SubscribeMany adds many recipients to a topic, a thousand per round trip (imports,
// benchmarks).
func (b *Broadcasts) SubscribeMany(ctx context.Context, rs []domain.Recipient, topic string) error {
	for len(rs) > 0 {
		chunk := rs[:min(1000, len(rs))]
		rs = rs[len(chunk):]
		_, err := b.s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, r := range chunk {
				p.HSet(ctx, b.key("r", r.Key), "channel", r.Channel, "chat", r.ChatID, "lang", r.Lang)
				p.SAdd(ctx, b.key("t", topic), r.Key)
				p.SAdd(ctx, b.key("m", r.Key), topic)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("store: subscribe many: %w", err)
		}
	}
	return nil
}

// Unsubscribe removes a key from one topic.
func (b *Broadcasts) Unsubscribe(ctx context.Context, key, topic string) error {
	_, err := b.s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.SRem(ctx, b.key("t", topic), key)
		p.SRem(ctx, b.key("m", key), topic)
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: unsubscribe: %w", err)
	}
	return nil
}

// UnsubscribeAll removes a key from every topic and forgets the recipient.
func (b *Broadcasts) UnsubscribeAll(ctx context.Context, key string) error {
	topics, err := b.Topics(ctx, key)
	if err != nil {
		return err
	}
	_, err = b.s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for _, t := range topics {
			p.SRem(ctx, b.key("t", t), key)
		}
		p.Del(ctx, b.key("m", key), b.key("r", key), b.key("tips", key))
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: unsubscribe from everything: %w", err)
	}
	return nil
}

// Topics returns the topics a key is subscribed to.
func (b *Broadcasts) Topics(ctx context.Context, key string) ([]string, error) {
	ts, err := b.s.rdb.SMembers(ctx, b.key("m", key)).Result()
	if err != nil {
		return nil, fmt.Errorf("store: read subscriptions: %w", err)
	}
	return ts, nil
}

// SetLanguage records the language a subscriber reads (when they change it).
func (b *Broadcasts) SetLanguage(ctx context.Context, key, lang string) error {
	n, err := b.s.rdb.Exists(ctx, b.key("r", key)).Result()
	if err != nil || n == 0 {
		return err
	}
	return b.s.rdb.HSet(ctx, b.key("r", key), "lang", lang).Err()
}

// Recipient returns where to reach a key, or ErrNotFound when it unsubscribed.
func (b *Broadcasts) Recipient(ctx context.Context, key string) (domain.Recipient, error) {
	h, err := b.s.rdb.HGetAll(ctx, b.key("r", key)).Result()
	if err != nil {
		return domain.Recipient{}, fmt.Errorf("store: read recipient: %w", err)
	}
	if len(h) == 0 {
		return domain.Recipient{}, ErrNotFound
	}
	return domain.Recipient{Key: key, Channel: h["channel"], ChatID: h["chat"], Lang: h["lang"]}, nil
}

// --- broadcasts ---

// Create stores a new broadcast and returns its id.
func (b *Broadcasts) Create(ctx context.Context, bc *domain.Broadcast) (string, error) {
	n, err := b.s.rdb.Incr(ctx, b.key("seq")).Result()
	if err != nil {
		return "", fmt.Errorf("store: number broadcast: %w", err)
	}
	bc.ID = fmt.Sprintf("S%d", n) // short: staff type it
	raw, err := json.Marshal(bc)
	if err != nil {
		return "", fmt.Errorf("store: encode broadcast: %w", err)
	}
	_, err = b.s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, b.key("b", bc.ID), raw, 0)
		p.ZAdd(ctx, b.key("all"), redis.Z{Score: float64(bc.CreatedAt.UnixMilli()), Member: bc.ID})
		b.index(ctx, p, bc)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("store: create broadcast: %w", err)
	}
	return bc.ID, nil
}

// Ensure stores a broadcast with a fixed id (the service's own, such as the tip of the
// day): created with its index when missing, else its schedule and topics are brought
// up to date, keeping its state and last run.
func (b *Broadcasts) Ensure(ctx context.Context, bc *domain.Broadcast) error {
	_, err := b.Update(ctx, bc.ID, func(cur *domain.Broadcast) error {
		cur.Cron, cur.Topics, cur.Kind, cur.Text = bc.Cron, bc.Topics, bc.Kind, bc.Text
		return nil
	})
	if !errors.Is(err, ErrNotFound) {
		return err
	}
	raw, err := json.Marshal(bc)
	if err != nil {
		return fmt.Errorf("store: encode broadcast: %w", err)
	}
	_, err = b.s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.SetNX(ctx, b.key("b", bc.ID), raw, 0)
		p.ZAdd(ctx, b.key("all"), redis.Z{Score: float64(bc.CreatedAt.UnixMilli()), Member: bc.ID})
		b.index(ctx, p, bc)
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: ensure broadcast %s: %w", bc.ID, err)
	}
	return nil
}

// TipsHad returns the indexes of the tips a subscriber had, as often as each was had.
func (b *Broadcasts) TipsHad(ctx context.Context, key string) ([]int, error) {
	raw, err := b.s.rdb.LRange(ctx, b.key("tips", key), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("store: read tips had: %w", err)
	}
	out := make([]int, 0, len(raw))
	for _, r := range raw {
		if n, err := strconv.Atoi(r); err == nil {
			out = append(out, n)
		}
	}
	return out, nil
}

// TipHad records that a subscriber had a tip.
func (b *Broadcasts) TipHad(ctx context.Context, key string, index int) error {
	if err := b.s.rdb.RPush(ctx, b.key("tips", key), index).Err(); err != nil {
		return fmt.Errorf("store: record tip: %w", err)
	}
	return nil
}

// Get returns a broadcast, or ErrNotFound.
func (b *Broadcasts) Get(ctx context.Context, id string) (*domain.Broadcast, error) {
	raw, err := b.s.rdb.Get(ctx, b.key("b", id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("broadcast %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: read broadcast: %w", err)
	}
	var bc domain.Broadcast
	if err := json.Unmarshal(raw, &bc); err != nil {
		return nil, fmt.Errorf("store: decode broadcast %s: %w", id, err)
	}
	return &bc, nil
}

// List returns every broadcast, newest first.
func (b *Broadcasts) List(ctx context.Context) ([]*domain.Broadcast, error) {
	ids, err := b.s.rdb.ZRevRange(ctx, b.key("all"), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("store: list broadcasts: %w", err)
	}
	return b.getMany(ctx, ids)
}

// Live returns the broadcasts that may still run (active or paused), from their index:
// the scheduler reads these every few seconds, not every broadcast ever made.
func (b *Broadcasts) Live(ctx context.Context) ([]*domain.Broadcast, error) {
	if err := b.indexOnce(ctx); err != nil {
		return nil, err
	}
	ids, err := b.s.rdb.SMembers(ctx, b.key("live")).Result()
	if err != nil {
		return nil, fmt.Errorf("store: list live broadcasts: %w", err)
	}
	slices.Sort(ids)
	return b.getMany(ctx, ids)
}

// liveIndexVersion marks that the live index was built from every broadcast (data
// written before the index existed has none).
const liveIndexVersion = "live:v1"

// indexOnce builds the live index from every broadcast, once per store.
func (b *Broadcasts) indexOnce(ctx context.Context) error {
	n, err := b.s.rdb.Exists(ctx, b.key(liveIndexVersion)).Result()
	if err != nil || n == 1 {
		return err
	}
	all, err := b.List(ctx)
	if err != nil {
		return err
	}
	_, err = b.s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for _, bc := range all {
			b.index(ctx, p, bc)
		}
		p.Set(ctx, b.key(liveIndexVersion), 1, 0)
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: index live broadcasts: %w", err)
	}
	return nil
}

// index files bc in or out of the live index.
func (b *Broadcasts) index(ctx context.Context, p redis.Pipeliner, bc *domain.Broadcast) {
	if bc.State == domain.BroadcastActive || bc.State == domain.BroadcastPaused || bc.State == "" {
		p.SAdd(ctx, b.key("live"), bc.ID)
	} else {
		p.SRem(ctx, b.key("live"), bc.ID)
	}
}

// getMany reads broadcasts by id, in that order, a few hundred per round trip; ids
// whose broadcast is gone are skipped.
func (b *Broadcasts) getMany(ctx context.Context, ids []string) ([]*domain.Broadcast, error) {
	out := make([]*domain.Broadcast, 0, len(ids))
	for chunk := range slices.Chunk(ids, 200) {
		keys := make([]string, len(chunk))
		for i, id := range chunk {
			keys[i] = b.key("b", id)
		}
		raws, err := b.s.rdb.MGet(ctx, keys...).Result() // one hash tag: fine on a cluster
		if err != nil {
			return nil, fmt.Errorf("store: read broadcasts: %w", err)
		}
		for i, raw := range raws {
			str, ok := raw.(string)
			if !ok {
				continue
			}
			var bc domain.Broadcast
			if err := json.Unmarshal([]byte(str), &bc); err != nil {
				return nil, fmt.Errorf("store: decode broadcast %s: %w", chunk[i], err)
			}
			out = append(out, &bc)
		}
	}
	return out, nil
}

// Update changes a broadcast with f, atomically (optimistic, retried on conflict).
func (b *Broadcasts) Update(ctx context.Context, id string, f func(*domain.Broadcast) error) (*domain.Broadcast, error) {
	return updateJSON(ctx, b.s.rdb, b.key("b", id), "broadcast "+id, f, func(p redis.Pipeliner, _, bc *domain.Broadcast) {
		b.index(ctx, p, bc)
	})
}

// --- runs ---

// startScript claims a run once across replicas and takes its recipients from the
// topic sets in the same step. KEYS: fired, run, rcpt, runs, active, topic sets...
// ARGV: run id, fire unix, now ms, state, fired ttl ms.
var startScript = redis.NewScript(`
if not redis.call('SET', KEYS[1], 1, 'NX', 'PX', ARGV[5]) then return 0 end
local n = 0
if ARGV[4] == 'delivering' and #KEYS > 5 then
  n = redis.call('SUNIONSTORE', KEYS[3], unpack(KEYS, 6))
end
redis.call('HSET', KEYS[2], 'state', ARGV[4], 'recipients', n, 'started', ARGV[3])
redis.call('ZADD', KEYS[4], ARGV[2], ARGV[1])
if ARGV[4] == 'delivering' then redis.call('SADD', KEYS[5], ARGV[1]) end
return 1
`)

// StartRun claims the run of a broadcast at fire, once across every replica, and
// takes its recipients: the subscribers of its topics at this moment. A run recorded as
// missed (the service was down too long) takes nobody. It reports whether this call
// claimed the run.
func (b *Broadcasts) StartRun(ctx context.Context, bc *domain.Broadcast, fire time.Time, state domain.RunState, now time.Time) (bool, error) {
	run := domain.RunID(bc.ID, fire)
	keys := []string{b.key("fired", run), b.key("run", run), b.key("rcpt", run), b.key("runs", bc.ID), b.key("active")}
	for _, t := range bc.Topics {
		keys = append(keys, b.key("t", t))
	}
	ok, err := startScript.Run(ctx, b.s.rdb, keys, run, fire.Unix(), now.UnixMilli(), string(state),
		(30 * 24 * time.Hour).Milliseconds()).Int()
	if err != nil {
		return false, fmt.Errorf("store: start run %s: %w", run, err)
	}
	return ok == 1, nil
}

// takeScript takes up to n recipients of a run and marks each in flight in the same
// step: a recipient is taken once, by one worker, ever. The in-flight ones are also
// indexed by when they were taken, so closing a run need not read every recipient.
// KEYS: rcpt, d, inflight. ARGV: now ms, n.
var takeScript = redis.NewScript(`
local out = {}
for i = 1, tonumber(ARGV[2]) do
  local m = redis.call('SPOP', KEYS[1])
  if not m then break end
  if redis.call('HSETNX', KEYS[2], m, 'inflight:' .. ARGV[1]) == 1 then
    redis.call('ZADD', KEYS[3], ARGV[1], m)
    out[#out + 1] = m
  end
end
return out
`)

// Take takes up to n recipients of a run to deliver to; none when all were taken.
func (b *Broadcasts) Take(ctx context.Context, run string, n int, now time.Time) ([]string, error) {
	res, err := takeScript.Run(ctx, b.s.rdb, []string{b.key("rcpt", run), b.key("d", run), b.key("inflight", run)}, now.UnixMilli(), n).StringSlice()
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("store: take recipients of %s: %w", run, err)
	}
	return res, nil
}

// Done records what became of one taken recipient.
func (b *Broadcasts) Done(ctx context.Context, run, key string, o domain.Delivery, reason string) error {
	value := string(o)
	if reason != "" {
		value += ":" + reason
	}
	_, err := b.s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, b.key("d", run), key, value)
		p.ZRem(ctx, b.key("inflight", run), key)
		p.HIncrBy(ctx, b.key("run", run), string(o), 1)
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: record delivery: %w", err)
	}
	return nil
}

// giveBackScript returns a recipient that was taken but not sent to (the process is
// stopping, or cannot reach the recipient's channel) to the run, for another worker.
// KEYS: rcpt, d, inflight. ARGV: key.
var giveBackScript = redis.NewScript(`
local fate = redis.call('HGET', KEYS[2], ARGV[1])
if fate and string.sub(fate, 1, 9) == 'inflight:' then
  redis.call('HDEL', KEYS[2], ARGV[1])
  redis.call('ZREM', KEYS[3], ARGV[1])
  redis.call('SADD', KEYS[1], ARGV[1])
  return 1
end
return 0
`)

// GiveBack returns a taken recipient to the run when nothing was sent to them.
func (b *Broadcasts) GiveBack(ctx context.Context, run, key string) error {
	if err := giveBackScript.Run(ctx, b.s.rdb, []string{b.key("rcpt", run), b.key("d", run), b.key("inflight", run)}, key).Err(); err != nil {
		return fmt.Errorf("store: give back a recipient of %s: %w", run, err)
	}
	return nil
}

// ActiveRuns returns the runs being delivered.
func (b *Broadcasts) ActiveRuns(ctx context.Context) ([]string, error) {
	runs, err := b.s.rdb.SMembers(ctx, b.key("active")).Result()
	if err != nil {
		return nil, fmt.Errorf("store: read active runs: %w", err)
	}
	return runs, nil
}

// Finish closes a run whose recipients were all taken, once no delivery of it has
// been in flight for stale (a worker that took one and died will never report it:
// those count as unknown). It reports whether the run is now closed.
func (b *Broadcasts) Finish(ctx context.Context, run string, state domain.RunState, stale time.Duration, now time.Time) (bool, error) {
	if state != domain.RunCancelled {
		left, err := b.s.rdb.SCard(ctx, b.key("rcpt", run)).Result()
		if err != nil || left > 0 {
			return false, err
		}
	}
	// Deliveries in flight, oldest first: a run is closed once none was taken less
	// than stale ago; those older never reported back and count as unknown. Two reads
	// of the index, whatever the run's size.
	inflight := b.key("inflight", run)
	var total, old *redis.IntCmd
	if _, err := b.s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		total = p.ZCard(ctx, inflight)
		old = p.ZCount(ctx, inflight, "-inf", "("+strconv.FormatInt(now.Add(-stale).UnixMilli()+1, 10))
		return nil
	}); err != nil {
		return false, fmt.Errorf("store: read deliveries in flight of %s: %w", run, err)
	}
	if total.Val() > old.Val() {
		return false, nil // still being delivered
	}
	unknown := old.Val()
	if state == domain.RunCancelled {
		// Everyone not yet taken is skipped, counted and removed in one step.
		if err := skipRestScript.Run(ctx, b.s.rdb, []string{b.key("rcpt", run), b.key("run", run)}).Err(); err != nil {
			return false, fmt.Errorf("store: cancel run %s: %w", run, err)
		}
	}
	_, err := b.s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, b.key("run", run), "state", string(state), "unknown", unknown, "finished", now.UnixMilli())
		p.SRem(ctx, b.key("active"), run)
		// Who got what is kept a month, for questions; the counters stay.
		p.PExpire(ctx, b.key("d", run), runDetailTTL)
		p.PExpire(ctx, b.key("rcpt", run), runDetailTTL)
		p.Del(ctx, inflight)
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("store: finish run %s: %w", run, err)
	}
	return true, nil
}

// skipRestScript counts the recipients a cancelled run never took as skipped and
// removes them. KEYS: rcpt, run.
var skipRestScript = redis.NewScript(`
local n = redis.call('SCARD', KEYS[1])
redis.call('HINCRBY', KEYS[2], 'skipped', n)
redis.call('DEL', KEYS[1])
return n
`)

// runDetailTTL is how long a closed run keeps each recipient's fate.
const runDetailTTL = 30 * 24 * time.Hour

// Runs returns a broadcast's runs, newest first, at most max.
func (b *Broadcasts) Runs(ctx context.Context, broadcast string, max int) ([]domain.Run, error) {
	ids, err := b.s.rdb.ZRevRange(ctx, b.key("runs", broadcast), 0, int64(max)-1).Result()
	if err != nil {
		return nil, fmt.Errorf("store: list runs: %w", err)
	}
	out := make([]domain.Run, 0, len(ids))
	for _, id := range ids {
		r, err := b.Run(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// Run returns one run with its counters.
func (b *Broadcasts) Run(ctx context.Context, run string) (domain.Run, error) {
	h, err := b.s.rdb.HGetAll(ctx, b.key("run", run)).Result()
	if err != nil {
		return domain.Run{}, fmt.Errorf("store: read run %s: %w", run, err)
	}
	if len(h) == 0 {
		return domain.Run{}, fmt.Errorf("run %s: %w", run, ErrNotFound)
	}
	num := func(k string) int64 { n, _ := strconv.ParseInt(h[k], 10, 64); return n }
	at := func(k string) time.Time {
		if n := num(k); n > 0 {
			return time.UnixMilli(n)
		}
		return time.Time{}
	}
	id, fire, _ := domain.ParseRunID(run)
	r := domain.Run{Broadcast: id, Fire: fire, State: domain.RunState(h["state"]),
		Recipients: num("recipients"), Sent: num("sent"), Failed: num("failed"), Skipped: num("skipped"),
		Unknown: num("unknown"), Started: at("started"), Finished: at("finished")}
	if r.State == domain.RunDelivering {
		r.Pending, _ = b.s.rdb.SCard(ctx, b.key("rcpt", run)).Result()
	}
	return r, nil
}

// Fate returns what became of each taken recipient of a run (inflight:…, sent,
// failed:reason, skipped), for tests and staff tools.
func (b *Broadcasts) Fate(ctx context.Context, run string) (map[string]string, error) {
	return b.s.rdb.HGetAll(ctx, b.key("d", run)).Result()
}
