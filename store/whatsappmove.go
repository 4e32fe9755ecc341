package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/domain"
)

// Moving a WhatsApp number from whatsmeow to the Cloud API.
//
// whatsmeow keyed a person by their LID when it knew one: conversation key
// "whatsapp:<lid>@lid", chat id "<lid>@lid". The Cloud API keys a person by their
// number: "whatsapp:<number>", chat id "<number>". MoveWhatsAppLIDs rewrites
// everything the store keeps under a LID to the number the LID stands for:
//
//	{c:whatsapp:<lid>@lid}:*    the conversation (session, handled messages and their
//	                            answers, photos, and any other kind under the tag)
//	{cmp:N}:by:<key>, {cmp:N}:c:*  the reporter index and each complaint's reporter, in
//	                            each shard (complaints under {cmp} are moved into
//	                            their shard first, see Complaints.Migrate)
//	{bc}:r|m|tips:<key>, {bc}:t:<topic>   the subscriber, its topics, the tips it had
//	{bc:<run>}:rcpt, {bc:<run>}:d         recipients of runs not yet taken, and who got what
//	                                      (under {bc}:rcpt:<run>, {bc}:d:<run> for earlier runs)
//	outbox:whatsapp             news queued for the replica holding the channel (a stream)
//
// Every step copies before it deletes, and each step stays within one hash tag (a
// Lua script or a WATCH transaction on one slot, so Redis Cluster takes it); the
// steps of one person run one after another. Each kind is found again on its own
// (by SCAN, or in the run and outbox records), so a run interrupted anywhere leaves
// every record under the LID or under the number, never in neither, and running the
// move again finishes it. When a record exists under both (the person already wrote
// to the Cloud API), both are merged: the newer session wins, sets and sorted sets
// are united, a hash keeps the number's fields and takes the LID's others, a string
// kept under the number wins; a list or stream under both is left under the LID and
// counted as a conflict.
const waChannel = "whatsapp"

// LIDResolver returns the phone number (digits, international form) that a LID (its
// digits, without "@lid") stands for; ok is false when it is not known.
type LIDResolver func(ctx context.Context, lid string) (phone string, ok bool, err error)

// LIDMove counts what MoveWhatsAppLIDs found and did.
type LIDMove struct {
	People        int `json:"people"`        // LIDs the store holds something of
	Moved         int `json:"moved"`         // of them, moved to their number (all found records)
	Unmapped      int `json:"unmapped"`      // no number known: left under the LID
	Busy          int `json:"busy"`          // a conversation was in a turn: left for the next run
	Conflicts     int `json:"conflicts"`     // keys under both names that cannot be merged: left under the LID
	Conversations int `json:"conversations"` // conversation keys moved
	Complaints    int `json:"complaints"`    // complaint records moved
	Subscribers   int `json:"subscribers"`   // subscribers moved
	RunRecords    int `json:"run_records"`   // broadcast run records moved
	Queued        int `json:"queued"`        // outbox messages readdressed
}

// lidFound is what the store holds of one LID.
type lidFound struct {
	convKeys   []string // keys under {c:whatsapp:<lid>@lid}
	complaints bool
	subscriber bool
}

// MoveWhatsAppLIDs moves every record keyed by a WhatsApp LID to the number resolve
// gives for it (see the comment above waChannel). With dryRun it only counts what it
// would move. It is safe to run again, also after an interruption: what was moved is
// not found again. Run it while no replica runs whatsmeow (a turn in progress under
// the LID is left for the next run).
func (s *Store) MoveWhatsAppLIDs(ctx context.Context, resolve LIDResolver, dryRun bool) (LIDMove, error) {
	var rep LIDMove
	found, err := s.findLIDKeys(ctx)
	if err != nil {
		return rep, err
	}
	b := s.Broadcasts()
	runs, err := b.allRuns(ctx)
	if err != nil {
		return rep, err
	}
	runLIDs := map[string][]string{} // run -> LID conversation keys found in it
	for _, run := range runs {
		keys, err := b.lidKeysOfRun(ctx, run)
		if err != nil {
			return rep, err
		}
		runLIDs[run] = keys
		for _, k := range keys {
			if lid, ok := lidOfKey(k); ok {
				if found[lid] == nil {
					found[lid] = &lidFound{}
				}
			}
		}
	}
	queued, err := s.Outbox().lidChats(ctx, waChannel)
	if err != nil {
		return rep, err
	}
	for _, lid := range queued {
		if found[lid] == nil {
			found[lid] = &lidFound{}
		}
	}

	lids := slices.Sorted(func(yield func(string) bool) {
		for l := range found {
			if !yield(l) {
				return
			}
		}
	})
	rep.People = len(lids)
	phones := map[string]string{}
	for _, lid := range lids {
		phone, ok, err := resolve(ctx, lid)
		if err != nil {
			return rep, fmt.Errorf("store: look up the number of a LID: %w", err)
		}
		if !ok || phone == "" || strings.Trim(phone, "0123456789") != "" {
			rep.Unmapped++
			continue
		}
		phones[lid] = phone
	}
	if dryRun {
		for _, lid := range lids {
			f, phone := found[lid], phones[lid]
			if phone == "" {
				continue
			}
			rep.Moved++
			rep.Conversations += len(f.convKeys)
			if f.complaints {
				c := s.Complaints("", time.UTC)
				ids, _ := s.rdb.ZCard(ctx, c.key("by", lidKey(lid))).Result()
				rep.Complaints += int(ids)
				for sh := range shards {
					ids, _ := s.rdb.ZCard(ctx, c.in(sh, "by", lidKey(lid))).Result()
					rep.Complaints += int(ids)
				}
			}
			if f.subscriber {
				rep.Subscribers++
			}
		}
		for _, keys := range runLIDs {
			for _, k := range keys {
				if lid, _ := lidOfKey(k); phones[lid] != "" {
					rep.RunRecords++
				}
			}
		}
		for _, lid := range queued {
			if phones[lid] != "" {
				rep.Queued++
			}
		}
		return rep, nil
	}

	for _, lid := range lids {
		phone, f := phones[lid], found[lid]
		if phone == "" {
			continue
		}
		from, to := lidKey(lid), waChannel+":"+phone
		done := true
		if f.complaints {
			n, err := s.moveComplaints(ctx, from, to, lid+"@lid", phone)
			if err != nil {
				return rep, err
			}
			rep.Complaints += n
		}
		if f.subscriber {
			moved, err := b.moveSubscriber(ctx, from, to, phone)
			if err != nil {
				return rep, err
			}
			if moved {
				rep.Subscribers++
			}
		}
		if len(f.convKeys) > 0 {
			n, conflicts, busy, err := s.moveConversation(ctx, from, to, f.convKeys)
			if err != nil {
				return rep, err
			}
			rep.Conversations += n
			rep.Conflicts += conflicts
			if busy {
				rep.Busy++
				done = false
			}
			if conflicts > 0 {
				done = false
			}
		}
		if done {
			rep.Moved++
		}
	}
	for _, run := range slices.Sorted(func(yield func(string) bool) {
		for r := range runLIDs {
			if !yield(r) {
				return
			}
		}
	}) {
		n, err := b.moveRunRecords(ctx, run, runLIDs[run], phones)
		if err != nil {
			return rep, err
		}
		rep.RunRecords += n
	}
	n, err := s.Outbox().readdress(ctx, waChannel, phones)
	if err != nil {
		return rep, err
	}
	rep.Queued = n
	return rep, nil
}

// lidKey is the conversation key whatsmeow gave a person known by LID.
func lidKey(lid string) string { return waChannel + ":" + lid + "@lid" }

// lidOfKey returns the LID of a conversation key "whatsapp:<digits>@lid".
func lidOfKey(key string) (string, bool) {
	rest, ok := strings.CutPrefix(key, waChannel+":")
	if !ok {
		return "", false
	}
	return lidOfChat(rest)
}

// lidOfChat returns the LID of a chat id "<digits>@lid".
func lidOfChat(chat string) (string, bool) {
	lid, ok := strings.CutSuffix(chat, "@lid")
	if !ok || lid == "" || strings.Trim(lid, "0123456789") != "" {
		return "", false
	}
	return lid, true
}

// findLIDKeys scans the store (every master of a cluster) for the keys named after a
// LID conversation key, grouped by LID.
func (s *Store) findLIDKeys(ctx context.Context) (map[string]*lidFound, error) {
	found := map[string]*lidFound{}
	var mu sync.Mutex
	scan := func(ctx context.Context, c redis.Cmdable) error {
		var cursor uint64
		for {
			keys, next, err := c.Scan(ctx, cursor, escapeGlob(s.prefix)+"*@lid*", 1000).Result()
			if err != nil {
				return fmt.Errorf("store: look for LID keys: %w", err)
			}
			mu.Lock()
			for _, k := range keys {
				s.noteLIDKey(found, k)
			}
			mu.Unlock()
			if next == 0 {
				return nil
			}
			cursor = next
		}
	}
	var err error
	if cc, ok := s.rdb.(*redis.ClusterClient); ok {
		err = cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error { return scan(ctx, c) })
	} else {
		err = scan(ctx, s.rdb)
	}
	if err != nil {
		return nil, err
	}
	for _, f := range found {
		slices.Sort(f.convKeys)
		f.convKeys = slices.Compact(f.convKeys) // SCAN may return a key twice
	}
	return found, nil
}

// noteLIDKey files one scanned key under its LID, if it is one of a LID.
func (s *Store) noteLIDKey(found map[string]*lidFound, full string) {
	k, ok := strings.CutPrefix(full, s.prefix)
	if !ok {
		return
	}
	get := func(lid string) *lidFound {
		if found[lid] == nil {
			found[lid] = &lidFound{}
		}
		return found[lid]
	}
	if rest, ok := strings.CutPrefix(k, "{c:"); ok {
		conv, kind, ok := strings.Cut(rest, "}:")
		if lid, isLID := lidOfKey(conv); ok && isLID && kind != kindLock { // a lock ends with its turn
			f := get(lid)
			f.convKeys = append(f.convKeys, full)
		}
		return
	}
	if rest, ok := strings.CutPrefix(k, "{cmp"); ok {
		if _, conv, ok := strings.Cut(rest, "}:by:"); ok {
			if lid, ok := lidOfKey(conv); ok {
				get(lid).complaints = true
			}
		}
		return
	}
	for _, kind := range []string{"{bc}:r:", "{bc}:m:", "{bc}:tips:"} {
		if conv, ok := strings.CutPrefix(k, kind); ok {
			if lid, ok := lidOfKey(conv); ok {
				get(lid).subscriber = true
			}
			return
		}
	}
}

// --- complaints ---

// moveComplaints files the complaints of conversation from under to: each record's
// reporter (key, and chat id when it was the LID's) and the reporter index, in one
// transaction per shard. It returns how many records it moved.
func (s *Store) moveComplaints(ctx context.Context, from, to, fromChat, toChat string) (int, error) {
	c := s.Complaints("", time.UTC)
	// Complaints an earlier version kept under {cmp} go into their shards first.
	ids, err := s.rdb.ZRange(ctx, c.key("by", from), 0, -1).Result()
	if err != nil {
		return 0, fmt.Errorf("store: move complaints to the number: %w", err)
	}
	for _, id := range ids {
		if _, err := c.migrate(ctx, id); err != nil {
			return 0, err
		}
	}
	moved := 0
	for sh := range shards {
		n, err := s.moveComplaintsIn(ctx, c, sh, from, to, fromChat, toChat)
		if err != nil {
			return moved, err
		}
		moved += n
	}
	return moved, nil
}

// moveComplaintsIn moves the complaints of from in shard sh, in one transaction.
func (s *Store) moveComplaintsIn(ctx context.Context, c *Complaints, sh int, from, to, fromChat, toChat string) (int, error) {
	byFrom, byTo := c.in(sh, "by", from), c.in(sh, "by", to)
	var moved int
	for range 10 {
		err := s.rdb.Watch(ctx, func(tx *redis.Tx) error {
			zs, err := tx.ZRangeWithScores(ctx, byFrom, 0, -1).Result()
			if err != nil {
				return err
			}
			keys := make([]string, len(zs))
			for i, z := range zs {
				keys[i] = c.in(sh, "c", z.Member.(string))
			}
			if len(keys) > 0 {
				if err := tx.Watch(ctx, keys...).Err(); err != nil {
					return err
				}
			}
			records := map[string][]byte{}
			for _, k := range keys {
				raw, err := tx.Get(ctx, k).Bytes()
				if errors.Is(err, redis.Nil) {
					continue // an index entry without its record: moved with the index
				}
				if err != nil {
					return err
				}
				var cp domain.Complaint
				if err := json.Unmarshal(raw, &cp); err != nil {
					return fmt.Errorf("decode complaint %s: %w", k, err)
				}
				if cp.Reporter.Key == from {
					cp.Reporter.Key = to
				}
				if cp.Reporter.ChatID == fromChat {
					cp.Reporter.ChatID = toChat
				}
				b, err := json.Marshal(&cp)
				if err != nil {
					return err
				}
				records[k] = b
			}
			_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				for k, b := range records {
					p.Set(ctx, k, b, redis.KeepTTL)
				}
				if len(zs) > 0 {
					p.ZAdd(ctx, byTo, zs...)
				}
				p.Del(ctx, byFrom)
				return nil
			})
			moved = len(records)
			return err
		}, byFrom)
		if errors.Is(err, redis.TxFailedErr) {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("store: move complaints to the number: %w", err)
		}
		return moved, nil
	}
	return 0, errors.New("store: move complaints to the number: too much contention")
}

// --- subscribers and broadcast runs ---

// moveSubscriberScript moves a subscriber in one step on the {bc} slot: its topics
// (in the topic sets and its own set), its record (the number's fields win; the chat
// becomes the number) and the tips it had. KEYS: r from, r to, m from, m to, tips
// from, tips to, then the topic sets of ARGV[4..]. ARGV: from, to, new chat, the
// topics of m from as the caller read them. Returns -1 when the topics changed
// meanwhile (read them again), else 1.
var moveSubscriberScript = redis.NewScript(`
local n = #ARGV - 3
if redis.call('SCARD', KEYS[3]) ~= n then return -1 end
for i = 1, n do
  if redis.call('SISMEMBER', KEYS[3], ARGV[3 + i]) == 0 then return -1 end
end
for i = 1, n do
  redis.call('SADD', KEYS[6 + i], ARGV[2])
  redis.call('SREM', KEYS[6 + i], ARGV[1])
  redis.call('SADD', KEYS[4], ARGV[3 + i])
end
local r = redis.call('HGETALL', KEYS[1])
for i = 1, #r, 2 do
  local v = r[i + 1]
  if r[i] == 'chat' then v = ARGV[3] end
  redis.call('HSETNX', KEYS[2], r[i], v)
end
local tips = redis.call('LRANGE', KEYS[5], 0, -1)
for _, t in ipairs(tips) do redis.call('RPUSH', KEYS[6], t) end
redis.call('DEL', KEYS[1], KEYS[3], KEYS[5])
return 1
`)

// moveSubscriber moves the subscriber from to to (chat: the number). It reports
// whether there was one.
func (b *Broadcasts) moveSubscriber(ctx context.Context, from, to, chat string) (bool, error) {
	for range 10 {
		topics, err := b.Topics(ctx, from)
		if err != nil {
			return false, err
		}
		slices.Sort(topics)
		keys := []string{b.key("r", from), b.key("r", to), b.key("m", from), b.key("m", to), b.key("tips", from), b.key("tips", to)}
		args := []any{from, to, chat}
		for _, t := range topics {
			keys = append(keys, b.key("t", t))
			args = append(args, t)
		}
		n, err := moveSubscriberScript.Run(ctx, b.s.rdb, keys, args...).Int()
		if err != nil {
			return false, fmt.Errorf("store: move subscriber to the number: %w", err)
		}
		if n == 1 {
			return true, nil
		}
	}
	return false, errors.New("store: move subscriber to the number: its topics keep changing")
}

// allRuns lists every run of every broadcast (their records outlive the run by a
// month; older runs have none left).
func (b *Broadcasts) allRuns(ctx context.Context) ([]string, error) {
	ids, err := b.s.rdb.ZRange(ctx, b.key("all"), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("store: list broadcasts: %w", err)
	}
	var runs []string
	for _, id := range ids {
		rs, err := b.s.rdb.ZRange(ctx, b.key("runs", id), 0, -1).Result()
		if err != nil {
			return nil, fmt.Errorf("store: list runs: %w", err)
		}
		runs = append(runs, rs...)
	}
	return runs, nil
}

// lidKeysOfRun returns the LID conversation keys among a run's recipients not yet
// taken and its record of who got what.
func (b *Broadcasts) lidKeysOfRun(ctx context.Context, run string) ([]string, error) {
	ks, err := b.keysOf(ctx, run)
	if err != nil {
		return nil, err
	}
	match := escapeGlob(waChannel+":") + "*@lid"
	var out []string
	var cursor uint64
	for {
		kv, next, err := b.s.rdb.HScan(ctx, ks.d, cursor, match, 1000).Result()
		if err != nil {
			return nil, fmt.Errorf("store: read deliveries of %s: %w", run, err)
		}
		for i := 0; i < len(kv); i += 2 {
			out = append(out, kv[i])
		}
		if next == 0 {
			break
		}
		cursor = next
	}
	cursor = 0
	for {
		ms, next, err := b.s.rdb.SScan(ctx, ks.rcpt, cursor, match, 1000).Result()
		if err != nil {
			return nil, fmt.Errorf("store: read recipients of %s: %w", run, err)
		}
		out = append(out, ms...)
		if next == 0 {
			break
		}
		cursor = next
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// moveRunRecordsScript renames recipients of one run in one step: in the record of
// who got what (a fate already recorded under the new name wins) and among the
// recipients not yet taken. KEYS: d, rcpt. ARGV: from, to pairs. Returns how many
// records it renamed.
var moveRunRecordsScript = redis.NewScript(`
local n = 0
for i = 1, #ARGV, 2 do
  local fate = redis.call('HGET', KEYS[1], ARGV[i])
  if fate then
    redis.call('HSETNX', KEYS[1], ARGV[i + 1], fate)
    redis.call('HDEL', KEYS[1], ARGV[i])
    n = n + 1
  end
  if redis.call('SREM', KEYS[2], ARGV[i]) == 1 then
    redis.call('SADD', KEYS[2], ARGV[i + 1])
    n = n + 1
  end
end
return n
`)

// moveRunRecords renames the LID recipients of a run whose number is known.
func (b *Broadcasts) moveRunRecords(ctx context.Context, run string, keys []string, phones map[string]string) (int, error) {
	var args []any
	for _, k := range keys {
		if lid, _ := lidOfKey(k); phones[lid] != "" {
			args = append(args, k, waChannel+":"+phones[lid])
		}
	}
	ks, err := b.keysOf(ctx, run)
	if err != nil {
		return 0, err
	}
	total := 0
	for chunk := range slices.Chunk(args, 2*batchCommands) {
		n, err := moveRunRecordsScript.Run(ctx, b.s.rdb, []string{ks.d, ks.rcpt}, chunk...).Int()
		if err != nil {
			return total, fmt.Errorf("store: move recipients of run %s: %w", run, err)
		}
		total += n
	}
	return total, nil
}

// --- the outbox ---

// entries returns the queued messages of a channel (turning an older version's list
// into the stream first).
func (o *Outbox) entries(ctx context.Context, rdb redis.Cmdable, channel string) ([]redis.XMessage, error) {
	if err := fromListScript.Run(ctx, o.s.rdb, []string{o.key(channel)}, queueField).Err(); err != nil {
		return nil, err
	}
	return rdb.XRange(ctx, o.key(channel), "-", "+").Result()
}

// lidChats returns the LIDs of the chats queued messages of a channel are for.
func (o *Outbox) lidChats(ctx context.Context, channel string) ([]string, error) {
	msgs, err := o.entries(ctx, o.s.rdb, channel)
	if err != nil {
		return nil, fmt.Errorf("store: read outbox: %w", err)
	}
	var out []string
	for _, m := range msgs {
		raw, _ := m.Values[queueField].(string)
		var q struct {
			ChatID string `json:"chat_id"`
		}
		if json.Unmarshal([]byte(raw), &q) == nil {
			if lid, ok := lidOfChat(q.ChatID); ok {
				out = append(out, lid)
			}
		}
	}
	return out, nil
}

// readdress rewrites the chat id of queued messages for a LID whose number is known,
// keeping everything else of each message, their ids and their order, in one
// transaction on the outbox's key. It returns how many it rewrote. The stream is
// written anew, so its consumer group goes: messages a replica has taken and not yet
// sent are handed out again (at least once, as ever).
func (o *Outbox) readdress(ctx context.Context, channel string, phones map[string]string) (int, error) {
	key := o.key(channel)
	for range 10 {
		n := 0
		err := o.s.rdb.Watch(ctx, func(tx *redis.Tx) error {
			msgs, err := o.entries(ctx, tx, channel)
			if err != nil {
				return err
			}
			n = 0
			out := make([]string, len(msgs))
			for i, m := range msgs {
				raw, _ := m.Values[queueField].(string)
				out[i] = raw
				var q map[string]json.RawMessage
				if json.Unmarshal([]byte(raw), &q) != nil {
					continue
				}
				var chat string
				if json.Unmarshal(q["chat_id"], &chat) != nil {
					continue
				}
				lid, ok := lidOfChat(chat)
				if !ok || phones[lid] == "" {
					continue
				}
				q["chat_id"], _ = json.Marshal(phones[lid])
				b, err := json.Marshal(q)
				if err != nil {
					return err
				}
				out[i], n = string(b), n+1
			}
			if n == 0 {
				return nil
			}
			_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.Del(ctx, key)
				for i, m := range msgs {
					p.XAdd(ctx, &redis.XAddArgs{Stream: key, ID: m.ID, Values: []any{queueField, out[i]}})
				}
				return nil
			})
			return err
		}, key)
		if errors.Is(err, redis.TxFailedErr) {
			continue // a message was queued or taken meanwhile
		}
		if err != nil {
			return 0, fmt.Errorf("store: readdress outbox: %w", err)
		}
		return n, nil
	}
	return 0, errors.New("store: readdress outbox: too much contention")
}

// --- the conversation ---

// moveLockTTL bounds how long the move holds a conversation.
const moveLockTTL = time.Minute

// moveLockPrefix starts the token of a lock the move holds: a move that was
// interrupted leaves its lock, and the next move takes it over at once (a turn's
// lock is waited for).
const moveLockPrefix = "move:"

// moveLockScript takes a conversation's lock when it is free or held by an earlier
// move. KEYS: lock. ARGV: token, ttl ms, the move's token prefix. Returns 1 when taken.
var moveLockScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if cur and string.sub(cur, 1, #ARGV[3]) ~= ARGV[3] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`)

// moveConversation moves the keys of conversation from (keys, as found by a scan) to
// conversation to, holding both conversations' locks so no turn runs meanwhile: all
// of them are written under the new tag first, then deleted under the old one. It
// returns how many keys it moved, how many it left as conflicts, and busy when a turn
// held the conversation (nothing was moved).
func (s *Store) moveConversation(ctx context.Context, from, to string, keys []string) (moved, conflicts int, busy bool, err error) {
	token := moveLockPrefix + newToken()
	fromLock, toLock := s.convKey(from, kindLock), s.convKey(to, kindLock)
	for _, lock := range []string{fromLock, toLock} {
		ok, err := moveLockScript.Run(ctx, s.rdb, []string{lock}, token, moveLockTTL.Milliseconds(), moveLockPrefix).Int()
		if err != nil {
			return 0, 0, false, fmt.Errorf("store: lock conversation to move: %w", err)
		}
		if ok != 1 {
			return 0, 0, true, nil
		}
		defer releaseScript.Run(context.WithoutCancel(ctx), s.rdb, []string{lock}, token)
	}

	oldTag, newTag := s.convKey(from, ""), s.convKey(to, "")
	srcs, err := readKeys(ctx, s.rdb, keys)
	if err != nil {
		return 0, 0, false, fmt.Errorf("store: read conversation to move: %w", err)
	}
	targets := make([]string, len(srcs))
	for i, r := range srcs {
		targets[i] = newTag + strings.TrimPrefix(r.key, oldTag)
	}
	dsts, err := readKeys(ctx, s.rdb, targets)
	if err != nil {
		return 0, 0, false, fmt.Errorf("store: read conversation to move: %w", err)
	}
	existing := map[string]record{}
	for _, r := range dsts {
		existing[r.key] = r
	}
	var done []string
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error { // one slot: the new tag
		for i, src := range srcs {
			dst, has := existing[targets[i]]
			if !mergeInto(ctx, p, src, targets[i], dst, has, strings.TrimPrefix(src.key, oldTag)) {
				conflicts++
				continue
			}
			done = append(done, src.key)
		}
		return nil
	})
	if err != nil {
		return 0, 0, false, fmt.Errorf("store: write moved conversation: %w", err)
	}
	if len(done) > 0 {
		if err := s.rdb.Del(ctx, done...).Err(); err != nil { // one slot: the old tag
			return 0, conflicts, false, fmt.Errorf("store: delete moved conversation: %w", err)
		}
	}
	return len(done), conflicts, false, nil
}

// mergeInto queues the commands that put src under key, merging with dst when it
// exists (has). false means the two cannot be merged: nothing is queued.
func mergeInto(ctx context.Context, p redis.Pipeliner, src record, key string, dst record, has bool, kind string) bool {
	if !has {
		src.key = key
		src.queue(ctx, p)
		return true
	}
	if src.typ != dst.typ {
		return false
	}
	switch src.typ {
	case "string":
		if kind == kindSession && newerSession(src.str, dst.str) {
			p.Set(ctx, key, src.str, 0)
		} else {
			return true // the number's own value stands; its expiry too
		}
	case "set":
		args := make([]any, len(src.items))
		for i, m := range src.items {
			args[i] = m
		}
		p.SAdd(ctx, key, args...)
	case "zset":
		p.ZAddGT(ctx, key, src.zset...) // adds the new members, keeps the later time of both
	case "hash":
		for f, v := range src.hash {
			p.HSetNX(ctx, key, f, v)
		}
	default: // a list or stream: their order cannot be merged
		return false
	}
	switch {
	case src.ttlMs == 0 || dst.ttlMs == 0:
		p.Persist(ctx, key)
	default:
		p.PExpire(ctx, key, time.Duration(max(src.ttlMs, dst.ttlMs))*time.Millisecond)
	}
	return true
}

// newerSession reports whether session a was active after session b.
func newerSession(a, b string) bool {
	var sa, sb bot.Session
	if json.Unmarshal([]byte(a), &sa) != nil {
		return false
	}
	if json.Unmarshal([]byte(b), &sb) != nil {
		return true
	}
	return sa.LastActive.After(sb.LastActive)
}
