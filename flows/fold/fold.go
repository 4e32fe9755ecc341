// Package fold holds the small rules by which Layan's readers of typed text (the
// router, flows/intent, flows/faq) agree on what people write: the form in which a
// message is compared with a label or a keyword, and how a letter held down too long
// is read.
package fold

import (
	"strings"
	"unicode"
)

// Label is the form in which typed text is compared with an option's label or a
// keyword: lower case, without a leading '/' (Telegram commands) or surrounding
// punctuation, inner white space folded to single spaces.
func Label(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.TrimPrefix(s, "/")
	s = strings.TrimFunc(s, func(r rune) bool { return unicode.IsPunct(r) || unicode.IsSpace(r) })
	return strings.Join(strings.Fields(s), " ")
}

// Runs cuts every letter repeated three times or more in a row to two ("maaaaf" →
// "maaf", "siiip" → "siip"): people stretch words for emphasis, and no Indonesian,
// Javanese or English word has a letter three times in a row. Digits stay as they are.
func Runs(w string) string {
	rs := []rune(w)
	out := rs[:0:0]
	for i, c := range rs {
		if i >= 2 && c == rs[i-1] && c == rs[i-2] && unicode.IsLetter(c) {
			continue
		}
		out = append(out, c)
	}
	return string(out)
}
