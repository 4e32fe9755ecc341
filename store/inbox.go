package store

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/redis/go-redis/v9"

	"github.com/layan-id/layan/domain"
)

var looseTicket = regexp.MustCompile(`^\s*([A-Za-z0-9]{2,10})[\s.\-_]*(\d{6})[\s.\-_]*(\d{4,})\s*$`)

// inboxScript runs a query that needs more than one index, in one step.
// KEYS: tmp1, tmp2, due (of the scope), then the sets to intersect: the first
// scored by creation time, the others weigh 0.
// ARGV: min, max (creation time, Redis score bounds), now (” when not only
// overdue), sort ('newest' or 'overdue'), offset, count.
// Returns {total, ids...}.
var inboxScript = redis.NewScript(`
local t1, t2, due = KEYS[1], KEYS[2], KEYS[3]
local min, max, now, sort = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local off, cnt = tonumber(ARGV[5]), tonumber(ARGV[6])
local function inter(dest, sets, weights)
  local args = {'ZINTERSTORE', dest, #sets}
  for _, k in ipairs(sets) do args[#args + 1] = k end
  args[#args + 1] = 'WEIGHTS'
  for _, w in ipairs(weights) do args[#args + 1] = w end
  redis.call(unpack(args))
end
local sets, weights = {}, {}
for i = 4, #KEYS do sets[#sets + 1] = KEYS[i]; weights[#weights + 1] = (i == 4) and 1 or 0 end
local timed = (now ~= '' or sort == 'overdue')
if timed then sets[#sets + 1] = due; weights[#weights + 1] = 0 end
inter(t1, sets, weights)
if min ~= '-inf' then redis.call('ZREMRANGEBYSCORE', t1, '-inf', '(' .. min) end
if max ~= '+inf' then redis.call('ZREMRANGEBYSCORE', t1, string.sub(max, 2), '+inf') end
local result
if timed then
  inter(t2, {t1, due}, {0, 1})
  if now ~= '' then redis.call('ZREMRANGEBYSCORE', t2, now, '+inf') end
  if sort == 'overdue' then
    result = {redis.call('ZCARD', t2)}
    for _, id in ipairs(redis.call('ZRANGE', t2, off, off + cnt - 1)) do result[#result + 1] = id end
  else
    inter(t1, {t2, t1}, {0, 1})
  end
end
if not result then
  result = {redis.call('ZCARD', t1)}
  for _, id in ipairs(redis.call('ZREVRANGE', t1, off, off + cnt - 1)) do result[#result + 1] = id end
end
redis.call('DEL', t1, t2)
return result
`)

// Inbox answers a staff query at now (for the overdue filter and counts): a page of
// complaints in the query's order, the total matching, and the counts per status.
// It reads indexes only (sorted sets per status, agency, category and deadline, and
// sets per word), then the page's records in one round trip.
func (c *Complaints) Inbox(ctx context.Context, q domain.InboxQuery, now time.Time) (domain.InboxPage, error) {
	page := domain.InboxPage{Counts: map[domain.Status]int64{}}
	q.Page, q.Size = max(q.Page, 1), min(max(q.Size, 1), domain.MaxInboxPage)
	if q.Sort == "" {
		q.Sort = domain.SortNewest
	}
	if err := c.counts(ctx, q.Agency, now, &page); err != nil {
		return page, err
	}
	if m := looseTicket.FindStringSubmatch(q.Text); m != nil {
		return c.ticket(ctx, strings.ToUpper(m[1])+"-"+m[2]+"-"+m[3], q, now, page)
	}
	// The first set is scored by creation time: the narrowest of status and agency.
	var sets []string
	switch {
	case q.Agency != "" && q.Status != "":
		sets = append(sets, c.key("as", q.Agency, string(q.Status)))
	case q.Status != "":
		sets = append(sets, c.key("status", string(q.Status)))
	case q.Agency != "":
		sets = append(sets, c.key("agency", q.Agency))
	default:
		sets = append(sets, c.key("all"))
	}
	if q.Category != "" {
		sets = append(sets, c.key("cat", q.Category))
	}
	if q.Text != "" {
		words := SearchWords(q.Text)
		if len(words) == 0 {
			return page, nil // only words too common to look for
		}
		for _, w := range words {
			sets = append(sets, c.key("w", w))
		}
	}
	minScore, maxScore := "-inf", "+inf"
	if !q.From.IsZero() {
		minScore = strconv.FormatInt(q.From.UnixMilli(), 10)
	}
	if !q.To.IsZero() {
		maxScore = "(" + strconv.FormatInt(q.To.UnixMilli(), 10)
	}
	offset := int64((q.Page - 1) * q.Size)
	var ids []string
	if len(sets) == 1 && q.Sort == domain.SortOverdue && q.Status == "" && q.From.IsZero() && q.To.IsZero() {
		// Every open complaint (of the agency), earliest deadline first: the deadline
		// index is that order.
		dueMax := "+inf"
		if q.Overdue {
			dueMax = "(" + strconv.FormatInt(now.UnixMilli(), 10)
		}
		var err error
		key := c.dueKey(q.Agency)
		ids, err = c.s.rdb.ZRangeByScore(ctx, key, &redis.ZRangeBy{Min: "-inf", Max: dueMax, Offset: offset, Count: int64(q.Size)}).Result()
		if err != nil {
			return page, fmt.Errorf("store: inbox: %w", err)
		}
		if page.Total, err = c.s.rdb.ZCount(ctx, key, "-inf", dueMax).Result(); err != nil {
			return page, fmt.Errorf("store: inbox: %w", err)
		}
	} else if len(sets) == 1 && !q.Overdue && q.Sort == domain.SortNewest {
		// One index: read the page straight from it.
		var err error
		ids, err = c.s.rdb.ZRevRangeByScore(ctx, sets[0], &redis.ZRangeBy{Min: minScore, Max: maxScore, Offset: offset, Count: int64(q.Size)}).Result()
		if err != nil {
			return page, fmt.Errorf("store: inbox: %w", err)
		}
		if page.Total, err = c.s.rdb.ZCount(ctx, sets[0], minScore, maxScore).Result(); err != nil {
			return page, fmt.Errorf("store: inbox: %w", err)
		}
	} else {
		// The script runs alone (as every script does) and deletes its temporary keys
		// before it ends: the same two names serve every query.
		keys := append([]string{c.key("tmp", "1"), c.key("tmp", "2"), c.dueKey(q.Agency)}, sets...)
		nowArg := ""
		if q.Overdue {
			nowArg = strconv.FormatInt(now.UnixMilli(), 10)
		}
		res, err := inboxScript.Run(ctx, c.s.rdb, keys, minScore, maxScore, nowArg, string(q.Sort), offset, q.Size).Slice()
		if err != nil {
			return page, fmt.Errorf("store: inbox: %w", err)
		}
		page.Total = res[0].(int64)
		for _, v := range res[1:] {
			ids = append(ids, v.(string))
		}
	}
	cps, err := c.getMany(ctx, ids)
	page.Complaints = cps
	return page, err
}

// dueKey is the deadline index of an agency, or of all.
func (c *Complaints) dueKey(agency string) string {
	if agency == "" {
		return c.key("due")
	}
	return c.key("due", agency)
}

// counts fills the counts per status and overdue within agency ("" all).
func (c *Complaints) counts(ctx context.Context, agency string, now time.Time, page *domain.InboxPage) error {
	p := c.s.rdb.Pipeline()
	cmds := map[domain.Status]*redis.IntCmd{}
	for _, st := range domain.Statuses() {
		if agency == "" {
			cmds[st] = p.ZCard(ctx, c.key("status", string(st)))
		} else {
			cmds[st] = p.ZCard(ctx, c.key("as", agency, string(st)))
		}
	}
	overdue := p.ZCount(ctx, c.dueKey(agency), "-inf", "("+strconv.FormatInt(now.UnixMilli(), 10))
	if _, err := p.Exec(ctx); err != nil {
		return fmt.Errorf("store: count complaints: %w", err)
	}
	for st, cmd := range cmds {
		page.Counts[st] = cmd.Val()
	}
	page.Overdue = overdue.Val()
	return nil
}

// ticket answers a query for one ticket: that complaint when it passes the other
// filters.
func (c *Complaints) ticket(ctx context.Context, id string, q domain.InboxQuery, now time.Time, page domain.InboxPage) (domain.InboxPage, error) {
	cp, err := c.Get(ctx, id)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return page, err
	}
	if cp == nil || q.Status != "" && cp.Status != q.Status || q.Category != "" && cp.Category != q.Category ||
		q.Agency != "" && agencyOf(cp) != q.Agency || q.Overdue && !cp.Overdue(now) ||
		!q.From.IsZero() && cp.CreatedAt.Before(q.From) || !q.To.IsZero() && !cp.CreatedAt.Before(q.To) ||
		q.Page > 1 {
		return page, nil
	}
	page.Complaints, page.Total = []*domain.Complaint{cp}, 1
	return page, nil
}

// stopWords are words too common in complaints to narrow a search.
var stopWords = map[string]bool{
	"yang": true, "dan": true, "dari": true, "ini": true, "itu": true, "ada": true, "dengan": true,
	"untuk": true, "tidak": true, "sudah": true, "belum": true, "juga": true, "karena": true, "pada": true,
	"sangat": true, "sekali": true, "kami": true, "saya": true, "mohon": true, "tolong": true, "the": true,
	"and": true, "for": true, "with": true, "this": true, "that": true, "there": true, "please": true,
}

// maxWords is how many words of one complaint are indexed.
const maxWords = 48

// SearchWords returns the words the inbox indexes and searches for in s: lower case,
// letters and digits, at least three characters, no common word, each once.
func SearchWords(s string) []string {
	seen := map[string]bool{}
	var out []string
	for _, w := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		if len([]rune(w)) < 3 || stopWords[w] || seen[w] {
			continue
		}
		seen[w] = true
		out = append(out, w)
		if len(out) == maxWords {
			break
		}
	}
	return out
}

// indexVersion is the version of the inbox's indexes; Reindex builds them for
// complaints filed before it.
const indexVersion = "2"

// Reindex builds the inbox's indexes and deadlines of complaints filed before them
// (records without an agency or schema load as they are), once: it does nothing
// when the store's indexes are of this version. Deadlines that passed long ago are
// not announced one by one (they are in the daily digest). Safe to run on several
// replicas at once.
func (c *Complaints) Reindex(ctx context.Context) (int, error) {
	v, err := c.s.rdb.Get(ctx, c.key("index")).Result()
	if err != nil && err != redis.Nil {
		return 0, fmt.Errorf("store: read index version: %w", err)
	}
	if v == indexVersion {
		return 0, nil
	}
	n := 0
	for start := int64(0); ; start += 500 {
		ids, err := c.s.rdb.ZRange(ctx, c.key("all"), start, start+499).Result()
		if err != nil {
			return n, fmt.Errorf("store: reindex complaints: %w", err)
		}
		if len(ids) == 0 {
			break
		}
		cps, err := c.getMany(ctx, ids)
		if err != nil {
			return n, err
		}
		p := c.s.rdb.Pipeline()
		for _, cp := range cps {
			z, words := c.indexes(cp)
			for _, s := range z {
				p.ZAdd(ctx, s.key, redis.Z{Score: s.score, Member: cp.ID})
			}
			for _, w := range words {
				p.SAdd(ctx, w, cp.ID)
			}
		}
		if _, err := p.Exec(ctx); err != nil {
			return n, fmt.Errorf("store: reindex complaints: %w", err)
		}
		n += len(cps)
	}
	if err := c.s.rdb.Del(ctx, c.key("sla")).Err(); err != nil {
		return n, fmt.Errorf("store: reindex complaints: %w", err)
	}
	if err := c.s.rdb.Set(ctx, c.key("index"), indexVersion, 0).Err(); err != nil {
		return n, fmt.Errorf("store: reindex complaints: %w", err)
	}
	return n, nil
}

// Filed returns the complaints filed in [from, to), of one agency ("-" none yet; ""
// all), oldest first, read in batches (the leaders' reports).
func (c *Complaints) Filed(ctx context.Context, from, to time.Time, agency string) ([]*domain.Complaint, error) {
	index := c.key("all")
	if agency != "" {
		index = c.key("agency", agency)
	}
	ids, err := c.s.rdb.ZRangeByScore(ctx, index, &redis.ZRangeBy{
		Min: strconv.FormatInt(from.UnixMilli(), 10), Max: "(" + strconv.FormatInt(to.UnixMilli(), 10),
	}).Result()
	if err != nil {
		return nil, fmt.Errorf("store: complaints filed: %w", err)
	}
	var out []*domain.Complaint
	for len(ids) > 0 {
		n := min(len(ids), 500)
		batch, err := c.getMany(ctx, ids[:n])
		if err != nil {
			return nil, err
		}
		out, ids = append(out, batch...), ids[n:]
	}
	return out, nil
}
