package fold

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode"
)

func TestLabel(t *testing.T) {
	for in, want := range map[string]string{
		"  Pengaduan! ":         "pengaduan",
		"/Lapor":                "lapor",
		"Info   Wisata\tBatang": "info wisata batang",
		"“Bahasa Indonesia”":    "bahasa indonesia",
		"e-KTP":                 "e-ktp",
	} {
		if got := Label(in); got != want {
			t.Errorf("Label(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRuns(t *testing.T) {
	for in, want := range map[string]string{
		"maaaaf": "maaf", "siiip": "siip", "maaf": "maaf", "2000": "2000", "wkwkwk": "wkwkwk", "": "",
	} {
		if got := Runs(in); got != want {
			t.Errorf("Runs(%q) = %q, want %q", in, got, want)
		}
	}
}

// labelBefore is Label as first written, in plain steps: the one-pass Label must
// give what it gave for every text.
func labelBefore(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.TrimPrefix(s, "/")
	s = strings.TrimFunc(s, func(r rune) bool { return unicode.IsPunct(r) || unicode.IsSpace(r) })
	return strings.Join(strings.Fields(s), " ")
}

func FuzzLabelIsAsBefore(f *testing.F) {
	for _, s := range []string{"", " ", "menu", "Menu utama", "/start", "  KTP ku ilang gmn?? ", "a  b", "a\tb",
		"İstanbul", "ÀÉ", "\u00a0x\u00a0", "x\u0085y", "\xff", "a\xffB", "!!", "/ / x", "e-KTP.", "“Bahasa”", "ǅ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := Label(s), labelBefore(s); got != want {
			t.Errorf("Label(%q) = %q, before %q", s, got, want)
		}
		if !Is(s, Label(s)) || Is(s, Label(s)+"x") {
			t.Errorf("Is(%q, …) does not tell its own Label from another text", s)
		}
	})
}

// TestLabelIsAsBeforeOnRandomText runs the comparison over random texts drawn from
// letters, capitals, spaces of several kinds, punctuation and broken UTF-8.
func TestLabelIsAsBeforeOnRandomText(t *testing.T) {
	parts := []string{"a", "B", "z", "Ä", "é", "İ", " ", "  ", "\t", "\n", "\u00a0", "\u2003", "/", "!", "?", ".", "-", "“", "\xff", "1", "ǅ", "ß"}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		var b strings.Builder
		for range rng.IntN(12) {
			b.WriteString(parts[rng.IntN(len(parts))])
		}
		s := b.String()
		if got, want := Label(s), labelBefore(s); got != want {
			t.Fatalf("Label(%q) = %q, before %q", s, got, want)
		}
		// Is compares with a text folded already as Label would; with random texts
		// too, most of which no label folds to.
		b.Reset()
		for range rng.IntN(4) {
			b.WriteString(parts[rng.IntN(len(parts))])
		}
		for _, other := range []string{Label(s), b.String(), Label(b.String()), Label(s) + " ", "\xff"} {
			if got, want := Is(s, other), Label(s) == other; got != want {
				t.Fatalf("Is(%q, %q) = %v, want %v", s, other, got, want)
			}
		}
	}
}

// runsBefore is Runs as first written, before CutRuns: the in-place Runs must give
// what it gave for every word.
func runsBefore(w string) string {
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

func FuzzRunsIsAsBefore(f *testing.F) {
	for _, s := range []string{"", "a", "aaa", "maaaaf", "siiip", "2000", "wkwkwk", "ééé", "aaabbbccc", "a\xff\xff\xffb", "111aaa"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := Runs(s), runsBefore(s); got != want {
			t.Errorf("Runs(%q) = %q, before %q", s, got, want)
		}
	})
}

// TestRunsIsAsBeforeOnRandomText compares Runs with runsBefore on random words of
// letters held down, digits, other scripts and broken UTF-8.
func TestRunsIsAsBeforeOnRandomText(t *testing.T) {
	parts := []string{"a", "a", "aa", "b", "é", "éé", "Ж", "1", "11", "'", "-", "\xff", "😊"}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 20000 {
		var b strings.Builder
		for range rng.IntN(10) {
			b.WriteString(parts[rng.IntN(len(parts))])
		}
		if got, want := Runs(b.String()), runsBefore(b.String()); got != want {
			t.Fatalf("Runs(%q) = %q, before %q", b.String(), got, want)
		}
	}
}

// TestWrittenFollowsAWordInItsText: runes that come one after another as the text
// writes them keep the word a part of the text; a rune changed on the way, or a gap,
// and it is not, until a word begins again.
func TestWrittenFollowsAWordInItsText(t *testing.T) {
	text := "ab Cd e"
	s, e := Written(0, -1, -1, 0, 1, true) // a
	s, e = Written(1, s, e, 1, 2, true)    // b
	if s < 0 || text[s:e] != "ab" {
		t.Errorf("after a and b: %d, %d; want the text's \"ab\"", s, e)
	}
	s, e = Written(0, -1, e, 3, 4, false) // "C" lower-cased
	s, e = Written(1, s, e, 4, 5, true)   // d
	if s >= 0 {
		t.Errorf("a word with a changed rune is written at %d", s)
	}
	s, e = Written(0, -1, e, 0, 1, true) // a
	s, _ = Written(1, s, e, 6, 7, true)  // e, not next to it
	if s >= 0 {
		t.Errorf("a word with a gap is written at %d", s)
	}
}
