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

// Broadcasts keeps subscribers, broadcasts and their runs. Subscribers, broadcasts and
// the index of runs share one hash tag ({bc}), so a run's recipients are chosen from
// the topic sets in one step, also on Redis Cluster; each run's delivery keys have a
// hash tag of their own ({bc:<run>}), so the work of delivering, a few commands per
// recipient, spreads over a cluster's masters run by run.
//
// Subscribers: {bc}:r:<key> (a recipient: channel, chat, language), {bc}:t:<topic>
// (the keys subscribed to a topic), {bc}:m:<key> (a key's topics).
// Broadcasts: {bc}:b:<id> (JSON), {bc}:all (ids by creation). Runs: {bc}:fired:<run>
// (claimed once across replicas), {bc}:runs:<id> (a broadcast's runs by time),
// {bc}:active (runs being delivered), {bc}:stage:<run> (the recipients chosen at the
// claim, until they are copied to the run). Each run: {bc:<run>}:run (state and
// counters), {bc:<run>}:rcpt (recipients not yet taken), {bc:<run>}:d (each taken
// recipient's fate: inflight, sent, failed, skipped), {bc:<run>}:inflight (the
// deliveries in flight by when their lease was last renewed). Runs that an earlier
// version started keep their keys under {bc} ({bc}:run:<run>, {bc}:rcpt:<run>, …) and
// are read and delivered there (see keysOf). A run id is <broadcast id>:<unix seconds>.
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
// day): created with its index when missing, else its topics and its schedule (unless
// staff changed it: domain.Broadcast.RescheduledBy) are brought up to date, keeping its
// state and last run.
func (b *Broadcasts) Ensure(ctx context.Context, bc *domain.Broadcast) error {
	_, err := b.Update(ctx, bc.ID, func(cur *domain.Broadcast) error {
		cur.Topics, cur.Kind, cur.Text = bc.Topics, bc.Kind, bc.Text
		if cur.RescheduledBy == "" { // staff's own schedule outlives the configured one
			cur.Cron = bc.Cron
		}
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

// startScript claims a run once across replicas and, in the same step, stages its
// recipients (SUNIONSTORE of the topic sets: the subscribers at this moment) in the
// broadcasts' slot, from where fill copies them to the run's own keys.
// KEYS: fired, runs, active, stage, topic sets... ARGV: run id, fire unix, state,
// fired ttl ms. Returns -1 when the run was claimed before, else the number staged.
var startScript = redis.NewScript(`
if not redis.call('SET', KEYS[1], 1, 'NX', 'PX', ARGV[4]) then return -1 end
local n = 0
if ARGV[3] == 'delivering' and #KEYS > 4 then
  n = redis.call('SUNIONSTORE', KEYS[4], unpack(KEYS, 5))
end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
if ARGV[3] == 'delivering' then redis.call('SADD', KEYS[3], ARGV[1]) end
return n
`)

// initRunScript writes a run's record when it has none yet: a run to deliver starts
// "filling" (its recipients being copied from the stage). KEYS: run. ARGV: state,
// started ms, guarantee. Returns the run's state.
var initRunScript = redis.NewScript(`
local st = redis.call('HGET', KEYS[1], 'state')
if st then return st end
if ARGV[1] == 'delivering' then st = 'filling' else st = ARGV[1] end
redis.call('HSET', KEYS[1], 'state', st, 'recipients', 0, 'started', ARGV[2], 'guarantee', ARGV[3])
return st
`)

// fillScript copies staged recipients to a run still filling, leaving out any already
// taken. KEYS: rcpt, d, run. ARGV: members. Returns 0 once the run no longer fills.
var fillScript = redis.NewScript(`
if redis.call('HGET', KEYS[3], 'state') ~= 'filling' then return 0 end
for _, m in ipairs(ARGV) do
  if redis.call('HEXISTS', KEYS[2], m) == 0 then redis.call('SADD', KEYS[1], m) end
end
return 1
`)

// filledScript ends a run's filling: it is delivering from now on, to as many as were
// copied. KEYS: run, rcpt.
var filledScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'state') == 'filling' then
  redis.call('HSET', KEYS[1], 'state', 'delivering', 'recipients', redis.call('SCARD', KEYS[2]))
end
return 1
`)

// runState is the state of a run whose recipients are still being copied.
const runFilling = "filling"

// StartRun claims the run of a broadcast at fire, once across every replica, and
// takes its recipients: the subscribers of its topics at this moment. A run recorded as
// missed (the service was down too long) takes nobody. g is what the run promises a
// recipient whose delivery a dying process cut off. It reports whether this call
// claimed the run.
//
// The claim and the choice of recipients are one step in the broadcasts' slot; the
// recipients are then copied to the run's own keys (under its hash tag, so runs spread
// over a cluster's masters). A process that dies while copying leaves the run
// "filling": Prepare, which delivery calls first, finishes the copy.
func (b *Broadcasts) StartRun(ctx context.Context, bc *domain.Broadcast, fire time.Time, state domain.RunState, g domain.Guarantee, now time.Time) (bool, error) {
	run := domain.RunID(bc.ID, fire)
	keys := []string{b.key("fired", run), b.key("runs", bc.ID), b.key("active"), b.key("stage", run)}
	for _, t := range bc.Topics {
		keys = append(keys, b.key("t", t))
	}
	n, err := startScript.Run(ctx, b.s.rdb, keys, run, fire.Unix(), string(state), (30 * 24 * time.Hour).Milliseconds()).Int()
	if err != nil {
		return false, fmt.Errorf("store: start run %s: %w", run, err)
	}
	if n < 0 {
		return false, nil
	}
	ks := b.newRunKeys(run)
	b.s.runLayouts.Store(run, ks)
	if err := initRunScript.Run(ctx, b.s.rdb, []string{ks.run}, string(state), now.UnixMilli(), string(g)).Err(); err != nil {
		return true, fmt.Errorf("store: start run %s: %w", run, err)
	}
	if state == domain.RunDelivering {
		return true, b.fill(ctx, run, ks)
	}
	return true, nil
}

// Prepare makes a run ready for delivery: when the process that started it died
// before its recipients were all copied, it finishes the copy (g and now stand in
// for a record that was never written). A run that is ready costs one read.
func (b *Broadcasts) Prepare(ctx context.Context, run string, g domain.Guarantee, now time.Time) error {
	ks, err := b.keysOf(ctx, run)
	if err != nil {
		return err
	}
	st, err := initRunScript.Run(ctx, b.s.rdb, []string{ks.run}, string(domain.RunDelivering), now.UnixMilli(), string(g)).Text()
	if err != nil {
		return fmt.Errorf("store: prepare run %s: %w", run, err)
	}
	if st != runFilling {
		return nil
	}
	return b.fill(ctx, run, ks)
}

// fill copies the staged recipients of run to its own keys, a thousand at a time,
// then marks it delivering and drops the stage. Copies by two processes at once, or a
// late one after the run started delivering, change nothing (see fillScript).
func (b *Broadcasts) fill(ctx context.Context, run string, ks runKeyset) error {
	stage := b.key("stage", run)
	var cursor uint64
	for {
		ms, next, err := b.s.rdb.SScan(ctx, stage, cursor, "", 1000).Result()
		if err != nil {
			return fmt.Errorf("store: read recipients of %s: %w", run, err)
		}
		if len(ms) > 0 {
			args := make([]any, len(ms))
			for i, m := range ms {
				args[i] = m
			}
			ok, err := fillScript.Run(ctx, b.s.rdb, []string{ks.rcpt, ks.d, ks.run}, args...).Int()
			if err != nil {
				return fmt.Errorf("store: copy recipients of %s: %w", run, err)
			}
			if ok == 0 {
				break // another process finished the copy
			}
		}
		if next == 0 {
			break
		}
		cursor = next
	}
	if err := filledScript.Run(ctx, b.s.rdb, []string{ks.run, ks.rcpt}).Err(); err != nil {
		return fmt.Errorf("store: start delivering %s: %w", run, err)
	}
	if err := b.s.rdb.Del(ctx, stage).Err(); err != nil {
		return fmt.Errorf("store: drop the stage of %s: %w", run, err)
	}
	return nil
}

// runKeyset names the keys of one run: the recipients not yet taken, each taken
// recipient's fate, the deliveries in flight, and the run's record.
type runKeyset struct{ rcpt, d, inflight, run string }

func (k runKeyset) all() []string { return []string{k.rcpt, k.d, k.inflight, k.run} }

// newRunKeys are a run's keys under its own hash tag ({bc:<run>}).
func (b *Broadcasts) newRunKeys(run string) runKeyset {
	t := b.s.prefix + "{bc:" + run + "}:"
	return runKeyset{rcpt: t + "rcpt", d: t + "d", inflight: t + "inflight", run: t + "run"}
}

// legacyRunKeys are where versions before the run's own hash tag kept them ({bc}).
func (b *Broadcasts) legacyRunKeys(run string) runKeyset {
	return runKeyset{rcpt: b.key("rcpt", run), d: b.key("d", run), inflight: b.key("inflight", run), run: b.key("run", run)}
}

// keysOf returns the keys of run: where an earlier version started it, when its record
// is there (such runs are read and delivered where they are, also while an old replica
// still works on them during an upgrade), else under the run's own hash tag. The
// answer is kept once it is certain.
func (b *Broadcasts) keysOf(ctx context.Context, run string) (runKeyset, error) {
	if ks, ok := b.s.runLayouts.Load(run); ok {
		return ks.(runKeyset), nil
	}
	legacy, fresh := b.legacyRunKeys(run), b.newRunKeys(run)
	var old, cur *redis.IntCmd
	if _, err := b.s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		old = p.Exists(ctx, legacy.run)
		cur = p.Exists(ctx, fresh.run)
		return nil
	}); err != nil {
		return runKeyset{}, fmt.Errorf("store: find run %s: %w", run, err)
	}
	switch {
	case old.Val() == 1:
		b.s.runLayouts.Store(run, legacy)
		return legacy, nil
	case cur.Val() == 1:
		b.s.runLayouts.Store(run, fresh)
	}
	return fresh, nil
}

// takeScript takes up to n recipients of a run and marks each in flight in the same
// step, leased to the taker until its lease lapses unrenewed. The in-flight ones are
// indexed by when their lease was last renewed, so closing a run need not read every
// recipient. On a run at least once, deliveries whose lease lapsed (their process
// died) are taken again first, and counted resent; otherwise a recipient is taken
// once, by one worker, ever. A run not (or no longer) delivering gives none.
// KEYS: rcpt, d, inflight, run. ARGV: now ms, n, lapsed (ms: leases renewed at or
// before it have lapsed).
var takeScript = redis.NewScript(`
local out = {}
if redis.call('HGET', KEYS[4], 'state') ~= 'delivering' then return out end
local n = tonumber(ARGV[2])
if redis.call('HGET', KEYS[4], 'guarantee') == 'at_least_once' then
  local lapsed = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', ARGV[3], 'LIMIT', 0, n)
  for _, m in ipairs(lapsed) do
    redis.call('HSET', KEYS[2], m, 'inflight:' .. ARGV[1])
    redis.call('ZADD', KEYS[3], ARGV[1], m)
    out[#out + 1] = m
  end
  if #lapsed > 0 then redis.call('HINCRBY', KEYS[4], 'resent', #lapsed) end
end
for i = #out + 1, n do
  local m = redis.call('SPOP', KEYS[1])
  if not m then break end
  if redis.call('HSETNX', KEYS[2], m, 'inflight:' .. ARGV[1]) == 1 then
    redis.call('ZADD', KEYS[3], ARGV[1], m)
    out[#out + 1] = m
  end
end
return out
`)

// Take takes up to n recipients of a run to deliver to, leased to the caller (who
// renews the lease with Renew while it delivers); none when all were taken. A lease
// not renewed for lease has lapsed: on a run at least once its recipient is taken
// again.
func (b *Broadcasts) Take(ctx context.Context, run string, n int, lease time.Duration, now time.Time) ([]string, error) {
	ks, err := b.keysOf(ctx, run)
	if err != nil {
		return nil, err
	}
	res, err := takeScript.Run(ctx, b.s.rdb, ks.all(), now.UnixMilli(), n, now.Add(-lease).UnixMilli()).StringSlice()
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("store: take recipients of %s: %w", run, err)
	}
	return res, nil
}

// Renew renews the caller's leases on deliveries of a run still in flight (those
// already recorded are left alone), in one step whatever their number.
func (b *Broadcasts) Renew(ctx context.Context, run string, keys []string, now time.Time) error {
	if len(keys) == 0 {
		return nil
	}
	ks, err := b.keysOf(ctx, run)
	if err != nil {
		return err
	}
	zs := make([]redis.Z, len(keys))
	for i, k := range keys {
		zs[i] = redis.Z{Score: float64(now.UnixMilli()), Member: k}
	}
	if err := b.s.rdb.ZAddXX(ctx, ks.inflight, zs...).Err(); err != nil {
		return fmt.Errorf("store: renew deliveries of %s: %w", run, err)
	}
	return nil
}

// doneScript records the fate of a delivery in flight and counts it; a delivery
// already recorded (taken again after a lapsed lease, and recorded by the other
// taker) is not counted twice. KEYS: rcpt, d, inflight, run. ARGV: key, fate, outcome.
var doneScript = redis.NewScript(`
local fate = redis.call('HGET', KEYS[2], ARGV[1])
if fate and string.sub(fate, 1, 9) ~= 'inflight:' then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('HINCRBY', KEYS[4], ARGV[3], 1)
return 1
`)

// Done records what became of one taken recipient.
func (b *Broadcasts) Done(ctx context.Context, run, key string, o domain.Delivery, reason string) error {
	value := string(o)
	if reason != "" {
		value += ":" + reason
	}
	ks, err := b.keysOf(ctx, run)
	if err != nil {
		return err
	}
	if err := doneScript.Run(ctx, b.s.rdb, ks.all(), key, value, string(o)).Err(); err != nil {
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
	ks, err := b.keysOf(ctx, run)
	if err != nil {
		return err
	}
	if err := giveBackScript.Run(ctx, b.s.rdb, ks.all()[:3], key).Err(); err != nil {
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

// Finish closes a run whose recipients were all taken, as soon as no delivery of it
// holds a live lease (renewed less than lease ago). A worker that took one and died
// never reports it: on a run at most once those count as unknown; on a run at least
// once the run stays open until Take has handed them to another worker and they are
// recorded. A cancelled run closes without them either way. It reports whether the
// run is now closed.
func (b *Broadcasts) Finish(ctx context.Context, run string, state domain.RunState, lease time.Duration, now time.Time) (bool, error) {
	ks, err := b.keysOf(ctx, run)
	if err != nil {
		return false, err
	}
	// The run's record, what is left, and the deliveries in flight, oldest first: a run
	// is closed once none was taken less than lease ago; those older never reported
	// back. A few reads of the indexes, whatever the run's size.
	var left, total, old *redis.IntCmd
	var rec *redis.SliceCmd
	if _, err := b.s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		left = p.SCard(ctx, ks.rcpt)
		total = p.ZCard(ctx, ks.inflight)
		old = p.ZCount(ctx, ks.inflight, "-inf", strconv.FormatInt(now.Add(-lease).UnixMilli(), 10))
		rec = p.HMGet(ctx, ks.run, "state", "guarantee")
		return nil
	}); err != nil {
		return false, fmt.Errorf("store: read deliveries in flight of %s: %w", run, err)
	}
	recState, _ := rec.Val()[0].(string)
	guarantee, _ := rec.Val()[1].(string)
	if state != domain.RunCancelled && (left.Val() > 0 || recState == runFilling || recState == "") {
		return false, nil // recipients not yet taken, or not yet all copied
	}
	if total.Val() > old.Val() {
		return false, nil // still being delivered
	}
	if old.Val() > 0 && state != domain.RunCancelled && domain.Guarantee(guarantee) == domain.AtLeastOnce {
		return false, nil // to be taken again (Take)
	}
	unknown := old.Val()
	if state == domain.RunCancelled {
		// Everyone not yet taken is skipped, counted and removed in one step.
		if err := skipRestScript.Run(ctx, b.s.rdb, []string{ks.rcpt, ks.run}).Err(); err != nil {
			return false, fmt.Errorf("store: cancel run %s: %w", run, err)
		}
	}
	_, err = b.s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error { // the run's slot
		p.HSet(ctx, ks.run, "state", string(state), "unknown", unknown, "finished", now.UnixMilli())
		// Who got what is kept a month, for questions; the counters stay.
		p.PExpire(ctx, ks.d, runDetailTTL)
		p.PExpire(ctx, ks.rcpt, runDetailTTL)
		p.Del(ctx, ks.inflight)
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("store: finish run %s: %w", run, err)
	}
	_, err = b.s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error { // the broadcasts' slot
		p.SRem(ctx, b.key("active"), run)
		p.Del(ctx, b.key("stage", run)) // a cancelled run may not have copied all
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
	ks, err := b.keysOf(ctx, run)
	if err != nil {
		return domain.Run{}, err
	}
	h, err := b.s.rdb.HGetAll(ctx, ks.run).Result()
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
		Unknown: num("unknown"), Resent: num("resent"), Started: at("started"), Finished: at("finished"),
		Guarantee: domain.Guarantee(h["guarantee"])}
	if r.Guarantee == "" {
		r.Guarantee = domain.AtMostOnce // runs started before guarantees existed
	}
	switch r.State {
	case runFilling: // its recipients being copied: as good as delivering
		r.State = domain.RunDelivering
		r.Pending, _ = b.s.rdb.SCard(ctx, b.key("stage", run)).Result()
		r.Recipients = r.Pending
	case domain.RunDelivering:
		r.Pending, _ = b.s.rdb.SCard(ctx, ks.rcpt).Result()
	}
	return r, nil
}

// Fate returns what became of each taken recipient of a run (inflight:…, sent,
// failed:reason, skipped), for tests and staff tools.
func (b *Broadcasts) Fate(ctx context.Context, run string) (map[string]string, error) {
	ks, err := b.keysOf(ctx, run)
	if err != nil {
		return nil, err
	}
	return b.s.rdb.HGetAll(ctx, ks.d).Result()
}
