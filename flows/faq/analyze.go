package faq

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/layan-id/layan/flows/fold"
)

// Lexicon is what the matcher knows about how people write (locales/lexicon.yaml).
type Lexicon struct {
	Replace   map[string]string `yaml:"replace"`
	Stopwords []string          `yaml:"stopwords"`
	Weak      []string          `yaml:"weak"`
	Protect   []string          `yaml:"protect"`
	// Places names places people may ask about (provinces, cities, countries). One
	// that the knowledge base never mentions makes a question about somewhere else.
	Places []string `yaml:"places"`
	// Movement are the words before a place that make it an origin or a destination
	// ("pindah ke jakarta", "from semarang"): the question is still about here.
	Movement []string `yaml:"movement"`
}

// analyzer turns text into the terms the index matches on: normalised, with slang,
// abbreviations and synonyms replaced, stopwords dropped and words stemmed. The same
// analyzer reads the knowledge base and the questions, so both meet in one form.
type analyzer struct {
	replace  map[string][]string // phrase → words; phrases of up to maxWords words
	maxWords int
	stop     map[string]bool
	weak     map[string]bool // terms (stemmed) that never make a question on their own
	protect  map[string]bool
	replaced map[string]bool // words that replacements produce: already canonical
	known    map[string]bool // every word of the knowledge base: the stemmer's dictionary
	places   map[string]bool // place names, as words joined by spaces
	movement map[string]bool
	maxPlace int
	prefixes []prefixRule // prefixRules, made once
}

func newAnalyzer(lx Lexicon) *analyzer {
	a := &analyzer{replace: map[string][]string{}, stop: map[string]bool{}, protect: map[string]bool{},
		replaced: map[string]bool{}, known: map[string]bool{}, weak: map[string]bool{}, prefixes: prefixRules()}
	for from, to := range lx.Replace {
		key := strings.Join(words(from), " ")
		if key == "" {
			continue
		}
		a.replace[key] = words(to)
		for _, w := range a.replace[key] {
			a.replaced[w] = true
		}
		a.maxWords = max(a.maxWords, strings.Count(key, " ")+1)
	}
	for _, w := range lx.Stopwords {
		a.stop[w] = true
	}
	for _, w := range lx.Protect {
		a.protect[w] = true
	}
	a.places, a.movement = map[string]bool{}, map[string]bool{}
	for _, w := range lx.Movement {
		a.movement[w] = true
	}
	for _, p := range lx.Places {
		if key := strings.Join(words(p), " "); key != "" {
			a.places[key] = true
			a.maxPlace = max(a.maxPlace, strings.Count(key, " ")+1)
		}
	}
	for _, w := range lx.Weak {
		a.weak[a.stem(w)] = true
	}
	return a
}

// words lower-cases text and splits it into words of letters and digits. Hyphens
// inside a word are kept ("e-ktp", "oleh-oleh"); other punctuation, emoji and symbols
// separate words. A letter repeated three or more times is cut to two ("maaaaf" →
// "maaf", "siiip" → "siip"); typo correction takes it from there.
//
// It reads text rune by rune, each lower-cased as strings.ToLower would, and a word
// written in text as it comes out (lower case, nothing cut) is a part of text, not a
// copy: it runs for every question.
func words(text string) []string {
	var out []string
	var b []rune         // the word being read
	start, end := -1, -1 // where b is written in text, while it is (else start is -1)
	flush := func() {
		n := len(b)
		w := fold.CutRuns(b)
		lo, hi := 0, len(w)
		for lo < hi && w[lo] == '-' {
			lo++
		}
		for hi > lo && w[hi-1] == '-' {
			hi--
		}
		switch {
		case lo == hi:
		case start >= 0 && len(w) == n && lo == 0 && hi == n:
			out = append(out, text[start:end])
		default:
			out = append(out, string(w[lo:hi]))
		}
		b, start = b[:0], -1
	}
	for i := 0; i < len(text); {
		orig, size := utf8.DecodeRuneInString(text[i:])
		r := unicode.ToLower(orig)
		at := i
		i += size
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' && len(b) > 0:
			verbatim := r == orig && (orig != utf8.RuneError || size > 1) // as text writes it
			start, end = fold.Written(len(b), start, end, at, i, verbatim)
			b = append(b, r)
		default:
			flush()
		}
	}
	flush()
	return out
}

// placesIn returns the place names that ws mention, longest first, and whether each
// is where the text is about (not an origin or a destination).
func (a *analyzer) placesIn(ws []string) (out []string, at []bool) {
	var key []byte
	for i := 0; i < len(ws); {
		n := min(a.maxPlace, len(ws)-i)
		for ; n > 0; n-- {
			if key = joined(key[:0], ws[i:i+n]); a.places[string(key)] { // (no string made to look up)
				out = append(out, string(key))
				at = append(at, i == 0 || !a.movement[ws[i-1]])
				break
			}
		}
		i += max(n, 1)
	}
	return out, at
}

// joined appends ws to b with spaces between: strings.Join, into a buffer, for
// looking phrases up in a map without making a string for every try.
func joined(b []byte, ws []string) []byte {
	for i, w := range ws {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, w...)
	}
	return b
}

// learn adds the words of a knowledge base text to the stemmer's dictionary. Call it
// for every text before analysing any.
func (a *analyzer) learn(text string) {
	for _, w := range a.expand(words(text)) {
		a.known[w] = true
	}
}

// terms analyses text into index terms.
func (a *analyzer) terms(text string) []string {
	ws := a.expand(words(text))
	out := make([]string, 0, len(ws))
	for _, w := range ws {
		if a.stop[w] {
			continue
		}
		out = append(out, a.stem(w))
	}
	return out
}

// expand splits reduplications and "-nya" forms and applies the replacements,
// longest phrase first.
func (a *analyzer) expand(ws []string) []string {
	var out []string
	for _, g := range a.expandGroups(ws) {
		out = append(out, g...)
	}
	return out
}

// expandGroups is expand that keeps together the words that one written word or
// phrase became.
func (a *analyzer) expandGroups(ws []string) [][]string {
	in := make([]string, 0, len(ws))
	for _, w := range ws {
		in = a.unfold(in, w)
	}
	out := make([][]string, 0, len(in))
	var key []byte
	for i := 0; i < len(in); {
		n := min(a.maxWords, len(in)-i)
		for ; n > 0; n-- {
			key = joined(key[:0], in[i:i+n])
			if to, ok := a.replace[string(key)]; ok { // (no string made to look up)
				out = append(out, to)
				break
			}
		}
		if n == 0 {
			out = append(out, in[i:i+1:i+1]) // (a part of in, not a copy: the groups are only read)
			n = 1
		}
		i += n
	}
	return out
}

// split returns the words of a question with words typed together taken apart
// ("cekbansos" → cek bansos) when both halves are words the knowledge base or the
// lexicon knows and the whole is not.
func (a *analyzer) split(ws []string) []string {
	var out []string
	for i := 0; i < len(ws); i++ {
		w := ws[i]
		if i+1 < len(ws) && ws[i+1] == w {
			if whole := w + "-" + w; a.known[whole] || a.protect[whole] {
				out = append(out, whole) // "oleh oleh" is "oleh-oleh"
				i++
				continue
			}
		}
		if len(w) >= 7 && !a.knows(w) {
			if l, r, ok := a.halves(w); ok {
				out = append(out, l, r)
				continue
			}
		}
		out = append(out, w)
	}
	return out
}

func (a *analyzer) knows(w string) bool {
	_, ok := a.replace[w]
	return ok || a.known[w] || a.stop[w]
}

func (a *analyzer) halves(w string) (string, string, bool) {
	for i := 3; i <= len(w)-3; i++ {
		l, r := w[:i], w[i:]
		if a.knows(l) && a.knows(r) && !a.stop[l] && !a.stop[r] {
			return l, r, true
		}
	}
	return "", "", false
}

// unfold handles the forms of one written word: "syarat2" and "anak-anak" are one
// word; "ktpnya" is "ktp"; a hyphenated word that the lexicon knows stays whole,
// otherwise it is two words ("ktp-ku" → "ktp", "ku"). It appends the words to in
// and returns it.
func (a *analyzer) unfold(in []string, w string) []string {
	if base, ok := strings.CutSuffix(w, "2"); ok && len(base) > 2 && !isDigits(base) {
		w = base
		if whole := base + "-" + base; a.known[whole] || a.protect[whole] {
			return append(in, whole) // "lumba2" is "lumba-lumba"
		}
	}
	if _, ok := a.replace[w]; ok || a.protect[w] {
		return append(in, w)
	}
	if l, r, ok := strings.Cut(w, "-"); ok {
		if l == r {
			return append(in, l)
		}
		return a.unfold(a.unfold(in, l), r)
	}
	if base, ok := strings.CutSuffix(w, "nya"); ok && len(base) >= 2 {
		if _, known := a.replace[base]; known || len(base) <= 4 {
			return append(in, base) // "kknya", "ktpnya", "aktanya"
		}
	}
	// Javanese "-e"/"-ne" is "-nya": "syarate", "ktpne", "aktane", when what is
	// left is a word the knowledge base or the lexicon knows.
	if !a.known[w] && !a.stop[w] {
		for _, suf := range []string{"ne", "e"} {
			if base, ok := strings.CutSuffix(w, suf); ok && len(base) >= 3 && (a.known[base] || a.replace[base] != nil) {
				return append(in, base)
			}
		}
	}
	return append(in, w)
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
