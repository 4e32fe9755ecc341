package faq

import (
	"slices"
	"strings"
	"testing"
)

// testAnalyzer has a small lexicon and knows the words of a few phrasings.
func testAnalyzer() *analyzer {
	a := newAnalyzer(Lexicon{
		Replace: map[string]string{
			"gmn": "bagaimana", "ilang": "hilang", "e-ktp": "ktp", "akte": "akta",
			"kartu keluarga": "kk kartu keluarga", "beach": "pantai", "air terjun": "curug",
		},
		Stopwords: []string{"ya", "sih", "min", "di", "saya"},
		Weak:      []string{"bagaimana"},
		Protect:   []string{"berapa", "lumba-lumba", "sekolah"},
	})
	for _, t := range []string{"menikah di KUA", "pendaftaran sekolah", "biaya pembuatan akta kelahiran",
		"melihat lumba-lumba", "syarat mengurus KTP", "membayar pajak"} {
		a.learn(t)
	}
	return a
}

func TestWords(t *testing.T) {
	cases := []struct{ in, want string }{
		{"KTP saya ILANG!!! 😭", "ktp saya ilang"},
		{"siiiip makasiiih", "siip makasiih"},
		{"maaaaf min", "maaf min"},
		{"e-ktp, ktp-el; kk.", "e-ktp ktp-el kk"},
		{"-- 2024 --", "2024"},
	}
	for _, c := range cases {
		if got := strings.Join(words(c.in), " "); got != c.want {
			t.Errorf("words(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestTermsNormaliseHowPeopleWrite(t *testing.T) {
	a := testAnalyzer()
	cases := []struct{ name, in, want string }{
		{"slang and particles", "ktp ku ilang gmn ya min", "ktp ku hilang bagaimana"},
		{"reduplication with a digit", "syarat2 ngurus", "syarat ngurus"},
		{"reduplication written out", "anak-anak", "anak"},
		{"a reduplicated word the lexicon knows stays whole", "lumba2", "lumba-lumba"},
		{"-nya on a short word", "ktpnya aktenya", "ktp akta"},
		{"phrases before words", "kartu keluarga", "kk kartu keluarga"},
		{"English tourist words", "beach", "pantai"},
		{"a two-word synonym", "air terjun", "curug"},
		{"hyphenated words the lexicon knows", "e-ktp", "ktp"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := strings.Join(a.expandDrop(c.in), " "); got != c.want {
				t.Errorf("%q → %q, want %q", c.in, got, c.want)
			}
		})
	}
}

// expandDrop is terms without stemming, to test the steps before it.
func (a *analyzer) expandDrop(text string) []string {
	var out []string
	for _, w := range a.expand(words(text)) {
		if !a.stop[w] {
			out = append(out, w)
		}
	}
	return out
}

func TestStem(t *testing.T) {
	a := testAnalyzer()
	cases := []struct{ in, want string }{
		{"pendaftaran", "daftar"},
		{"mendaftar", "daftar"},
		{"pembuatan", "buat"},
		{"kelahiran", "lahir"},
		{"sekolah", "sekolah"},    // protected: not se+kolah
		{"sekolahnya", "sekolah"}, // protected once -nya is off
		{"masalah", "masalah"},    // -lah is not taken for a particle
		{"membayar", "bayar"},
		{"mengurus", "urus"},
		{"berapa", "berapa"}, // protected: not ber+apa
		{"bisa", "bisa"},     // too short to touch
	}
	for _, c := range cases {
		if got := a.stem(c.in); got != c.want {
			t.Errorf("stem(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestTheStemmerPrefersAKnownWordWhereRulesDisagree(t *testing.T) {
	a := testAnalyzer()
	a.learn("syarat nikah")
	if got := a.stem("menikah"); got != "nikah" {
		t.Errorf("stem(menikah) = %q, want nikah (known), not the rule's tikah", got)
	}
}

func TestSpellerCorrectsTyposAgainstTheKnowledgeBase(t *testing.T) {
	s := newSpeller()
	for _, w := range []string{"syarat", "kelahiran", "puskesmas", "pantai", "sigandu", "pajak"} {
		s.add(w)
	}
	cases := []struct{ in, want string }{
		{"syarta", "syarat"},       // swapped letters
		{"kelahrian", "kelahiran"}, // swapped, long word
		{"puskesmaas", "puskesmas"},
		{"pantaii", "pantai"},
		{"siganduu", "sigandu"},
		{"klahiran", "kelahiran"}, // missing letter
		{"rendang", "rendang"},    // nothing close: left alone
		{"pjak", "pjak"},          // too short to judge
	}
	for _, c := range cases {
		if got := s.correct(c.in); got != c.want {
			t.Errorf("correct(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestDistance(t *testing.T) {
	cases := []struct {
		a, b string
		d    int
	}{{"syarat", "syarta", 1}, {"kk", "kk", 0}, {"akta", "akte", 1}, {"", "abc", 3}, {"kitten", "sitting", 3}}
	for _, c := range cases {
		if got := distance(c.a, c.b); got != c.d {
			t.Errorf("distance(%q, %q) = %d, want %d", c.a, c.b, got, c.d)
		}
	}
}

func TestParseKBNamesTheFileLineAndReason(t *testing.T) {
	cases := []struct{ name, yaml, want string }{
		{"not a list", "id: a\n", "x.yaml:1: want a list"},
		{"no id", "- questions: [a]\n  answer: b\n", "x.yaml:1: entry without id"},
		{"no answer", "- id: a\n  questions: [a]\n", "x.yaml:1: entry a: no Indonesian answer"},
		{"bad questions", "- id: a\n  questions: [q]\n  answer: b\n- id: c\n  questions: {id: 5}\n  answer: d\n", "x.yaml:4: entry c: questions"},
		{"broken yaml", "- id: [a\n", "x.yaml: yaml: line"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseKB("x.yaml", []byte(c.yaml))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error = %v, want it to contain %q", err, c.want)
			}
		})
	}
}

func TestPlainAndPerLanguageFormsBothRead(t *testing.T) {
	es, err := ParseKB("x.yaml", []byte(`
- id: plain
  questions: [cara bikin ktp]
  answer: ke Disdukcapil
- id: both
  tags: [wisata]
  questions:
    id: [pantai terdekat]
    en: [nearest beach]
  answer:
    id: Pantai X
    en: Beach X
`))
	if err != nil {
		t.Fatal(err)
	}
	if a, own := es[0].AnswerIn("en"); a != "ke Disdukcapil" || own {
		t.Errorf("plain entry in English = %q, %v; want the Indonesian answer, not its own", a, own)
	}
	if a, own := es[1].AnswerIn("en"); a != "Beach X" || !own {
		t.Errorf("English answer = %q, %v", a, own)
	}
	if !slices.Equal(es[1].Questions["en"], []string{"nearest beach"}) {
		t.Errorf("English questions = %v", es[1].Questions["en"])
	}
}

func TestDuplicateIDsAreAnError(t *testing.T) {
	es, _ := ParseKB("x.yaml", []byte("- id: a\n  questions: [q]\n  answer: x\n- id: a\n  questions: [r]\n  answer: y\n"))
	if err := CheckIDs(es); err == nil || !strings.Contains(err.Error(), `x.yaml:4: duplicate id "a" (first at x.yaml:1)`) {
		t.Errorf("CheckIDs = %v", err)
	}
}
