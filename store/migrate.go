package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/layan-id/layan/domain"
)

// Stored formats and rolling upgrades.
//
// Complaints: versions before the shards kept every complaint key under the one hash
// tag {cmp} ("layout 2": {cmp}:c:<id>, {cmp}:all and the other indexes,
// {cmp}:by:<conversation>, {cmp}:alert, {cmp}:photos, {cmp}:idem:<key>,
// {cmp}:sla). Migrate moves each such complaint into its shard. What stays where it
// was: the day's ticket counter {cmp}:seq:<day> (both versions number from it),
// {cmp}:photos and {cmp}:idem:<key> (read as they are: PhotoKept and Create look
// there too; the marks expire after 48 h), {cmp}:digest:<day>, and {cmp}:index
// (so that a replica of the version before the shards finds its indexes current and
// does not rebuild them).
//
// While an old replica still runs beside new ones, it files and changes complaints
// under {cmp}. A new replica moves each such complaint on first sight (Get and
// Update) and Migrate, run at start and then every minute, moves the rest, so the
// new replicas' inbox lists them within a minute. The old replica no longer finds
// the complaints already moved (its inbox shrinks, a staff action on one answers not
// found): roll the upgrade through quickly, and let staff use new replicas meanwhile.

// Migrate moves every complaint an earlier version kept under {cmp} into its shard,
// with its indexes, reporter index, deadline alert and photos, and removes it from
// the old keys. It is idempotent and safe on several replicas at once: a complaint
// moved already is left as it is. It returns how many it moved.
func (c *Complaints) Migrate(ctx context.Context) (int, error) {
	n := 0
	var errs []error // complaints that could not be moved stay at the front of {cmp}:all
	for {
		ids, err := c.s.rdb.ZRange(ctx, c.key("all"), int64(len(errs)), int64(len(errs))+199).Result()
		if err != nil {
			return n, fmt.Errorf("store: migrate complaints: %w", err)
		}
		if len(ids) == 0 {
			break
		}
		for _, id := range ids {
			moved, err := c.migrate(ctx, id)
			if err != nil {
				errs = append(errs, err)
				if ctx.Err() != nil || len(errs) > 100 {
					return n, errors.Join(errs...)
				}
			} else if moved {
				n++
			}
		}
	}
	if len(errs) > 0 {
		return n, errors.Join(errs...)
	}
	if err := c.s.rdb.Del(ctx, c.key("sla")).Err(); err != nil {
		return n, fmt.Errorf("store: migrate complaints: %w", err)
	}
	return n, nil
}

// migrate moves complaint id from {cmp} into its shard, if it is there: the record
// and every index in one transaction on the shard (unless the shard has it already),
// then, in one transaction on {cmp}, the old record and its old index entries go. A
// change an old replica makes meanwhile makes it start again and copy the newer
// record. It reports whether the shard has the complaint now.
func (c *Complaints) migrate(ctx context.Context, id string) (bool, error) {
	old := func(parts ...string) string { return c.key(parts...) }
	oldKey := c.key("c", id)
	key := c.shardKeys(id)
	newKey := key("c", id)
	force := false
	for range 10 {
		found, copied := false, false
		err := c.watchEach(ctx, []string{oldKey, newKey}, nil, func(txs []*redis.Tx) error {
			raw, err := txs[0].Get(ctx, oldKey).Bytes()
			if errors.Is(err, redis.Nil) {
				// Nothing (more) to move: drop what of it an index still names.
				_, err := txs[0].TxPipelined(ctx, func(p redis.Pipeliner) error {
					p.ZRem(ctx, old("all"), id)
					return nil
				})
				found = c.s.rdb.Exists(ctx, newKey).Val() == 1
				return err
			}
			if err != nil {
				return err
			}
			var cp domain.Complaint
			if err := json.Unmarshal(raw, &cp); err != nil {
				return fmt.Errorf("decode complaint %s: %w", id, err)
			}
			cp.ID = id
			stored, err := c.decode(id, raw) // with its deadline, when filed before deadlines
			if err != nil {
				return err
			}
			alert, aerr := txs[0].ZScore(ctx, old("alert"), id).Result()
			if aerr != nil && !errors.Is(aerr, redis.Nil) {
				return aerr
			}
			var current *domain.Complaint // the shard's copy, when it has one
			if b, err := txs[1].Get(ctx, newKey).Bytes(); err == nil {
				if current, err = c.decode(id, b); err != nil {
					return err
				}
			} else if !errors.Is(err, redis.Nil) {
				return err
			}
			if current == nil || force {
				record, err := json.Marshal(stored)
				if err != nil {
					return err
				}
				if _, err := txs[1].TxPipelined(ctx, func(p redis.Pipeliner) error {
					c.write(ctx, p, current, stored, record)
					p.ZAdd(ctx, key("by", stored.Reporter.Key), redis.Z{Score: float64(stored.CreatedAt.UnixMilli()), Member: id})
					if aerr == nil {
						p.ZAdd(ctx, key("alert"), redis.Z{Score: alert, Member: id})
					}
					for _, ph := range stored.Photos {
						p.SAdd(ctx, key("photos"), ph)
					}
					return nil
				}); err != nil {
					return err
				}
				copied = true
			}
			// The old entries, as the old version indexed the record it stored.
			z, words := c.indexes(old, &cp)
			if asStored, _ := c.indexes(old, stored); len(asStored) > len(z) {
				z = asStored // the deadline indexes of a record filed before deadlines
			}
			_, err = txs[0].TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.Del(ctx, oldKey)
				for _, s := range z {
					p.ZRem(ctx, s.key, id)
				}
				for _, w := range words {
					p.SRem(ctx, w, id)
				}
				p.ZRem(ctx, old("by", cp.Reporter.Key), id)
				p.ZRem(ctx, old("alert"), id)
				p.ZRem(ctx, old("sla"), id)
				return nil
			})
			found = true
			return err
		})
		if errors.Is(err, redis.TxFailedErr) {
			// The old record changed after it was copied (an old replica): copy the
			// newer one over it. Else the shard's copy changed first (a new
			// replica): it is the newer, keep it.
			force = copied
			continue
		}
		if err != nil {
			return false, fmt.Errorf("store: move complaint %s into its shard: %w", id, err)
		}
		return found, nil
	}
	return false, fmt.Errorf("store: move complaint %s into its shard: too much contention", id)
}
