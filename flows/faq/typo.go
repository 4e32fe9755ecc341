package faq

import (
	"sort"
	"unicode/utf8"
)

// speller corrects typing mistakes against the knowledge base's own vocabulary, the
// way SymSpell does: every word is indexed under the forms it takes with one letter
// deleted, so the candidates for a typo are found by lookup, not by scanning, and
// then checked with the true (Damerau-Levenshtein) distance.
type speller struct {
	freq    map[string]int      // word → how often the knowledge base uses it
	deletes map[string][]string // one-letter deletion → words
}

func newSpeller() *speller {
	return &speller{freq: map[string]int{}, deletes: map[string][]string{}}
}

func (s *speller) add(w string) {
	if s.freq[w]++; s.freq[w] > 1 {
		return
	}
	for _, d := range deletions(w) {
		s.deletes[d] = append(s.deletes[d], w)
	}
}

// correct returns the known word closest to w: w itself when known or too short to
// judge (under five letters), else the most frequent word within one edit (two for
// words of eight letters or more), else w.
func (s *speller) correct(w string) string {
	if s.freq[w] > 0 || len([]rune(w)) < 5 {
		return w
	}
	maxDist := 1
	if len([]rune(w)) >= 8 {
		maxDist = 2
	}
	seen := map[string]bool{}
	var cands []string
	consider := func(words ...string) {
		for _, c := range words {
			if !seen[c] {
				seen[c] = true
				cands = append(cands, c)
			}
		}
	}
	consider(s.deletes[w]...) // w is a known word with one letter deleted: a missing letter
	// w with each one letter deleted (deletions), written into d in turn, and a
	// string made only of one that is a known word: w is rarely one letter off.
	rs := []rune(w)
	var d []byte
	for i := range rs {
		d = d[:0]
		for j, r := range rs {
			if j != i {
				d = utf8.AppendRune(d, r)
			}
		}
		if s.freq[string(d)] > 0 {
			consider(string(d)) // an extra letter
		}
		consider(s.deletes[string(d)]...) // a wrong or swapped letter
	}
	sort.Strings(cands)
	best, bestFreq, bestDist := w, 0, maxDist+1
	for _, c := range cands {
		d := distance(w, c)
		if d > maxDist {
			continue
		}
		if d < bestDist || d == bestDist && s.freq[c] > bestFreq {
			best, bestFreq, bestDist = c, s.freq[c], d
		}
	}
	return best
}

// deletions returns w with each one letter removed.
func deletions(w string) []string {
	r := []rune(w)
	out := make([]string, 0, len(r))
	for i := range r {
		out = append(out, string(r[:i])+string(r[i+1:]))
	}
	return out
}

// distance is the optimal string alignment distance (Damerau-Levenshtein with
// adjacent transpositions) between a and b.
func distance(a, b string) int {
	x, y := []rune(a), []rune(b)
	prev2 := make([]int, len(y)+1)
	prev := make([]int, len(y)+1)
	cur := make([]int, len(y)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(x); i++ {
		cur[0] = i
		for j := 1; j <= len(y); j++ {
			cost := 1
			if x[i-1] == y[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && x[i-1] == y[j-2] && x[i-2] == y[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(y)]
}
