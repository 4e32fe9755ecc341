package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/layan-id/layan/domain"
)

// Audit is the audit log of staff actions: a Redis stream, {audit}:log, one entry
// per action (its JSON in the field "e"), the newest ten million kept.
type Audit struct{ s *Store }

// Audit returns the audit log.
func (s *Store) Audit() *Audit { return &Audit{s: s} }

func (a *Audit) key() string { return a.s.prefix + "{audit}:log" }

// auditMax is roughly how many entries the log keeps (Redis trims whole nodes).
const auditMax = 10_000_000

// Record appends an entry.
func (a *Audit) Record(ctx context.Context, e domain.AuditEntry) error {
	e.ID = ""
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("store: encode audit entry: %w", err)
	}
	err = a.s.rdb.XAdd(ctx, &redis.XAddArgs{Stream: a.key(), MaxLen: auditMax, Approx: true, Values: []any{"e", b}}).Err()
	if err != nil {
		return fmt.Errorf("store: record audit entry: %w", err)
	}
	return nil
}

// auditScan bounds how many entries one List reads looking for matches.
const auditScan = 20_000

// List returns the entries q picks, newest first, and the ID to pass as Before for
// the next page ("" when there is none). A query whose matches are rare reads at
// most auditScan entries per call; the next page goes on from there.
func (a *Audit) List(ctx context.Context, q domain.AuditQuery) ([]domain.AuditEntry, string, error) {
	if q.Limit <= 0 {
		q.Limit = 100
	}
	q.Limit = min(q.Limit, 1000)
	end := "+"
	if q.Before != "" {
		end = "(" + q.Before
	}
	var out []domain.AuditEntry
	scanned := 0
	for scanned < auditScan {
		msgs, err := a.s.rdb.XRevRangeN(ctx, a.key(), end, "-", 500).Result()
		if err != nil {
			return nil, "", fmt.Errorf("store: read the audit log: %w", err)
		}
		for _, m := range msgs {
			scanned++
			end = "(" + m.ID
			e, ok := decodeAudit(m)
			if !ok || q.Account != "" && e.Account != q.Account || !strings.HasPrefix(e.Action, q.Action) {
				continue
			}
			out = append(out, e)
			if len(out) == q.Limit {
				return out, m.ID, nil
			}
		}
		if len(msgs) < 500 {
			return out, "", nil
		}
	}
	return out, strings.TrimPrefix(end, "("), nil
}

// Each calls f with every entry, oldest first, until f returns an error.
func (a *Audit) Each(ctx context.Context, f func(domain.AuditEntry) error) error {
	start := "-"
	for {
		msgs, err := a.s.rdb.XRangeN(ctx, a.key(), start, "+", 1000).Result()
		if err != nil {
			return fmt.Errorf("store: read the audit log: %w", err)
		}
		for _, m := range msgs {
			if e, ok := decodeAudit(m); ok {
				if err := f(e); err != nil {
					return err
				}
			}
			start = "(" + m.ID
		}
		if len(msgs) < 1000 {
			return nil
		}
	}
}

func decodeAudit(m redis.XMessage) (domain.AuditEntry, bool) {
	var e domain.AuditEntry
	raw, _ := m.Values["e"].(string)
	if err := json.Unmarshal([]byte(raw), &e); err != nil {
		return e, false
	}
	e.ID = m.ID
	return e, true
}
