package store

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/domain"
)

// Handoffs keeps the requests of people to talk to a member of staff (domain.Handoff)
// and the transcripts of those conversations. All its keys share one hash tag ({ho}),
// so taking a conversation, which changes its record and two queues, is one atomic
// Lua step on a single Redis, across replicas, and on Redis Cluster.
//
// Keys: {ho}:h:<id> (the record, a hash), {ho}:m:<id> (its transcript, a list of
// bot.Line JSON, the newest handoffMaxLines), {ho}:q:waiting, {ho}:q:active,
// {ho}:q:ended (ids scored by the time asked, or ended), {ho}:conv:<conversation>
// (the conversation's open handoff) and {ho}:byconv:<conversation> (every handoff of
// the conversation, for erasing). An ended handoff's keys expire after the history
// time (HISTORY_DAYS); erasing a person's data deletes them at once (Privacy.Erase).
type Handoffs struct {
	s *Store
}

// Handoffs returns the handoff store.
func (s *Store) Handoffs() *Handoffs { return &Handoffs{s: s} }

const (
	handoffMaxLines = 500  // lines kept per handoff, the newest
	handoffMaxEnded = 1000 // ended handoffs listed, the newest
)

func (h *Handoffs) key(parts ...string) string {
	return h.s.prefix + "{ho}:" + strings.Join(parts, ":")
}

func (h *Handoffs) rec(id string) string  { return h.key("h", id) }
func (h *Handoffs) msgs(id string) string { return h.key("m", id) }
func (h *Handoffs) queue(st domain.HandoffState) string {
	return h.key("q", string(st))
}
func (h *Handoffs) topic() string { return h.s.key("handoff", "events") }

// NewHandoffID returns a fresh id: 10 characters a staff member can type.
func NewHandoffID() string {
	const alphabet = "abcdefghijkmnpqrstuvwxyz23456789"
	b := make([]byte, 10)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// handoffOpenScript opens a handoff unless the conversation has one open, whose id it
// returns instead. KEYS: conv pointer, byconv, record, transcript, waiting queue.
// ARGV: id, since ms, record prefix, then field/value pairs of the record from 4 to
// ARGV[4]+4, then transcript lines.
var handoffOpenScript = redis.NewScript(`
local open = redis.call('GET', KEYS[1])
if open then
  local st = redis.call('HGET', ARGV[3] .. open, 'state')
  if st and st ~= 'ended' then return {open, 0} end
end
local n = tonumber(ARGV[4])
for i = 5, 4 + n, 2 do redis.call('HSET', KEYS[3], ARGV[i], ARGV[i+1]) end
for i = 5 + n, #ARGV do redis.call('RPUSH', KEYS[4], ARGV[i]) end
redis.call('HSET', KEYS[3], 'n', #ARGV - 4 - n)
redis.call('ZADD', KEYS[5], ARGV[2], ARGV[1])
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('PERSIST', KEYS[2])
return {ARGV[1], 1}
`)

// Open records a person's request to talk to staff, with the transcript before it
// (oldest first), unless the conversation already has a handoff that has not ended:
// then it returns that one and false. h.ID, Conv, Channel, ChatID, Lang and Since
// must be set; the state is Waiting.
func (h *Handoffs) Open(ctx context.Context, ho *domain.Handoff, before []bot.Line) (*domain.Handoff, bool, error) {
	fields := []string{
		"id", ho.ID, "conv", ho.Conv, "channel", ho.Channel, "chat", ho.ChatID, "lang", ho.Lang,
		"state", string(domain.HandoffWaiting), "since", strconv.FormatInt(ho.Since.UnixMilli(), 10),
		"after_hours", boolField(ho.AfterHours), "last_text", ho.LastText,
	}
	args := []any{ho.ID, ho.Since.UnixMilli(), h.key("h", ""), len(fields)}
	for _, f := range fields {
		args = append(args, f)
	}
	if len(before) > handoffMaxLines {
		before = before[len(before)-handoffMaxLines:]
	}
	for _, l := range before {
		b, err := json.Marshal(l)
		if err != nil {
			return nil, false, fmt.Errorf("store: encode handoff line: %w", err)
		}
		args = append(args, b)
	}
	keys := []string{h.key("conv", ho.Conv), h.key("byconv", ho.Conv), h.rec(ho.ID), h.msgs(ho.ID), h.queue(domain.HandoffWaiting)}
	res, err := handoffOpenScript.Run(ctx, h.s.rdb, keys, args...).Slice()
	if err != nil || len(res) != 2 {
		return nil, false, fmt.Errorf("store: open handoff: %w", err)
	}
	id, _ := res[0].(string)
	created := res[1] == int64(1)
	got, err := h.Get(ctx, id)
	if err != nil {
		return nil, false, err
	}
	if created {
		h.publish(ctx, domain.HandoffEvent{ID: id, Kind: "opened"})
	}
	return got, created, nil
}

func boolField(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// Get returns a handoff; domain.ErrNotFound when there is none of that id.
func (h *Handoffs) Get(ctx context.Context, id string) (*domain.Handoff, error) {
	if id == "" || strings.ContainsAny(id, ":{}") {
		return nil, fmt.Errorf("store: handoff %q: %w", id, domain.ErrNotFound)
	}
	m, err := h.s.rdb.HGetAll(ctx, h.rec(id)).Result()
	if err != nil {
		return nil, fmt.Errorf("store: read handoff %s: %w", id, err)
	}
	if len(m) == 0 || m["state"] == "" {
		return nil, fmt.Errorf("store: handoff %s: %w", id, domain.ErrNotFound)
	}
	return decodeHandoff(m), nil
}

func decodeHandoff(m map[string]string) *domain.Handoff {
	ms := func(f string) time.Time {
		n, err := strconv.ParseInt(m[f], 10, 64)
		if err != nil || n == 0 {
			return time.Time{}
		}
		return time.UnixMilli(n).UTC()
	}
	rating, _ := strconv.Atoi(m["rating"])
	return &domain.Handoff{
		ID: m["id"], Conv: m["conv"], Channel: m["channel"], ChatID: m["chat"], Lang: m["lang"],
		State: domain.HandoffState(m["state"]), Since: ms("since"), Assignee: m["assignee"],
		LastText: m["last_text"], AfterHours: m["after_hours"] == "1",
		EndedAt: ms("ended_at"), EndedBy: m["ended_by"], Rating: rating,
	}
}

// OpenFor returns the conversation's handoff that has not ended, or nil.
func (h *Handoffs) OpenFor(ctx context.Context, conv string) (*domain.Handoff, error) {
	id, err := h.s.rdb.Get(ctx, h.key("conv", conv)).Result()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: look up open handoff: %w", err)
	}
	ho, err := h.Get(ctx, id)
	if errors.Is(err, domain.ErrNotFound) || err == nil && ho.State == domain.HandoffEnded {
		return nil, nil
	}
	return ho, err
}

// List returns up to max handoffs of a state: waiting and active ones oldest first
// (the longest waiting at the top), ended ones newest first.
func (h *Handoffs) List(ctx context.Context, st domain.HandoffState, max int) ([]*domain.Handoff, error) {
	var ids []string
	var err error
	if st == domain.HandoffEnded {
		ids, err = h.s.rdb.ZRevRange(ctx, h.queue(st), 0, int64(max-1)).Result()
	} else {
		ids, err = h.s.rdb.ZRange(ctx, h.queue(st), 0, int64(max-1)).Result()
	}
	if err != nil {
		return nil, fmt.Errorf("store: list %s handoffs: %w", st, err)
	}
	out := make([]*domain.Handoff, 0, len(ids))
	for _, id := range ids {
		ho, err := h.Get(ctx, id)
		if errors.Is(err, domain.ErrNotFound) {
			continue // expired meanwhile
		}
		if err != nil {
			return nil, err
		}
		out = append(out, ho)
	}
	return out, nil
}

// Position is the handoff's place in the waiting queue, 1 for the first; 0 when it
// does not wait.
func (h *Handoffs) Position(ctx context.Context, id string) (int, error) {
	n, err := h.s.rdb.ZRank(ctx, h.queue(domain.HandoffWaiting), id).Result()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("store: place in handoff queue: %w", err)
	}
	return int(n) + 1, nil
}

// handoffTakeScript gives a waiting handoff to a staff member, or keeps it with the one
// who holds it. KEYS: record, waiting, active. ARGV: who, now ms.
// Returns {1} when taken (or already theirs), {0, holder} when someone else holds
// it, {-1} when it ended, {-2} when there is no such handoff.
var handoffTakeScript = redis.NewScript(`
local st = redis.call('HGET', KEYS[1], 'state')
if not st then return {-2} end
if st == 'ended' then return {-1} end
if st == 'active' then
  local who = redis.call('HGET', KEYS[1], 'assignee')
  if who == ARGV[1] then return {1} end
  return {0, who}
end
local id = redis.call('HGET', KEYS[1], 'id')
redis.call('HSET', KEYS[1], 'state', 'active', 'assignee', ARGV[1], 'taken_at', ARGV[2])
redis.call('ZREM', KEYS[2], id)
redis.call('ZADD', KEYS[3], redis.call('HGET', KEYS[1], 'since'), id)
return {1}
`)

// Take gives a waiting handoff to the staff member who (a staff account or name).
// Exactly one staff member holds a handoff: while who holds it, Take by anyone else
// fails with domain.ErrHandoffHeld (the holder named in the error); taking it again by
// who changes nothing. taken reports whether this call took it.
func (h *Handoffs) Take(ctx context.Context, id, who string, now time.Time) (ho *domain.Handoff, taken bool, err error) {
	before, err := h.Get(ctx, id)
	if err != nil {
		return nil, false, err
	}
	res, err := handoffTakeScript.Run(ctx, h.s.rdb, []string{h.rec(id), h.queue(domain.HandoffWaiting), h.queue(domain.HandoffActive)},
		who, now.UnixMilli()).Slice()
	if err != nil || len(res) == 0 {
		return nil, false, fmt.Errorf("store: take handoff %s: %w", id, err)
	}
	switch res[0] {
	case int64(-2):
		return nil, false, fmt.Errorf("store: handoff %s: %w", id, domain.ErrNotFound)
	case int64(-1):
		return nil, false, fmt.Errorf("store: take handoff %s: %w", id, domain.ErrHandoffEnded)
	case int64(0):
		holder, _ := res[1].(string)
		return nil, false, fmt.Errorf("store: take handoff %s: %w: %s", id, domain.ErrHandoffHeld, holder)
	}
	ho, err = h.Get(ctx, id)
	if err != nil {
		return nil, false, err
	}
	taken = before.State == domain.HandoffWaiting
	if taken {
		h.publish(ctx, domain.HandoffEvent{ID: id, Kind: "taken"})
	}
	return ho, taken, nil
}

// handoffAssignScript hands a handoff that has not ended to another staff member, or back
// to the queue when ARGV[1] is empty. KEYS: record, waiting, active.
var handoffAssignScript = redis.NewScript(`
local st = redis.call('HGET', KEYS[1], 'state')
if not st then return -2 end
if st == 'ended' then return -1 end
local id = redis.call('HGET', KEYS[1], 'id')
local since = redis.call('HGET', KEYS[1], 'since')
if ARGV[1] == '' then
  redis.call('HSET', KEYS[1], 'state', 'waiting', 'assignee', '')
  redis.call('ZREM', KEYS[3], id)
  redis.call('ZADD', KEYS[2], since, id)
else
  redis.call('HSET', KEYS[1], 'state', 'active', 'assignee', ARGV[1])
  redis.call('ZREM', KEYS[2], id)
  redis.call('ZADD', KEYS[3], since, id)
end
return 1
`)

// Assign gives a handoff that has not ended to the staff member to, or puts it back
// in the queue (keeping its place) when to is "".
func (h *Handoffs) Assign(ctx context.Context, id, to string) (*domain.Handoff, error) {
	n, err := handoffAssignScript.Run(ctx, h.s.rdb, []string{h.rec(id), h.queue(domain.HandoffWaiting), h.queue(domain.HandoffActive)}, to).Int()
	if err != nil {
		return nil, fmt.Errorf("store: assign handoff %s: %w", id, err)
	}
	switch n {
	case -2:
		return nil, fmt.Errorf("store: handoff %s: %w", id, domain.ErrNotFound)
	case -1:
		return nil, fmt.Errorf("store: assign handoff %s: %w", id, domain.ErrHandoffEnded)
	}
	h.publish(ctx, domain.HandoffEvent{ID: id, Kind: "assigned"})
	return h.Get(ctx, id)
}

// handoffEndScript ends a handoff. KEYS: record, transcript, waiting, active, ended, conv
// pointer, byconv. ARGV: by, now ms, keep ms, most ended listed.
// Returns 1 when it ended it, 0 when it had ended already, -2 when there is none.
var handoffEndScript = redis.NewScript(`
local st = redis.call('HGET', KEYS[1], 'state')
if not st then return -2 end
if st == 'ended' then return 0 end
local id = redis.call('HGET', KEYS[1], 'id')
redis.call('HSET', KEYS[1], 'state', 'ended', 'ended_at', ARGV[2], 'ended_by', ARGV[1])
redis.call('ZREM', KEYS[3], id)
redis.call('ZREM', KEYS[4], id)
redis.call('ZADD', KEYS[5], ARGV[2], id)
local drop = redis.call('ZRANGE', KEYS[5], 0, -(tonumber(ARGV[4]) + 1))
redis.call('ZREMRANGEBYRANK', KEYS[5], 0, -(tonumber(ARGV[4]) + 1))
if redis.call('GET', KEYS[6]) == id then redis.call('DEL', KEYS[6]) end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
redis.call('PEXPIRE', KEYS[7], ARGV[3])
return 1
`)

// End closes a handoff: the person is back with the bot. by is who ended it
// ("citizen", "system" or a staff member). The record and its transcript are kept
// for keep (HISTORY_DAYS), then expire. ended is false when it had ended already.
func (h *Handoffs) End(ctx context.Context, id, by string, now time.Time, keep time.Duration) (ho *domain.Handoff, ended bool, err error) {
	cur, err := h.Get(ctx, id)
	if err != nil {
		return nil, false, err
	}
	keys := []string{h.rec(id), h.msgs(id), h.queue(domain.HandoffWaiting), h.queue(domain.HandoffActive), h.queue(domain.HandoffEnded),
		h.key("conv", cur.Conv), h.key("byconv", cur.Conv)}
	n, err := handoffEndScript.Run(ctx, h.s.rdb, keys, by, now.UnixMilli(), keep.Milliseconds(), handoffMaxEnded).Int()
	if err != nil {
		return nil, false, fmt.Errorf("store: end handoff %s: %w", id, err)
	}
	if n == -2 {
		return nil, false, fmt.Errorf("store: handoff %s: %w", id, domain.ErrNotFound)
	}
	if n == 1 {
		h.publish(ctx, domain.HandoffEvent{ID: id, Kind: "ended"})
	}
	ho, err = h.Get(ctx, id)
	return ho, n == 1, err
}

// handoffAppendScript adds a line to a handoff's transcript unless it ended, keeping the
// newest ARGV[2]. KEYS: record, transcript. ARGV: line JSON, max lines, last text
// ("" keeps the one there). Returns the line's number (from 1), or -1 when ended,
// -2 when there is no such handoff.
var handoffAppendScript = redis.NewScript(`
local st = redis.call('HGET', KEYS[1], 'state')
if not st then return -2 end
if st == 'ended' then return -1 end
redis.call('RPUSH', KEYS[2], ARGV[1])
if redis.call('LLEN', KEYS[2]) > tonumber(ARGV[2]) then redis.call('LPOP', KEYS[2]) end
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'last_text', ARGV[3]) end
return redis.call('HINCRBY', KEYS[1], 'n', 1)
`)

// Append adds a line to the transcript of a handoff that has not ended and returns
// its number (the first line of the transcript is 1); domain.ErrHandoffEnded after the
// end.
func (h *Handoffs) Append(ctx context.Context, id string, l bot.Line) (int64, error) {
	b, err := json.Marshal(l)
	if err != nil {
		return 0, fmt.Errorf("store: encode handoff line: %w", err)
	}
	last := l.Text
	if last == "" && l.Media != "" {
		last = "[foto]"
	}
	n, err := handoffAppendScript.Run(ctx, h.s.rdb, []string{h.rec(id), h.msgs(id)}, b, handoffMaxLines, last).Int64()
	if err != nil {
		return 0, fmt.Errorf("store: add to handoff %s: %w", id, err)
	}
	switch n {
	case -2:
		return 0, fmt.Errorf("store: handoff %s: %w", id, domain.ErrNotFound)
	case -1:
		return 0, fmt.Errorf("store: add to handoff %s: %w", id, domain.ErrHandoffEnded)
	}
	h.publish(ctx, domain.HandoffEvent{ID: id, Kind: "line", Line: n})
	return n, nil
}

// Lines returns the transcript's lines numbered after (0: all that are kept),
// oldest first, with the number of the last one.
func (h *Handoffs) Lines(ctx context.Context, id string, after int64) ([]bot.Line, int64, error) {
	var n *redis.StringCmd
	var r *redis.StringSliceCmd
	_, err := h.s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		n = p.HGet(ctx, h.rec(id), "n")
		r = p.LRange(ctx, h.msgs(id), 0, -1)
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, 0, fmt.Errorf("store: read handoff %s transcript: %w", id, err)
	}
	total, _ := n.Int64()
	raw, _ := r.Result()
	first := total - int64(len(raw)) + 1 // the number of raw[0]
	var out []bot.Line
	for i, s := range raw {
		if first+int64(i) <= after {
			continue
		}
		var l bot.Line
		if json.Unmarshal([]byte(s), &l) == nil {
			out = append(out, l)
		}
	}
	return out, total, nil
}

// Line returns the transcript's line number n.
func (h *Handoffs) Line(ctx context.Context, id string, n int64) (bot.Line, error) {
	lines, _, err := h.Lines(ctx, id, n-1)
	if err != nil {
		return bot.Line{}, err
	}
	if len(lines) == 0 {
		return bot.Line{}, fmt.Errorf("store: handoff %s line %d: %w", id, n, domain.ErrNotFound)
	}
	return lines[0], nil
}

// Rate records the person's rating (1–5) of an ended handoff of their conversation.
func (h *Handoffs) Rate(ctx context.Context, id, conv string, rating int) error {
	ho, err := h.Get(ctx, id)
	if err != nil {
		return err
	}
	if ho.Conv != conv || ho.State != domain.HandoffEnded {
		return fmt.Errorf("store: rate handoff %s: %w", id, domain.ErrNotFound)
	}
	if err := h.s.rdb.HSet(ctx, h.rec(id), "rating", rating).Err(); err != nil {
		return fmt.Errorf("store: rate handoff %s: %w", id, err)
	}
	return nil
}

// handoffTimeoutScript marks a waiting handoff as told that nobody came, once. KEYS: record.
var handoffTimeoutScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'state') ~= 'waiting' then return 0 end
if redis.call('HGET', KEYS[1], 'after_hours') == '1' then return 0 end
if redis.call('HSETNX', KEYS[1], 'timed_out', '1') == 0 then return 0 end
return 1
`)

// Overdue returns the handoffs waiting since before (and not left outside office
// hours) that were not yet returned by Overdue: each is returned once, whichever
// replica asks. They stay in the queue.
func (h *Handoffs) Overdue(ctx context.Context, before time.Time) ([]*domain.Handoff, error) {
	ids, err := h.s.rdb.ZRangeByScore(ctx, h.queue(domain.HandoffWaiting), &redis.ZRangeBy{
		Min: "-inf", Max: "(" + strconv.FormatInt(before.UnixMilli(), 10),
	}).Result()
	if err != nil {
		return nil, fmt.Errorf("store: overdue handoffs: %w", err)
	}
	var out []*domain.Handoff
	for _, id := range ids {
		n, err := handoffTimeoutScript.Run(ctx, h.s.rdb, []string{h.rec(id)}).Int()
		if err != nil {
			return out, fmt.Errorf("store: mark handoff %s overdue: %w", id, err)
		}
		if n == 1 {
			ho, err := h.Get(ctx, id)
			if err != nil {
				return out, err
			}
			out = append(out, ho)
		}
	}
	return out, nil
}

// eraseHandoffsScript deletes every handoff of a conversation. KEYS: conv pointer,
// byconv, the queues, then record and transcript of each. ARGV: the ids.
var eraseHandoffsScript = redis.NewScript(`
for i, id in ipairs(ARGV) do
  redis.call('ZREM', KEYS[3], id)
  redis.call('ZREM', KEYS[4], id)
  redis.call('ZREM', KEYS[5], id)
  redis.call('DEL', KEYS[4 + 2 * i], KEYS[5 + 2 * i])
end
redis.call('DEL', KEYS[1], KEYS[2])
return #ARGV
`)

// Erase deletes every handoff of the conversation conv with its transcript (the
// person asked for their data to be erased).
func (h *Handoffs) Erase(ctx context.Context, conv string) error {
	ids, err := h.s.rdb.SMembers(ctx, h.key("byconv", conv)).Result()
	if err != nil {
		return fmt.Errorf("store: list handoffs to erase: %w", err)
	}
	keys := []string{h.key("conv", conv), h.key("byconv", conv),
		h.queue(domain.HandoffWaiting), h.queue(domain.HandoffActive), h.queue(domain.HandoffEnded)}
	args := make([]any, len(ids))
	for i, id := range ids {
		keys = append(keys, h.rec(id), h.msgs(id))
		args[i] = id
	}
	if err := eraseHandoffsScript.Run(ctx, h.s.rdb, keys, args...).Err(); err != nil {
		return fmt.Errorf("store: erase handoffs: %w", err)
	}
	for _, id := range ids {
		h.publish(ctx, domain.HandoffEvent{ID: id, Kind: "erased"})
	}
	return nil
}

// publish tells every replica's live streams; best effort (a stream that misses it
// catches up at its next look).
func (h *Handoffs) publish(ctx context.Context, e domain.HandoffEvent) {
	b, _ := json.Marshal(e)
	h.s.rdb.Publish(ctx, h.topic(), b)
}

// Events returns the handoff events of every replica as they happen, until ctx ends
// or stop is called. The subscription is active when Events returns.
func (h *Handoffs) Events(ctx context.Context) (<-chan domain.HandoffEvent, func() error, error) {
	ps := h.s.rdb.Subscribe(ctx, h.topic())
	if _, err := ps.Receive(ctx); err != nil {
		ps.Close()
		return nil, nil, fmt.Errorf("store: subscribe to handoff events: %w", err)
	}
	out := make(chan domain.HandoffEvent, 64)
	go func() {
		defer close(out)
		for m := range ps.Channel() {
			var e domain.HandoffEvent
			if json.Unmarshal([]byte(m.Payload), &e) == nil {
				select {
				case out <- e:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out, ps.Close, nil
}
