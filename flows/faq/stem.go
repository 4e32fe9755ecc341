package faq

import "strings"

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
func (a *analyzer) stem(w string) string {
	if len(w) <= minStem || a.protect[w] || a.replaced[w] || strings.ContainsAny(w, "-0123456789") {
		return w
	}
	w = cutSuffix(w, "pun")
	if w = cutSuffix(w, "nya", "ku", "mu"); a.protect[w] {
		return w
	}
	// The candidates of both bases in order: the first known one, else the first.
	first, found := "", ""
	for _, base := range [...]string{cutSuffix(w, "kan", "an", "i"), w} {
		eachPrefixCandidate(base, 2, a.prefixes, func(c string) bool {
			if first == "" {
				first = c // never "": a candidate has four letters or more
			}
			if c != w && a.known[c] {
				found = c
				return false
			}
			return true
		})
		if found != "" {
			return found
		}
	}
	return first
}

// minStem is the shortest stem a rule may leave.
const minStem = 4

func cutSuffix(w string, suffixes ...string) string {
	for _, s := range suffixes {
		if base, ok := strings.CutSuffix(w, s); ok && len(base) >= minStem {
			return base
		}
	}
	return w
}

type prefixRule struct{ prefix, restore string }

// prefixRules in the order they are tried; a restore is the consonant that me-/pe-
// swallowed before a vowel (menulis → tulis, memakai → pakai, menyapu → sapu).
func prefixRules() []prefixRule {
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

// eachPrefixCandidate calls yield with the forms of w with up to depth prefixes
// removed by rules, the most stripped first by rule order, ending with the deepest
// default; w itself comes last. It stops when yield returns false, and reports
// whether it went to the end: stem needs only the first known form.
func eachPrefixCandidate(w string, depth int, rules []prefixRule, yield func(string) bool) bool {
	if depth > 0 {
		for _, r := range rules {
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
			if !eachPrefixCandidate(rest, depth-1, rules, yield) {
				return false
			}
		}
	}
	return yield(w)
}

func isVowel(b byte) bool { return strings.IndexByte("aiueo", b) >= 0 }
