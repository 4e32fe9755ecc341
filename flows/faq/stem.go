package faq

import "strings"

// stem reduces an Indonesian word to a root-like form, after the rules of Nazief and
// Adriani: particles (-lah, -kah, -pun), possessives (-ku, -mu, -nya), derivational
// suffixes (-kan, -an, -i) and up to two prefixes (me-, pe-, be-, te-, di-, ke-, se-)
// with their sound changes. Their dictionary of roots is replaced by the words the
// knowledge base itself uses: where a rule is ambiguous (me+nikah or men+tikah?), the
// candidate that is a known word wins. A step is taken only when it leaves at least
// four letters, and protected words are left alone, so short and fragile words
// ("berapa", "kereta") survive. Questions and the knowledge base go through the same
// function, so the result needs to be consistent more than it needs to be a root.
func (a *analyzer) stem(w string) string {
	if len(w) <= minStem || a.protect[w] || a.replaced[w] || strings.ContainsAny(w, "-0123456789") {
		return w
	}
	w = cutSuffix(w, "lah", "kah", "pun")
	w = cutSuffix(w, "nya", "ku", "mu")
	if a.known[w] && a.rootLike(w) {
		return w
	}
	best := ""
	for _, base := range []string{cutSuffix(w, "kan", "an", "i"), w} {
		for _, root := range prefixCandidates(base, 2) {
			if a.known[root] {
				return root
			}
			if best == "" {
				best = root
			}
		}
	}
	return best
}

// rootLike reports whether a known word has no affix worth removing (it starts with
// none of the prefixes and ends with none of the suffixes).
func (a *analyzer) rootLike(w string) bool {
	return len(prefixCandidates(w, 1)) == 1 && cutSuffix(w, "kan", "an", "i") == w
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

// prefixCandidates returns the forms of w with up to depth prefixes removed, the most
// stripped first by rule order, ending with the deepest default; w itself comes last.
func prefixCandidates(w string, depth int) []string {
	var out []string
	if depth > 0 {
		for _, r := range prefixRules() {
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
			out = append(out, prefixCandidates(rest, depth-1)...)
		}
	}
	return append(out, w)
}

func isVowel(b byte) bool { return strings.IndexByte("aiueo", b) >= 0 }
