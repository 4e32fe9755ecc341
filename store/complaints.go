package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/domain"
)

// ErrNotFound is returned for a record that does not exist (it is domain.ErrNotFound).
var ErrNotFound = domain.ErrNotFound

// Complaints keeps complaints, their indexes and their ticket sequence. All its keys
// share one hash tag ({cmp}), so a complaint and its indexes change in one atomic
// step, also on Redis Cluster.
//
// Keys: {cmp}:c:<id> (the record, JSON), {cmp}:seq:<yymmdd> (the day's ticket
// counter), {cmp}:idem:<key> (the ticket a confirmation already created),
// {cmp}:by:<conversation> (a reporter's ids) and {cmp}:photos (the photos complaints
// keep); the inbox's indexes, sorted sets of ids by creation time: {cmp}:all,
// {cmp}:status:<status>, {cmp}:agency:<code>, {cmp}:as:<code>:<status> (agency and
// status), {cmp}:cat:<category> ("-" is no agency); {cmp}:due and {cmp}:due:<code>
// (open complaints by their running deadline), {cmp}:alert (deadlines not yet
// announced), {cmp}:w:<word> (sets of ids whose description or address has the
// word), {cmp}:digest:<date> (the daily digest went out) and {cmp}:index (the
// version of the indexes, see Reindex).
type Complaints struct {
	s      *Store
	prefix string // ticket prefix, e.g. "BTG"
	loc    *time.Location
	sla    domain.SLA
}

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

func (c *Complaints) key(parts ...string) string {
	k := c.s.prefix + "{cmp}"
	for _, p := range parts {
		k += ":" + p
	}
	return k
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
// and the word sets (besides {cmp}:alert, which follows the deadline's changes, and
// {cmp}:by, which never changes).
func (c *Complaints) indexes(cp *domain.Complaint) ([]scored, []string) {
	created := float64(cp.CreatedAt.UnixMilli())
	a, st := agencyOf(cp), string(cp.Status)
	z := []scored{
		{c.key("all"), created}, {c.key("status", st), created}, {c.key("agency", a), created},
		{c.key("as", a, st), created}, {c.key("cat", cp.Category), created},
	}
	if cp.Phase != "" {
		due := float64(cp.Due.UnixMilli())
		z = append(z, scored{c.key("due"), due}, scored{c.key("due", a), due})
	}
	var words []string
	for _, w := range SearchWords(cp.Description + " " + cp.Address) {
		words = append(words, c.key("w", w))
	}
	return z, words
}

// keepDeadline sets the record's running deadline.
func (c *Complaints) keepDeadline(cp *domain.Complaint) {
	cp.Phase, cp.Due = c.sla.Deadline(cp)
}

// createScript files a complaint: unless the idempotency key already names a ticket,
// it takes the day's next number, writes the record with its id and adds it to every
// index, in one step.
// KEYS: idem, seq, photos, by, then nz sorted sets, then word sets.
// ARGV: record JSON (with "id":""), ticket stem ("BTG-261127-"), idem ttl ms, record
// key prefix, nz, created (unix ms, the score in by), then nz scores, then the names
// of its photos (kept: see PhotoKept).
var createScript = redis.NewScript(`
local existing = redis.call('GET', KEYS[1])
if existing then return {existing, 0} end
local n = redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], 172800000)
local id = ARGV[2] .. string.format('%04d', n)
local record = string.gsub(ARGV[1], '"id":""', '"id":"' .. id .. '"', 1)
redis.call('SET', ARGV[4] .. id, record)
redis.call('ZADD', KEYS[4], ARGV[6], id)
local nz = tonumber(ARGV[5])
for i = 1, nz do redis.call('ZADD', KEYS[4 + i], ARGV[6 + i], id) end
for i = 5 + nz, #KEYS do redis.call('SADD', KEYS[i], id) end
redis.call('SET', KEYS[1], id, 'PX', ARGV[3])
for i = 7 + nz, #ARGV do redis.call('SADD', KEYS[3], ARGV[i]) end
return {id, 1}
`)

// Create files a new complaint (Status, CreatedAt and History must be set; Agency is
// the agency its category is routed to, or empty) and returns it with its ticket id.
// idem names the confirmation that creates it: the same idem within 48 h returns the
// ticket already created, never a second one. The store sets its schema and its
// deadline.
func (c *Complaints) Create(ctx context.Context, cp *domain.Complaint, idem string) (*domain.Complaint, bool, error) {
	cp.ID = ""
	cp.Schema = domain.ComplaintSchema
	c.keepDeadline(cp)
	raw, err := json.Marshal(cp)
	if err != nil {
		return nil, false, fmt.Errorf("store: encode complaint: %w", err)
	}
	z, words := c.indexes(cp)
	if cp.Phase != "" {
		z = append(z, scored{c.key("alert"), float64(cp.Due.UnixMilli())})
	}
	day := cp.CreatedAt.In(c.loc).Format("060102")
	keys := []string{c.key("idem", idem), c.key("seq", day), c.key("photos"), c.key("by", cp.Reporter.Key)}
	args := []any{raw, fmt.Sprintf("%s-%s-", c.prefix, day), bot.DedupeWindow.Milliseconds(), c.key("c", ""), len(z), cp.CreatedAt.UnixMilli()}
	for _, s := range z {
		keys = append(keys, s.key)
		args = append(args, s.score)
	}
	keys = append(keys, words...)
	for _, p := range cp.Photos {
		args = append(args, p)
	}
	res, err := createScript.Run(ctx, c.s.rdb, keys, args...).Slice()
	if err != nil {
		return nil, false, fmt.Errorf("store: create complaint: %w", err)
	}
	id, _ := res[0].(string)
	created := res[1].(int64) == 1
	got, err := c.Get(ctx, id)
	return got, created, err
}

// PhotoKept reports whether a photo belongs to a filed complaint (photos of drafts
// that were never filed are removed from the media store after a day).
func (c *Complaints) PhotoKept(ctx context.Context, name string) (bool, error) {
	ok, err := c.s.rdb.SIsMember(ctx, c.key("photos"), name).Result()
	if err != nil {
		return false, fmt.Errorf("store: look up photo: %w", err)
	}
	return ok, nil
}

// Get returns a complaint, or ErrNotFound.
func (c *Complaints) Get(ctx context.Context, id string) (*domain.Complaint, error) {
	raw, err := c.s.rdb.Get(ctx, c.key("c", id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("complaint %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: read complaint %s: %w", id, err)
	}
	return c.decode(id, raw)
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

// getMany reads the records of ids in one round trip, in order, skipping any that
// is gone.
func (c *Complaints) getMany(ctx context.Context, ids []string) ([]*domain.Complaint, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = c.key("c", id)
	}
	vals, err := c.s.rdb.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, fmt.Errorf("store: read complaints: %w", err)
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

// write queues the record and the changes of its indexes from before (nil: a record
// the indexes may not know yet; nothing is removed) to after.
func (c *Complaints) write(ctx context.Context, p redis.Pipeliner, before, after *domain.Complaint, record []byte) {
	id := after.ID
	p.Set(ctx, c.key("c", id), record, 0)
	z, words := c.indexes(after)
	if before != nil {
		oldZ, oldWords := c.indexes(before)
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
		p.ZRem(ctx, c.key("alert"), id)
	case before != nil && (before.Phase != after.Phase || !before.Due.Equal(after.Due)):
		// a new deadline (another agency, a reopening): announced when it passes
		p.ZAdd(ctx, c.key("alert"), redis.Z{Score: float64(after.Due.UnixMilli()), Member: id})
	}
	p.ZRem(ctx, c.key("sla"), id) // the index of the old alert, gone with it
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

// update changes the records of ids (one or two) with f in one transaction.
func (c *Complaints) update(ctx context.Context, ids []string, f func([]*domain.Complaint) error) (*domain.Complaint, *domain.Complaint, error) {
	same := len(ids) == 2 && ids[0] == ids[1]
	if same {
		ids = ids[:1] // a complaint marked a duplicate of itself: f sees it twice and refuses
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = c.key("c", id)
	}
	var out []*domain.Complaint
	for range 10 {
		err := c.s.rdb.Watch(ctx, func(tx *redis.Tx) error {
			var before, after []*domain.Complaint
			for i, key := range keys {
				raw, err := tx.Get(ctx, key).Bytes()
				if errors.Is(err, redis.Nil) {
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
			_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				for i := range after {
					c.write(ctx, p, before[i], after[i], records[i])
				}
				return nil
			})
			out = after
			return err
		}, keys...)
		if errors.Is(err, redis.TxFailedErr) {
			continue // changed meanwhile: again, on the fresh record
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

// List returns complaints, newest first: all of them, or those of one status, a page
// (from 1) of size at a time, and the total count.
func (c *Complaints) List(ctx context.Context, status domain.Status, page, size int) ([]*domain.Complaint, int64, error) {
	res, err := c.Inbox(ctx, domain.InboxQuery{Status: status, Page: page, Size: size}, time.Time{})
	return res.Complaints, res.Total, err
}

// ByReporter returns the complaints of one conversation, newest first.
func (c *Complaints) ByReporter(ctx context.Context, conv string, max int) ([]*domain.Complaint, error) {
	ids, err := c.s.rdb.ZRevRange(ctx, c.key("by", conv), 0, int64(max)-1).Result()
	if err != nil {
		return nil, fmt.Errorf("store: list complaints: %w", err)
	}
	return c.getMany(ctx, ids)
}

// ClaimOverdue claims the complaints whose running deadline passed before now and
// was not announced yet: each deadline is claimed once, by one caller, across every
// replica (a new deadline, after another disposition or a reopening, is claimed
// again when it passes).
func (c *Complaints) ClaimOverdue(ctx context.Context, now time.Time) ([]*domain.Complaint, error) {
	ids, err := c.s.rdb.ZRangeByScore(ctx, c.key("alert"), &redis.ZRangeBy{
		Min: "-inf", Max: "(" + strconv.FormatInt(now.UnixMilli(), 10),
	}).Result()
	if err != nil {
		return nil, fmt.Errorf("store: read overdue complaints: %w", err)
	}
	var claimed []string
	for _, id := range ids {
		n, err := c.s.rdb.ZRem(ctx, c.key("alert"), id).Result()
		if err != nil {
			return nil, fmt.Errorf("store: claim overdue complaint: %w", err)
		}
		if n == 1 {
			claimed = append(claimed, id) // else another replica claimed it
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
