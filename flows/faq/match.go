package faq

import (
	"math"
	"slices"
	"sort"
	"strings"
)

// BM25 parameters: the usual defaults; phrasings are short, so length matters little.
const (
	bm25K1 = 1.2
	bm25B  = 0.5
)

// Thresholds on the confidence, the share of the question's information that the top
// entry explains (see Match), and on the lead of the top entry over the second.
const (
	answerAt     = 0.45 // answer directly when the top entry also leads by margin
	margin       = 1.2
	answerSureAt = 0.8 // or when it explains this much and explains coverLead more than the second
	coverLead    = 0.2
	suggestAt    = 0.3 // below answering: "Maksud Anda…?" with the top entries
)

// Matcher finds the entry of a knowledge base that answers a question. It is safe for
// concurrent use once built.
type Matcher struct {
	an      *analyzer
	sp      *speller
	entries []Entry

	docs     []doc             // one per phrasing, tag list and answer
	postings map[string][]int  // term → docs that contain it
	entryDF  map[string]int    // term → number of entries that use it
	avgLen   [3]float64        // average length by doc kind
	vocab    []map[string]bool // per entry: every term of its phrasings and tags
}

type doc struct {
	entry int
	kind  docKind
	tf    map[string]int
	len   int
}

// docKind says which part of an entry a doc is.
type docKind int

const (
	phrasing docKind = iota // one way of asking, or the tags
	answer                  // the answer text
	whole                   // all the phrasings and tags together
)

// Weights of the parts of an entry. An entry scores its best phrasing (or its
// answer, weighted down: answers name things people ask about, such as a website or
// a station, but also much that they do not ask), plus its phrasings as a whole, so
// that a question whose words are spread over several phrasings still finds it.
var kindWeight = [...]float64{phrasing: 1, answer: 0.3, whole: 0.5}

// Result is the matcher's verdict on one question.
type Result struct {
	Question   string   `json:"question"`
	ID         string   `json:"id"`       // the top entry, or "" when nothing matched at all
	Score      float64  `json:"score"`    // confidence in [0, 1]
	Answered   bool     `json:"answered"` // the bot would answer with ID directly
	Suggested  []string `json:"suggested"`
	Entry      *Entry   `json:"-"`
	Candidates []*Entry `json:"-"` // the suggested entries, best first
}

// NewMatcher indexes entries with the lexicon.
func NewMatcher(entries []Entry, lx Lexicon) *Matcher {
	m := &Matcher{an: newAnalyzer(lx), sp: newSpeller(), entries: entries,
		postings: map[string][]int{}, entryDF: map[string]int{}}
	texts := func(e *Entry) []string {
		var out []string
		for _, qs := range e.Questions {
			out = append(out, qs...)
		}
		return out
	}
	for i := range entries {
		for _, t := range append(texts(&entries[i]), entries[i].Tags...) {
			m.an.learn(t)
			for _, w := range m.an.expand(words(t)) {
				m.sp.add(w)
			}
		}
	}
	var total, count [3]int
	m.vocab = make([]map[string]bool, len(entries))
	for i := range entries {
		m.vocab[i] = map[string]bool{}
		add := func(text string, kind docKind) {
			terms := m.an.terms(text)
			d := doc{entry: i, kind: kind, tf: map[string]int{}, len: len(terms)}
			for _, t := range terms {
				d.tf[t]++
				if kind != answer {
					m.vocab[i][t] = true
				}
			}
			for t := range d.tf {
				m.postings[t] = append(m.postings[t], len(m.docs))
			}
			m.docs = append(m.docs, d)
			total[kind] += d.len
			count[kind]++
		}
		asked := append(texts(&entries[i]), strings.Join(entries[i].Tags, " "))
		for _, q := range asked {
			add(q, phrasing)
		}
		add(strings.Join(asked, " "), whole)
		for _, a := range entries[i].Answer {
			add(a, answer)
		}
		for t := range m.vocab[i] {
			m.entryDF[t]++
		}
	}
	for k, n := range count {
		if n > 0 {
			m.avgLen[k] = float64(total[k]) / float64(n)
		}
	}
	return m
}

// idf is the inverse entry frequency of a term (BM25's, never negative); a term no
// entry uses gets the highest value: it is information the knowledge base lacks.
func (m *Matcher) idf(term string) float64 {
	n := float64(len(m.entries))
	df := float64(m.entryDF[term])
	return math.Log(1 + (n-df+0.5)/(df+0.5))
}

// weakShare is how much of its IDF a weak word (a question word, a negation) counts
// for in the confidence: it tells questions apart but says little about the topic.
const weakShare = 0.25

// information is what a term says about a question's topic: its IDF, less for weak
// words.
func (m *Matcher) information(term string) float64 {
	if m.an.weak[term] {
		return weakShare * m.idf(term)
	}
	return m.idf(term)
}

// query analyses a question: its words with typos corrected, then its terms.
func (m *Matcher) query(q string) []string {
	ws := m.an.expand(words(q))
	for i, w := range ws {
		if !m.an.stop[w] {
			ws[i] = m.sp.correct(w)
		}
	}
	ws = m.an.expand(ws) // a corrected word may be slang or a synonym
	var terms []string
	for _, w := range ws {
		if !m.an.stop[w] {
			terms = append(terms, m.an.stem(w))
		}
	}
	return terms
}

// Match ranks the entries for a question.
//
// Each entry scores the best BM25 of its phrasings. The confidence is the share of
// the question's information (the IDF of its distinct terms, where a term unknown to
// the knowledge base weighs the most) that the entry's vocabulary covers: a question
// about a recipe for nasi megono is only partly about the entry on nasi megono. The bot
// answers directly when the confidence reaches answerAt and the top entry clearly
// beats the second (or the confidence reaches answerSureAt and the second explains
// clearly less); it suggests the top entries when the confidence reaches suggestAt;
// otherwise it has no match. "bpjs" alone is fully explained by several entries, none
// clearly ahead: the person chooses.
func (m *Matcher) Match(q string) Result {
	res := Result{Question: q, Suggested: []string{}}
	terms := m.query(q)
	if len(terms) == 0 || len(m.docs) == 0 {
		return res
	}
	distinct := slices.Compact(slices.Sorted(slices.Values(terms)))

	perDoc := map[int]float64{}
	for _, t := range distinct {
		idf := m.idf(t)
		for _, di := range m.postings[t] {
			d := &m.docs[di]
			tf := float64(d.tf[t])
			perDoc[di] += kindWeight[d.kind] * idf * tf * (bm25K1 + 1) / (tf + bm25K1*(1-bm25B+bm25B*float64(d.len)/m.avgLen[d.kind]))
		}
	}
	if len(perDoc) == 0 {
		return res
	}
	best, wholes := map[int]float64{}, map[int]float64{} // entry → best part, whole
	for di, s := range perDoc {
		d := &m.docs[di]
		if d.kind == whole {
			wholes[d.entry] = s
		} else {
			best[d.entry] = max(best[d.entry], s)
		}
	}
	scores := map[int]float64{}
	for e, s := range best {
		scores[e] = s + wholes[e]
	}
	type ranked struct {
		entry        int
		score, cover float64
	}
	var rs []ranked
	var info float64
	for _, t := range distinct {
		info += m.information(t)
	}
	for e, s := range scores {
		var covered float64
		substantial := false // the entry shares a word with the question that is not weak
		for _, t := range distinct {
			if m.vocab[e][t] {
				covered += m.information(t)
				substantial = substantial || !m.an.weak[t]
			}
		}
		if substantial {
			rs = append(rs, ranked{entry: e, score: s, cover: covered / info})
		}
	}
	if len(rs) == 0 {
		return res
	}
	sort.Slice(rs, func(i, j int) bool {
		if rs[i].score != rs[j].score {
			return rs[i].score > rs[j].score
		}
		return m.entries[rs[i].entry].ID < m.entries[rs[j].entry].ID
	})
	top := rs[0]
	res.ID = m.entries[top.entry].ID
	res.Entry = &m.entries[top.entry]
	res.Score = math.Round(top.cover*1000) / 1000
	var second ranked
	if len(rs) > 1 {
		second = rs[1]
	}
	res.Answered = top.cover >= answerAt && top.score >= margin*second.score ||
		top.cover >= answerSureAt && top.cover-second.cover >= coverLead
	if !res.Answered && top.cover >= suggestAt {
		for _, r := range rs[:min(3, len(rs))] {
			if r.cover >= suggestAt {
				res.Suggested = append(res.Suggested, m.entries[r.entry].ID)
				res.Candidates = append(res.Candidates, &m.entries[r.entry])
			}
		}
	}
	return res
}
