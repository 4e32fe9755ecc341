package faq_test

import (
	"bufio"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/layan-id/layan/flows/faq"
	"github.com/layan-id/layan/locales"
)

var verbose = flag.Bool("faq.misses", false, "print every dev set question the matcher gets wrong")

// Floors for the dev set, set from measurements (see README); a change that lowers
// either below its floor fails.
const (
	minTop1      = 0.93 // in-domain questions whose top entry is right (measured 0.941)
	minAnswered  = 0.90 // in-domain questions answered directly with the right entry (0.906)
	minRejection = 0.90 // off-topic questions not answered (0.915)
)

type labelled struct{ want, question string }

func readDevSet(t testing.TB) []labelled {
	f, err := os.Open("testdata/dev.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []labelled
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
			continue
		}
		want, q, ok := strings.Cut(line, "\t")
		if !ok {
			t.Fatalf("dev.tsv: no tab in %q", line)
		}
		out = append(out, labelled{want, q})
	}
	return out
}

func loadMatcher(t testing.TB) *faq.Matcher {
	m, err := faq.Load(locales.Content(""))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestDevSetAccuracy(t *testing.T) {
	m := loadMatcher(t)
	ids := map[string]bool{}
	for _, e := range m.Entries() {
		ids[e.ID] = true
	}
	var inDomain, top1, answeredRight, offTopic, rejected int
	var misses []string
	for _, l := range readDevSet(t) {
		r := m.Match(l.question)
		if l.want == "-" {
			offTopic++
			if !r.Answered {
				rejected++
			} else {
				misses = append(misses, fmt.Sprintf("off-topic answered: %q → %s (%.2f)", l.question, r.ID, r.Score))
			}
			continue
		}
		if !ids[l.want] {
			t.Errorf("dev.tsv names unknown entry %q", l.want)
		}
		inDomain++
		if r.ID == l.want {
			top1++
			if r.Answered {
				answeredRight++
			} else {
				misses = append(misses, fmt.Sprintf("right but unsure: %q → %s (%.2f) %v", l.question, r.ID, r.Score, r.Suggested))
			}
		} else {
			misses = append(misses, fmt.Sprintf("wrong: %q want %s got %s (%.2f, answered=%v)", l.question, l.want, r.ID, r.Score, r.Answered))
		}
	}
	acc := float64(top1) / float64(inDomain)
	ans := float64(answeredRight) / float64(inDomain)
	rej := float64(rejected) / float64(offTopic)
	t.Logf("in-domain %d: top-1 %.1f%%, answered right %.1f%%; off-topic %d: not answered %.1f%%",
		inDomain, 100*acc, 100*ans, offTopic, 100*rej)
	if *verbose {
		sort.Strings(misses)
		for _, s := range misses {
			t.Log(s)
		}
	}
	if acc < minTop1 || ans < minAnswered || rej < minRejection {
		t.Errorf("below the floor: top-1 %.3f (min %.2f), answered %.3f (min %.2f), rejection %.3f (min %.2f)",
			acc, minTop1, ans, minAnswered, rej, minRejection)
	}
}

func lexicon(t testing.TB) faq.Lexicon {
	b, err := fs.ReadFile(locales.Content(""), "lexicon.yaml")
	if err != nil {
		t.Fatal(err)
	}
	lx, err := faq.ParseLexicon("lexicon.yaml", b)
	if err != nil {
		t.Fatal(err)
	}
	return lx
}
