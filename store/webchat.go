package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/layan-id/layan/bot"
)

// Web chat keys: a registered conversation id (web:<id>), and under the conversation's
// hash tag its pushed replies (a sorted set scored by a sequence number) with their
// bookkeeping (a hash: the last sequence number given, and how far the replies were
// delivered), plus one pub/sub channel that carries the ids of conversations with new
// replies to every replica.
//
// Replies are not removed when one reader takes them: each live stream (a tab) keeps
// its own cursor over them, so two tabs each get every reply once. A reply is dropped
// some minutes after it was marked delivered (a tab that lost its connection resumes
// from its own cursor meanwhile), when more than webInboxMax pile up, or when nothing
// was pushed for webInboxTTL.
const (
	webChatTTL       = 90 * 24 * time.Hour // a conversation unused this long is forgotten
	webInboxTTL      = 7 * 24 * time.Hour  // pushed replies nobody fetched
	webInboxMax      = 200                 // the newest kept when nobody fetches
	webDeliveredKeep = 10 * time.Minute    // a delivered reply stays at least this long, for other tabs
)

// WebChats keeps web chat conversations and their inboxes.
type WebChats struct {
	s   *Store
	now func() time.Time
}

// WebChats returns the web chat store.
func (s *Store) WebChats() *WebChats { return &WebChats{s: s, now: time.Now} }

// WithClock returns the web chat store reading the time from now (for tests).
func (w *WebChats) WithClock(now func() time.Time) *WebChats { return &WebChats{s: w.s, now: now} }

func (w *WebChats) chatKey(id string) string { return w.s.key("web", id) }
func (w *WebChats) topic() string            { return w.s.key("web", "push") }

// inboxKeys are the pushed replies, their bookkeeping, and the list an older version
// kept undelivered replies in (moved over on first use).
func (w *WebChats) inboxKeys(id string) []string {
	conv := "webchat:" + id
	return []string{w.s.convKey(conv, "pushed"), w.s.convKey(conv, "pushed:meta"), w.s.convKey(conv, "inbox")}
}

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

// A pushed reply is the member "seq:reply JSON" scored seq (unique even when two
// replies say the same). The hash holds seq (the last number given), seen (the
// delivered mark), and old and old_at: a mark and when it was taken, so replies are
// dropped only webDeliveredKeep after they were marked delivered. The scripts use no
// clock and no randomness (time comes in as an argument), so they replay the same.

// inboxMigrate moves the replies an older version left in its list (KEYS[3]) into the
// sorted set, in order. ARGV[1] is the TTL in ms.
const inboxMigrate = `
local old = redis.call('LRANGE', KEYS[3], 0, -1)
if #old > 0 then
  for _, v in ipairs(old) do
    local s = redis.call('HINCRBY', KEYS[2], 'seq', 1)
    redis.call('ZADD', KEYS[1], s, s .. ':' .. v)
  end
  redis.call('DEL', KEYS[3])
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  redis.call('PEXPIRE', KEYS[2], ARGV[1])
end
`

// pushScript gives the reply ARGV[2] the next sequence number and keeps the newest
// ARGV[3] replies. ARGV[4], when not empty, names what the reply belongs to (a
// broadcast run): a second push of the same name is dropped (returns 0). The newest
// webOnceMax names are kept, in the hash's field once.
var pushScript = redis.NewScript(inboxMigrate + `
if ARGV[4] ~= '' then
  local names = redis.call('HGET', KEYS[2], 'once') or ''
  if string.find(' ' .. names .. ' ', ' ' .. ARGV[4] .. ' ', 1, true) then return 0 end
  local kept = {}
  for n in string.gmatch(names, '%S+') do kept[#kept + 1] = n end
  kept[#kept + 1] = ARGV[4]
  while #kept > tonumber(ARGV[5]) do table.remove(kept, 1) end
  redis.call('HSET', KEYS[2], 'once', table.concat(kept, ' '))
end
local s = redis.call('HINCRBY', KEYS[2], 'seq', 1)
redis.call('ZADD', KEYS[1], s, s .. ':' .. ARGV[2])
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -(tonumber(ARGV[3]) + 1))
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[1])
return s
`)

// readScript returns {cursor, members}: up to ARGV[3] replies after the cursor
// ARGV[2], oldest first. A negative cursor, or one past the last sequence number (the
// inbox expired and started again), starts after the delivered mark.
var readScript = redis.NewScript(inboxMigrate + `
local top = tonumber(redis.call('HGET', KEYS[2], 'seq') or '0')
local after = tonumber(ARGV[2])
if after < 0 or after > top then after = tonumber(redis.call('HGET', KEYS[2], 'seen') or '0') end
return {after, redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. after, '+inf', 'LIMIT', 0, tonumber(ARGV[3]))}
`)

// deliveredScript raises the delivered mark to ARGV[1] (never lowers it, never past
// the last reply). ARGV[2] is now in ms; a mark taken ARGV[3] ms before drops the
// replies up to it.
var deliveredScript = redis.NewScript(`
local top = tonumber(redis.call('HGET', KEYS[2], 'seq') or '0')
if top == 0 then return 0 end
local seen = tonumber(redis.call('HGET', KEYS[2], 'seen') or '0')
local c = tonumber(ARGV[1])
if c > seen and c <= top then
  redis.call('HSET', KEYS[2], 'seen', ARGV[1])
  seen = c
end
local at = tonumber(redis.call('HGET', KEYS[2], 'old_at') or '0')
if tonumber(ARGV[2]) - at >= tonumber(ARGV[3]) then
  local old = redis.call('HGET', KEYS[2], 'old')
  if old then redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', old) end
  redis.call('HSET', KEYS[2], 'old', seen, 'old_at', ARGV[2])
end
return seen
`)

// Push adds a reply to the conversation's inbox and wakes its live streams, wherever
// they are served. Only a failure to store the reply is an error: a stream that misses
// the wake-up finds the reply at its next heartbeat.
func (w *WebChats) Push(ctx context.Context, id string, r bot.Reply) error {
	_, err := w.PushOnce(ctx, id, "", r)
	return err
}

// webOnceMax is how many names of PushOnce one inbox remembers.
const webOnceMax = 32

// PushOnce is Push for a reply that must reach the inbox once however often it is
// sent, named by once (a broadcast run resent after a dying replica's lease lapsed):
// a push whose name the inbox already had is dropped, and pushed is false. Among the
// last 32 names, while the inbox lives. An empty once is a plain Push.
func (w *WebChats) PushOnce(ctx context.Context, id, once string, r bot.Reply) (pushed bool, err error) {
	b, err := json.Marshal(r)
	if err != nil {
		return false, fmt.Errorf("store: encode pushed reply: %w", err)
	}
	if strings.ContainsAny(once, " \t\n") {
		return false, fmt.Errorf("store: push to web chat: the name %q holds a space", once)
	}
	n, err := pushScript.Run(ctx, w.s.rdb, w.inboxKeys(id), webInboxTTL.Milliseconds(), b, webInboxMax, once, webOnceMax).Int64()
	if err != nil {
		return false, fmt.Errorf("store: push to web chat: %w", err)
	}
	if n == 0 {
		return false, nil
	}
	w.s.rdb.Publish(ctx, w.topic(), id) // best effort, see above
	return true, nil
}

// FromDelivered is the cursor that starts after the replies already delivered.
const FromDelivered = -1

// Pending returns up to max replies pushed to the conversation after cursor, oldest
// first, and the cursor after them (the same cursor when there are none). It removes
// nothing: a reader that showed them calls Delivered. Cursor FromDelivered starts
// after what was last marked delivered; a cursor from an inbox that has since expired
// does too. A reply that cannot be read is skipped but passed by the cursor.
func (w *WebChats) Pending(ctx context.Context, id string, cursor int64, max int) ([]bot.Reply, int64, error) {
	res, err := readScript.Run(ctx, w.s.rdb, w.inboxKeys(id), webInboxTTL.Milliseconds(), cursor, max).Slice()
	if err != nil || len(res) != 2 {
		return nil, cursor, fmt.Errorf("store: read web chat inbox: %w", err)
	}
	next, _ := res[0].(int64)
	items, _ := res[1].([]any)
	out := make([]bot.Reply, 0, len(items))
	for _, it := range items {
		s, _ := it.(string)
		seq, raw, _ := strings.Cut(s, ":")
		if n, err := strconv.ParseInt(seq, 10, 64); err == nil && n > next {
			next = n
		}
		var r bot.Reply
		if json.Unmarshal([]byte(raw), &r) == nil {
			out = append(out, r)
		}
	}
	return out, next, nil
}

// Delivered records that the replies up to cursor reached the person, so that a later
// Pending from FromDelivered (a plain inbox call, a newly opened tab) does not give
// them again. The mark only moves forward. Replies marked delivered some minutes
// before are dropped.
func (w *WebChats) Delivered(ctx context.Context, id string, cursor int64) error {
	now := w.now().UnixMilli()
	if err := deliveredScript.Run(ctx, w.s.rdb, w.inboxKeys(id)[:2], cursor, now, webDeliveredKeep.Milliseconds()).Err(); err != nil {
		return fmt.Errorf("store: mark web chat replies delivered: %w", err)
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
