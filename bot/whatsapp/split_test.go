package whatsapp

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSplitText(t *testing.T) {
	para := func(c string, n int) string { return strings.Repeat(c, n) }
	tests := []struct {
		name string
		in   string
		max  int
		want []string
	}{
		{name: "a short text stays whole", in: "halo", max: 10, want: []string{"halo"}},
		{name: "an empty text is nothing", in: "  \n ", max: 10, want: nil},
		{
			name: "a long text is cut at a paragraph break",
			in:   para("a", 6) + "\n\n" + para("b", 6), max: 10,
			want: []string{para("a", 6), para("b", 6)},
		},
		{
			name: "without a paragraph break, at a sentence end",
			in:   "Satu dua tiga. Empat lima enam tujuh.", max: 30,
			want: []string{"Satu dua tiga.", "Empat lima enam tujuh."},
		},
		{
			name: "without a sentence end, at a space",
			in:   "satu dua tiga empat lima enam", max: 12,
			want: []string{"satu dua", "tiga empat", "lima enam"},
		},
		{
			name: "one unbroken word is cut at the limit",
			in:   para("x", 25), max: 10,
			want: []string{para("x", 10), para("x", 10), para("x", 5)},
		},
		{
			name: "characters are counted, not bytes, and never cut in half",
			in:   para("é", 15), max: 10,
			want: []string{para("é", 10), para("é", 5)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := splitText(tt.in, tt.max)
			if strings.Join(got, "|") != strings.Join(tt.want, "|") || len(got) != len(tt.want) {
				t.Errorf("splitText(%q, %d)\n got %q\nwant %q", tt.in, tt.max, got, tt.want)
			}
			for _, p := range got {
				if utf8.RuneCountInString(p) > tt.max || !utf8.ValidString(p) {
					t.Errorf("part %q is too long or broken", p)
				}
			}
		})
	}

	t.Run("a real long answer is cut near 4,000 characters at paragraph boundaries", func(t *testing.T) {
		var b strings.Builder
		for i := range 40 {
			b.WriteString(strings.Repeat("Informasi layanan publik nomor "+string(rune('A'+i%26))+". ", 8))
			b.WriteString("\n\n")
		}
		parts := splitText(b.String(), MaxText)
		if len(parts) < 3 {
			t.Fatalf("%d parts", len(parts))
		}
		for _, p := range parts[:len(parts)-1] {
			n := utf8.RuneCountInString(p)
			if n > MaxText || n < MaxText/2 {
				t.Errorf("part of %d characters", n)
			}
			if !strings.HasSuffix(p, ".") {
				t.Errorf("part does not end at a paragraph: %q", p[len(p)-20:])
			}
		}
	})
}
