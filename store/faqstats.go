package store

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/redis/go-redis/v9"

	"github.com/layan-id/layan/domain"
)

// FAQStats counts the questions the FAQ could not answer and the feedback on its
// answers. Unanswered questions are kept for staff to improve the knowledge base, so
// they are cut to 200 characters and every run of four or more digits (a NIK, a
// phone number) is masked before they are stored; only the 1,000 most frequent are
// kept.
type FAQStats struct{ s *Store }

// FAQStats returns the FAQ counters.
func (s *Store) FAQStats() *FAQStats { return &FAQStats{s: s} }

const unansweredKept = 1000

var digitRuns = regexp.MustCompile(`\d{4,}`)

// MaskQuestion is the form in which an unanswered question is stored.
func MaskQuestion(q string) string {
	q = strings.Join(strings.Fields(strings.ToLower(q)), " ")
	q = digitRuns.ReplaceAllStringFunc(q, func(d string) string { return strings.Repeat("#", len(d)) })
	for len(q) > 200 {
		_, size := utf8.DecodeLastRuneInString(q)
		q = q[:len(q)-size]
	}
	return q
}

func (f *FAQStats) unansweredKey() string { return f.s.key("faq", "unanswered") }
func (f *FAQStats) feedbackKey() string   { return f.s.key("faq", "feedback") }

// lastKey holds when each unanswered question was last asked (Unix seconds).
func (f *FAQStats) lastKey() string { return f.s.key("faq", "unanswered", "last") }

// CountUnanswered counts one question the FAQ could not answer.
func (f *FAQStats) CountUnanswered(ctx context.Context, question string) error {
	q := MaskQuestion(question)
	if q == "" {
		return nil
	}
	_, err := f.s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.ZIncrBy(ctx, f.unansweredKey(), 1, q)
		// Drop the least frequent beyond the limit.
		p.ZRemRangeByRank(ctx, f.unansweredKey(), 0, -unansweredKept-1)
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: count unanswered question: %w", err)
	}
	// When it was last asked, for "newest first" (another key's slot on a cluster: a
	// pipeline, not a transaction; a question without a time sorts last).
	_, err = f.s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.ZAdd(ctx, f.lastKey(), redis.Z{Score: float64(time.Now().Unix()), Member: q})
		p.ZRemRangeByRank(ctx, f.lastKey(), 0, -unansweredKept-1)
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: note when a question was asked: %w", err)
	}
	return nil
}

// NewestUnanswered returns the n unanswered questions asked last, newest first, with
// their counts and when they were last asked.
func (f *FAQStats) NewestUnanswered(ctx context.Context, n int) ([]Counted, error) {
	zs, err := f.s.rdb.ZRevRangeWithScores(ctx, f.lastKey(), 0, int64(n)-1).Result()
	if err != nil {
		return nil, fmt.Errorf("store: read unanswered questions: %w", err)
	}
	out := make([]Counted, 0, len(zs))
	for _, z := range zs {
		q := z.Member.(string)
		count, err := f.s.rdb.ZScore(ctx, f.unansweredKey(), q).Result()
		if errors.Is(err, redis.Nil) {
			continue // no longer among the most frequent kept
		}
		if err != nil {
			return nil, fmt.Errorf("store: read unanswered questions: %w", err)
		}
		out = append(out, Counted{Question: q, Count: int64(count), Last: time.Unix(int64(z.Score), 0)})
	}
	return out, nil
}

// CountFeedback counts one "did this help?" answer for an entry.
func (f *FAQStats) CountFeedback(ctx context.Context, entryID string, helpful bool) error {
	field := entryID + ":no"
	if helpful {
		field = entryID + ":yes"
	}
	if err := f.s.rdb.HIncrBy(ctx, f.feedbackKey(), field, 1).Err(); err != nil {
		return fmt.Errorf("store: count feedback: %w", err)
	}
	return nil
}

// Counted is a question and how often it was asked.
type Counted = domain.FAQQuestion

// TopUnanswered returns the n most frequent unanswered questions, most frequent first,
// with when each was last asked (zero for one counted before that was kept).
func (f *FAQStats) TopUnanswered(ctx context.Context, n int) ([]Counted, error) {
	zs, err := f.s.rdb.ZRevRangeWithScores(ctx, f.unansweredKey(), 0, int64(n)-1).Result()
	if err != nil {
		return nil, fmt.Errorf("store: read unanswered questions: %w", err)
	}
	out := make([]Counted, len(zs))
	lasts := make([]*redis.FloatCmd, len(zs))
	_, err = f.s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, z := range zs {
			out[i] = Counted{Question: z.Member.(string), Count: int64(z.Score)}
			lasts[i] = p.ZScore(ctx, f.lastKey(), out[i].Question)
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("store: read when questions were asked: %w", err)
	}
	for i, l := range lasts {
		if at, err := l.Result(); err == nil {
			out[i].Last = time.Unix(int64(at), 0)
		}
	}
	return out, nil
}

// Feedback returns, per entry id, how many said its answer helped and how many not.
func (f *FAQStats) Feedback(ctx context.Context) (map[string][2]int64, error) {
	raw, err := f.s.rdb.HGetAll(ctx, f.feedbackKey()).Result()
	if err != nil {
		return nil, fmt.Errorf("store: read feedback: %w", err)
	}
	out := map[string][2]int64{}
	for field, v := range raw {
		i := strings.LastIndexByte(field, ':')
		if i < 0 {
			continue
		}
		id, verdict := field[:i], field[i+1:]
		var n int64
		fmt.Sscan(v, &n)
		c := out[id]
		if verdict == "yes" {
			c[0] += n
		} else {
			c[1] += n
		}
		out[id] = c
	}
	return out, nil
}
