package intent

// This file is the reader as it was before it was made cheaper (commit a8c3d49), kept
// word for word under other names as the reference the differential tests compare the
// reader with (diff_test.go). A change meant only to make the reader cheaper must read
// every message the same way and leaves this file alone. A change meant to read
// differently makes the same change here, in the same commit, so that the test shows
// exactly which readings it changes, and nothing else.

import (
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"go.yaml.in/yaml/v3"

	"github.com/layan-id/layan/flows/fold"
)

type refPhrase []string

type refSpec struct {
	name     string
	only     []refPhrase
	patterns []refPattern
	unless   []refPhrase
	slot     string
	inSteps  bool
}

type refPattern struct {
	groups [][]refPhrase
	extra  int
}

// Reader reads messages. It is safe for concurrent use.
type refReader struct {
	fillers map[string]bool
	roles   map[string][]refPhrase
	specs   []refSpec
	slots   map[string]map[string][]refPhrase
	options map[string][]refPhrase
	vocab   map[string]bool // every word of every refPhrase: never corrected
}

// Load reads intents.yaml from content (locales.Content gives it).
func refLoad(content fs.FS) (*refReader, error) {
	b, err := fs.ReadFile(content, "intents.yaml")
	if err != nil {
		return nil, fmt.Errorf("intent: read intents.yaml: %w", err)
	}
	var d Data
	if err := yaml.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("intent: intents.yaml: %w", err)
	}
	return refNew(d)
}

// New builds a reader from its data.
func refNew(d Data) (*refReader, error) {
	r := &refReader{fillers: map[string]bool{}, roles: map[string][]refPhrase{}, slots: map[string]map[string][]refPhrase{},
		options: map[string][]refPhrase{}, vocab: map[string]bool{}}
	ph := func(list []string) []refPhrase {
		var out []refPhrase
		for _, s := range list {
			if w := refWords(s); len(w) > 0 {
				out = append(out, w)
				for _, x := range w {
					r.vocab[x] = true
				}
			}
		}
		return out
	}
	for _, f := range d.Fillers {
		for _, w := range refWords(f) {
			r.fillers[w] = true
		}
	}
	for role, list := range d.Roles {
		r.roles[role] = ph(list)
	}
	for name, vals := range d.Slots {
		r.slots[name] = map[string][]refPhrase{}
		for v, list := range vals {
			r.slots[name][v] = ph(list)
		}
	}
	for id, list := range d.Options {
		r.options[id] = ph(list)
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
		sp := refSpec{name: s.Name, only: ph(s.Only), unless: ph(s.Unless), slot: s.Slot, inSteps: s.InSteps == nil || *s.InSteps}
		for _, p := range s.Patterns {
			var groups [][]refPhrase
			for _, g := range p.Groups {
				if len(g) == 1 && strings.HasPrefix(g[0], "$") {
					vals, ok := r.slots[g[0][1:]]
					if !ok {
						return nil, fmt.Errorf("intent: intents.yaml: intent %s: unknown slot %s", s.Name, g[0])
					}
					var all []refPhrase
					for _, v := range refSortedKeys(vals) {
						all = append(all, vals[v]...)
					}
					groups = append(groups, all)
					continue
				}
				groups = append(groups, ph(g))
			}
			sp.patterns = append(sp.patterns, refPattern{groups: groups, extra: p.Extra})
		}
		r.specs = append(r.specs, sp)
	}
	return r, nil
}

// refTicketRe finds a ticket number written loosely: "btg 261202 0001", "BTG2612020001",
// "BTG.261202.0001". Digits around it mean it is another number.
var refTicketRe = regexp.MustCompile(`(?i)(?:^|[^a-z0-9])([a-z][a-z0-9]{1,9}?)[\s.\-_/]*(\d{6})[\s.\-_/]*(\d{4,5})(?:$|[^0-9])`)

// Ticket finds a ticket number in text and returns it as PREFIX-yymmdd-NNNN.
func refTicket(text string) (string, bool) {
	m := refTicketRe.FindStringSubmatch(text)
	if m == nil {
		return "", false
	}
	return strings.ToUpper(m[1]) + "-" + m[2] + "-" + m[3], true
}

// Read reads a message in its context.
func (r *refReader) Read(text string, ctx Context) Reading {
	ws := refWords(text)
	if len(ws) == 0 {
		return Reading{}
	}
	if id, ok := r.option(ws, ctx); ok {
		return Reading{Option: id}
	}
	if t, ok := refTicket(text); ok {
		return Reading{Intent: "ticket", Ticket: t}
	}
	if name := r.smallTalk(ws); name != "" {
		return Reading{Intent: name}
	}
	for _, s := range r.specs {
		if len(s.patterns) == 0 || ctx.Busy != "" && (s.name == ctx.Busy || !s.inSteps) {
			continue
		}
		if r.contains(ws, s.unless) {
			continue
		}
		for _, p := range s.patterns {
			if r.matches(ws, p) {
				rd := Reading{Intent: s.name}
				if s.slot != "" {
					rd.Slot = r.slotValue(ws, s.slot)
				}
				return rd
			}
		}
	}
	if len(ctx.Offers) > 0 {
		for _, role := range []string{"yes", "no"} {
			if r.only(ws, r.roles[role]) {
				return Reading{Intent: role}
			}
		}
	}
	return Reading{}
}

// smallTalk returns the small-talk intent the whole message is made of, or "": the
// message is covered by phrases of "only" intents and fillers, and of the intents it
// uses the one listed first wins.
func (r *refReader) smallTalk(ws []string) string {
	n := len(ws)
	// ok[i]: ws[i:] can be covered; step[i]: the refPhrase taken at i (0: a filler);
	// by[i]: the intent of that refPhrase.
	ok := make([]bool, n+1)
	step := make([]int, n+1)
	by := make([]int, n+1)
	ok[n] = true
	for i := n - 1; i >= 0; i-- {
		for si, s := range r.specs {
			for _, p := range s.only {
				if len(p) > step[i] && i+len(p) <= n && ok[i+len(p)] && r.at(ws, i, p) {
					ok[i], step[i], by[i] = true, len(p), si
				}
			}
		}
		if !ok[i] && r.fillers[ws[i]] && ok[i+1] {
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

// only reports whether ws is made of the phrases (fillers aside), at least one.
func (r *refReader) only(ws []string, phrases []refPhrase) bool {
	n := 0
	for i := 0; i < len(ws); {
		if l := r.longest(ws, i, phrases); l > 0 {
			i += l
			n++
			continue
		}
		if !r.fillers[ws[i]] {
			return false
		}
		i++
	}
	return n > 0
}

// longest returns the length of the longest refPhrase that starts at ws[i], or 0.
func (r *refReader) longest(ws []string, i int, phrases []refPhrase) int {
	n := 0
	for _, p := range phrases {
		if len(p) > n && r.at(ws, i, p) {
			n = len(p)
		}
	}
	return n
}

// at reports whether refPhrase p is written at ws[i].
func (r *refReader) at(ws []string, i int, p refPhrase) bool {
	if i+len(p) > len(ws) {
		return false
	}
	for j, w := range p {
		if !r.same(ws[i+j], w) {
			return false
		}
	}
	return true
}

// same reports whether a typed word is the word w: the same, w with "-nya", or, for
// words of five letters or more that the data does not know as they are, one letter
// off or two swapped.
func (r *refReader) same(typed, w string) bool {
	if typed == w || len(typed) == len(w)+3 && strings.HasPrefix(typed, w) && strings.HasSuffix(typed, "nya") {
		return true // (without building w+"nya": this runs for every word against every refPhrase)
	}
	if len(typed) < 4 || len(w) < 5 || r.vocab[typed] {
		return false
	}
	return refCloseEnough(typed, w)
}

func (r *refReader) contains(ws []string, phrases []refPhrase) bool {
	for i := range ws {
		if r.longest(ws, i, phrases) > 0 {
			return true
		}
	}
	return false
}

// matches reports whether ws has a refPhrase of every group of p at distinct places, and
// at most p.extra other words that are not fillers.
func (r *refReader) matches(ws []string, p refPattern) bool {
	covered := make([]bool, len(ws))
	for _, g := range p.groups {
		found := false
		for i := 0; i < len(ws) && !found; i++ {
			if covered[i] {
				continue
			}
			if l := r.longest(ws, i, g); l > 0 && !slices.Contains(covered[i:i+l], true) {
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
	for i, w := range ws {
		if !covered[i] && !r.fillers[w] {
			extra++
		}
	}
	return extra <= p.extra
}

// slotValue is the slot value the words name most (longer phrases count more);
// the earliest wins a tie.
func (r *refReader) slotValue(ws []string, slot string) string {
	score := map[string]int{}
	first := map[string]int{}
	vals := r.slots[slot]
	for i := 0; i < len(ws); {
		best, bestLen := "", 0
		for _, v := range refSortedKeys(vals) {
			if l := r.longest(ws, i, vals[v]); l > bestLen {
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
	for _, v := range refSortedKeys(score) {
		if out == "" || score[v] > score[out] || score[v] == score[out] && first[v] < first[out] {
			out = v
		}
	}
	return out
}

// option reads ws as a pick of one of the offered options: by number ("2", "no 2"),
// by its label or its words typed loosely, or by a role it plays (yes, no, cancel,
// done); in a step one word that is none of those may come with them. A message
// that says no never picks a yes option, and a label that begins with "no" ("Tidak
// perlu") needs the message to say no too.
func (r *refReader) option(ws []string, ctx Context) (string, bool) {
	if len(ctx.Offers) == 0 {
		return "", false
	}
	var content []string
	for _, w := range ws {
		if !r.fillers[w] || refIsNumber(w) {
			content = append(content, w)
		}
	}
	if len(content) == 1 && refIsNumber(content[0]) {
		n, _ := strconv.Atoi(content[0])
		if n >= 1 && n <= len(ctx.Offers) {
			return ctx.Offers[n-1].ID, true
		}
		return "", false
	}
	says := map[string]bool{}
	for role, phrases := range r.roles {
		says[role] = r.contains(ws, phrases)
	}
	type cand struct {
		id            string
		label, role   int
		share         float64
		leadingAnswer bool
	}
	var best []cand
	for _, o := range ctx.Offers {
		label := refWords(o.Label)
		var words []refPhrase
		words = append(words, label)
		for _, w := range o.Words {
			words = append(words, refWords(w))
		}
		var rolePhrases []refPhrase
		yes := false
		for _, role := range o.Roles {
			rolePhrases = append(rolePhrases, r.roles[role]...)
			yes = yes || role == "yes"
		}
		if yes && says["no"] && !r.contains(label, r.roles["no"]) {
			continue
		}
		if says["cancel"] && !slices.Contains(o.Roles, "cancel") && !r.contains(label, r.roles["cancel"]) {
			continue // "gak jadi" drops the draft, it does not skip a step
		}
		negLabel := len(label) > 0 && r.longest(label, 0, r.roles["no"]) > 0
		c := cand{id: o.ID}
		uncovered := 0
		labelHit := map[int]bool{}
		for i := 0; i < len(ws); {
			if l := r.longest(ws, i, rolePhrases); l > 0 {
				c.role += l
				if i == 0 {
					c.leadingAnswer = true
				}
				i += l
				continue
			}
			if l, at := r.inWords(ws, i, words); l > 0 {
				c.label += l
				for j := at; at >= 0 && j < at+l; j++ {
					labelHit[j] = true
				}
				i += l
				continue
			}
			if !r.fillers[ws[i]] {
				uncovered++
			}
			i++
		}
		if negLabel && !says["no"] && c.role == 0 { // "Tidak perlu" is not picked by "perlu"
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
		if len(label) > 0 {
			c.share = float64(len(labelHit)) / float64(len(label))
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

// inWords returns the length of the longest of the phrases (a refPhrase may also be
// matched by a part of it: "jalan" picks "Jalan rusak") written at ws[i], and where in
// the first refPhrase, the label, it starts (-1: in another refPhrase).
func (r *refReader) inWords(ws []string, i int, phrases []refPhrase) (n, at int) {
	at = -1
	for pi, p := range phrases {
		for start := range p {
			l := 0
			for i+l < len(ws) && start+l < len(p) && r.sameOrPrefix(ws[i+l], p[start+l]) {
				l++
			}
			if l > n && (!r.fillers[ws[i]] || l > 1) {
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
func (r *refReader) sameOrPrefix(typed, w string) bool {
	return r.same(typed, w) || len(typed) >= 5 && strings.HasPrefix(w, typed)
}

func refIsNumber(w string) bool {
	_, err := strconv.Atoi(w)
	return err == nil
}

// closeEnough reports whether a typed word a is the word b with one slip: a letter
// left out or added (words of four letters or more), two neighbours swapped, or one
// letter replaced in a word of six letters or more ("hujan" is not "human").
func refCloseEnough(a, b string) bool {
	ra, rb := []rune(a), []rune(b)
	if len(ra) < len(rb) {
		ra, rb = rb, ra
	}
	switch len(ra) - len(rb) {
	case 1: // one letter more in ra
		i := 0
		for i < len(rb) && ra[i] == rb[i] {
			i++
		}
		return len(rb) >= 4 && string(ra[i+1:]) == string(rb[i:])
	case 0:
		var diff []int
		for i := range ra {
			if ra[i] != rb[i] {
				diff = append(diff, i)
			}
		}
		switch {
		case len(diff) == 1:
			return len(ra) >= 6
		case len(diff) == 2:
			i, j := diff[0], diff[1]
			return j == i+1 && ra[i] == rb[j] && ra[j] == rb[i]
		}
	}
	return false
}

// Words splits text into lower-case words: letters and digits (an apostrophe inside a
// word is kept: "don't"), each emoji a word of its own; hyphens separate words
// ("jalan-jalan"). A letter repeated three times or more counts twice, a syllable of
// two letters repeated counts twice ("wkwkwk" → "wkwk").
func refWords(text string) []string {
	var out []string
	var b []rune
	flush := func() {
		if len(b) > 0 {
			out = append(out, refSqueeze(string(b)))
			b = b[:0]
		}
	}
	rs := []rune(strings.ToLower(text))
	for i, c := range rs {
		switch {
		case unicode.IsLetter(c) || unicode.IsDigit(c):
			b = append(b, c)
		case (c == '\'' || c == '’') && len(b) > 0 && i+1 < len(rs) && unicode.IsLetter(rs[i+1]):
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

// squeeze cuts a letter repeated three times or more to two, and a word made of one
// two-letter syllable repeated ("hahaha", "wkwkwk", "kwkwk") to the syllable twice.
func refSqueeze(w string) string {
	out := []rune(fold.Runs(w))
	if len(out) >= 4 {
		unit := out[:2]
		rep := true
		for i, c := range out {
			if c != unit[i%2] {
				rep = false
				break
			}
		}
		if rep && unit[0] != unit[1] {
			return string(unit) + string(unit)
		}
	}
	return string(out)
}
func refSortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
