package intent

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/layan-id/layan/locales"
)

// The reader is tuned against held-out messages, so a change made for speed must not
// change a single reading. These tests compare it with the reader as it was
// (ref_test.go) on the dev set in every situation and on random texts made of its
// words with the slips, scripts and marks people type.

// differential holds the reader, the reference built from the same data, and the
// situations to read in (sorted by name, both languages).
type differential struct {
	r        *Reader
	ref      *refReader
	contexts []Context
	names    []string
}

func newDifferential(t testing.TB) *differential {
	r, err := Load(locales.Content(""))
	if err != nil {
		t.Fatal(err)
	}
	ref, err := refLoad(locales.Content(""))
	if err != nil {
		t.Fatal(err)
	}
	d := &differential{r: r, ref: ref}
	for _, lang := range locales.Languages() {
		cs := devContexts(t, r, lang)
		for _, name := range refSortedKeys(cs) {
			d.contexts = append(d.contexts, cs[name])
			d.names = append(d.names, lang+"/"+name)
		}
	}
	return d
}

// check reads text in every situation i of which, and in none, with both readers.
func (d *differential) check(t testing.TB, text string, which ...int) {
	t.Helper()
	if got, want := Words(text), refWords(text); !slices.Equal(got, want) {
		t.Fatalf("Words(%q) = %q, before %q", text, got, want)
	}
	gotTicket, gotOK := Ticket(text)
	if wantTicket, wantOK := refTicket(text); gotTicket != wantTicket || gotOK != wantOK {
		t.Fatalf("Ticket(%q) = %q, %v, before %q, %v", text, gotTicket, gotOK, wantTicket, wantOK)
	}
	for _, w := range refWords(text) {
		if got, want := isNumber(w), refIsNumber(w); got != want {
			t.Fatalf("isNumber(%q) = %v, before %v", w, got, want)
		}
	}
	if got, want := d.r.Read(text, Context{}), d.ref.Read(text, Context{}); got != want {
		t.Fatalf("Read(%q) with nothing offered = %+v, before %+v", text, got, want)
	}
	for _, i := range which {
		if got, want := d.r.Read(text, d.contexts[i]), d.ref.Read(text, d.contexts[i]); got != want {
			t.Fatalf("Read(%q) in %s = %+v, before %+v", text, d.names[i], got, want)
		}
	}
}

func (d *differential) all() []int {
	all := make([]int, len(d.contexts))
	for i := range all {
		all[i] = i
	}
	return all
}

// TestReadAsBeforeOnTheDevSet reads every message of the intent dev set in every
// situation the flows offer, in both languages, as the reader did before.
func TestReadAsBeforeOnTheDevSet(t *testing.T) {
	d := newDifferential(t)
	all := d.all()
	for _, m := range readDevSet(t) {
		d.check(t, m.text, all...)
	}
}

// TestReadAsBeforeOnRandomTexts reads random texts made of the reader's own words,
// labels and fillers, typed with slips (a letter dropped, added, replaced or swapped),
// capitals, letters held down, emoji, letters of other scripts, apostrophes, hyphens
// and numbers, each in a situation, as the reader did before.
func TestReadAsBeforeOnRandomTexts(t *testing.T) {
	d := newDifferential(t)
	n := 20000
	if testing.Short() {
		n = 2000
	}
	g := newTextGen(d, rand.New(rand.NewPCG(14, 2026)))
	for range n {
		text := g.text()
		d.check(t, text, g.rng.IntN(len(d.contexts)))
	}
}

// FuzzRead compares the reader with the reference on any text, in the situation
// numbered ctx:
//
//	go test -run X -fuzz FuzzRead -fuzztime 2m ./flows/intent/
func FuzzRead(f *testing.F) {
	d := newDifferential(f)
	for i, m := range readDevSet(f) {
		f.Add(m.text, uint8(i))
	}
	g := newTextGen(d, rand.New(rand.NewPCG(1, 2)))
	for i := range 200 {
		f.Add(g.text(), uint8(i))
	}
	f.Fuzz(func(t *testing.T, text string, ctx uint8) {
		d.check(t, text, int(ctx)%len(d.contexts))
	})
}

// TestWordsOfOddTexts splits texts at the edges of Words' rules as before: broken
// UTF-8, marks alone, emoji sequences, apostrophes at either end.
func TestWordsOfOddTexts(t *testing.T) {
	d := newDifferential(t)
	for _, text := range []string{"", " ", "'", "’a", "a'", "a'b", "a’b", "a’’b", "don't", "Don’T", "l'éte",
		"\xff", "a\xffb", "\xe2\x80", "ÄÖÜ", "İstanbul", "ǅemal", "ΣΊΣΥΦΟΣ", "ß", "ﬃ", "K", "Å",
		"👍👍", "👍🏽👍", "❤️❤️", "👨‍👩‍👧", "🇮🇩", "a👍b", "+-=$^`|~<>", "ab\u0301c", "١٢٣", "二〇二六",
		"wkwkwk", "hahaha", "aaaa", "aaaaa", "abab", "ababa", "ééé", "éaéa", "hehe", "kwkwk", "11111", "1a1a",
		"jalan-jalan", "-jalan-", "e-ktp", "ok\u200dok", "x\ufe0fy", "a\U0001F3FBb", strings.Repeat("é", 40),
		"btg2612020001", "BTG 261202 0001", "x 1234567890 y", "١٢٣٤٥٦٧٨٩٠١٢", "+1", "-2", "+-3", "99999999999999999999", "007"} {
		d.check(t, text, d.all()...)
	}
}

// textGen makes texts out of the reader's words with the slips people make.
type textGen struct {
	rng   *rand.Rand
	words []string
}

func newTextGen(d *differential, rng *rand.Rand) *textGen {
	seen := map[string]bool{}
	var words []string
	add := func(w string) {
		if w != "" && !seen[w] {
			seen[w] = true
			words = append(words, w)
		}
	}
	for _, w := range refSortedKeys(d.ref.vocab) {
		add(w)
	}
	for _, w := range refSortedKeys(d.ref.fillers) {
		add(w)
	}
	for _, c := range d.contexts {
		for _, o := range c.Offers {
			for _, w := range strings.Fields(o.Label) {
				add(w)
			}
		}
	}
	for _, w := range []string{"1", "2", "3", "7", "12", "no", "btg-261202-0001", "BTG 261202 0001", "nik", "3325010101900001",
		"😊", "👍", "🙏🏻", "❤️", "😂😂", "+", "?", "...", "!!", ",", "/menu", "#", "@admin", "’", "'", "-", "\t", "\n"} {
		add(w)
	}
	return &textGen{rng: rng, words: words}
}

var (
	genLetters = []rune("abcdefghijklmnopqrstuvwxyz")
	genForeign = []rune("éèêëáàâäíïóöôúüùçñßøåœæÉÜÑİıЖжПриветмир日本語中文한국어العربيةĀŪ")
)

func (g *textGen) text() string {
	n := 1 + g.rng.IntN(6)
	if g.rng.IntN(20) == 0 {
		n += g.rng.IntN(20)
	}
	var parts []string
	for range n {
		parts = append(parts, g.word())
	}
	seps := []string{" ", " ", " ", " ", "  ", ", ", ". ", "-", "\n", "? ", "! ", "…", "/", " 😊 "}
	var b strings.Builder
	for i, p := range parts {
		if i > 0 {
			b.WriteString(seps[g.rng.IntN(len(seps))])
		}
		b.WriteString(p)
	}
	return b.String()
}

// word is one of the words, sometimes with a slip or two.
func (g *textGen) word() string {
	w := []rune(g.words[g.rng.IntN(len(g.words))])
	for range g.rng.IntN(3) {
		w = g.slip(w)
	}
	return string(w)
}

func (g *textGen) slip(w []rune) []rune {
	pos := 0
	if len(w) > 0 {
		pos = g.rng.IntN(len(w))
	}
	letter := genLetters[g.rng.IntN(len(genLetters))]
	if g.rng.IntN(4) == 0 {
		letter = genForeign[g.rng.IntN(len(genForeign))]
	}
	switch g.rng.IntN(12) {
	case 0: // a letter dropped
		if len(w) > 1 {
			return slices.Delete(w, pos, pos+1)
		}
	case 1: // a letter added
		return slices.Insert(w, pos, letter)
	case 2: // a letter replaced
		if len(w) > 0 {
			w[pos] = letter
		}
	case 3: // two letters swapped
		if pos+1 < len(w) {
			w[pos], w[pos+1] = w[pos+1], w[pos]
		}
	case 4: // capitals
		return []rune(strings.ToUpper(string(w)))
	case 5:
		if len(w) > 0 {
			w[0] = []rune(strings.ToUpper(string(w[0])))[0]
		}
	case 6: // a letter held down
		if len(w) > 0 {
			return slices.Insert(w, pos, slices.Repeat([]rune{w[pos]}, 1+g.rng.IntN(4))...)
		}
	case 7: // "-nya", "2", "-ku"
		return append(w, []rune([]string{"nya", "2", "-ku", "ku", "mu", "ne", "e"}[g.rng.IntN(7)])...)
	case 8: // an apostrophe or a hyphen inside
		return slices.Insert(w, pos, []rune{'\'', '’', '-', '\'', '.'}[g.rng.IntN(5)])
	case 9: // an emoji next to it
		return append(w, []rune([]string{"😊", "👍🏽", "🙏", "❤️", "👨‍👩‍👧", "🇮🇩", "™", "©"}[g.rng.IntN(8)])...)
	case 10: // a syllable repeated
		if len(w) >= 2 {
			return slices.Repeat(w[:2], 2+g.rng.IntN(3))
		}
	case 11: // a word of another script
		return []rune([]string{"привет", "日本", "ÜBER", "café", "naïve", "straße", "ıi", "İi"}[g.rng.IntN(8)])
	}
	return w
}

// TestDifferentialSeesTheContexts guards the test itself: the situations carry
// offers, strict and busy ones among them, so the comparisons above read options.
func TestDifferentialSeesTheContexts(t *testing.T) {
	d := newDifferential(t)
	var offered, strict, busy int
	for _, c := range d.contexts {
		if len(c.Offers) > 0 {
			offered++
		}
		if c.Strict && len(c.Offers) > 0 { // the main menu; a conversation with none offered is strict too, with nothing to pick
			strict++
		}
		if c.Busy != "" {
			busy++
		}
	}
	if offered < 20 || strict != 2 || busy < 20 {
		t.Errorf("contexts: %d with offers, %d strict, %d busy", offered, strict, busy)
	}
	// and the dev set, read in them, picks options and reads intents.
	var options, intents int
	for _, m := range readDevSet(t) {
		for _, c := range d.contexts {
			rd := d.ref.Read(m.text, c)
			if rd.Option != "" {
				options++
			}
			if rd.Intent != "" {
				intents++
			}
		}
	}
	if options < 500 || intents < 5000 || reflect.DeepEqual(d.contexts[0], d.contexts[1]) {
		t.Errorf("the dev set read in the contexts picks %d options and reads %d intents", options, intents)
	}
}

// TestOptionAndSlotWordsAsBefore gives the words of every option and slot value as
// the reader did before, in slices a caller may append to without changing the
// reader's.
func TestOptionAndSlotWordsAsBefore(t *testing.T) {
	d := newDifferential(t)
	check := func(what string, got []string, phrases []refPhrase) {
		var want []string
		for _, p := range phrases {
			want = append(want, strings.Join(p, " "))
		}
		if !slices.Equal(got, want) || cap(got) != len(got) {
			t.Errorf("%s = %q (cap %d), before %q", what, got, cap(got), want)
		}
	}
	for _, id := range refSortedKeys(d.ref.options) {
		check("OptionWords("+id+")", d.r.OptionWords(id), d.ref.options[id])
	}
	for _, slot := range refSortedKeys(d.ref.slots) {
		for _, v := range refSortedKeys(d.ref.slots[slot]) {
			check("SlotWords("+slot+", "+v+")", d.r.SlotWords(slot, v), d.ref.slots[slot][v])
		}
	}
	check("OptionWords(unknown)", d.r.OptionWords("unknown"), nil)
	check("SlotWords(unknown)", d.r.SlotWords("category", "unknown"), nil)
}
