package store

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/redis/go-redis/v9"
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
	return nil
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
type Counted struct {
	Question string `json:"question"`
	Count    int64  `json:"count"`
}

// TopUnanswered returns the n most frequent unanswered questions, most frequent first.
func (f *FAQStats) TopUnanswered(ctx context.Context, n int) ([]Counted, error) {
	zs, err := f.s.rdb.ZRevRangeWithScores(ctx, f.unansweredKey(), 0, int64(n)-1).Result()
	if err != nil {
		return nil, fmt.Errorf("store: read unanswered questions: %w", err)
	}
	out := make([]Counted, len(zs))
	for i, z := range zs {
		out[i] = Counted{Question: z.Member.(string), Count: int64(z.Score)}
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
