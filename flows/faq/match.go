package faq

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"
)

// BM25 parameters: the usual defaults; phrasings are short, so length matters little.
const (
	bm25K1 = 1.2
	bm25B  = 0.5
)

// Thresholds on the confidence, the share of the question's information that the top
// entry explains (see Match), and on the lead of the top entry over the second.
//
// Measured on the dev set (README): answering whenever the top entry explains half the
// question, with a close second offered beside the answer, serves people better than
// hedging; below that, a clear lead over the second is needed.
var (
	answerSureAt = 0.45 // answer directly: the top entry explains this much
	answerAt     = 0.2  // or this much and leads the second by margin
	margin       = 1.1
)

const (
	closeSecond = 1.2 // an answered question offers a second entry this close beside it
	suggestAt   = 0.3 // below answering: "Maksud Anda…?" with the top entries
	nearAt      = 0.1 // below suggesting: named in the no-match answer
	nearShare   = 0.7 // … when it explains and scores this much of what the top entry does
	// tie: three entries that explain all the question does and score within this
	// factor of each other ("bpjs" alone) make a question really ambiguous.
	tie = 1.2
)

// weakShare is how much of its IDF a weak word (a question word, a negation) counts
// for in the confidence: it tells questions apart but says little about the topic.
const weakShare = 0.25

// docKind says which part of an entry a doc is.
type docKind int

const (
	phrasing docKind = iota // one way of asking, or the tags
	answer                  // the answer text
	whole                   // all the phrasings and tags together: the entry's vocabulary
)

// Weights of the parts of an entry. An entry scores its best phrasing (or its
// answer, weighted down: answers name things people ask about, such as a website or
// a station, but also much that they do not ask), plus its phrasings as a whole, so
// that a question whose words are spread over several phrasings still finds it.
var kindWeight = [...]float64{phrasing: 1, answer: 0.3, whole: 0.5}

// Matcher finds the entry of a knowledge base that answers a question. It is safe for
// concurrent use once built.
type Matcher struct {
	an      *analyzer
	sp      *speller
	entries []Entry
	lexicon Lexicon // what it was built with, to build another (With)

	ids      map[string]int          // term → term number
	idf      []float64               // by term number: inverse entry frequency
	weak     []bool                  // by term number
	postings [][]posting             // by term number
	docs     []doc                   // phrasings, tag lists, wholes and answers
	wholeOf  [][]int32               // by term number: the entries whose phrasings use it
	mass     []float64               // by doc: the information of its distinct terms
	topic    []float64               // by entry: the IDF of its terms, each times its centrality
	unknown  float64                 // the information of a word the knowledge base never uses
	home     map[string]bool         // places many entries mention: the region itself
	placed   map[string]map[int]bool // place → the entries that mention it
	// scratches hold rank's room to add up in (rankScratch), so that questions
	// answered one after another, or at once, do not each allocate it.
	scratches sync.Pool
}

type doc struct {
	entry int
	kind  docKind
}

type posting struct {
	doc  int32
	norm float32 // BM25's tf·(k1+1)/(tf+k1·(1−b+b·len/avg)), the IDF aside
	// central is, in a whole doc, the share of the entry's phrasings that use the
	// term: 1 for the entry's topic ("penginapan" in every phrasing of the entry on
	// lodging), small for a word one phrasing mentions in passing ("dekat pantai").
	central float32
}

// Result is the matcher's verdict on one question.
type Result struct {
	Question   string   `json:"question"`
	ID         string   `json:"id"`       // the top entry, or "" when nothing matched at all
	Score      float64  `json:"score"`    // confidence in [0, 1]
	Answered   bool     `json:"answered"` // the bot would answer with ID directly
	Suggested  []string `json:"suggested"`
	Entry      *Entry   `json:"-"`
	Candidates []*Entry `json:"-"` // the suggested entries, best first
	// Also is, for an answered question, a second entry almost as likely, offered
	// beside the answer ("Atau maksud Anda: …?").
	Also *Entry `json:"-"`
	// Near are, when nothing is answered or suggested, the entries nearest to the
	// question, best first: the no-match answer names them.
	Near []*Entry `json:"-"`
}

// NewMatcher indexes entries with the lexicon.
func NewMatcher(entries []Entry, lx Lexicon) *Matcher {
	m := &Matcher{an: newAnalyzer(lx), sp: newSpeller(), entries: entries, lexicon: lx, ids: map[string]int{}}
	asked := func(e *Entry) []string {
		var out []string
		for _, qs := range e.Questions {
			out = append(out, qs...)
		}
		return append(out, strings.Join(e.Tags, " "))
	}
	// First every word, so the stemmer and the speller know the whole vocabulary.
	m.home, m.placed = map[string]bool{}, map[string]map[int]bool{}
	for i := range entries {
		for _, t := range append(asked(&entries[i]), slices.Collect(maps.Values(entries[i].Answer))...) {
			ps, _ := m.an.placesIn(words(t))
			for _, p := range ps {
				if m.placed[p] == nil {
					m.placed[p] = map[int]bool{}
				}
				m.placed[p][i] = true
				if len(m.placed[p]) >= max(2, len(entries)/10) {
					m.home[p] = true
				}
			}
		}
		for _, t := range asked(&entries[i]) {
			m.an.learn(t)
			for _, w := range m.an.expand(words(t)) {
				m.sp.add(w)
			}
		}
	}
	type counted struct {
		doc     int
		tf      map[int]int
		len     int
		central map[int]float64
	}
	var all []counted
	var total, count [3]int
	entryDF := map[int]int{}
	for i := range entries {
		add := func(text string, kind docKind) {
			c := counted{doc: len(m.docs), tf: map[int]int{}}
			for _, t := range m.an.terms(text) {
				c.tf[m.term(t)]++
				c.len++
			}
			m.docs = append(m.docs, doc{entry: i, kind: kind})
			all = append(all, c)
			total[kind] += c.len
			count[kind]++
			if kind == whole {
				for id := range c.tf {
					entryDF[id]++
				}
			}
		}
		qs := asked(&entries[i])
		first := len(all)
		for _, q := range qs {
			add(q, phrasing)
		}
		add(strings.Join(qs, " "), whole)
		central, n := map[int]float64{}, 0
		for _, c := range all[first : len(all)-1] {
			if c.len == 0 {
				continue // no tags
			}
			n++
			for id := range c.tf {
				central[id]++
			}
		}
		for id := range central {
			central[id] /= float64(n)
		}
		all[len(all)-1].central = central
		for _, a := range entries[i].Answer {
			add(a, answer)
		}
	}
	var avg [3]float64
	for k, n := range count {
		if n > 0 {
			avg[k] = float64(total[k]) / float64(n)
		}
	}
	n := float64(len(entries))
	idf := func(df int) float64 { return math.Log(1 + (n-float64(df)+0.5)/(float64(df)+0.5)) }
	m.unknown = idf(0) * unknownWeight
	m.idf = make([]float64, len(m.ids))
	m.weak = make([]bool, len(m.ids))
	m.postings = make([][]posting, len(m.ids))
	for t, id := range m.ids {
		m.idf[id] = idf(entryDF[id])
		m.weak[id] = m.an.weak[t]
	}
	m.wholeOf = make([][]int32, len(m.ids))
	m.topic = make([]float64, len(entries))
	m.mass = make([]float64, len(m.docs))
	for _, c := range all {
		kind := m.docs[c.doc].kind
		for id := range c.tf {
			m.mass[c.doc] += m.information("", id, true)
			if kind == whole {
				m.wholeOf[id] = append(m.wholeOf[id], int32(m.docs[c.doc].entry))
			}
		}
		for id, tf := range c.tf {
			f := float64(tf)
			norm := f * (bm25K1 + 1) / (f + bm25K1*(1-bm25B+bm25B*float64(c.len)/avg[kind]))
			m.postings[id] = append(m.postings[id], posting{doc: int32(c.doc), norm: float32(norm), central: float32(c.central[id])})
			if kind == whole && !m.weak[id] {
				m.topic[m.docs[c.doc].entry] += m.idf[id] * c.central[id]
			}
		}
	}
	return m
}

// term returns the number of a term, numbering new ones.
func (m *Matcher) term(t string) int {
	id, ok := m.ids[t]
	if !ok {
		id = len(m.ids)
		m.ids[t] = id
	}
	return id
}

// information is what a term says about a question's topic: its IDF (the highest for
// a term no entry uses: information the knowledge base lacks), a quarter for weak
// words.
func (m *Matcher) information(t string, id int, known bool) float64 {
	v := m.unknown
	if known {
		v = m.idf[id]
		if m.weak[id] {
			v *= weakShare
		}
	} else if m.an.weak[t] {
		v *= weakShare
	}
	return v
}

// query analyses a question into groups of terms, one group for each word or phrase
// the person typed: typos corrected, slang and synonyms replaced, stopwords dropped,
// stemmed. A synonym that expands into several terms ("makan" → kuliner makanan) is
// still one word of the question: it counts once in the confidence.
func (m *Matcher) query(q string) (groups [][]string, elsewhere []string) {
	groups, _, elsewhere = m.queryGroups(q)
	return groups, elsewhere
}

// queryGroups is query that also says which groups come from a corrected word.
func (m *Matcher) queryGroups(q string) (groups [][]string, corrected []bool, elsewhere []string) {
	ws := words(q)
	ps, at := m.an.placesIn(ws)
	for i, p := range ps {
		if at[i] && !m.home[p] {
			elsewhere = append(elsewhere, p)
		}
	}
	for _, g := range m.an.expandGroups(m.an.split(ws)) {
		var terms []string
		fixed := false
		for _, w := range g {
			if m.an.stop[w] {
				continue
			}
			c := m.sp.correct(w)
			if c != w {
				fixed = true
				// a corrected word may be slang or a synonym
				for _, x := range m.an.expand([]string{c}) {
					if !m.an.stop[x] {
						terms = append(terms, m.an.stem(x))
					}
				}
				continue
			}
			terms = append(terms, m.an.stem(w))
		}
		if len(terms) > 0 {
			groups = append(groups, terms)
			corrected = append(corrected, fixed)
		}
	}
	return groups, corrected, elsewhere
}

// ranked is one entry's standing for a question.
type ranked struct {
	entry        int
	score, cover float64
	fit          float64 // how well its best phrasing and the question fit each other
}

// rank scores every entry that shares a substantial word with q, best first.
//
// An entry scores the best BM25 of its phrasings (or of its answer, weighted down)
// plus half the BM25 of its phrasings together, scaled by how well its closest
// phrasing fits the question in both directions (the IDF-weighted F1 of their terms):
// an entry whose distinctive words the question lacks ("nonaktif", "terlambat") falls
// behind its plainer neighbour. The cover is the share of the question's information
// (the IDF of its words, a quarter for weak words, the most for a word the knowledge
// base never uses) that the entry's vocabulary explains.
func (m *Matcher) rank(q string) []ranked {
	groups, corrected, elsewhere := m.queryGroups(q)
	if len(groups) == 0 || len(m.docs) == 0 {
		return nil
	}
	var terms []string
	for _, g := range groups {
		terms = append(terms, g...)
	}
	slices.Sort(terms) // terms is rank's own
	terms = slices.Compact(terms)
	sc := m.scratch()
	defer m.done(sc)
	scores := sc.scores
	perDoc := sc.perDoc   // phrasings and answers: BM25 of the whole question
	matched := sc.matched // phrasings: information shared with the question
	touched := sc.touched // the docs with a value in perDoc
	for _, t := range terms {
		id, known := m.ids[t]
		if !known {
			continue
		}
		weight := m.information(t, id, true)
		for _, p := range m.postings[id] {
			d := m.docs[p.doc]
			v := kindWeight[d.kind] * m.idf[id] * float64(p.norm)
			if d.kind != whole {
				if perDoc[p.doc] == 0 {
					touched = append(touched, p.doc)
				}
				perDoc[p.doc] += v
				if d.kind == phrasing {
					matched[p.doc] += weight
				}
				continue
			}
			s := &scores[d.entry]
			s.whole += v
			if !m.weak[id] {
				s.topic += m.idf[id] * float64(p.central)
			}
			s.substantial = s.substantial || !m.weak[id]
		}
	}
	// The question's information, word by word; an entry covers a word when it uses
	// one of the word's terms.
	var info float64
	groupBest := sc.groupBest
	seen := map[string]bool{}
	for gi, g := range groups {
		key := strings.Join(g, " ")
		if seen[key] {
			continue
		}
		seen[key] = true
		var most float64
		hit := sc.hit[:0]
		for _, t := range g {
			id, known := m.ids[t]
			w := m.information(t, id, known)
			most = max(most, w)
			if !known {
				continue
			}
			for _, e := range m.wholeOf[id] {
				if groupBest[e] == 0 {
					hit = append(hit, e)
				}
				groupBest[e] = max(groupBest[e], w)
			}
		}
		info += most
		credit := 1.0
		if corrected[gi] {
			credit = correctedCredit
		}
		for _, e := range hit {
			scores[e].covered += groupBest[e] * credit
			groupBest[e] = 0
		}
		sc.hit = hit
	}
	sc.touched = touched
	for _, di := range touched {
		s := &scores[m.docs[di].entry]
		s.best = max(s.best, perDoc[di])
		if v := matched[di]; v > 0 {
			p, r := v/m.mass[di], v/info
			s.fit = max(s.fit, 2*p*r/(p+r))
		}
	}
	n := 0
	for _, s := range scores {
		if s.substantial {
			n++
		}
	}
	rs := make([]ranked, 0, n)
	for e, s := range scores {
		if s.substantial {
			named := 1.0
			if m.topic[e] > 0 {
				named = min(1, s.topic/m.topic[e])
			}
			rs = append(rs, ranked{entry: e, score: (s.best + s.whole) * (1 - fitShare + fitShare*s.fit) * (1 - topicShare + topicShare*named),
				cover: min(1, s.covered/(info+m.away(elsewhere, e))), fit: s.fit})
		}
	}
	slices.SortFunc(rs, func(a, b ranked) int {
		switch {
		case a.score > b.score:
			return -1
		case a.score < b.score:
			return 1
		}
		return strings.Compare(m.entries[a.entry].ID, m.entries[b.entry].ID)
	})
	return rs
}

// entryScore is an entry's standing for a question while rank adds it up.
type entryScore struct {
	best, whole, covered, fit float64
	topic                     float64 // the entry's topic that the question names
	substantial               bool    // shares a word with the question that is not weak
}

// rankScratch is what rank adds up in, by entry and by doc: kept between questions
// (Matcher.scratches) instead of made for each, all zero when not in use.
type rankScratch struct {
	scores    []entryScore
	perDoc    []float64
	matched   []float64
	groupBest []float64
	touched   []int32
	hit       []int32
}

// scratch returns zeroed room for one rank; done gives it back.
func (m *Matcher) scratch() *rankScratch {
	if sc, ok := m.scratches.Get().(*rankScratch); ok {
		return sc
	}
	return &rankScratch{scores: make([]entryScore, len(m.entries)), perDoc: make([]float64, len(m.docs)),
		matched: make([]float64, len(m.docs)), groupBest: make([]float64, len(m.entries))}
}

// done clears sc and gives it back for the next rank; nothing may use it after.
func (m *Matcher) done(sc *rankScratch) {
	clear(sc.scores)
	clear(sc.perDoc)
	clear(sc.matched)
	clear(sc.groupBest)
	sc.touched, sc.hit = sc.touched[:0], sc.hit[:0]
	m.scratches.Put(sc)
}

// fitShare is how much of an entry's score depends on how well its closest phrasing
// fits the question (see rank).
var fitShare = 0.5

// topicShare is how much of an entry's score depends on the question naming the
// entry's topic: the words most of its phrasings use (see posting.central).
var topicShare = 0.8

// away is the information that the places a question names add for entry e: a place
// that is neither the region (named by many entries) nor named by e weighs like
// several words the knowledge base never uses: the question is about somewhere else.
func (m *Matcher) away(places []string, e int) float64 {
	var v float64
	for _, p := range places {
		if !m.placed[p][e] {
			v += elsewhereWeight * m.unknown
		}
	}
	return v
}

// unknownWeight scales the information of a word the knowledge base never uses
// above the IDF of a word one entry uses: such a word is most often what the question
// is really about ("resep", "pinjol").
var unknownWeight = 3.0

// correctedCredit is the share of a word's information that an entry covers when
// the word was corrected into the entry's word: a typo or another word ("tilang" is
// not "hilang").
var correctedCredit = 0.5

// elsewhereWeight is how many unknown words a place the knowledge base never
// mentions weighs in the question's information.
var elsewhereWeight = 2.0

// debugRank describes the top entries for q, for tuning.
func (m *Matcher) debugRank(q string) []string {
	var out []string
	rs := m.rank(q)
	for _, r := range rs[:min(5, len(rs))] {
		out = append(out, fmt.Sprintf("%-28s score %6.2f cover %.2f fit %.2f", m.entries[r.entry].ID, r.score, r.cover, r.fit))
	}
	return out
}

// Match ranks the entries for a question (see rank) and decides what the bot does.
//
// The bot answers directly when the confidence (the top entry's cover) reaches
// answerSureAt, or answerAt with the top entry clearly ahead of the second; a second
// entry close behind is offered beside the answer (Also). When three entries are
// equally likely the question is really ambiguous ("bpjs" alone) and the person
// chooses. It suggests the top entries when the confidence reaches suggestAt;
// otherwise it has no match.
func (m *Matcher) Match(q string) Result {
	res := Result{Question: q, Suggested: []string{}}
	rs := m.rank(q)
	if len(rs) == 0 {
		return res
	}
	top := rs[0]
	res.ID = m.entries[top.entry].ID
	res.Entry = &m.entries[top.entry]
	res.Score = math.Round(top.cover*1000) / 1000
	var second ranked
	if len(rs) > 1 {
		second = rs[1]
	}
	var third ranked
	if len(rs) > 2 {
		third = rs[2]
	}
	// Three entries equally likely ("bpjs" alone) is a question that is really
	// ambiguous: the person chooses.
	ambiguous := top.score < tie*third.score && third.cover >= answerSureAt && third.cover >= top.cover-0.01
	res.Answered = !ambiguous && (top.cover >= answerSureAt || top.cover >= answerAt && top.score >= margin*second.score)
	if res.Answered && len(rs) > 1 && top.score < closeSecond*second.score && second.cover >= suggestAt {
		res.Also = &m.entries[second.entry]
	}
	if !res.Answered && top.cover >= suggestAt {
		for _, r := range rs[:min(3, len(rs))] {
			if r.cover >= suggestAt {
				res.Suggested = append(res.Suggested, m.entries[r.entry].ID)
				res.Candidates = append(res.Candidates, &m.entries[r.entry])
			}
		}
	}
	if !res.Answered && len(res.Candidates) == 0 {
		for _, r := range rs[:min(3, len(rs))] {
			if r.cover >= max(nearAt, nearShare*top.cover) && r.score >= nearShare*top.score {
				res.Near = append(res.Near, &m.entries[r.entry])
			}
		}
	}
	return res
}
