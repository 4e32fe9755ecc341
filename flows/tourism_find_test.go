package flows

import (
	"bufio"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/layan-id/layan/locales"
)

// The tourism search is tuned with the intent reader and the FAQ, so a change made
// for speed must find the same attractions for every text. refFind and refNameWords
// are the search as it was (commit a8c3d49), word for word: the reference. A change
// meant only to be cheaper leaves them alone; one meant to find differently makes the
// same change here, in the same commit.

func refFind(t Tourism, text string) []Attraction {
	typed := refNameWords(text)
	if len(typed) == 0 {
		return nil
	}
	freq := map[string]int{}
	words := make([][]string, len(t.Attractions))
	for i, a := range t.Attractions {
		var all []string
		for _, name := range a.Name {
			for _, w := range refNameWords(name) {
				if !slices.Contains(all, w) {
					all = append(all, w)
				}
			}
		}
		words[i] = all
		for _, w := range all {
			freq[w]++
		}
	}
	var out []Attraction
	best := 0
	for i, a := range t.Attractions {
		score := 0
		for _, w := range words[i] {
			if freq[w] < 3 && slices.Contains(typed, w) {
				score++
			}
		}
		switch {
		case score == 0 || score < best:
		case score > best:
			best, out = score, []Attraction{a}
		case len(out) < 3:
			out = append(out, a)
		}
	}
	return out
}

func refNameWords(text string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) }) {
		if len([]rune(w)) >= 4 {
			out = append(out, w)
		}
	}
	return out
}

// findTexts are what people type where the tourism flow searches: every message of
// the intent dev set, every FAQ dev set question, and every attraction's name in each
// language as written, in capitals and with its words in another order.
func findTexts(t testing.TB, tour Tourism) []string {
	var out []string
	for _, file := range []struct {
		path string
		col  int
	}{{"testdata/intents.tsv", 2}, {"faq/testdata/dev.tsv", 1}} {
		f, err := os.Open(file.path)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if cols := strings.Split(sc.Text(), "\t"); len(cols) > file.col && !strings.HasPrefix(cols[0], "#") {
				out = append(out, cols[file.col])
			}
		}
		f.Close()
	}
	for _, a := range tour.Attractions {
		for _, lang := range locales.Languages() {
			name := a.Name.In(lang)
			ws := strings.Fields(name)
			slices.Reverse(ws)
			out = append(out, name, strings.ToUpper(name), strings.Join(ws, " "))
		}
	}
	return out
}

func loadTourism(t testing.TB) Tourism {
	tour, err := LoadTourism(locales.Content(""))
	if err != nil {
		t.Fatal(err)
	}
	return tour
}

// sameAttractions reports whether two searches found the same attractions in the
// same order.
func sameAttractions(a, b []Attraction) bool {
	return slices.EqualFunc(a, b, func(x, y Attraction) bool { return x.ID == y.ID })
}

// BenchmarkTourismFind searches the attractions for every text of findTexts once per
// op:
//
//	go test -run X -bench TourismFind -cpu 1 ./flows/
func BenchmarkTourismFind(b *testing.B) {
	tour := loadTourism(b)
	n := newNames(tour)
	texts := findTexts(b, tour)
	b.ResetTimer()
	for b.Loop() {
		for _, text := range texts {
			n.find(text)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*len(texts)), "µs/text")
}

// TestTourismFindAsBefore finds the same attractions as the search did before for
// every text people type, and for random mixes of the names' words with slips,
// capitals, other scripts and marks.
func TestTourismFindAsBefore(t *testing.T) {
	tour := loadTourism(t)
	n := newNames(tour)
	texts := findTexts(t, tour)
	found := 0
	for _, text := range texts {
		got, want := n.find(text), refFind(tour, text)
		if !sameAttractions(got, want) {
			t.Fatalf("find(%q) = %v, before %v", text, ids(got), ids(want))
		}
		if len(want) > 0 {
			found++
		}
	}
	if found < 50 {
		t.Errorf("only %d texts find an attraction: the comparison says little", found)
	}
	rng := rand.New(rand.NewPCG(14, 2026))
	for range 20000 {
		text := randomFindText(rng, texts)
		if got, want := n.find(text), refFind(tour, text); !sameAttractions(got, want) {
			t.Fatalf("find(%q) = %v, before %v", text, ids(got), ids(want))
		}
	}
}

// FuzzTourismFind compares the search with the reference on any text:
//
//	go test -run X -fuzz FuzzTourismFind -fuzztime 2m ./flows/
func FuzzTourismFind(f *testing.F) {
	tour := loadTourism(f)
	n := newNames(tour)
	for _, text := range findTexts(f, tour) {
		f.Add(text)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if got, want := n.find(text), refFind(tour, text); !sameAttractions(got, want) {
			t.Fatalf("find(%q) = %v, before %v", text, ids(got), ids(want))
		}
	})
}

func ids(as []Attraction) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.ID)
	}
	return out
}

// randomFindText mixes words of the texts with slips and marks.
func randomFindText(rng *rand.Rand, texts []string) string {
	var ws []string
	for range 1 + rng.IntN(5) {
		f := strings.Fields(texts[rng.IntN(len(texts))])
		if len(f) == 0 {
			continue
		}
		w := []rune(f[rng.IntN(len(f))])
		switch rng.IntN(8) {
		case 0:
			if len(w) > 1 {
				i := rng.IntN(len(w))
				w = slices.Delete(w, i, i+1)
			}
		case 1:
			w = []rune(strings.ToUpper(string(w)))
		case 2:
			w = append(w, []rune([]string{"é", "ü", "ж", "日本", "😊", "-ku", "'s", "’", "2", "İ", "ß"}[rng.IntN(11)])...)
		case 3:
			w = append([]rune{[]rune("ÉÜЖİıΣ")[rng.IntN(6)]}, w...)
		}
		ws = append(ws, string(w))
	}
	return strings.Join(ws, []string{" ", ", ", "-", "/", " 😊 ", "\n"}[rng.IntN(6)])
}
