package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/layan-id/layan/domain"
)

// FAQBase keeps the knowledge base's entries that staff added or changed; the
// embedded files (or CONTENT_DIR) stay the base under them. Its keys share the hash
// tag {faq}: entries (a hash id → entry JSON), version (a counter every publish
// raises, which every replica follows), changes (every change, newest first, the
// newest faqChangesKept) and history:<id> (one entry's, the newest
// faqHistoryKept).
type FAQBase struct{ s *Store }

// FAQBase returns the staff's edits of the knowledge base.
func (s *Store) FAQBase() *FAQBase { return &FAQBase{s: s} }

const (
	faqChangesKept = 2000
	faqHistoryKept = 100
)

func (f *FAQBase) key(kind string) string { return f.s.prefix + "{faq}:kb:" + kind }

// Publish stores e as published by by at at, raises the version and records the
// change (before is the entry as it was, nil for a new one). It returns the new
// version.
func (f *FAQBase) Publish(ctx context.Context, e domain.FAQEntry, before *domain.FAQEntry, by string, at time.Time) (int64, error) {
	entry, err := json.Marshal(e)
	if err != nil {
		return 0, fmt.Errorf("store: encode faq entry %s: %w", e.ID, err)
	}
	change, err := json.Marshal(domain.FAQChange{At: at, By: by, ID: e.ID, Fields: e.Changes(before), Before: before, After: e})
	if err != nil {
		return 0, fmt.Errorf("store: encode faq change %s: %w", e.ID, err)
	}
	var version *redis.IntCmd
	_, err = f.s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, f.key("entries"), e.ID, entry)
		p.LPush(ctx, f.key("changes"), change)
		p.LTrim(ctx, f.key("changes"), 0, faqChangesKept-1)
		p.LPush(ctx, f.key("history:"+e.ID), change)
		p.LTrim(ctx, f.key("history:"+e.ID), 0, faqHistoryKept-1)
		version = p.Incr(ctx, f.key("version"))
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: publish faq entry %s: %w", e.ID, err)
	}
	return version.Val(), nil
}

// Version is the number of the last publish, 0 before the first.
func (f *FAQBase) Version(ctx context.Context) (int64, error) {
	v, err := f.s.rdb.Get(ctx, f.key("version")).Int64()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("store: read the faq version: %w", err)
	}
	return v, nil
}

// Entries returns the staff's entries, in no order, and the version they are of
// (read together).
func (f *FAQBase) Entries(ctx context.Context) ([]domain.FAQEntry, int64, error) {
	var version *redis.StringCmd
	var all *redis.MapStringStringCmd
	_, err := f.s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		version = p.Get(ctx, f.key("version"))
		all = p.HGetAll(ctx, f.key("entries"))
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, 0, fmt.Errorf("store: read faq entries: %w", err)
	}
	v, _ := version.Int64()
	out := make([]domain.FAQEntry, 0, len(all.Val()))
	for id, raw := range all.Val() {
		var e domain.FAQEntry
		if err := json.Unmarshal([]byte(raw), &e); err != nil {
			return nil, 0, fmt.Errorf("store: decode faq entry %s: %w", id, err)
		}
		out = append(out, e)
	}
	return out, v, nil
}

// Changes returns the newest n changes, newest first: of one entry, or of all with
// id "".
func (f *FAQBase) Changes(ctx context.Context, id string, n int) ([]domain.FAQChange, error) {
	key := f.key("changes")
	if id != "" {
		key = f.key("history:" + id)
	}
	raws, err := f.s.rdb.LRange(ctx, key, 0, int64(n)-1).Result()
	if err != nil {
		return nil, fmt.Errorf("store: read faq changes: %w", err)
	}
	out := make([]domain.FAQChange, 0, len(raws))
	for _, raw := range raws {
		var c domain.FAQChange
		if err := json.Unmarshal([]byte(raw), &c); err != nil {
			return nil, fmt.Errorf("store: decode faq change: %w", err)
		}
		out = append(out, c)
	}
	return out, nil
}
