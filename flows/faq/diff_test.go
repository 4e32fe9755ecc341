package faq

import (
	"bufio"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/layan-id/layan/locales"
)

// The matcher is tuned against held-out questions, so a change made for speed must
// rank every question the same, to the last bit of every score. These tests compare
// it with the matcher as it was (ref_test.go) on the dev set, on every phrasing of
// the knowledge base, and on random questions made of its words with the slips,
// scripts and marks people type.

func loadForDiff(t testing.TB) *Matcher {
	m, err := Load(locales.Content(""))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// sameRanking reports whether two rankings are the same entries in the same order
// with bit-identical scores.
func sameRanking(a, b []ranked) bool {
	bits := math.Float64bits
	return slices.EqualFunc(a, b, func(x, y ranked) bool {
		return x.entry == y.entry && bits(x.score) == bits(y.score) && bits(x.cover) == bits(y.cover) && bits(x.fit) == bits(y.fit)
	})
}

// checkRank compares the reading and the ranking of q with the reference.
func checkRank(t testing.TB, m *Matcher, q string) {
	t.Helper()
	g, c, e := m.queryGroups(q)
	rg, rc, re := m.refQueryGroups(q)
	if !slices.EqualFunc(g, rg, slices.Equal) || !slices.Equal(c, rc) || !slices.Equal(e, re) {
		t.Fatalf("queryGroups(%q) = %q %v %q, before %q %v %q", q, g, c, e, rg, rc, re)
	}
	if got, want := m.rank(q), m.refRank(q); !sameRanking(got, want) {
		t.Fatalf("rank(%q) = %v, before %v", q, got[:min(5, len(got))], want[:min(5, len(want))])
	}
}

// diffQuestions are the dev set's questions and every phrasing and tag list of the
// knowledge base.
func diffQuestions(t testing.TB, m *Matcher) []string {
	f, err := os.Open("testdata/dev.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if _, q, ok := strings.Cut(sc.Text(), "\t"); ok && !strings.HasPrefix(sc.Text(), "#") {
			out = append(out, q)
		}
	}
	for _, e := range m.entries {
		for _, lang := range slices.Sorted(func(yield func(string) bool) {
			for l := range e.Questions {
				if !yield(l) {
					return
				}
			}
		}) {
			out = append(out, e.Questions[lang]...)
		}
		out = append(out, strings.Join(e.Tags, " "))
	}
	return out
}

// TestRankAsBefore ranks every dev set question and every phrasing of the knowledge
// base, and 20,000 random questions, as the matcher did before.
func TestRankAsBefore(t *testing.T) {
	m := loadForDiff(t)
	qs := diffQuestions(t, m)
	for _, q := range qs {
		checkRank(t, m, q)
	}
	g := newQuestionGen(m, qs, rand.New(rand.NewPCG(14, 2026)))
	n := 20000
	if testing.Short() {
		n = 2000
	}
	for range n {
		checkRank(t, m, g.question())
	}
}

// TestIndexAsBefore analyses every text of the knowledge base (phrasings, tags,
// answers) and stems every word of it and of the lexicon as before: the index the
// matcher builds from them is the same.
func TestIndexAsBefore(t *testing.T) {
	m := loadForDiff(t)
	var texts []string
	for _, e := range m.entries {
		for _, qs := range e.Questions {
			texts = append(texts, qs...)
		}
		for _, a := range e.Answer {
			texts = append(texts, a)
		}
		texts = append(texts, strings.Join(e.Tags, " "))
	}
	for from, to := range m.lexicon.Replace {
		texts = append(texts, from, to)
	}
	texts = append(texts, m.lexicon.Places...)
	texts = append(texts, m.lexicon.Stopwords...)
	texts = append(texts, m.lexicon.Weak...)
	texts = append(texts, m.lexicon.Protect...)
	for _, text := range texts {
		if got, want := words(text), refWords(text); !slices.Equal(got, want) {
			t.Fatalf("words(%q) = %q, before %q", text, got, want)
		}
		if got, want := m.an.terms(text), m.an.refTerms(text); !slices.Equal(got, want) {
			t.Fatalf("terms(%q) = %q, before %q", text, got, want)
		}
		for _, w := range words(text) {
			if got, want := m.an.stem(w), m.an.refStem(w); got != want {
				t.Fatalf("stem(%q) = %q, before %q", w, got, want)
			}
		}
	}
}

// FuzzRank compares the matcher with the reference on any question:
//
//	go test -run X -fuzz FuzzRank -fuzztime 2m ./flows/faq/
func FuzzRank(f *testing.F) {
	m := loadForDiff(f)
	qs := diffQuestions(f, m)
	for _, q := range qs {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, q string) {
		checkRank(t, m, q)
		if got, want := words(q), refWords(q); !slices.Equal(got, want) {
			t.Fatalf("words(%q) = %q, before %q", q, got, want)
		}
		for _, w := range words(q) {
			if got, want := m.an.stem(w), m.an.refStem(w); got != want {
				t.Fatalf("stem(%q) = %q, before %q", w, got, want)
			}
		}
	})
}

// questionGen makes questions out of the knowledge base's and the lexicon's words.
type questionGen struct {
	rng   *rand.Rand
	words []string
}

func newQuestionGen(m *Matcher, qs []string, rng *rand.Rand) *questionGen {
	seen := map[string]bool{}
	var ws []string
	add := func(w string) {
		if w != "" && !seen[w] {
			seen[w] = true
			ws = append(ws, w)
		}
	}
	for _, q := range qs {
		for _, w := range strings.Fields(q) {
			add(w)
		}
	}
	for _, from := range slices.Sorted(func(yield func(string) bool) {
		for k := range m.lexicon.Replace {
			if !yield(k) {
				return
			}
		}
	}) {
		add(from)
	}
	for _, p := range m.lexicon.Places {
		add(p)
	}
	for _, w := range []string{"menyapu", "pengurusan", "memperpanjang", "diperbarui", "kesehatannya", "syarat2", "ktpnya",
		"syarate", "lumba2", "oleh-oleh", "e-ktp", "ktp-ku", "cekbansos", "2026", "08123456789", "😊", "🙏🏻", "?", "..."} {
		add(w)
	}
	return &questionGen{rng: rng, words: ws}
}

func (g *questionGen) question() string {
	n := 1 + g.rng.IntN(8)
	parts := make([]string, n)
	for i := range parts {
		w := []rune(g.words[g.rng.IntN(len(g.words))])
		pos := g.rng.IntN(len(w))
		letter := []rune("abcdefghijklmnopqrstuvwxyzéüжß日")[g.rng.IntN(31)]
		switch g.rng.IntN(10) {
		case 0:
			if len(w) > 1 {
				w = slices.Delete(w, pos, pos+1)
			}
		case 1:
			w = slices.Insert(w, pos, letter)
		case 2:
			w[pos] = letter
		case 3:
			if pos+1 < len(w) {
				w[pos], w[pos+1] = w[pos+1], w[pos]
			}
		case 4:
			w = []rune(strings.ToUpper(string(w)))
		case 5:
			w = slices.Insert(w, pos, slices.Repeat([]rune{w[pos]}, 2+g.rng.IntN(3))...)
		case 6:
			w = append(w, []rune([]string{"nya", "2", "-ku", "ne", "e", "kan", "an", "i", "pun"}[g.rng.IntN(9)])...)
		case 7:
			w = append([]rune([]string{"me", "di", "pe", "ber", "ter", "ke", "se", "meng", "peny"}[g.rng.IntN(9)]), w...)
		}
		parts[i] = string(w)
	}
	return strings.Join(parts, []string{" ", " ", ", ", " - ", "? ", "\n", " 😊 "}[g.rng.IntN(7)])
}

// TestRankAsBeforeAtOnce ranks the dev set's questions from several goroutines at
// once, as the service does: the room rank adds up in is reused between questions,
// and no question may see another's sums.
func TestRankAsBeforeAtOnce(t *testing.T) {
	m := loadForDiff(t)
	qs := diffQuestions(t, m)
	want := make([][]ranked, len(qs))
	for i, q := range qs {
		want[i] = m.refRank(q)
	}
	errs := make(chan string, 4)
	for g := range 4 {
		go func() {
			for k := range qs {
				i := (k*7 + g*13) % len(qs) // each goroutine in another order
				if got := m.rank(qs[i]); !sameRanking(got, want[i]) {
					errs <- qs[i]
					return
				}
			}
			errs <- ""
		}()
	}
	for range 4 {
		if q := <-errs; q != "" {
			t.Errorf("rank(%q) at once with other questions differs from before", q)
		}
	}
}
