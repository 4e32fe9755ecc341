package bot

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// SplitText cuts a long text into parts a platform accepts, each at most max units
// long, where units tells how many units a character counts (Telegram counts UTF-16
// code units, WhatsApp characters). It cuts at the last paragraph break in the second
// half of the window, else the last sentence end in its last three quarters, else
// the last line break in its second half, else the last space, else (one unbroken
// word) at max; never inside a character. White space at the cuts is dropped.
func SplitText(s string, max int, units func(rune) int) []string {
	s = strings.TrimSpace(s)
	var parts []string
	for length(s, units) > max {
		n := prefix(s, max, units)
		if n == 0 { // max is smaller than the first character: it goes alone
			_, n = utf8.DecodeRuneInString(s)
		}
		window := s[:n]
		at := cutPoint(window)
		part := strings.TrimRightFunc(window[:at], unicode.IsSpace)
		if part == "" {
			part, at = window, len(window)
		}
		parts = append(parts, part)
		s = strings.TrimLeftFunc(s[at:], unicode.IsSpace)
	}
	if s != "" {
		parts = append(parts, s)
	}
	return parts
}

// length is how many units s counts.
func length(s string, units func(rune) int) int {
	n := 0
	for _, r := range s {
		n += units(r)
	}
	return n
}

// prefix returns the byte length of the longest prefix of s within max units.
func prefix(s string, max int, units func(rune) int) int {
	n := 0
	for i, r := range s {
		if n+units(r) > max {
			return i
		}
		n += units(r)
	}
	return len(s)
}

func cutPoint(w string) int {
	half := len(w) / 2
	if i := strings.LastIndex(w, "\n\n"); i >= half {
		return i
	}
	if i := lastSentenceEnd(w); i >= len(w)/4 {
		return i
	}
	if i := strings.LastIndexByte(w, '\n'); i >= half {
		return i
	}
	if i := strings.LastIndexFunc(w, unicode.IsSpace); i > 0 {
		return i
	}
	return len(w)
}

// lastSentenceEnd returns the byte offset just after the last ".", "!", "?" or "…"
// (with any closing quote or bracket) that is followed by white space, or -1.
func lastSentenceEnd(w string) int {
	for i := len(w); i > 0; {
		r, size := utf8.DecodeLastRuneInString(w[:i])
		i -= size
		if !unicode.IsSpace(r) || i == 0 {
			continue
		}
		j := i
		for j > 0 {
			p, psize := utf8.DecodeLastRuneInString(w[:j])
			if !strings.ContainsRune(`"')]»”’`, p) {
				break
			}
			j -= psize
		}
		if p, _ := utf8.DecodeLastRuneInString(w[:j]); strings.ContainsRune(".!?…", p) {
			return i
		}
	}
	return -1
}
