package telegram

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSplitText(t *testing.T) {
	tests := []struct {
		name string
		text string
		max  int
		want []string
	}{
		{"a short text stays whole", "Halo, apa kabar?", 50, []string{"Halo, apa kabar?"}},
		{"white space around the text is dropped", "  Halo  \n", 50, []string{"Halo"}},
		{"an empty text is no message", "   ", 50, nil},
		{"a paragraph break in the second half wins", "Satu dua tiga empat.\n\nLima enam.", 25,
			[]string{"Satu dua tiga empat.", "Lima enam."}},
		{"otherwise the last sentence end", "Satu dua. Tiga empat lima enam tujuh", 25,
			[]string{"Satu dua.", "Tiga empat lima enam", "tujuh"}},
		{"a sentence may end in a closing quote", `Dia bilang "siap!" lalu pergi jauh sekali`, 30,
			[]string{`Dia bilang "siap!"`, "lalu pergi jauh sekali"}},
		{"without sentences, at the last space", "satu dua tiga empat lima enam", 12,
			[]string{"satu dua", "tiga empat", "lima enam"}},
		{"one unbroken word is cut at the limit", "abcdefghijklmnopqrstuvwxyz", 10,
			[]string{"abcdefghij", "klmnopqrst", "uvwxyz"}},
		{"a cut never falls inside a multi-byte character", "ééééééééééé", 4,
			[]string{"éééé", "éééé", "ééé"}},
		{"emoji count twice, as Telegram counts them", "😀😀😀😀😀", 4,
			[]string{"😀😀", "😀😀", "😀"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := splitText(tc.text, tc.max)
			if strings.Join(got, "|") != strings.Join(tc.want, "|") || len(got) != len(tc.want) {
				t.Errorf("splitText(%q, %d) = %q, want %q", tc.text, tc.max, got, tc.want)
			}
			for _, p := range got {
				if !utf8.ValidString(p) || utf16Len(p) > tc.max {
					t.Errorf("part %q is invalid UTF-8 or over %d units", p, tc.max)
				}
			}
		})
	}
}

func FuzzSplitTextKeepsEveryCharacterWithinTheLimit(f *testing.F) {
	f.Add("Halo. Apa kabar? Baik!\n\nTerima kasih 😀 é", 7)
	f.Fuzz(func(t *testing.T, s string, max int) {
		if max < 2 || max > 5000 || !utf8.ValidString(s) {
			return
		}
		parts := splitText(s, max)
		for _, p := range parts {
			if p == "" || !utf8.ValidString(p) || utf16Len(p) > max {
				t.Fatalf("bad part %q (max %d)", p, max)
			}
		}
		strip := func(s string) string { return strings.Join(strings.Fields(s), "") }
		if strip(strings.Join(parts, "")) != strip(s) {
			t.Fatalf("parts %q lose characters of %q", parts, s)
		}
	})
}
