package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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
// counter), {cmp}:all and {cmp}:status:<status> (ids by creation time),
// {cmp}:by:<conversation> (a reporter's ids), {cmp}:sla (unverified ids by creation
// time) and {cmp}:idem:<key> (the ticket a confirmation already created).
type Complaints struct {
	s      *Store
	prefix string // ticket prefix, e.g. "BTG"
	loc    *time.Location
}

// Complaints returns the complaint store; tickets are named prefix-yymmdd-NNNN with
// the date in loc.
func (s *Store) Complaints(ticketPrefix string, loc *time.Location) *Complaints {
	return &Complaints{s: s, prefix: ticketPrefix, loc: loc}
}

func (c *Complaints) key(parts ...string) string {
	k := c.s.prefix + "{cmp}"
	for _, p := range parts {
		k += ":" + p
	}
	return k
}

// createScript files a complaint: unless the idempotency key already names a ticket,
// it takes the day's next number, writes the record with its id and adds it to every
// index, in one step.
// KEYS: idem, seq, all, status, by, sla, photos. ARGV: record JSON (with "id":""),
// ticket stem ("BTG-261127-"), created (unix ms), idem ttl ms, record key prefix, then
// the names of its photos (kept: see PhotoKept).
var createScript = redis.NewScript(`
local existing = redis.call('GET', KEYS[1])
if existing then return {existing, 0} end
local n = redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], 172800000)
local id = ARGV[2] .. string.format('%04d', n)
local record = string.gsub(ARGV[1], '"id":""', '"id":"' .. id .. '"', 1)
redis.call('SET', ARGV[5] .. id, record)
redis.call('ZADD', KEYS[3], ARGV[3], id)
redis.call('ZADD', KEYS[4], ARGV[3], id)
redis.call('ZADD', KEYS[5], ARGV[3], id)
redis.call('ZADD', KEYS[6], ARGV[3], id)
redis.call('SET', KEYS[1], id, 'PX', ARGV[4])
for i = 6, #ARGV do redis.call('SADD', KEYS[7], ARGV[i]) end
return {id, 1}
`)

// Create files a new complaint (Status, CreatedAt and History must be set) and
// returns it with its ticket id. idem names the confirmation that creates it: the
// same idem within 48 h returns the ticket already created, never a second one.
func (c *Complaints) Create(ctx context.Context, cp *domain.Complaint, idem string) (*domain.Complaint, bool, error) {
	cp.ID = ""
	raw, err := json.Marshal(cp)
	if err != nil {
		return nil, false, fmt.Errorf("store: encode complaint: %w", err)
	}
	stem := fmt.Sprintf("%s-%s-", c.prefix, cp.CreatedAt.In(c.loc).Format("060102"))
	keys := []string{
		c.key("idem", idem), c.key("seq", cp.CreatedAt.In(c.loc).Format("060102")), c.key("all"),
		c.key("status", string(cp.Status)), c.key("by", cp.Reporter.Key), c.key("sla"), c.key("photos"),
	}
	args := []any{raw, stem, cp.CreatedAt.UnixMilli(), bot.DedupeWindow.Milliseconds(), c.key("c", "")}
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
	var cp domain.Complaint
	if err := json.Unmarshal(raw, &cp); err != nil {
		return nil, fmt.Errorf("store: decode complaint %s: %w", id, err)
	}
	return &cp, nil
}

// Update changes a complaint with f, atomically: the record and the status indexes
// change together, and a concurrent change makes f run again on the fresh record.
// An error from f is returned as it is and nothing changes.
func (c *Complaints) Update(ctx context.Context, id string, f func(*domain.Complaint) error) (*domain.Complaint, error) {
	return updateJSON(ctx, c.s.rdb, c.key("c", id), "complaint "+id, f, func(p redis.Pipeliner, before, cp *domain.Complaint) {
		if cp.Status == before.Status {
			return
		}
		score := float64(cp.CreatedAt.UnixMilli())
		p.ZRem(ctx, c.key("status", string(before.Status)), id)
		p.ZAdd(ctx, c.key("status", string(cp.Status)), redis.Z{Score: score, Member: id})
		if cp.Status != domain.StatusReceived {
			p.ZRem(ctx, c.key("sla"), id)
		}
	})
}

// List returns complaints, newest first: all of them, or those of one status, a page
// (from 1) of size at a time, and the total count.
func (c *Complaints) List(ctx context.Context, status domain.Status, page, size int) ([]*domain.Complaint, int64, error) {
	index := c.key("all")
	if status != "" {
		index = c.key("status", string(status))
	}
	return c.fromIndex(ctx, index, page, size)
}

// ByReporter returns the complaints of one conversation, newest first.
func (c *Complaints) ByReporter(ctx context.Context, conv string, max int) ([]*domain.Complaint, error) {
	out, _, err := c.fromIndex(ctx, c.key("by", conv), 1, max)
	return out, err
}

func (c *Complaints) fromIndex(ctx context.Context, index string, page, size int) ([]*domain.Complaint, int64, error) {
	page = max(page, 1)
	start := int64((page - 1) * size)
	ids, err := c.s.rdb.ZRevRange(ctx, index, start, start+int64(size)-1).Result()
	if err != nil {
		return nil, 0, fmt.Errorf("store: list complaints: %w", err)
	}
	total, err := c.s.rdb.ZCard(ctx, index).Result()
	if err != nil {
		return nil, 0, fmt.Errorf("store: count complaints: %w", err)
	}
	out := make([]*domain.Complaint, 0, len(ids))
	for _, id := range ids {
		cp, err := c.Get(ctx, id)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, 0, err
		}
		out = append(out, cp)
	}
	return out, total, nil
}

// Overdue claims the complaints created before the deadline that are still waiting
// for verification and were not alerted yet, marking them alerted. Each complaint is
// claimed once, by one caller, across every replica.
func (c *Complaints) Overdue(ctx context.Context, before time.Time) ([]*domain.Complaint, error) {
	ids, err := c.s.rdb.ZRangeByScore(ctx, c.key("sla"), &redis.ZRangeBy{
		Min: "-inf", Max: fmt.Sprint(before.UnixMilli()),
	}).Result()
	if err != nil {
		return nil, fmt.Errorf("store: read overdue complaints: %w", err)
	}
	var out []*domain.Complaint
	for _, id := range ids {
		n, err := c.s.rdb.ZRem(ctx, c.key("sla"), id).Result()
		if err != nil {
			return out, fmt.Errorf("store: claim overdue complaint: %w", err)
		}
		if n == 0 {
			continue // another replica claimed it
		}
		cp, err := c.Update(ctx, id, func(cp *domain.Complaint) error {
			cp.SLAAlerted = true
			return nil
		})
		if err != nil {
			return out, err
		}
		if cp.Status == domain.StatusReceived {
			out = append(out, cp)
		}
	}
	return out, nil
}
