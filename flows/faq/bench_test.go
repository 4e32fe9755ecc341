package faq_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/layan-id/layan/flows/faq"
)

// syntheticKB makes a knowledge base of n entries whose phrasings draw on the real
// knowledge base's words, so the index has a realistic vocabulary and overlap.
func syntheticKB(t testing.TB, n int) ([]faq.Entry, []string) {
	real := loadMatcher(t).Entries()
	var pool []string
	for _, e := range real {
		for _, q := range e.Questions["id"] {
			pool = append(pool, strings.Fields(strings.ToLower(q))...)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	sentence := func(words int) string {
		ws := make([]string, words)
		for i := range ws {
			ws[i] = pool[rng.IntN(len(pool))]
		}
		return strings.Join(ws, " ")
	}
	entries := make([]faq.Entry, n)
	var questions []string
	for i := range entries {
		qs := make([]string, 4)
		for j := range qs {
			qs[j] = sentence(5 + rng.IntN(6))
		}
		entries[i] = faq.Entry{ID: fmt.Sprintf("e%04d", i), Questions: map[string][]string{"id": qs},
			Answer: map[string]string{"id": sentence(40)}}
		// A question as typed: a phrasing with a word dropped and a typo.
		ws := strings.Fields(qs[0])
		ws = slices.Delete(ws, 0, 1)
		if w := ws[0]; len(w) > 4 {
			ws[0] = w[:2] + w[3:2+1] + w[2:3] + w[3:]
		}
		questions = append(questions, strings.Join(ws, " "))
	}
	return entries, questions
}

// BenchmarkMatch1000 measures one question against a generated 1,000-entry knowledge
// base and reports the median and 99th percentile time per question:
//
//	go test -run X -bench Match1000 -cpu 1 ./flows/faq/
func BenchmarkMatch1000(b *testing.B) {
	entries, questions := syntheticKB(b, 1000)
	m := faq.NewMatcher(entries, lexicon(b))
	times := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		m.Match(questions[i%len(questions)])
		times = append(times, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(times)
	b.ReportMetric(float64(times[len(times)/2].Microseconds()), "p50_µs")
	b.ReportMetric(float64(times[len(times)*99/100].Microseconds()), "p99_µs")
}

// BenchmarkBuild1000 measures indexing a 1,000-entry knowledge base (done at start).
func BenchmarkBuild1000(b *testing.B) {
	entries, _ := syntheticKB(b, 1000)
	lx := lexicon(b)
	for b.Loop() {
		faq.NewMatcher(entries, lx)
	}
}

// BenchmarkMatchDevSet matches every question of the dev set (testdata/dev.tsv)
// against the real knowledge base once per op:
//
//	go test -run X -bench MatchDevSet -cpu 1 ./flows/faq/
func BenchmarkMatchDevSet(b *testing.B) {
	m := loadMatcher(b)
	dev := readDevSet(b)
	b.ResetTimer()
	for b.Loop() {
		for _, l := range dev {
			m.Match(l.question)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*len(dev)), "µs/question")
}
