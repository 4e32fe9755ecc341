package faq

// This file is the matcher's question reading and ranking as they were before they
// were made cheaper (commit a8c3d49), kept word for word under other names as the
// reference the differential tests compare with (diff_test.go): a change meant only to
// be cheaper must rank every question the same, to the last bit of every score, and
// leaves this file alone. A change meant to rank differently makes the same change
// here, in the same commit, so that the test shows exactly what it changes.

import (
	"slices"
	"sort"
	"strings"
	"unicode"

	"github.com/layan-id/layan/flows/fold"
)

// queryGroups is query that also says which groups come from a corrected word.
func (m *Matcher) refQueryGroups(q string) (groups [][]string, corrected []bool, elsewhere []string) {
	ws := refWords(q)
	ps, at := m.an.refPlacesIn(ws)
	for i, p := range ps {
		if at[i] && !m.home[p] {
			elsewhere = append(elsewhere, p)
		}
	}
	for _, g := range m.an.refExpandGroups(m.an.split(ws)) {
		var terms []string
		fixed := false
		for _, w := range g {
			if m.an.stop[w] {
				continue
			}
			c := m.sp.refCorrect(w)
			if c != w {
				fixed = true
				// a corrected word may be slang or a synonym
				for _, x := range m.an.refExpand([]string{c}) {
					if !m.an.stop[x] {
						terms = append(terms, m.an.refStem(x))
					}
				}
				continue
			}
			terms = append(terms, m.an.refStem(w))
		}
		if len(terms) > 0 {
			groups = append(groups, terms)
			corrected = append(corrected, fixed)
		}
	}
	return groups, corrected, elsewhere
}

// rank scores every entry that shares a substantial word with q, best first.
//
// An entry scores the best BM25 of its phrasings (or of its answer, weighted down)
// plus half the BM25 of its phrasings together, scaled by how well its closest
// phrasing fits the question in both directions (the IDF-weighted F1 of their terms):
// an entry whose distinctive words the question lacks ("nonaktif", "terlambat") falls
// behind its plainer neighbour. The cover is the share of the question's information
// (the IDF of its words, a quarter for weak words, the most for a word the knowledge
// base never uses) that the entry's vocabulary explains.
func (m *Matcher) refRank(q string) []ranked {
	groups, corrected, elsewhere := m.refQueryGroups(q)
	if len(groups) == 0 || len(m.docs) == 0 {
		return nil
	}
	var terms []string
	for _, g := range groups {
		terms = append(terms, g...)
	}
	terms = slices.Compact(slices.Sorted(slices.Values(terms)))
	type entryScore struct {
		best, whole, covered, fit float64
		topic                     float64 // the entry's topic that the question names
		substantial               bool    // shares a word with the question that is not weak
	}
	scores := make([]entryScore, len(m.entries))
	perDoc := make([]float64, len(m.docs))  // phrasings and answers: BM25 of the whole question
	matched := make([]float64, len(m.docs)) // phrasings: information shared with the question
	var touched []int32                     // the docs with a value in perDoc
	for _, t := range terms {
		id, known := m.ids[t]
		if !known {
			continue
		}
		weight := m.information(t, id, true)
		for _, p := range m.postings[id] {
			d := m.docs[p.doc]
			v := kindWeight[d.kind] * m.idf[id] * float64(p.norm)
			if d.kind != whole {
				if perDoc[p.doc] == 0 {
					touched = append(touched, p.doc)
				}
				perDoc[p.doc] += v
				if d.kind == phrasing {
					matched[p.doc] += weight
				}
				continue
			}
			s := &scores[d.entry]
			s.whole += v
			if !m.weak[id] {
				s.topic += m.idf[id] * float64(p.central)
			}
			s.substantial = s.substantial || !m.weak[id]
		}
	}
	// The question's information, word by word; an entry covers a word when it uses
	// one of the word's terms.
	var info float64
	groupBest := make([]float64, len(m.entries))
	seen := map[string]bool{}
	for gi, g := range groups {
		key := strings.Join(g, " ")
		if seen[key] {
			continue
		}
		seen[key] = true
		var most float64
		var hit []int32
		for _, t := range g {
			id, known := m.ids[t]
			w := m.information(t, id, known)
			most = max(most, w)
			if !known {
				continue
			}
			for _, e := range m.wholeOf[id] {
				if groupBest[e] == 0 {
					hit = append(hit, e)
				}
				groupBest[e] = max(groupBest[e], w)
			}
		}
		info += most
		credit := 1.0
		if corrected[gi] {
			credit = correctedCredit
		}
		for _, e := range hit {
			scores[e].covered += groupBest[e] * credit
			groupBest[e] = 0
		}
	}
	for _, di := range touched {
		s := &scores[m.docs[di].entry]
		s.best = max(s.best, perDoc[di])
		if v := matched[di]; v > 0 {
			p, r := v/m.mass[di], v/info
			s.fit = max(s.fit, 2*p*r/(p+r))
		}
	}
	var rs []ranked
	for e, s := range scores {
		if s.substantial {
			named := 1.0
			if m.topic[e] > 0 {
				named = min(1, s.topic/m.topic[e])
			}
			rs = append(rs, ranked{entry: e, score: (s.best + s.whole) * (1 - fitShare + fitShare*s.fit) * (1 - topicShare + topicShare*named),
				cover: min(1, s.covered/(info+m.away(elsewhere, e))), fit: s.fit})
		}
	}
	slices.SortFunc(rs, func(a, b ranked) int {
		switch {
		case a.score > b.score:
			return -1
		case a.score < b.score:
			return 1
		}
		return strings.Compare(m.entries[a.entry].ID, m.entries[b.entry].ID)
	})
	return rs
}

// words lower-cases text and splits it into words of letters and digits. Hyphens
// inside a word are kept ("e-ktp", "oleh-oleh"); other punctuation, emoji and symbols
// separate words. A letter repeated three or more times is cut to two ("maaaaf" →
// "maaf", "siiip" → "siip"); typo correction takes it from there.
func refWords(text string) []string {
	var out []string
	var b strings.Builder
	flush := func() {
		w := strings.Trim(fold.Runs(b.String()), "-")
		if w != "" {
			out = append(out, w)
		}
		b.Reset()
	}
	for _, r := range strings.ToLower(text) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' && b.Len() > 0:
			b.WriteRune(r)
		default:
			flush()
		}
	}
	flush()
	return out
}

// placesIn returns the place names that ws mention, longest first, and whether each
// is where the text is about (not an origin or a destination).
func (a *analyzer) refPlacesIn(ws []string) (out []string, at []bool) {
	for i := 0; i < len(ws); {
		n := min(a.maxPlace, len(ws)-i)
		for ; n > 0; n-- {
			if p := strings.Join(ws[i:i+n], " "); a.places[p] {
				out = append(out, p)
				at = append(at, i == 0 || !a.movement[ws[i-1]])
				break
			}
		}
		i += max(n, 1)
	}
	return out, at
}

// expandGroups is expand that keeps together the words that one written word or
// phrase became.
func (a *analyzer) refExpandGroups(ws []string) [][]string {
	var in []string
	for _, w := range ws {
		in = append(in, a.refUnfold(w)...)
	}
	var out [][]string
	for i := 0; i < len(in); {
		n := min(a.maxWords, len(in)-i)
		for ; n > 0; n-- {
			if to, ok := a.replace[strings.Join(in[i:i+n], " ")]; ok {
				out = append(out, to)
				break
			}
		}
		if n == 0 {
			out = append(out, []string{in[i]})
			n = 1
		}
		i += n
	}
	return out
}

// stem reduces an Indonesian word to a root-like form, after the rules of Nazief and
// Adriani: the particle -pun, possessives (-ku, -mu, -nya), derivational suffixes
// (-kan, -an, -i) and up to two prefixes (me-, pe-, be-, te-, di-, ke-, se-) with
// their sound changes. Their dictionary of roots is replaced by the words the
// knowledge base itself uses: where rules disagree (me+nikah or men+tikah?), the
// candidate that is a known word wins, else the one the rules prefer. A step is taken
// only when it leaves at least four letters, and protected words are left alone, so
// short and fragile words ("berapa", "kereta") survive. The particles -lah and -kah
// are not removed: in chat they are rare, and words such as "sekolah", "masalah" and
// "menikah" end in them. Questions and the knowledge base go through the same
// function, so the result needs to be consistent more than it needs to be a root.
func (a *analyzer) refStem(w string) string {
	if len(w) <= minStem || a.protect[w] || a.replaced[w] || strings.ContainsAny(w, "-0123456789") {
		return w
	}
	w = cutSuffix(w, "pun")
	if w = cutSuffix(w, "nya", "ku", "mu"); a.protect[w] {
		return w
	}
	var cands []string
	for _, base := range []string{cutSuffix(w, "kan", "an", "i"), w} {
		cands = append(cands, refPrefixCandidates(base, 2)...)
	}
	for _, c := range cands {
		if c != w && a.known[c] {
			return c
		}
	}
	return cands[0]
}

// prefixRules in the order they are tried; a restore is the consonant that me-/pe-
// swallowed before a vowel (menulis → tulis, memakai → pakai, menyapu → sapu).
func refPrefixRules() []prefixRule {
	return []prefixRule{
		{"meny", "s"}, {"peny", "s"},
		{"meng", ""}, {"peng", ""}, {"meng", "k"}, {"peng", "k"},
		{"mem", "p"}, {"pem", "p"}, {"mem", ""}, {"pem", ""},
		{"men", "t"}, {"pen", "t"}, {"men", ""}, {"pen", ""},
		{"me", ""}, {"pe", ""},
		{"ber", ""}, {"ter", ""}, {"per", ""}, {"be", ""},
		{"di", ""}, {"ke", ""}, {"se", ""},
	}
}

// prefixCandidates returns the forms of w with up to depth prefixes removed, the most
// stripped first by rule order, ending with the deepest default; w itself comes last.
func refPrefixCandidates(w string, depth int) []string {
	var out []string
	if depth > 0 {
		for _, r := range refPrefixRules() {
			rest, ok := strings.CutPrefix(w, r.prefix)
			if !ok {
				continue
			}
			if r.restore != "" {
				if len(rest) == 0 || !isVowel(rest[0]) {
					continue
				}
				rest = r.restore + rest
			}
			if len(rest) < minStem {
				continue
			}
			out = append(out, refPrefixCandidates(rest, depth-1)...)
		}
	}
	return append(out, w)
}

// terms analyses text into index terms.
func (a *analyzer) refTerms(text string) []string {
	ws := a.refExpand(refWords(text))
	out := make([]string, 0, len(ws))
	for _, w := range ws {
		if a.stop[w] {
			continue
		}
		out = append(out, a.refStem(w))
	}
	return out
}

// expand splits reduplications and "-nya" forms and applies the replacements,
// longest phrase first.
func (a *analyzer) refExpand(ws []string) []string {
	var out []string
	for _, g := range a.refExpandGroups(ws) {
		out = append(out, g...)
	}
	return out
}

// unfold handles the forms of one written word: "syarat2" and "anak-anak" are one
// word; "ktpnya" is "ktp"; a hyphenated word that the lexicon knows stays whole,
// otherwise it is two words ("ktp-ku" → "ktp", "ku").
func (a *analyzer) refUnfold(w string) []string {
	if base, ok := strings.CutSuffix(w, "2"); ok && len(base) > 2 && !isDigits(base) {
		w = base
		if whole := base + "-" + base; a.known[whole] || a.protect[whole] {
			return []string{whole} // "lumba2" is "lumba-lumba"
		}
	}
	if _, ok := a.replace[w]; ok || a.protect[w] {
		return []string{w}
	}
	if l, r, ok := strings.Cut(w, "-"); ok {
		if l == r {
			return []string{l}
		}
		return append(a.refUnfold(l), a.refUnfold(r)...)
	}
	if base, ok := strings.CutSuffix(w, "nya"); ok && len(base) >= 2 {
		if _, known := a.replace[base]; known || len(base) <= 4 {
			return []string{base} // "kknya", "ktpnya", "aktanya"
		}
	}
	// Javanese "-e"/"-ne" is "-nya": "syarate", "ktpne", "aktane", when what is
	// left is a word the knowledge base or the lexicon knows.
	if !a.known[w] && !a.stop[w] {
		for _, suf := range []string{"ne", "e"} {
			if base, ok := strings.CutSuffix(w, suf); ok && len(base) >= 3 && (a.known[base] || a.replace[base] != nil) {
				return []string{base}
			}
		}
	}
	return []string{w}
}

// correct returns the known word closest to w: w itself when known or too short to
// judge (under five letters), else the most frequent word within one edit (two for
// words of eight letters or more), else w.
func (s *speller) refCorrect(w string) string {
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
	for _, d := range refDeletions(w) {
		if s.freq[d] > 0 {
			consider(d) // an extra letter
		}
		consider(s.deletes[d]...) // a wrong or swapped letter
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
func refDeletions(w string) []string {
	r := []rune(w)
	out := make([]string, 0, len(r))
	for i := range r {
		out = append(out, string(r[:i])+string(r[i+1:]))
	}
	return out
}
