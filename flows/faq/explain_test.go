package faq

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/layan-id/layan/locales"
)

var explain = flag.String("faq.explain", "", "questions separated by '|': print how each is read and ranked")

// TestExplain prints how the matcher reads and ranks the questions given with
// -faq.explain; without the flag it does nothing. A tool for tuning, not a test.
func TestExplain(t *testing.T) {
	if *explain == "" {
		t.Skip("no -faq.explain")
	}
	m, err := Load(locales.Content(""))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range strings.Split(*explain, "|") {
		terms, elsewhere := m.query(q)
		var parts []string
		for _, g := range terms {
			var gs []string
			for _, term := range g {
				id, known := m.ids[term]
				gs = append(gs, fmt.Sprintf("%s(%.2f%s)", term, m.information(term, id, known), map[bool]string{false: ",new", true: ""}[known]))
			}
			parts = append(parts, strings.Join(gs, "+"))
		}
		r := m.Match(q)
		t.Logf("%q → %s (elsewhere %v)", q, strings.Join(parts, " "), elsewhere)
		t.Logf("   id=%s score=%.2f answered=%v also=%v suggested=%v", r.ID, r.Score, r.Answered, r.Also != nil, r.Suggested)
		for _, d := range m.debugRank(q) {
			t.Logf("   %s", d)
		}
	}
}

var sweep = flag.Bool("faq.sweep", false, "print dev set figures for a grid of tuning values")

func devFigures(t *testing.T, m *Matcher) (top1, right, declined float64) {
	b, err := os.ReadFile("testdata/dev.tsv")
	if err != nil {
		t.Fatal(err)
	}
	var in, t1, ar, off, rej int
	for _, line := range strings.Split(string(b), "\n") {
		want, q, ok := strings.Cut(line, "\t")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		r := m.Match(q)
		if want == "-" {
			off++
			if !r.Answered {
				rej++
			}
			continue
		}
		in++
		if r.ID == want {
			t1++
			if r.Answered {
				ar++
			}
		}
	}
	return float64(t1) / float64(in), float64(ar) / float64(in), float64(rej) / float64(off)
}

// TestSweep prints the dev set figures for a grid of tuning values (-faq.sweep).
func TestSweep(t *testing.T) {
	if !*sweep {
		t.Skip("no -faq.sweep")
	}
	type setting struct{ uw, cc, sure, at, mg float64 }
	var grid []setting
	for _, uw := range []float64{2, 2.5, 3} {
		for _, cc := range []float64{0.5, 0.3} {
			for _, sure := range []float64{0.4, 0.45} {
				for _, at := range []float64{0.2, 0.25} {
					for _, mg := range []float64{1.1, 1.2, 1.3} {
						grid = append(grid, setting{uw, cc, sure, at, mg})
					}
				}
			}
		}
	}
	for _, g := range grid {
		unknownWeight, correctedCredit, answerSureAt, answerAt, margin = g.uw, g.cc, g.sure, g.at, g.mg
		m, err := Load(locales.Content(""))
		if err != nil {
			t.Fatal(err)
		}
		a, r, d := devFigures(t, m)
		t.Logf("%+v: top-1 %.1f answered right %.1f declined %.1f", g, 100*a, 100*r, 100*d)
	}
}
