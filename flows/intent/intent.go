// Package intent reads what a message asks for before anyone treats it as a question:
// small talk (a greeting, thanks, "ok"), a request for one of the flows in plain words
// ("mau lapor jalan rusak", "cek status laporan saya"), a ticket number in any loose
// form, or an answer to the options just offered, by their number, their label typed
// loosely, or yes and no in the forms people use. The words are data
// (locales/intents.yaml); this package holds only the method.
package intent

import (
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/layan-id/layan/flows/fold"
)

// Data is the content of intents.yaml.
type Data struct {
	Fillers []string              `yaml:"fillers"`
	Roles   map[string][]string   `yaml:"roles"`
	Intents []Spec                `yaml:"intents"`
	Slots   map[string]SlotValues `yaml:"slots"`
	Options map[string][]string   `yaml:"options"`
}

// SlotValues maps a slot's values (a category id, a topic) to the phrases that name it.
type SlotValues map[string][]string

// Spec is one intent: the whole message made of its phrases ("only"), or a phrase of
// every group of one of its patterns with few other words.
type Spec struct {
	Name     string    `yaml:"name"`
	Only     []string  `yaml:"only"`
	Patterns []Pattern `yaml:"patterns"`
	Unless   []string  `yaml:"unless"`
	Slot     string    `yaml:"slot"`
	InSteps  *bool     `yaml:"in_steps"`
}

// Pattern is a phrase from every group, with at most Extra words that are neither in
// a group nor fillers. A group "$name" is every phrase of the slot name.
type Pattern struct {
	Groups [][]string `yaml:"groups"`
	Extra  int        `yaml:"extra"`
}

// Offer is an option the bot offered with the message before: its id, its label, the
// roles it plays (yes, no, cancel, done) and other words that pick it.
type Offer struct {
	ID    string
	Label string
	Roles []string
	Words []string
}

// Reading is what a message was taken to be. At most one of Option and Intent is set;
// neither means the text is for the step or the FAQ.
type Reading struct {
	Option string // an offered option
	Intent string // an intent name, or "yes"/"no" when no offered option plays that role
	Slot   string // what the words said of the intent's slot: a category, a topic
	Ticket string // a ticket number, normalised (PREFIX-yymmdd-NNNN), for Intent "ticket"
}

// Context is what the reader knows of the conversation.
type Context struct {
	Offers []Offer
	// Strict asks that a label typed loosely have no word that is not in the label (the
	// main menu, where people also type questions); steps accept one leading word.
	Strict bool
	// Busy names the active flow: an intent of the same name is what the flow is
	// doing, not a new request (a complaint described while filing one).
	Busy string
}

// phrase is a phrase of the data: its words, each by its number in Reader.wordOf.
type phrase []int32

// phrases is a list of phrases, also by their first word: a phrase is written at a
// word only if it begins with one of the words the typed word is (typed.is), so
// that most phrases are never looked at.
type phrases struct {
	list    []phrase
	byFirst map[int32][]phrase // in list order
}

// index returns list with its phrases grouped by their first word, in list's order.
func index(list []phrase) phrases {
	ps := phrases{list: list, byFirst: map[int32][]phrase{}}
	for _, p := range list {
		ps.byFirst[p[0]] = append(ps.byFirst[p[0]], p)
	}
	return ps
}

// onlyPhrase is a phrase of the "only" intents, for smallTalk.
type onlyPhrase struct {
	p    phrase
	spec int // its intent, by its place in Reader.specs
}

type spec struct {
	name     string
	only     []phrase
	patterns []pattern
	unless   phrases
	slot     string
	inSteps  bool
}

type pattern struct {
	groups []phrases
	extra  int
}

// Reader reads messages. It is safe for concurrent use.
type Reader struct {
	fillers map[string]bool
	roles   map[string]phrases
	specs   []spec
	// talk are the phrases of the "only" intents (small talk) by their first word,
	// in the order of the intents and of their phrases.
	talk    map[int32][]onlyPhrase
	slots   map[string]map[string]phrases
	options map[string][]phrase
	vocab   map[string]int32 // every word of every phrase, numbered: never corrected
	wordOf  []string         // the words of vocab by number
	// slipTo are, by their number of runes, the words of five bytes or more (those a
	// slip may stand for: see same), by number; labelSlipTo those of them in the
	// phrases of the roles no and cancel.
	slipTo, labelSlipTo map[int][]int32
	// slotKeys are the values of each slot, sorted.
	slotKeys map[string][]string
	// slotTexts and optionTexts are what SlotWords and OptionWords give, written once.
	slotTexts   map[string]map[string][]string
	optionTexts map[string][]string
	// offerWords are the words of the phrases OptionWords and SlotWords give, as
	// Words splits them: the flows offer them with every option.
	offerWords map[string][]string
}

// Load reads intents.yaml from content (locales.Content gives it).
func Load(content fs.FS) (*Reader, error) {
	b, err := fs.ReadFile(content, "intents.yaml")
	if err != nil {
		return nil, fmt.Errorf("intent: read intents.yaml: %w", err)
	}
	var d Data
	if err := yaml.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("intent: intents.yaml: %w", err)
	}
	return New(d)
}

// New builds a reader from its data.
func New(d Data) (*Reader, error) {
	r := &Reader{fillers: map[string]bool{}, roles: map[string]phrases{}, slots: map[string]map[string]phrases{},
		options: map[string][]phrase{}, talk: map[int32][]onlyPhrase{}, vocab: map[string]int32{}, slipTo: map[int][]int32{}}
	ph := func(list []string) []phrase {
		var out []phrase
		for _, s := range list {
			if w := Words(s); len(w) > 0 {
				p := make(phrase, len(w))
				for i, x := range w {
					p[i] = r.number(x)
				}
				out = append(out, p)
			}
		}
		return out
	}
	for _, f := range d.Fillers {
		for _, w := range Words(f) {
			r.fillers[w] = true
		}
	}
	for role, list := range d.Roles {
		r.roles[role] = index(ph(list))
	}
	for name, vals := range d.Slots {
		r.slots[name] = map[string]phrases{}
		for v, list := range vals {
			r.slots[name][v] = index(ph(list))
		}
	}
	for id, list := range d.Options {
		r.options[id] = ph(list)
	}
	r.slotKeys, r.offerWords = map[string][]string{}, map[string][]string{}
	r.slotTexts, r.optionTexts = map[string]map[string][]string{}, map[string][]string{}
	split := func(texts []string) {
		for _, w := range texts {
			r.offerWords[w] = Words(w)
		}
	}
	for name, vals := range r.slots {
		r.slotKeys[name] = sortedKeys(vals)
		r.slotTexts[name] = map[string][]string{}
		for v, ps := range vals {
			r.slotTexts[name][v] = r.texts(ps.list)
			split(r.slotTexts[name][v])
		}
	}
	for id, phrases := range r.options {
		r.optionTexts[id] = r.texts(phrases)
		split(r.optionTexts[id])
	}
	for i, s := range d.Intents {
		if s.Name == "" {
			return nil, fmt.Errorf("intent: intents.yaml: intent %d has no name", i+1)
		}
		if len(s.Only) == 0 && len(s.Patterns) == 0 {
			return nil, fmt.Errorf("intent: intents.yaml: intent %s has neither only nor patterns", s.Name)
		}
		if s.Slot != "" && r.slots[s.Slot] == nil {
			return nil, fmt.Errorf("intent: intents.yaml: intent %s: unknown slot %q", s.Name, s.Slot)
		}
		sp := spec{name: s.Name, only: ph(s.Only), unless: index(ph(s.Unless)), slot: s.Slot, inSteps: s.InSteps == nil || *s.InSteps}
		for _, p := range sp.only {
			r.talk[p[0]] = append(r.talk[p[0]], onlyPhrase{p, len(r.specs)})
		}
		for _, p := range s.Patterns {
			var groups []phrases
			for _, g := range p.Groups {
				if len(g) == 1 && strings.HasPrefix(g[0], "$") {
					vals, ok := r.slots[g[0][1:]]
					if !ok {
						return nil, fmt.Errorf("intent: intents.yaml: intent %s: unknown slot %s", s.Name, g[0])
					}
					var all []phrase
					for _, v := range sortedKeys(vals) {
						all = append(all, vals[v].list...)
					}
					groups = append(groups, index(all))
					continue
				}
				groups = append(groups, index(ph(g)))
			}
			sp.patterns = append(sp.patterns, pattern{groups: groups, extra: p.Extra})
		}
		r.specs = append(r.specs, sp)
	}
	r.labelSlipTo = map[int][]int32{}
	for runes, ns := range r.slipTo {
		for _, n := range ns {
			if r.inRole(n, "no") || r.inRole(n, "cancel") {
				r.labelSlipTo[runes] = append(r.labelSlipTo[runes], n)
			}
		}
	}
	return r, nil
}

// number returns the number of a word of the data, numbering it when new.
func (r *Reader) number(w string) int32 {
	if n, ok := r.vocab[w]; ok {
		return n
	}
	n := int32(len(r.wordOf))
	r.vocab[w] = n
	r.wordOf = append(r.wordOf, w)
	if len(w) >= 5 {
		runes := utf8.RuneCountInString(w)
		r.slipTo[runes] = append(r.slipTo[runes], n)
	}
	return n
}

// inRole reports whether the word numbered n is in a phrase of role.
func (r *Reader) inRole(n int32, role string) bool {
	for _, p := range r.roles[role].list {
		if slices.Contains(p, n) {
			return true
		}
	}
	return false
}

// text writes a phrase as its words with spaces between.
func (r *Reader) text(p phrase) string {
	ws := make([]string, len(p))
	for i, n := range p {
		ws[i] = r.wordOf[n]
	}
	return strings.Join(ws, " ")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// SlotWords returns the phrases that name value in slot ("category", "jalan"), as
// written in the data; the flows offer them as words of an option. The caller must not
// change the result (appending to it is safe: it has no room to grow in place).
func (r *Reader) SlotWords(slot, value string) []string { return r.slotTexts[slot][value] }

// OptionWords returns the words that pick the option id besides its label. The caller
// must not change the result (appending to it is safe).
func (r *Reader) OptionWords(id string) []string { return r.optionTexts[id] }

// texts writes the phrases as text, in a slice with no room to grow in place.
func (r *Reader) texts(phrases []phrase) []string {
	var out []string
	for _, p := range phrases {
		out = append(out, r.text(p))
	}
	return slices.Clip(out)
}

// ticketRe finds a ticket number written loosely: "btg 261202 0001", "BTG2612020001",
// "BTG.261202.0001". Digits around it mean it is another number.
var ticketRe = regexp.MustCompile(`(?i)(?:^|[^a-z0-9])([a-z][a-z0-9]{1,9}?)[\s.\-_/]*(\d{6})[\s.\-_/]*(\d{4,5})(?:$|[^0-9])`)

// Ticket finds a ticket number in text and returns it as PREFIX-yymmdd-NNNN.
func Ticket(text string) (string, bool) {
	// A ticket number has ten digits or more (\d is ASCII in Go's regexp): most texts
	// have fewer, and counting them is cheaper than the expression.
	digits := 0
	for i := 0; i < len(text) && digits < 10; i++ {
		if '0' <= text[i] && text[i] <= '9' {
			digits++
		}
	}
	if digits < 10 {
		return "", false
	}
	m := ticketRe.FindStringSubmatch(text)
	if m == nil {
		return "", false
	}
	return strings.ToUpper(m[1]) + "-" + m[2] + "-" + m[3], true
}

// Read reads a message in its context.
func (r *Reader) Read(text string, ctx Context) Reading {
	ws := Words(text)
	if len(ws) == 0 {
		return Reading{}
	}
	t := r.words(ws, r.slipTo)
	if id, ok := r.option(t, ctx); ok {
		return Reading{Option: id}
	}
	if t, ok := Ticket(text); ok {
		return Reading{Intent: "ticket", Ticket: t}
	}
	if name := r.smallTalk(t); name != "" {
		return Reading{Intent: name}
	}
	for _, s := range r.specs {
		if len(s.patterns) == 0 || ctx.Busy != "" && (s.name == ctx.Busy || !s.inSteps) {
			continue
		}
		if r.contains(t, s.unless) {
			continue
		}
		for _, p := range s.patterns {
			if r.matches(t, p) {
				rd := Reading{Intent: s.name}
				if s.slot != "" {
					rd.Slot = r.slotValue(t, s.slot)
				}
				return rd
			}
		}
	}
	if len(ctx.Offers) > 0 {
		for _, role := range []string{"yes", "no"} {
			if r.only(t, r.roles[role]) {
				return Reading{Intent: role}
			}
		}
	}
	return Reading{}
}

// typed is a text's words and what the reader asks of each word again and again,
// looked up once per text: every word is compared with every phrase of the data.
type typed struct {
	ws []string
	// slip[i]: ws[i] may be a slip of a word of the data (see same): it has four
	// bytes or more and is not itself a word of the data.
	slip []bool
	// filler[i]: ws[i] is a filler.
	filler []bool
	// is[i]: the words of the data (by number) that ws[i] is, as same says: phrases
	// of the data are compared by number.
	is [][]int32
}

// words looks up what the reader needs to know of ws. slipTo are the words of the
// data that a slip may stand for, by their number of runes: r.slipTo for a message;
// for an option's label, which is only compared with the phrases of the roles no
// and cancel, r.labelSlipTo, their words only (is then holds fewer words, but the
// same of theirs).
func (r *Reader) words(ws []string, slipTo map[int][]int32) typed {
	facts := make([]bool, 2*len(ws)) // one allocation for both
	t := typed{ws: ws, slip: facts[:len(ws):len(ws)], filler: facts[len(ws):], is: make([][]int32, len(ws))}
	all := make([]int32, 0, 2*len(ws)) // every is[i], one after the other
	var endsBuf [16]int
	ends := endsBuf[:0] // where each is[i] ends in all (on the stack for most texts)
	for i, w := range ws {
		n, known := r.vocab[w]
		t.slip[i] = len(w) >= 4 && !known
		t.filler[i] = r.fillers[w]
		// same(typed, w) for a word w of the data: typed is w, typed is w with
		// "-nya", or typed is a slip and w has five bytes or more and is close
		// enough, which needs as many runes as typed, one more or one less.
		if known {
			all = append(all, n)
		}
		if base, ok := strings.CutSuffix(w, "nya"); ok {
			if n, ok := r.vocab[base]; ok {
				all = append(all, n)
			}
		}
		if t.slip[i] {
			runes := utf8.RuneCountInString(w)
			for k := runes - 1; k <= runes+1; k++ {
				for _, n := range slipTo[k] {
					// One slip leaves the first or the last letter where it was in
					// words of three letters or more, and equal letters begin (end)
					// with the same byte: most words fail this first.
					d := r.wordOf[n]
					if k >= 3 && runes >= 3 && d[0] != w[0] && d[len(d)-1] != w[len(w)-1] {
						continue
					}
					if closeRunes(w, d, runes, k) {
						all = append(all, n)
					}
				}
			}
		}
		ends = append(ends, len(all))
	}
	start := 0
	for i, end := range ends {
		t.is[i] = all[start:end:end]
		start = end
	}
	return t
}

// smallTalk returns the small-talk intent the whole message is made of, or "": the
// message is covered by phrases of "only" intents and fillers, and of the intents it
// uses the one listed first wins.
func (r *Reader) smallTalk(t typed) string {
	n := len(t.ws)
	// ok[i]: ws[i:] can be covered; step[i]: the phrase taken at i (0: a filler);
	// by[i]: the intent of that phrase.
	ok := make([]bool, n+1)
	steps := make([]int, 2*(n+1)) // one allocation for step and by
	step, by := steps[:n+1], steps[n+1:]
	ok[n] = true
	for i := n - 1; i >= 0; i-- {
		// The longest phrase that fits, of the intent listed first among those of
		// that length (the phrases come by first word, not in the intents' order).
		for _, first := range t.is[i] {
			for _, o := range r.talk[first] {
				p := o.p
				if (len(p) > step[i] || len(p) == step[i] && o.spec < by[i]) && i+len(p) <= n && ok[i+len(p)] && r.at(t, i, p) {
					ok[i], step[i], by[i] = true, len(p), o.spec
				}
			}
		}
		if !ok[i] && t.filler[i] && ok[i+1] {
			ok[i] = true
		}
	}
	if !ok[0] {
		return ""
	}
	first := -1
	for i := 0; i < n; {
		if step[i] == 0 {
			i++
			continue
		}
		if first < 0 || by[i] < first {
			first = by[i]
		}
		i += step[i]
	}
	if first < 0 {
		return ""
	}
	return r.specs[first].name
}

// only reports whether the text is made of the phrases (fillers aside), at least one.
func (r *Reader) only(t typed, phrases phrases) bool {
	n := 0
	for i := 0; i < len(t.ws); {
		if l := r.longest(t, i, phrases); l > 0 {
			i += l
			n++
			continue
		}
		if !t.filler[i] {
			return false
		}
		i++
	}
	return n > 0
}

// longest returns the length of the longest phrase that starts at word i, or 0.
func (r *Reader) longest(t typed, i int, phrases phrases) int {
	n := 0
	for _, first := range t.is[i] {
		for _, p := range phrases.byFirst[first] {
			if len(p) > n && r.at(t, i, p) {
				n = len(p)
			}
		}
	}
	return n
}

// at reports whether phrase p is written at word i.
func (r *Reader) at(t typed, i int, p phrase) bool {
	if i+len(p) > len(t.ws) {
		return false
	}
	for j, n := range p {
		if !slices.Contains(t.is[i+j], n) {
			return false
		}
	}
	return true
}

// same reports whether the typed word i is the word w: the same, w with "-nya", or,
// for words of five letters or more that the data does not know as they are, one
// letter off or two swapped. (For the words of the data, t.is holds the answers.)
func (t typed) same(i int, w string) bool {
	typed := t.ws[i]
	if typed == w || len(typed) == len(w)+3 && strings.HasPrefix(typed, w) && strings.HasSuffix(typed, "nya") {
		return true // (without building w+"nya": this runs for every word against every phrase)
	}
	if !t.slip[i] || len(w) < 5 {
		return false
	}
	return closeEnough(typed, w)
}

func (r *Reader) contains(t typed, phrases phrases) bool {
	for i := range t.ws {
		if r.longest(t, i, phrases) > 0 {
			return true
		}
	}
	return false
}

// matches reports whether the text has a phrase of every group of p at distinct
// places, and at most p.extra other words that are not fillers.
func (r *Reader) matches(t typed, p pattern) bool {
	covered := make([]bool, len(t.ws))
	for _, g := range p.groups {
		found := false
		for i := 0; i < len(t.ws) && !found; i++ {
			if covered[i] {
				continue
			}
			if l := r.longest(t, i, g); l > 0 && !slices.Contains(covered[i:i+l], true) {
				for j := i; j < i+l; j++ {
					covered[j] = true
				}
				found = true
			}
		}
		if !found {
			return false
		}
	}
	extra := 0
	for i := range t.ws {
		if !covered[i] && !t.filler[i] {
			extra++
		}
	}
	return extra <= p.extra
}

// slotValue is the slot value the words name most (longer phrases count more);
// the earliest wins a tie.
func (r *Reader) slotValue(t typed, slot string) string {
	score := map[string]int{}
	first := map[string]int{}
	vals := r.slots[slot]
	keys := r.slotKeys[slot]
	for i := 0; i < len(t.ws); {
		best, bestLen := "", 0
		for _, v := range keys {
			if l := r.longest(t, i, vals[v]); l > bestLen {
				best, bestLen = v, l
			}
		}
		if bestLen == 0 {
			i++
			continue
		}
		if _, ok := first[best]; !ok {
			first[best] = i
		}
		score[best] += bestLen
		i += bestLen
	}
	out := ""
	for _, v := range sortedKeys(score) {
		if out == "" || score[v] > score[out] || score[v] == score[out] && first[v] < first[out] {
			out = v
		}
	}
	return out
}

// option reads the text as a pick of one of the offered options: by number ("2",
// "no 2"), by its label or its words typed loosely, or by a role it plays (yes, no,
// cancel, done); in a step one word that is none of those may come with them. A
// message that says no never picks a yes option, and a label that begins with "no"
// ("Tidak perlu") needs the message to say no too.
func (r *Reader) option(t typed, ctx Context) (string, bool) {
	if len(ctx.Offers) == 0 {
		return "", false
	}
	ws := t.ws
	content, last := 0, "" // the words that are not fillers (numbers are), and the last of them
	for i, w := range ws {
		if !t.filler[i] || isNumber(w) {
			content, last = content+1, w
		}
	}
	if content == 1 && isNumber(last) {
		n, _ := strconv.Atoi(last)
		if n >= 1 && n <= len(ctx.Offers) {
			return ctx.Offers[n-1].ID, true
		}
		return "", false
	}
	no, cancel := r.roles["no"], r.roles["cancel"]
	saysNo, saysCancel := r.contains(t, no), r.contains(t, cancel)
	type cand struct {
		id            string
		label, role   int
		share         float64
		leadingAnswer bool
	}
	var best []cand
	var words [][]string
	var labelHit []bool
	for _, o := range ctx.Offers {
		label := r.words(Words(o.Label), r.labelSlipTo)
		words = append(words[:0], label.ws)
		for _, w := range o.Words {
			words = append(words, r.split(w))
		}
		yes := slices.Contains(o.Roles, "yes")
		if yes && saysNo && !r.contains(label, no) {
			continue
		}
		if saysCancel && !slices.Contains(o.Roles, "cancel") && !r.contains(label, cancel) {
			continue // "gak jadi" drops the draft, it does not skip a step
		}
		negLabel := len(label.ws) > 0 && r.longest(label, 0, no) > 0
		c := cand{id: o.ID}
		uncovered := 0
		labelHit = slices.Grow(labelHit[:0], len(label.ws))[:len(label.ws)]
		clear(labelHit)
		hits := 0
		for i := 0; i < len(ws); {
			if l := r.longestRole(t, i, o.Roles); l > 0 {
				c.role += l
				if i == 0 {
					c.leadingAnswer = true
				}
				i += l
				continue
			}
			if l, at := r.inWords(t, i, words); l > 0 {
				c.label += l
				for j := at; at >= 0 && j < at+l; j++ {
					if !labelHit[j] {
						labelHit[j] = true
						hits++
					}
				}
				i += l
				continue
			}
			if !t.filler[i] {
				uncovered++
			}
			i++
		}
		if negLabel && !saysNo && c.role == 0 { // "Tidak perlu" is not picked by "perlu"
			continue
		}
		if c.label+c.role == 0 {
			continue
		}
		switch {
		case uncovered == 0:
		case uncovered == 1 && !ctx.Strict:
		case c.leadingAnswer && len(ws) <= 3 && !ctx.Strict:
		default:
			continue
		}
		if len(label.ws) > 0 {
			c.share = float64(hits) / float64(len(label.ws))
		}
		best = append(best, c)
	}
	if len(best) == 0 {
		return "", false
	}
	slices.SortStableFunc(best, func(a, b cand) int {
		switch {
		case a.label+a.role != b.label+b.role:
			return (b.label + b.role) - (a.label + a.role)
		case a.share > b.share:
			return -1
		case a.share < b.share:
			return 1
		}
		return 0
	})
	if len(best) > 1 && best[0].label+best[0].role == best[1].label+best[1].role && best[0].share == best[1].share {
		return "", false // as close to two options: ask again
	}
	return best[0].id, true
}

// longestRole returns the length of the longest phrase of any of the roles that
// starts at word i, or 0.
func (r *Reader) longestRole(t typed, i int, roles []string) int {
	n := 0
	for _, role := range roles {
		n = max(n, r.longest(t, i, r.roles[role]))
	}
	return n
}

// split returns Words(w) for a word that picks an option. The words the data gives
// (OptionWords, SlotWords) were split when the reader was built; others are split
// now. The result must not be changed.
func (r *Reader) split(w string) []string {
	if ws, ok := r.offerWords[w]; ok {
		return ws
	}
	return Words(w)
}

// inWords returns the length of the longest of the phrases (a phrase may also be
// matched by a part of it: "jalan" picks "Jalan rusak") written at word i, and where
// in the first phrase, the label, it starts (-1: in another phrase).
func (r *Reader) inWords(t typed, i int, phrases [][]string) (n, at int) {
	at = -1
	for pi, p := range phrases {
		for start := range p {
			l := 0
			for i+l < len(t.ws) && start+l < len(p) && t.sameOrPrefix(i+l, p[start+l]) {
				l++
			}
			if l > n && (!t.filler[i] || l > 1) {
				n, at = l, -1
				if pi == 0 {
					at = start
				}
			}
		}
	}
	return n, at
}

// sameOrPrefix is same, or a typed word of five letters or more that begins a longer
// word ("rahasia" for "rahasiakan", "wisat" for "wisata").
func (t typed) sameOrPrefix(i int, w string) bool {
	return t.same(i, w) || len(t.ws[i]) >= 5 && strings.HasPrefix(w, t.ws[i])
}

// isNumber reports whether strconv.Atoi reads w. It says no to a word with a letter
// without calling Atoi, whose error would be allocated: it runs for the words of
// every message read with options.
func isNumber(w string) bool {
	digits := w
	if digits != "" && (digits[0] == '+' || digits[0] == '-') {
		digits = digits[1:] // Atoi takes one sign
	}
	if digits == "" {
		return false
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return false
		}
	}
	_, err := strconv.Atoi(w) // a number too large for an int is not one
	return err == nil
}

// closeEnough reports whether a typed word a is the word b with one slip: a letter
// left out or added (words of four letters or more), two neighbours swapped, or one
// letter replaced in a word of six letters or more ("hujan" is not "human").
//
// Letters are runes. It reads a and b in place, without converting them to runes:
// it runs for every word of a message the data does not know against most words of
// the data. a and b must be valid UTF-8 (Words writes no other), so that two tails
// hold the same runes exactly when they hold the same bytes.
func closeEnough(a, b string) bool {
	return closeRunes(a, b, utf8.RuneCountInString(a), utf8.RuneCountInString(b))
}

// closeRunes is closeEnough of a and b, of na and nb runes.
func closeRunes(a, b string, na, nb int) bool {
	if na < nb {
		a, b, na, nb = b, a, nb, na
	}
	switch na - nb {
	case 1: // one letter more in a: the same after it is skipped
		i := 0 // the first byte where they differ
		for i < len(b) {
			ca, size := utf8.DecodeRuneInString(a[i:])
			if cb, _ := utf8.DecodeRuneInString(b[i:]); ca != cb {
				break
			}
			i += size
		}
		_, size := utf8.DecodeRuneInString(a[i:])
		return nb >= 4 && a[i+size:] == b[i:]
	case 0:
		// the letters that differ: at most two, at rune positions i and j
		diffs, i, j := 0, 0, 0
		var ai, bi, aj, bj rune
		pos := 0
		for len(a) > 0 {
			ca, sa := utf8.DecodeRuneInString(a)
			cb, sb := utf8.DecodeRuneInString(b)
			if ca != cb {
				switch diffs {
				case 0:
					i, ai, bi = pos, ca, cb
				case 1:
					j, aj, bj = pos, ca, cb
				default:
					return false
				}
				diffs++
			}
			a, b, pos = a[sa:], b[sb:], pos+1
		}
		switch diffs {
		case 1:
			return na >= 6
		case 2:
			return j == i+1 && ai == bj && aj == bi
		}
	}
	return false
}

// Words splits text into lower-case words: letters and digits (an apostrophe inside a
// word is kept: "don't"), each emoji a word of its own; hyphens separate words
// ("jalan-jalan"). A letter repeated three times or more counts twice, a syllable of
// two letters repeated counts twice ("wkwkwk" → "wkwk").
//
// It reads text rune by rune, each lower-cased as strings.ToLower would, and a word
// that is written in text as it comes out (lower case, nothing cut) is a part of text,
// not a copy: Words runs on every message and every option label.
func Words(text string) []string {
	out := make([]string, 0, 4) // most messages and labels: grown once at most
	var b []rune                // the word being read
	start, end := -1, -1        // where b is written in text, while it is (else start is -1)
	flush := func() {
		if len(b) > 0 {
			out = append(out, squeeze(b, text, start, end))
			b = b[:0]
		}
		start = -1
	}
	for i := 0; i < len(text); {
		orig, size := utf8.DecodeRuneInString(text[i:])
		c := unicode.ToLower(orig)
		verbatim := c == orig && (orig != utf8.RuneError || size > 1) // the rune as text writes it
		at := i
		i += size
		switch {
		case unicode.IsLetter(c) || unicode.IsDigit(c):
			start, end = fold.Written(len(b), start, end, at, i, verbatim)
			b = append(b, c)
		case (c == '\'' || c == '’') && len(b) > 0 && i < len(text) && unicode.IsLetter(nextLower(text[i:])):
			start, end = fold.Written(len(b), start, end, at, i, orig == '\'')
			b = append(b, '\'')
		case c == 0xFE0F || c == 0x200D || c >= 0x1F3FB && c <= 0x1F3FF:
			// variation selectors, joiners and skin tones belong to the emoji before
		case unicode.IsSymbol(c) || c >= 0x1F000:
			flush()
			if len(out) == 0 || out[len(out)-1] != string(c) { // "👍👍" is one thumbs up
				out = append(out, string(c))
			}
		default:
			flush()
		}
	}
	flush()
	return out
}

// nextLower is the first rune of s, lower-cased.
func nextLower(s string) rune {
	c, _ := utf8.DecodeRuneInString(s)
	return unicode.ToLower(c)
}

// squeeze returns the word w with a letter repeated three times or more cut to two
// (fold.Runs), and a word made of one two-letter syllable repeated ("hahaha",
// "wkwkwk", "kwkwk") as the syllable twice. When start is not -1, w is written in
// text[start:end], and the word is that part of text when nothing was cut. It
// changes w.
func squeeze(w []rune, text string, start, end int) string {
	n := len(w)
	w = fold.CutRuns(w)
	cut := len(w) < n
	if len(w) >= 4 {
		rep := true
		for i, c := range w {
			if c != w[i%2] {
				rep = false
				break
			}
		}
		if rep && w[0] != w[1] {
			if len(w) == 4 && !cut && start >= 0 {
				return text[start:end]
			}
			return string(w[:4])
		}
	}
	if !cut && start >= 0 {
		return text[start:end]
	}
	return string(w)
}
