package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// updateJSON changes the JSON record at key atomically and optimistically: it reads
// it under WATCH, lets change alter it, and writes it back in one transaction with
// what also adds (nil: nothing; it sees the record before and after the change). A
// concurrent write to key makes it start again on the fresh record, ten times at
// most. A missing record is ErrNotFound; an error from change leaves everything as
// it was. Errors are wrapped with "store: update <what>".
func updateJSON[T any](ctx context.Context, rdb redis.UniversalClient, key, what string,
	change func(*T) error, also func(p redis.Pipeliner, before, after *T)) (*T, error) {
	for range 10 {
		var out *T
		err := rdb.Watch(ctx, func(tx *redis.Tx) error {
			raw, err := tx.Get(ctx, key).Bytes()
			if errors.Is(err, redis.Nil) {
				return ErrNotFound
			}
			if err != nil {
				return err
			}
			var before, after T
			if err := json.Unmarshal(raw, &before); err != nil {
				return fmt.Errorf("decode: %w", err)
			}
			json.Unmarshal(raw, &after) // a deep copy: change may alter what before shares
			if err := change(&after); err != nil {
				return err
			}
			b, err := json.Marshal(&after)
			if err != nil {
				return err
			}
			_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.Set(ctx, key, b, 0)
				if also != nil {
					also(p, &before, &after)
				}
				return nil
			})
			out = &after
			return err
		}, key)
		if errors.Is(err, redis.TxFailedErr) {
			continue // changed meanwhile: again, on the fresh record
		}
		if err != nil {
			return nil, fmt.Errorf("store: update %s: %w", what, err)
		}
		return out, nil
	}
	return nil, fmt.Errorf("store: update %s: too much contention", what)
}
