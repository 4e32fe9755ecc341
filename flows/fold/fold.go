// Package fold holds the small rules by which Layan's readers of typed text (the
// router, flows/intent, flows/faq) agree on what people write: the form in which a
// message is compared with a label or a keyword, and how a letter held down too long
// is read.
package fold

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Label is the form in which typed text is compared with an option's label or a
// keyword: lower case, without a leading '/' (Telegram commands) or surrounding
// punctuation, inner white space folded to single spaces.
func Label(s string) string {
	start := strings.IndexFunc(s, kept)
	if start < 0 {
		return ""
	}
	end := strings.LastIndexFunc(s, kept)
	_, size := utf8.DecodeRuneInString(s[end:])
	s = s[start : end+size]
	if folded(s) {
		return s // most keywords and typed words: nothing to change, nothing to allocate
	}
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) {
			space = true
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// Is reports whether Label(s) is folded, without building it: for comparing many
// labels with one text folded once.
func Is(s, folded string) bool {
	start := strings.IndexFunc(s, kept)
	if start < 0 {
		return folded == ""
	}
	end := strings.LastIndexFunc(s, kept)
	_, size := utf8.DecodeRuneInString(s[end:])
	space := false
	for _, r := range s[start : end+size] {
		if unicode.IsSpace(r) {
			space = true
			continue
		}
		if space {
			if folded == "" || folded[0] != ' ' {
				return false
			}
			folded, space = folded[1:], false
		}
		f, n := utf8.DecodeRuneInString(folded)
		if n == 0 || f != unicode.ToLower(r) || f == utf8.RuneError && n == 1 { // Label writes no broken UTF-8
			return false
		}
		folded = folded[n:]
	}
	return folded == ""
}

// kept is what Label keeps at either end: no punctuation (a leading '/' included),
// no white space.
func kept(r rune) bool { return !unicode.IsPunct(r) && !unicode.IsSpace(r) }

// folded reports whether s, trimmed already, is in Label's form: ASCII without capitals
// or white space other than single spaces.
func folded(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= utf8.RuneSelf, 'A' <= c && c <= 'Z':
			return false
		case c == ' ':
			if s[i-1] == ' ' { // never at either end: s is trimmed
				return false
			}
		case c == '\t', c == '\n', c == '\v', c == '\f', c == '\r':
			return false
		}
	}
	return true
}

// Runs cuts every letter repeated three times or more in a row to two ("maaaaf" →
// "maaf", "siiip" → "siip"): people stretch words for emphasis, and no Indonesian,
// Javanese or English word has a letter three times in a row. Digits stay as they are.
func Runs(w string) string { return string(CutRuns([]rune(w))) }

// CutRuns is Runs on the runes of a word, in place: it returns w's first runes
// holding the runes kept, for a reader that has the runes already.
func CutRuns(w []rune) []rune {
	n := 0
	var prev1, prev2 rune // w[i-1] and w[i-2] as they were before any was moved
	for i, c := range w {
		if i < 2 || c != prev1 || c != prev2 || !unicode.IsLetter(c) {
			w[n] = c
			n++
		}
		prev2, prev1 = prev1, c
	}
	return w[:n]
}

// Written follows where a word read from a text rune by rune (lower-cased, or
// otherwise changed along the way) is written in the text as it is, so that a reader
// can hand the word out as that part of the text, without a copy. The word so far has
// n runes and is text[start:end] (start -1: it is not, or n is 0); its next rune was
// read from text[at:next], and verbatim says the text writes it there as it is.
// Written returns where the word with that rune is written (start -1: it is not).
func Written(n, start, end, at, next int, verbatim bool) (int, int) {
	switch {
	case n == 0 && verbatim:
		return at, next
	case n > 0 && start >= 0 && verbatim && end == at:
		return start, next
	}
	return -1, end
}
