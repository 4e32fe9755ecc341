package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/domain"
)

// ErrNotFound is returned for a record that does not exist (it is domain.ErrNotFound).
var ErrNotFound = domain.ErrNotFound

// Complaints keeps complaints, their indexes and their ticket sequence, spread over
// shards so that on Redis Cluster they spread over the masters while every script and
// transaction still touches one slot.
//
// A complaint lives in the shard of the day it was filed (its ticket names the day:
// BTG-261127-0042), shard (days since 1970 in TZ_REGION) mod 12, whose hash tag is
// one of shardTags. A shard holds, for its complaints: {cmp:N}:c:<id> (the record,
// JSON), {cmp:N}:idem:<key> (the ticket a confirmation already created),
// {cmp:N}:by:<conversation> (a reporter's ids), {cmp:N}:photos (the photos they keep),
// and the inbox's indexes, sorted sets of ids by creation time: {cmp:N}:all,
// {cmp:N}:status:<status>, {cmp:N}:agency:<code>, {cmp:N}:as:<code>:<status> (agency and
// status), {cmp:N}:cat:<category> ("-" is no agency); {cmp:N}:due and
// {cmp:N}:due:<code> (open complaints by their running deadline), {cmp:N}:alert
// (deadlines not yet announced), {cmp:N}:w:<word> (sets of ids whose description or
// address has the word). So filing a complaint (record, idempotency mark and every
// index) is one script on one shard, and a change of one complaint one transaction.
// Queries read every shard and merge (inbox.go).
//
// Under the one tag {cmp}, shared by every version: {cmp}:seq:<yymmdd> (the day's
// ticket counter: an earlier version filing during a rolling upgrade takes its numbers
// from the same counter, so no number is given twice) and {cmp}:digest:<date> (the
// daily digest went out). Earlier versions kept everything under {cmp}
// ({cmp}:c:<id>, {cmp}:all, ...): Migrate moves those complaints into the shards
// (migrate.go).
type Complaints struct {
	s      *Store
	prefix string // ticket prefix, e.g. "BTG"
	loc    *time.Location
	sla    domain.SLA
}

// shardTags are the shards' hash tags: one in each twelfth of the 16,384 slots of a
// cluster, so that masters that split the slots evenly (2, 3, 4, 6 or 12 of them)
// hold as many shards each.
var shardTags = [...]string{"cmp:1", "cmp:12", "cmp:23", "cmp:0", "cmp:13", "cmp:22", "cmp:3", "cmp:10", "cmp:21", "cmp:2", "cmp:11", "cmp:20"}

// shards is how many shards complaints are spread over.
const shards = len(shardTags)

// Complaints returns the complaint store; tickets are named prefix-yymmdd-NNNN with
// the date in loc. Deadlines are the default working days without holidays until
// WithSLA.
func (s *Store) Complaints(ticketPrefix string, loc *time.Location) *Complaints {
	cal, _ := domain.NewCalendar(loc, nil)
	return &Complaints{s: s, prefix: ticketPrefix, loc: loc, sla: domain.SLA{
		VerifyDays: domain.DefaultVerifyDays, FollowUpDays: domain.DefaultFollowUpDays, Calendar: cal}}
}

// WithSLA returns the store keeping each complaint's deadline by p (SLA_VERIFY_DAYS,
// SLA_FOLLOWUP_DAYS, the holidays).
func (c *Complaints) WithSLA(p domain.SLA) *Complaints {
	out := *c
	out.sla = p
	return &out
}

// SLA returns the deadlines the store keeps.
func (c *Complaints) SLA() domain.SLA { return c.sla }

// key builds a key under {cmp}: the keys every version shares (the day's ticket
// counter, the digest) and the layout of earlier versions.
func (c *Complaints) key(parts ...string) string {
	return c.tagged("cmp", parts)
}

// in builds a key of shard sh.
func (c *Complaints) in(sh int, parts ...string) string {
	return c.tagged(shardTags[sh], parts)
}

func (c *Complaints) tagged(tag string, parts []string) string {
	k := c.s.prefix + "{" + tag + "}"
	for _, p := range parts {
		k += ":" + p
	}
	return k
}

// shardOfDay is the shard of the complaints filed on day (yymmdd).
func shardOfDay(day string) int {
	t, err := time.Parse("060102", day)
	if err != nil { // not a date: any shard will do, the same every time
		h := fnv.New32a()
		h.Write([]byte(day))
		return int(h.Sum32() % uint32(shards))
	}
	return int(t.Unix()/86400) % shards
}

// shardOf is the shard of complaint id (PREFIX-yymmdd-NNNN).
func shardOf(id string) int {
	parts := strings.Split(id, "-")
	if len(parts) < 2 {
		return shardOfDay(id)
	}
	return shardOfDay(parts[len(parts)-2])
}

func agencyOf(cp *domain.Complaint) string {
	if cp.Agency == "" {
		return domain.NoAgency
	}
	return cp.Agency
}

// scored is one sorted-set membership of a complaint.
type scored struct {
	key   string
	score float64
}

// indexes returns the sorted sets a complaint belongs to, with its score in each,
// and the word sets (besides alert, which follows the deadline's changes, and by,
// which never changes), with keys made by key: the complaint's shard, or the layout
// of earlier versions.
func (c *Complaints) indexes(key func(...string) string, cp *domain.Complaint) ([]scored, []string) {
	created := float64(cp.CreatedAt.UnixMilli())
	a, st := agencyOf(cp), string(cp.Status)
	z := []scored{
		{key("all"), created}, {key("status", st), created}, {key("agency", a), created},
		{key("as", a, st), created}, {key("cat", cp.Category), created},
	}
	if cp.Phase != "" {
		due := float64(cp.Due.UnixMilli())
		z = append(z, scored{key("due"), due}, scored{key("due", a), due})
	}
	var words []string
	for _, w := range SearchWords(cp.Description + " " + cp.Address) {
		words = append(words, key("w", w))
	}
	return z, words
}

// shardKeys returns the key maker of the shard of complaint id.
func (c *Complaints) shardKeys(id string) func(...string) string {
	sh := shardOf(id)
	return func(parts ...string) string { return c.in(sh, parts...) }
}

// keepDeadline sets the record's running deadline.
func (c *Complaints) keepDeadline(cp *domain.Complaint) {
	cp.Phase, cp.Due = c.sla.Deadline(cp)
}

// seqScript takes the next number of a day's ticket counter (KEYS[1]), kept 48 h.
var seqScript = redis.NewScript(`
local n = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], 172800000)
return n
`)

// createScript files a complaint in its shard: unless the idempotency key already
// names a ticket, it writes the record and adds it to every index, in one step.
// KEYS: idem, photos, by, record, then nz sorted sets, then word sets.
// ARGV: id, record JSON, idem ttl ms, nz, created (unix ms, the score in by), then nz
// scores, then the names of its photos (kept: see PhotoKept).
var createScript = redis.NewScript(`
local existing = redis.call('GET', KEYS[1])
if existing then return {existing, 0} end
local id = ARGV[1]
redis.call('SET', KEYS[4], ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[5], id)
local nz = tonumber(ARGV[4])
for i = 1, nz do redis.call('ZADD', KEYS[4 + i], ARGV[5 + i], id) end
for i = 5 + nz, #KEYS do redis.call('SADD', KEYS[i], id) end
redis.call('SET', KEYS[1], id, 'PX', ARGV[3])
for i = 6 + nz, #ARGV do redis.call('SADD', KEYS[2], ARGV[i]) end
return {id, 1}
`)

// Create files a new complaint (Status, CreatedAt and History must be set; Agency is
// the agency its category is routed to, or empty) and returns it with its ticket id.
// idem names the confirmation that creates it: the same idem within 48 h returns the
// ticket already created, never a second one. The store sets its schema and its
// deadline.
//
// The number comes from the day's counter, then the record and every index are
// written in one script on the day's shard: a crash between the two leaves a number
// unused (tickets may skip a number, never repeat one), and a complaint is either
// wholly filed or not at all. When Redis has replicas, Create returns once one of
// them has the complaint too (see Store.promise).
func (c *Complaints) Create(ctx context.Context, cp *domain.Complaint, idem string) (*domain.Complaint, bool, error) {
	cp.ID = ""
	cp.Schema = domain.ComplaintSchema
	c.keepDeadline(cp)
	day := cp.CreatedAt.In(c.loc).Format("060102")
	if id, err := c.filedBy(ctx, idem); err != nil {
		return nil, false, err
	} else if id != "" {
		got, err := c.Get(ctx, id)
		return got, false, err
	}
	n, err := seqScript.Run(ctx, c.s.rdb, []string{c.key("seq", day)}).Int64()
	if err != nil {
		return nil, false, fmt.Errorf("store: number a complaint: %w", err)
	}
	cp.ID = fmt.Sprintf("%s-%s-%04d", c.prefix, day, n)
	raw, err := json.Marshal(cp)
	if err != nil {
		return nil, false, fmt.Errorf("store: encode complaint: %w", err)
	}
	key := c.shardKeys(cp.ID)
	z, words := c.indexes(key, cp)
	if cp.Phase != "" {
		z = append(z, scored{key("alert"), float64(cp.Due.UnixMilli())})
	}
	keys := []string{key("idem", idem), key("photos"), key("by", cp.Reporter.Key), key("c", cp.ID)}
	args := []any{cp.ID, raw, bot.DedupeWindow.Milliseconds(), len(z), cp.CreatedAt.UnixMilli()}
	for _, s := range z {
		keys = append(keys, s.key)
		args = append(args, s.score)
	}
	keys = append(keys, words...)
	for _, p := range cp.Photos {
		args = append(args, p)
	}
	var res []any
	err = c.s.promise(ctx, key("c", cp.ID), func(rdb redis.Scripter) error {
		var err error
		res, err = createScript.Run(ctx, rdb, keys, args...).Slice()
		return err
	})
	if err != nil {
		return nil, false, fmt.Errorf("store: create complaint: %w", err)
	}
	id, _ := res[0].(string)
	created := res[1].(int64) == 1
	got, err := c.Get(ctx, id)
	return got, created, err
}

// filedBy returns the ticket that confirmation idem already filed ("" none), in any
// shard (the same confirmation delivered again after midnight names another day) or
// as an earlier version kept it: one round trip.
func (c *Complaints) filedBy(ctx context.Context, idem string) (string, error) {
	p := c.s.rdb.Pipeline()
	cmds := []*redis.StringCmd{p.Get(ctx, c.key("idem", idem))}
	for sh := range shards {
		cmds = append(cmds, p.Get(ctx, c.in(sh, "idem", idem)))
	}
	if _, err := p.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return "", fmt.Errorf("store: look up a confirmation: %w", err)
	}
	for _, cmd := range cmds {
		if id := cmd.Val(); id != "" {
			return id, nil
		}
	}
	return "", nil
}

// PhotoKept reports whether a photo belongs to a filed complaint (photos of drafts
// that were never filed are removed from the media store after a day): one round
// trip over every shard and the set earlier versions kept.
func (c *Complaints) PhotoKept(ctx context.Context, name string) (bool, error) {
	p := c.s.rdb.Pipeline()
	cmds := []*redis.BoolCmd{p.SIsMember(ctx, c.key("photos"), name)}
	for sh := range shards {
		cmds = append(cmds, p.SIsMember(ctx, c.in(sh, "photos"), name))
	}
	if _, err := p.Exec(ctx); err != nil {
		return false, fmt.Errorf("store: look up photo: %w", err)
	}
	return slices.ContainsFunc(cmds, func(cmd *redis.BoolCmd) bool { return cmd.Val() }), nil
}

// Get returns a complaint, or ErrNotFound. A complaint an earlier version filed
// under {cmp} (during a rolling upgrade, after Migrate ran) is moved into its shard
// first.
func (c *Complaints) Get(ctx context.Context, id string) (*domain.Complaint, error) {
	for range 2 {
		raw, err := c.s.rdb.Get(ctx, c.in(shardOf(id), "c", id)).Bytes()
		if err == nil {
			return c.decode(id, raw)
		}
		if !errors.Is(err, redis.Nil) {
			return nil, fmt.Errorf("store: read complaint %s: %w", id, err)
		}
		if moved, err := c.migrate(ctx, id); err != nil {
			return nil, err
		} else if !moved {
			break
		}
	}
	return nil, fmt.Errorf("complaint %s: %w", id, ErrNotFound)
}

// decode reads a record. One filed before deadlines were kept gets its deadline as
// Update would keep it, so it is marked overdue like the others.
func (c *Complaints) decode(id string, raw []byte) (*domain.Complaint, error) {
	var cp domain.Complaint
	if err := json.Unmarshal(raw, &cp); err != nil {
		return nil, fmt.Errorf("store: decode complaint %s: %w", id, err)
	}
	if cp.Schema < domain.ComplaintSchema && cp.Phase == "" && cp.Due.IsZero() {
		c.keepDeadline(&cp)
	}
	return &cp, nil
}

// getMany reads the records of ids in one round trip (an MGET per shard), in order,
// skipping any that is gone.
func (c *Complaints) getMany(ctx context.Context, ids []string) ([]*domain.Complaint, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	byShard := map[int][]int{} // shard → positions in ids
	for i, id := range ids {
		sh := shardOf(id)
		byShard[sh] = append(byShard[sh], i)
	}
	p := c.s.rdb.Pipeline()
	cmds := map[int]*redis.SliceCmd{}
	for sh, at := range byShard {
		keys := make([]string, len(at))
		for j, i := range at {
			keys[j] = c.in(sh, "c", ids[i])
		}
		cmds[sh] = p.MGet(ctx, keys...)
	}
	if _, err := p.Exec(ctx); err != nil {
		return nil, fmt.Errorf("store: read complaints: %w", err)
	}
	vals := make([]any, len(ids))
	for sh, at := range byShard {
		for j, v := range cmds[sh].Val() {
			vals[at[j]] = v
		}
	}
	out := make([]*domain.Complaint, 0, len(ids))
	for i, v := range vals {
		s, ok := v.(string)
		if !ok {
			continue
		}
		cp, err := c.decode(ids[i], []byte(s))
		if err != nil {
			return nil, err
		}
		out = append(out, cp)
	}
	return out, nil
}

// write queues the record and the changes of its indexes in its shard from before
// (nil: a record the indexes may not know yet; nothing is removed) to after.
func (c *Complaints) write(ctx context.Context, p redis.Pipeliner, before, after *domain.Complaint, record []byte) {
	id := after.ID
	key := c.shardKeys(id)
	p.Set(ctx, key("c", id), record, 0)
	z, words := c.indexes(key, after)
	if before != nil {
		oldZ, oldWords := c.indexes(key, before)
		for _, o := range oldZ {
			if !slices.ContainsFunc(z, func(n scored) bool { return n.key == o.key }) {
				p.ZRem(ctx, o.key, id)
			}
		}
		for _, o := range oldWords {
			if !slices.Contains(words, o) {
				p.SRem(ctx, o, id)
			}
		}
	}
	for _, n := range z {
		p.ZAdd(ctx, n.key, redis.Z{Score: n.score, Member: id})
	}
	for _, w := range words {
		p.SAdd(ctx, w, id)
	}
	switch {
	case after.Phase == "":
		p.ZRem(ctx, key("alert"), id)
	case before != nil && (before.Phase != after.Phase || !before.Due.Equal(after.Due)):
		// a new deadline (another agency, a reopening): announced when it passes
		p.ZAdd(ctx, key("alert"), redis.Z{Score: float64(after.Due.UnixMilli()), Member: id})
	}
}

// Update changes a complaint with f, atomically: the record, its deadline and its
// indexes change together, and a concurrent change makes f run again on the fresh
// record. An error from f is returned as it is and nothing changes.
func (c *Complaints) Update(ctx context.Context, id string, f func(*domain.Complaint) error) (*domain.Complaint, error) {
	out, _, err := c.update(ctx, []string{id}, func(cps []*domain.Complaint) error { return f(cps[0]) })
	if err != nil {
		return nil, err
	}
	return out, nil
}

// MarkDuplicate closes complaint id as a duplicate of the complaint of (see
// domain.Complaint.MarkDuplicate) and makes its reporter a follower of that one, both
// records in one step; f may refuse first (return an error: nothing changes), e.g.
// for an account that may not see one of them. It returns both, duplicate first.
func (c *Complaints) MarkDuplicate(ctx context.Context, id, of, by string, at time.Time, f func(dup, orig *domain.Complaint) error) (*domain.Complaint, *domain.Complaint, error) {
	return c.update(ctx, []string{id, of}, func(cps []*domain.Complaint) error {
		if f != nil {
			if err := f(cps[0], cps[1]); err != nil {
				return err
			}
		}
		return cps[0].MarkDuplicate(cps[1], by, at)
	})
}

// update changes the records of ids (one or two) with f. One record changes in one
// transaction on its shard, with its indexes. Two (a duplicate and its original) may
// live in two shards, so each is written in a transaction of its own, the second
// (the original, which gains a follower) first: a crash between the two leaves the
// original with the follower and the duplicate unchanged, and doing it again finishes
// it (a follower is added once). A concurrent change makes f run again on the fresh
// records.
func (c *Complaints) update(ctx context.Context, ids []string, f func([]*domain.Complaint) error) (*domain.Complaint, *domain.Complaint, error) {
	same := len(ids) == 2 && ids[0] == ids[1]
	if same {
		ids = ids[:1] // a complaint marked a duplicate of itself: f sees it twice and refuses
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = c.in(shardOf(id), "c", id)
	}
	var out []*domain.Complaint
	for range 10 {
		var missing string
		err := c.watchEach(ctx, keys, nil, func(txs []*redis.Tx) error {
			var before, after []*domain.Complaint
			for i, key := range keys {
				raw, err := txs[i].Get(ctx, key).Bytes()
				if errors.Is(err, redis.Nil) {
					missing = ids[i]
					return fmt.Errorf("complaint %s: %w", ids[i], ErrNotFound)
				}
				if err != nil {
					return err
				}
				b, err := c.decode(ids[i], raw)
				if err != nil {
					return err
				}
				a, _ := c.decode(ids[i], raw)
				before, after = append(before, b), append(after, a)
			}
			args := after
			if same {
				args = []*domain.Complaint{after[0], after[0]}
			}
			if err := f(args); err != nil {
				return err
			}
			records := make([][]byte, len(after))
			for i, cp := range after {
				c.keepDeadline(cp)
				b, err := json.Marshal(cp)
				if err != nil {
					return err
				}
				records[i] = b
			}
			for i := len(after) - 1; i >= 0; i-- {
				if _, err := txs[i].TxPipelined(ctx, func(p redis.Pipeliner) error {
					c.write(ctx, p, before[i], after[i], records[i])
					return nil
				}); err != nil {
					return err
				}
			}
			out = after
			return nil
		})
		if errors.Is(err, redis.TxFailedErr) {
			continue // changed meanwhile: again, on the fresh record
		}
		if errors.Is(err, ErrNotFound) && missing != "" {
			// Filed by an earlier version: move it into its shard, then change it.
			if moved, merr := c.migrate(ctx, missing); merr != nil {
				return nil, nil, merr
			} else if moved {
				continue
			}
		}
		if err != nil {
			return nil, nil, fmt.Errorf("store: update complaint %s: %w", ids[0], err)
		}
		if len(out) == 1 {
			return out[0], out[0], nil
		}
		return out[0], out[1], nil
	}
	return nil, nil, fmt.Errorf("store: update complaint %s: too much contention", ids[0])
}

// watchEach watches each key on a connection of its own (keys may live in different
// slots) and runs f with the transactions, in the order of keys.
func (c *Complaints) watchEach(ctx context.Context, keys []string, txs []*redis.Tx, f func([]*redis.Tx) error) error {
	if len(keys) == 0 {
		return f(txs)
	}
	return c.s.rdb.Watch(ctx, func(tx *redis.Tx) error {
		return c.watchEach(ctx, keys[1:], append(txs, tx), f)
	}, keys[0])
}

// List returns complaints, newest first: all of them, or those of one status, a page
// (from 1) of size at a time, and the total count.
func (c *Complaints) List(ctx context.Context, status domain.Status, page, size int) ([]*domain.Complaint, int64, error) {
	res, err := c.Inbox(ctx, domain.InboxQuery{Status: status, Page: page, Size: size}, time.Time{})
	return res.Complaints, res.Total, err
}

// ByReporter returns the complaints of one conversation, newest first.
func (c *Complaints) ByReporter(ctx context.Context, conv string, max int) ([]*domain.Complaint, error) {
	ids, err := c.merged(ctx, true, max, func(p redis.Pipeliner, sh int) *redis.ZSliceCmd {
		return p.ZRevRangeWithScores(ctx, c.in(sh, "by", conv), 0, int64(max)-1)
	})
	if err != nil {
		return nil, fmt.Errorf("store: list complaints: %w", err)
	}
	return c.getMany(ctx, ids)
}

// merged reads one ranking from every shard in one round trip and merges them: the
// first n ids (n < 0: all) by score, highest first when desc, ties broken by id as
// Redis breaks them within one sorted set.
func (c *Complaints) merged(ctx context.Context, desc bool, n int, read func(redis.Pipeliner, int) *redis.ZSliceCmd) ([]string, error) {
	p := c.s.rdb.Pipeline()
	cmds := make([]*redis.ZSliceCmd, shards)
	for sh := range shards {
		cmds[sh] = read(p, sh)
	}
	if _, err := p.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, err
	}
	var all []redis.Z
	for _, cmd := range cmds {
		all = append(all, cmd.Val()...)
	}
	return firstIDs(all, desc, n), nil
}

// firstIDs sorts zs in a query's order (see order) and returns the first n members
// (n < 0: all).
func firstIDs(zs []redis.Z, desc bool, n int) []string {
	slices.SortFunc(zs, order(desc))
	if n >= 0 && len(zs) > n {
		zs = zs[:n]
	}
	ids := make([]string, len(zs))
	for i, z := range zs {
		ids[i] = z.Member.(string)
	}
	return ids
}

// order compares members of sorted sets as one sorted set orders them: by score,
// ties by member; highest first when desc.
func order(desc bool) func(a, b redis.Z) int {
	return func(a, b redis.Z) int {
		r := 0
		switch {
		case a.Score < b.Score:
			r = -1
		case a.Score > b.Score:
			r = 1
		default:
			r = strings.Compare(a.Member.(string), b.Member.(string))
		}
		if desc {
			return -r
		}
		return r
	}
}

// ClaimOverdue claims the complaints whose running deadline passed before now and
// was not announced yet: each deadline is claimed once, by one caller, across every
// replica (a new deadline, after another disposition or a reopening, is claimed
// again when it passes).
func (c *Complaints) ClaimOverdue(ctx context.Context, now time.Time) ([]*domain.Complaint, error) {
	var claimed []string
	for sh := range shards {
		key := c.in(sh, "alert")
		ids, err := c.s.rdb.ZRangeByScore(ctx, key, &redis.ZRangeBy{
			Min: "-inf", Max: "(" + strconv.FormatInt(now.UnixMilli(), 10),
		}).Result()
		if err != nil {
			return nil, fmt.Errorf("store: read overdue complaints: %w", err)
		}
		for _, id := range ids {
			n, err := c.s.rdb.ZRem(ctx, key, id).Result()
			if err != nil {
				return nil, fmt.Errorf("store: claim overdue complaint: %w", err)
			}
			if n == 1 {
				claimed = append(claimed, id) // else another replica claimed it
			}
		}
	}
	cps, err := c.getMany(ctx, claimed)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(cps, func(cp *domain.Complaint) bool { return !cp.Overdue(now) }), nil
}

// ClaimDigest reports whether this caller is the one to send the daily digest of day
// (2026-12-01): true once per day across every replica.
func (c *Complaints) ClaimDigest(ctx context.Context, day string) (bool, error) {
	ok, err := c.s.rdb.SetNX(ctx, c.key("digest", day), "1", 72*time.Hour).Result()
	if err != nil {
		return false, fmt.Errorf("store: claim the digest of %s: %w", day, err)
	}
	return ok, nil
}
