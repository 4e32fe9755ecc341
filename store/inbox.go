package store

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/redis/go-redis/v9"

	"github.com/layan-id/layan/domain"
)

var looseTicket = regexp.MustCompile(`^\s*([A-Za-z0-9]{2,10})[\s.\-_]*(\d{6})[\s.\-_]*(\d{4,})\s*$`)

// inboxScript runs, in one shard, a query that needs more than one index, in one
// step.
// KEYS: tmp1, tmp2, due (of the scope), then the sets to intersect: the first
// scored by creation time, the others weigh 0.
// ARGV: min, max (creation time, Redis score bounds), now (” when not only
// overdue), sort ('newest' or 'overdue'), count (the first count of the shard's
// matches in the query's order).
// Returns {total, id, score, id, score...}.
var inboxScript = redis.NewScript(`
local t1, t2, due = KEYS[1], KEYS[2], KEYS[3]
local min, max, now, sort = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local cnt = tonumber(ARGV[5])
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
    for _, v in ipairs(redis.call('ZRANGE', t2, 0, cnt - 1, 'WITHSCORES')) do result[#result + 1] = v end
  else
    inter(t1, {t2, t1}, {0, 1})
  end
end
if not result then
  result = {redis.call('ZCARD', t1)}
  for _, v in ipairs(redis.call('ZREVRANGE', t1, 0, cnt - 1, 'WITHSCORES')) do result[#result + 1] = v end
end
redis.call('DEL', t1, t2)
return result
`)

// Inbox answers a staff query at now (for the overdue filter and counts): a page of
// complaints in the query's order, the total matching, and the counts per status.
// It reads indexes only (sorted sets per status, agency, category and deadline, and
// sets per word) in every shard at once, merges the shards' first matches into the
// page, then reads the page's records in one round trip.
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
	var sets [][]string // parts of each set's key, in every shard
	switch {
	case q.Agency != "" && q.Status != "":
		sets = append(sets, []string{"as", q.Agency, string(q.Status)})
	case q.Status != "":
		sets = append(sets, []string{"status", string(q.Status)})
	case q.Agency != "":
		sets = append(sets, []string{"agency", q.Agency})
	default:
		sets = append(sets, []string{"all"})
	}
	if q.Category != "" {
		sets = append(sets, []string{"cat", q.Category})
	}
	if q.Text != "" {
		words := SearchWords(q.Text)
		if len(words) == 0 {
			return page, nil // only words too common to look for
		}
		for _, w := range words {
			sets = append(sets, []string{"w", w})
		}
	}
	minScore, maxScore := "-inf", "+inf"
	if !q.From.IsZero() {
		minScore = strconv.FormatInt(q.From.UnixMilli(), 10)
	}
	if !q.To.IsZero() {
		maxScore = "(" + strconv.FormatInt(q.To.UnixMilli(), 10)
	}
	offset := (q.Page - 1) * q.Size
	first := offset + q.Size // the matches up to the page's end, in the query's order
	var read shardRead
	desc := true
	switch {
	case len(sets) == 1 && q.Sort == domain.SortOverdue && q.Status == "" && q.From.IsZero() && q.To.IsZero():
		// Every open complaint (of the agency), earliest deadline first: the deadline
		// index is that order.
		desc = false
		dueMax := "+inf"
		if q.Overdue {
			dueMax = "(" + strconv.FormatInt(now.UnixMilli(), 10)
		}
		read = func(p redis.Pipeliner, sh, limit int) func() (int64, []redis.Z, error) {
			key := c.dueKey(sh, q.Agency)
			zs := p.ZRangeByScoreWithScores(ctx, key, &redis.ZRangeBy{Min: "-inf", Max: dueMax, Count: int64(limit)})
			n := p.ZCount(ctx, key, "-inf", dueMax)
			return func() (int64, []redis.Z, error) { return n.Val(), zs.Val(), zs.Err() }
		}
	case len(sets) == 1 && !q.Overdue && q.Sort == domain.SortNewest:
		// One index: read the first matches straight from it.
		read = func(p redis.Pipeliner, sh, limit int) func() (int64, []redis.Z, error) {
			key := c.in(sh, sets[0]...)
			zs := p.ZRevRangeByScoreWithScores(ctx, key, &redis.ZRangeBy{Min: minScore, Max: maxScore, Count: int64(limit)})
			n := p.ZCount(ctx, key, minScore, maxScore)
			return func() (int64, []redis.Z, error) { return n.Val(), zs.Val(), zs.Err() }
		}
	default:
		// The script runs alone (as every script does) and deletes its temporary keys
		// before it ends: the same two names serve every query.
		desc = q.Sort != domain.SortOverdue
		nowArg := ""
		if q.Overdue {
			nowArg = strconv.FormatInt(now.UnixMilli(), 10)
		}
		read = func(p redis.Pipeliner, sh, limit int) func() (int64, []redis.Z, error) {
			keys := []string{c.in(sh, "tmp", "1"), c.in(sh, "tmp", "2"), c.dueKey(sh, q.Agency)}
			for _, set := range sets {
				keys = append(keys, c.in(sh, set...))
			}
			args := []any{minScore, maxScore, nowArg, string(q.Sort), limit}
			cmd := inboxScript.EvalSha(ctx, p, keys, args...)
			return func() (int64, []redis.Z, error) {
				res, err := cmd.Slice()
				if isNoScript(err) { // the first query of its kind on this server: load the script
					res, err = inboxScript.Run(ctx, c.s.rdb, keys, args...).Slice()
				}
				if err != nil {
					return 0, nil, err
				}
				var zs []redis.Z
				for j := 1; j+1 < len(res); j += 2 {
					score, _ := strconv.ParseFloat(res[j+1].(string), 64)
					zs = append(zs, redis.Z{Member: res[j].(string), Score: score})
				}
				return res[0].(int64), zs, nil
			}
		}
	}
	total, ids, err := c.firstAcross(ctx, read, desc, first)
	if err != nil {
		return page, fmt.Errorf("store: inbox: %w", err)
	}
	page.Total = total
	if offset >= len(ids) {
		return page, nil
	}
	cps, err := c.getMany(ctx, ids[offset:])
	page.Complaints = cps
	return page, err
}

// shardRead queues, on p, the reading of one shard's first limit matches of a query
// in its order, with the count of all its matches; the function it returns gives
// them once p has run.
type shardRead func(p redis.Pipeliner, sh, limit int) func() (total int64, zs []redis.Z, err error)

// firstAcross returns the total matches of a query over every shard and the ids of
// its first n matches in the query's order (by score, highest first when desc; ties
// by id as one sorted set orders them). Days go to the shards in turn, so each holds
// about a twelfth of any stretch of time: a deep page first asks each shard for a
// little more than its share, and asks again, for all n, only a shard whose share
// turned out too small (its last match read still lies within the first n).
func (c *Complaints) firstAcross(ctx context.Context, read shardRead, desc bool, n int) (int64, []string, error) {
	limit := n
	if n > 4*shards {
		limit = min(n, n/shards*3/2+50)
	}
	type result struct {
		total int64
		zs    []redis.Z
	}
	res := make([]result, shards)
	ask := func(which []int, limit int) error {
		p := c.s.rdb.Pipeline()
		got := make([]func() (int64, []redis.Z, error), len(which))
		for i, sh := range which {
			got[i] = read(p, sh, limit)
		}
		if _, err := p.Exec(ctx); err != nil && !isNoScript(err) {
			return err
		}
		for i, sh := range which {
			total, zs, err := got[i]()
			if err != nil {
				return fmt.Errorf("shard %d: %w", sh, err)
			}
			res[sh] = result{total, zs}
		}
		return nil
	}
	all := make([]int, shards)
	for sh := range all {
		all[sh] = sh
	}
	if err := ask(all, limit); err != nil {
		return 0, nil, err
	}
	cmp := order(desc)
	merge := func() []redis.Z {
		var zs []redis.Z
		for _, r := range res {
			zs = append(zs, r.zs...)
		}
		slices.SortFunc(zs, cmp)
		return zs[:min(len(zs), n)]
	}
	zs := merge()
	if limit < n {
		var again []int
		for sh, r := range res {
			cut := int64(len(r.zs)) < r.total // the shard has more than it gave
			if cut && (len(zs) < n || cmp(r.zs[len(r.zs)-1], zs[len(zs)-1]) < 0) {
				again = append(again, sh)
			}
		}
		if len(again) > 0 {
			if err := ask(again, n); err != nil {
				return 0, nil, err
			}
			zs = merge()
		}
	}
	var total int64
	for _, r := range res {
		total += r.total
	}
	ids := make([]string, len(zs))
	for i, z := range zs {
		ids[i] = z.Member.(string)
	}
	return total, ids, nil
}

// dueKey is the deadline index of an agency, or of all, in shard sh.
func (c *Complaints) dueKey(sh int, agency string) string {
	if agency == "" {
		return c.in(sh, "due")
	}
	return c.in(sh, "due", agency)
}

// counts fills the counts per status and overdue within agency ("" all), summed
// over the shards in one round trip.
func (c *Complaints) counts(ctx context.Context, agency string, now time.Time, page *domain.InboxPage) error {
	p := c.s.rdb.Pipeline()
	cmds := map[domain.Status][]*redis.IntCmd{}
	var overdue []*redis.IntCmd
	for sh := range shards {
		for _, st := range domain.Statuses() {
			if agency == "" {
				cmds[st] = append(cmds[st], p.ZCard(ctx, c.in(sh, "status", string(st))))
			} else {
				cmds[st] = append(cmds[st], p.ZCard(ctx, c.in(sh, "as", agency, string(st))))
			}
		}
		overdue = append(overdue, p.ZCount(ctx, c.dueKey(sh, agency), "-inf", "("+strconv.FormatInt(now.UnixMilli(), 10)))
	}
	if _, err := p.Exec(ctx); err != nil {
		return fmt.Errorf("store: count complaints: %w", err)
	}
	for st, cs := range cmds {
		for _, cmd := range cs {
			page.Counts[st] += cmd.Val()
		}
	}
	for _, cmd := range overdue {
		page.Overdue += cmd.Val()
	}
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

// Filed returns the complaints filed in [from, to), of one agency ("-" none yet; ""
// all), oldest first, read in batches (the leaders' reports).
func (c *Complaints) Filed(ctx context.Context, from, to time.Time, agency string) ([]*domain.Complaint, error) {
	parts := []string{"all"}
	if agency != "" {
		parts = []string{"agency", agency}
	}
	ids, err := c.merged(ctx, false, -1, func(p redis.Pipeliner, sh int) *redis.ZSliceCmd {
		return p.ZRangeByScoreWithScores(ctx, c.in(sh, parts...), &redis.ZRangeBy{
			Min: strconv.FormatInt(from.UnixMilli(), 10), Max: "(" + strconv.FormatInt(to.UnixMilli(), 10),
		})
	})
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
