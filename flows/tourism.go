package flows

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/domain"
	"github.com/layan-id/layan/flows/fold"
	"github.com/layan-id/layan/locales"
)

// tourismFile is the content file of attractions and tips (locales/tourism.yaml,
// replaced by a file of the same name in CONTENT_DIR).
const tourismFile = "tourism.yaml"

// TourismCategories returns the categories an attraction may have, in the order they
// are offered; each has a label under tourism.category.<id> in the locale texts.
func TourismCategories() []string {
	return []string{"pantai", "alam", "budaya", "kuliner", "agrowisata"}
}

// Localized is one text in every UI language, keyed by language code ("id", "en").
type Localized map[string]string

// In returns the text in lang, or in the default language when lang has none.
func (l Localized) In(lang string) string {
	if s, ok := l[lang]; ok && s != "" {
		return s
	}
	return l[locales.Default]
}

// Attraction is one place to visit.
type Attraction struct {
	ID          string
	Category    string // one of TourismCategories
	Name        Localized
	Description Localized
	Hours       Localized // opening hours, or how to check them
	Tips        Localized
	Directions  Localized // how to get there
	Lat, Lon    float64   // WGS 84 degrees
}

// Location is where the attraction is.
func (a Attraction) Location() domain.Location { return domain.Location{Lat: a.Lat, Lon: a.Lon} }

// Tourism is the region's tourism content: its attractions, in the order staff wrote
// them, and a pool of short tips for the tip of the day.
type Tourism struct {
	Attractions []Attraction
	Tips        []Localized
}

// Attraction returns the attraction with the given id.
func (t Tourism) Attraction(id string) (Attraction, bool) {
	for _, a := range t.Attractions {
		if a.ID == id {
			return a, true
		}
	}
	return Attraction{}, false
}

// InCategory returns the attractions of one category, in content order.
func (t Tourism) InCategory(cat string) []Attraction {
	var out []Attraction
	for _, a := range t.Attractions {
		if a.Category == cat {
			out = append(out, a)
		}
	}
	return out
}

// Nearby is an attraction and its distance from a point.
type Nearby struct {
	Attraction Attraction
	Km         float64 // great-circle distance, not the distance by road
}

// Nearest returns the n attractions closest to l, nearest first; attractions at the
// same distance keep their content order.
func (t Tourism) Nearest(l domain.Location, n int) []Nearby {
	all := make([]Nearby, len(t.Attractions))
	for i, a := range t.Attractions {
		all[i] = Nearby{Attraction: a, Km: DistanceKm(l, a.Location())}
	}
	slices.SortStableFunc(all, func(a, b Nearby) int { return cmp.Compare(a.Km, b.Km) })
	return all[:min(n, len(all))]
}

// earthRadiusKm is the mean radius of the earth (IUGG).
const earthRadiusKm = 6371.0088

// DistanceKm is the great-circle distance between two points in kilometres, by the
// haversine formula on a spherical earth (within about 0.5% of the true distance).
func DistanceKm(a, b domain.Location) float64 {
	rad := func(deg float64) float64 { return deg * math.Pi / 180 }
	dLat, dLon := rad(b.Lat-a.Lat), rad(b.Lon-a.Lon)
	h := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(rad(a.Lat))*math.Cos(rad(b.Lat))*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * earthRadiusKm * math.Asin(math.Sqrt(min(1, h)))
}

// NextTip picks the tip of the day for one person. sent holds the indexes (into
// Tips) of the tips already sent to them, in any order; repeats are allowed and
// indexes no longer in the pool are ignored, so the caller may keep the whole history
// or only the current round. NextTip returns the lowest index among the tips sent the
// fewest times, and its text in lang (or in Indonesian): every tip is sent once, in
// pool order, before any tip is sent a second time, and a tip staff append to the
// pool is sent before the next round starts. (Removing or reordering tips changes
// which tip an index names; append new tips at the end.) It is pure: the same pool
// and sent list always give the same tip. index is -1 when there are no tips.
func (t Tourism) NextTip(lang string, sent []int) (index int, text string) {
	if len(t.Tips) == 0 {
		return -1, ""
	}
	count := make([]int, len(t.Tips))
	for _, i := range sent {
		if i >= 0 && i < len(count) {
			count[i]++
		}
	}
	best := 0
	for i, n := range count {
		if n < count[best] {
			best = i
		}
	}
	return best, t.Tips[best].In(lang)
}

// names finds attractions by the words of their names (find), with the names split
// and counted once, when the flow is built.
type names struct {
	attractions []Attraction
	// by is, for each distinctive word of a name, the attractions (by index, in
	// content order) whose names in any language have it.
	by map[string][]int
}

// newNames indexes the names of t's attractions.
func newNames(t Tourism) names {
	n := names{attractions: t.Attractions, by: map[string][]int{}}
	for i, a := range t.Attractions {
		seen := map[string]bool{}
		for _, name := range a.Name {
			for _, w := range nameWords(name) {
				if !seen[w] {
					seen[w] = true
					n.by[w] = append(n.by[w], i)
				}
			}
		}
	}
	for w, as := range n.by {
		if len(as) >= 3 {
			delete(n.by, w) // not distinctive
		}
	}
	return n
}

// find returns the attractions (at most 3) whose names share the most distinctive
// words with text, in any language: "sigandu", "curug", "curug genting". Words found
// in the names of three or more attractions ("pantai", "batang") are not
// distinctive, nor words shorter than four letters.
func (n names) find(text string) []Attraction {
	typed := nameWords(text)
	if len(typed) == 0 {
		return nil
	}
	score := make([]int, len(n.attractions))
	for i, w := range typed {
		if slices.Contains(typed[:i], w) {
			continue // a word typed twice counts once
		}
		for _, a := range n.by[w] {
			score[a]++
		}
	}
	var out []Attraction
	best := 0
	for i, a := range n.attractions {
		switch s := score[i]; {
		case s == 0 || s < best:
		case s > best:
			best, out = s, []Attraction{a}
		case len(out) < 3:
			out = append(out, a)
		}
	}
	return out
}

// nameWords splits text into lower-case words of at least four letters.
func nameWords(text string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) }) {
		if utf8.RuneCountInString(w) >= 4 {
			out = append(out, w)
		}
	}
	return out
}

// LoadTourism reads and checks tourism.yaml from content. Every problem is reported
// at once, each with the file and line: an unknown or duplicate id, an unknown
// category, coordinates missing or off the globe (or 0,0), a text missing in a
// language, an unknown field, no attractions or no tips.
func LoadTourism(content fs.FS) (Tourism, error) {
	b, err := fs.ReadFile(content, tourismFile)
	if err != nil {
		return Tourism{}, fmt.Errorf("flows: read %s: %w", tourismFile, err)
	}
	p := &tourismParser{file: tourismFile}
	t := p.parse(b)
	if len(p.errs) > 0 {
		return Tourism{}, fmt.Errorf("flows: %s is not valid:\n%w", tourismFile, errors.Join(p.errs...))
	}
	return t, nil
}

// tourismParser reads the YAML tree itself, so that every problem names its line.
type tourismParser struct {
	file string
	errs []error
}

func (p *tourismParser) fail(n *yaml.Node, format string, args ...any) {
	p.errs = append(p.errs, fmt.Errorf("%s:%d: %s", p.file, n.Line, fmt.Sprintf(format, args...)))
}

var attractionID = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

func (p *tourismParser) parse(b []byte) Tourism {
	var t Tourism
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		p.errs = append(p.errs, fmt.Errorf("%s: %w", p.file, err))
		return t
	}
	if len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		p.errs = append(p.errs, fmt.Errorf("%s: want a map with \"attractions\" and \"tips\"", p.file))
		return t
	}
	doc := root.Content[0]
	var attractions, tips *yaml.Node
	for i := 0; i+1 < len(doc.Content); i += 2 {
		key, val := doc.Content[i], doc.Content[i+1]
		switch key.Value {
		case "attractions":
			attractions = val
		case "tips":
			tips = val
		default:
			p.fail(key, "unknown field %q (want attractions, tips)", key.Value)
		}
	}
	if attractions == nil || attractions.Kind != yaml.SequenceNode || len(attractions.Content) == 0 {
		p.fail(cmp.Or(attractions, doc), "no attractions: want a list under \"attractions\"")
	} else {
		seen := map[string]int{}
		for _, n := range attractions.Content {
			a, ok := p.attraction(n)
			if !ok {
				continue
			}
			if line, dup := seen[a.ID]; dup {
				p.fail(n, "attraction %q: the id is already used at line %d", a.ID, line)
				continue
			}
			seen[a.ID] = n.Line
			t.Attractions = append(t.Attractions, a)
		}
	}
	if tips == nil || tips.Kind != yaml.SequenceNode || len(tips.Content) == 0 {
		p.fail(cmp.Or(tips, doc), "no tips: want a list under \"tips\", each with a text per language")
	} else {
		for i, n := range tips.Content {
			if l, ok := p.localized(n, fmt.Sprintf("tip %d", i+1)); ok {
				t.Tips = append(t.Tips, l)
			}
		}
	}
	return t
}

// attraction reads one attraction; ok is false when it has a problem (reported).
func (p *tourismParser) attraction(n *yaml.Node) (Attraction, bool) {
	var a Attraction
	if n.Kind != yaml.MappingNode {
		p.fail(n, "an attraction must be a map of fields")
		return a, false
	}
	before := len(p.errs)
	fields := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key := n.Content[i]
		switch key.Value {
		case "id", "category", "name", "description", "hours", "tips", "directions", "lat", "lon":
			fields[key.Value] = n.Content[i+1]
		default:
			p.fail(key, "unknown field %q (want id, category, name, description, hours, tips, directions, lat, lon)", key.Value)
		}
	}
	what := "attraction"
	if id := fields["id"]; id == nil || id.Kind != yaml.ScalarNode || !attractionID.MatchString(id.Value) {
		p.fail(cmp.Or(id, n), "attraction without a valid id (lower-case letters, digits and '-', such as pantai-indah)")
	} else {
		a.ID = id.Value
		what = fmt.Sprintf("attraction %q", a.ID)
	}
	switch cat := fields["category"]; {
	case cat == nil:
		p.fail(n, "%s: no category (want one of %s)", what, strings.Join(TourismCategories(), ", "))
	case !slices.Contains(TourismCategories(), cat.Value):
		p.fail(cat, "%s: unknown category %q (want one of %s)", what, cat.Value, strings.Join(TourismCategories(), ", "))
	default:
		a.Category = cat.Value
	}
	for _, f := range []struct {
		name string
		into *Localized
	}{{"name", &a.Name}, {"description", &a.Description}, {"hours", &a.Hours}, {"tips", &a.Tips}, {"directions", &a.Directions}} {
		v := fields[f.name]
		if v == nil {
			p.fail(n, "%s: no %s (want a text per language: %s)", what, f.name, strings.Join(locales.Languages(), ", "))
			continue
		}
		*f.into, _ = p.localized(v, what+" "+f.name)
	}
	a.Lat = p.degrees(fields["lat"], n, what, "lat", 90)
	a.Lon = p.degrees(fields["lon"], n, what, "lon", 180)
	if a.Lat == 0 && a.Lon == 0 && len(p.errs) == before {
		p.fail(n, "%s: coordinates 0,0 are not a place in the region", what)
	}
	return a, len(p.errs) == before
}

// degrees reads a latitude or longitude within ±limit.
func (p *tourismParser) degrees(v, parent *yaml.Node, what, name string, limit float64) float64 {
	if v == nil {
		p.fail(parent, "%s: no %s (want degrees, such as lat: -6.9 and lon: 109.7)", what, name)
		return 0
	}
	f, err := strconv.ParseFloat(v.Value, 64)
	if v.Kind != yaml.ScalarNode || err != nil || math.IsNaN(f) || f < -limit || f > limit {
		p.fail(v, "%s: %s %q is not a number of degrees between -%g and %g", what, name, v.Value, limit, limit)
		return 0
	}
	return f
}

// localized reads a map of language → text that has every UI language and no other.
func (p *tourismParser) localized(n *yaml.Node, what string) (Localized, bool) {
	langs := locales.Languages()
	if n.Kind != yaml.MappingNode {
		p.fail(n, "%s: want a text per language (%s)", what, strings.Join(langs, ", "))
		return nil, false
	}
	l := Localized{}
	ok := true
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		if !slices.Contains(langs, key.Value) {
			p.fail(key, "%s: unknown language %q (want %s)", what, key.Value, strings.Join(langs, ", "))
			ok = false
			continue
		}
		if val.Kind != yaml.ScalarNode || strings.TrimSpace(val.Value) == "" {
			p.fail(val, "%s: the %s text is empty", what, key.Value)
			ok = false
			continue
		}
		l[key.Value] = strings.TrimSpace(val.Value)
	}
	for _, lang := range langs {
		if _, has := l[lang]; !has && ok {
			p.fail(n, "%s: no %s text", what, lang)
			ok = false
		}
	}
	return l, ok
}

// The steps of the tourism flow.
const (
	tourCategories = "categories" // choosing a category
	tourList       = "list"       // choosing an attraction of the category "cat"
	tourPlace      = "place"      // reading the attraction "place"
	tourHow        = "how"        // reading how to get to "place"
	tourLocate     = "locate"     // asked to share a location
	tourNearest    = "nearest"    // the attractions nearest "lat","lon"
)

// farKm is how far the nearest attraction may be before the answer says the person
// seems to be far from the region.
const farKm = 50

// tourismFlow lets a person browse the region's attractions by category, read one
// (description, hours, tips) and how to get there, or share a location and get the
// three nearest attractions. "kembali" goes up one level: how to get there →
// attraction → its category (or the nearest list it came from) → categories → menu.
type tourismFlow struct {
	t     Tourism
	names names // t's attractions by the words of their names
}

// tourismState is where a person is in the tourism flow.
type tourismState struct {
	Category string           `json:"category,omitempty"` // the category listed
	Place    string           `json:"place,omitempty"`    // the attraction shown
	From     string           `json:"from,omitempty"`     // "nearby": the attraction came from the nearest list
	Point    *domain.Location `json:"point,omitempty"`    // the place shared, for the nearest list
}

// legacyTourism reads the state of sessions saved before typed state.
func legacyTourism(flow string, v map[string]string) (any, bool) {
	return tourismState{Category: v["cat"], Place: v["place"], From: v["from"], Point: legacyPoint(v)}, flow == FlowTourism
}

func (f *tourismFlow) state(c *Conv) tourismState { return loadState[tourismState](c, FlowTourism) }

func (f *tourismFlow) keep(c *Conv, st tourismState) { saveState(c, FlowTourism, st) }

// tipsGiven are the travel tips given in this conversation (indexes in the pool),
// until the person's flow ends: asking again gives the next.
type tipsGiven struct {
	Given []int `json:"given"`
}

// stateTips is the name the tips given are kept under.
const stateTips = "tips"

// legacyTips reads the tips given as sessions saved them before typed state.
func legacyTips(_ string, v map[string]string) (any, bool) {
	var t tipsGiven
	for _, s := range legacyList(v["tips"]) {
		if i, err := strconv.Atoi(s); err == nil {
			t.Given = append(t.Given, i)
		}
	}
	return t, len(t.Given) > 0
}

// tourismNearby is the entry of the "terdekat"/"nearby" keywords: the tourism flow,
// started at the request for a location.
type tourismNearby struct{ f *tourismFlow }

// RegisterTourism adds the tourism flow: the menu entry "tourism" and the keywords
// under keywords.tourism ("wisata", ...) open the categories; those under
// keywords.nearby ("terdekat", ...) ask for a location and answer the three nearest
// attractions, as does a place shared outside any step that asks for one. Requests
// in plain words: a travel tip now, what is near, a kind of attraction.
func (r *Router) RegisterTourism(t Tourism) {
	f := &tourismFlow{t: t, names: newNames(t)}
	r.Register(FlowTourism, f)
	r.Register(FlowNearby, tourismNearby{f})
	r.handleLegacy(FlowTourism, legacyTourism)
	r.handleLegacy(stateTips, legacyTips)
	r.RegisterKeyword("keywords.tourism", FlowTourism)
	r.RegisterKeyword("keywords.nearby", FlowNearby)
	r.HandleKind(bot.KindLocation, func(_ context.Context, c *Conv, in Input) (bool, error) {
		if in.Location == nil {
			return false, nil
		}
		c.Leave()
		c.Session.Flow = FlowTourism
		f.located(c, in.Location)
		return true, nil
	})
	r.HandleIntent("tip", NeverInterrupts, func(_ context.Context, c *Conv, _ Input) error {
		f.tipNow(c)
		return nil
	})
	r.HandleIntent("nearby", NeverInterrupts, func(ctx context.Context, c *Conv, _ Input) error {
		return c.StartFlow(ctx, FlowNearby)
	})
	r.HandleIntent("tourism", NeverInterrupts, func(ctx context.Context, c *Conv, in Input) error {
		if cat := in.reading.Slot; slices.Contains(TourismCategories(), cat) {
			c.Leave()
			c.Session.Flow = FlowTourism
			f.list(c, cat) // straight to the kind asked for
			return nil
		}
		return f.Start(ctx, c)
	})
}

func (n tourismNearby) Start(_ context.Context, c *Conv) error {
	c.Leave()
	c.Session.Flow = FlowTourism
	n.f.askLocation(c, "tourism.ask_location", nil)
	return nil
}

func (n tourismNearby) Continue(ctx context.Context, c *Conv, in Input) error {
	return n.f.Continue(ctx, c, in)
}

func (f *tourismFlow) Start(_ context.Context, c *Conv) error {
	c.Leave()
	c.Session.Flow = FlowTourism
	f.categories(c, c.T("tourism.intro"))
	return nil
}

// Accepts lets a shared location through at every step: a pin sent while browsing
// asks what is near it.
func (f *tourismFlow) Accepts(_ *Conv, kind bot.Kind) bool { return kind == bot.KindLocation }

func (f *tourismFlow) Continue(ctx context.Context, c *Conv, in Input) error {
	if in.Kind == bot.KindLocation {
		f.located(c, in.Location)
		return nil
	}
	if f.option(c, in.Option) {
		return nil
	}
	text := strings.TrimSpace(in.Text)
	if c.Session.Step == tourLocate {
		f.typedPlace(c, text)
		return nil
	}
	if cat, ok := f.typedCategory(c, text); ok {
		f.list(c, cat)
		return nil
	}
	switch found := f.names.find(text); {
	case len(found) == 1:
		f.place(c, found[0].ID, "")
		return nil
	case len(found) > 1:
		f.offer(c, c.T("tourism.did_you_mean"), found)
		return nil
	}
	// A question asked while browsing ("apakah ada penginapan dekat pantai") is for the FAQ.
	if asked, err := c.Question(ctx, text); asked || err != nil {
		return err
	}
	f.repeat(c)
	return nil
}

// option handles the options this flow offers, from the last message or an earlier
// one; it reports whether opt was one.
func (f *tourismFlow) option(c *Conv, opt string) bool {
	kind, arg, _ := strings.Cut(opt, ":")
	if kind != "tourism" {
		return false
	}
	kind, arg, _ = strings.Cut(arg, ":")
	switch kind {
	case "cat":
		if len(f.t.InCategory(arg)) > 0 {
			f.list(c, arg)
			return true
		}
	case "place", "near", "how":
		if _, ok := f.t.Attraction(arg); !ok {
			break
		}
		switch kind {
		case "place":
			f.place(c, arg, "")
		case "near":
			f.place(c, arg, "nearby")
		case "how":
			from := ""
			if st := f.state(c); st.Place == arg {
				from = st.From // how to get there keeps the way back
			}
			f.how(c, arg, from)
		}
		return true
	case "results":
		f.results(c)
		return true
	case "nearby":
		f.askLocation(c, "tourism.ask_location", nil)
		return true
	case "browse":
		f.categories(c, c.T("tourism.choose_category"))
		return true
	}
	// An option of content that has since changed: start from the categories.
	f.categories(c, c.T("tourism.choose_category"))
	return true
}

// Back goes up one level.
func (f *tourismFlow) Back(_ context.Context, c *Conv) error {
	st := f.state(c)
	place, from := st.Place, st.From
	switch c.Session.Step {
	case tourHow:
		f.place(c, place, from)
	case tourPlace:
		if from == "nearby" {
			f.results(c)
			return nil
		}
		a, _ := f.t.Attraction(place)
		f.list(c, a.Category)
	case tourList, tourLocate:
		f.categories(c, c.T("tourism.choose_category"))
	case tourNearest:
		f.askLocation(c, "tourism.ask_location", nil)
	default:
		c.Leave()
		c.ShowMenu()
	}
	return nil
}

// categories offers the categories that have attractions, the nearby search and the menu.
func (f *tourismFlow) categories(c *Conv, text string) {
	c.Session.Step = tourCategories
	dropState(c, FlowTourism)
	c.Turn.Say(bot.Reply{Text: text, Options: f.categoryOptions(c)})
}

func (f *tourismFlow) categoryOptions(c *Conv) []bot.Option {
	var opts []bot.Option
	for _, cat := range TourismCategories() {
		if len(f.t.InCategory(cat)) > 0 {
			opts = append(opts, c.Opt("tourism:cat:"+cat, "tourism.category."+cat))
		}
	}
	return append(opts, c.Opt("tourism:nearby", "tourism.nearby_option"), c.Opt("menu", "tourism.menu"))
}

// typedCategory recognises a category typed by its id or label in any language, or
// by one word of the label ("budaya", "religi", "beach").
func (f *tourismFlow) typedCategory(c *Conv, text string) (string, bool) {
	norm := fold.Label(text)
	if len([]rune(norm)) < 3 {
		return "", false
	}
	for _, cat := range TourismCategories() {
		if len(f.t.InCategory(cat)) == 0 {
			continue
		}
		if norm == cat {
			return cat, true
		}
		for _, lang := range locales.Languages() {
			label := fold.Label(c.Label(lang, "tourism.category."+cat))
			if norm == label || len([]rune(norm)) >= 4 && strings.HasPrefix(label, norm) || slices.Contains(nameWords(label), norm) {
				return cat, true
			}
		}
	}
	return "", false
}

// list offers the attractions of a category.
func (f *tourismFlow) list(c *Conv, cat string) {
	c.Session.Step = tourList
	f.keep(c, tourismState{Category: cat})
	c.Turn.Say(bot.Reply{Text: c.T("tourism.list", "Category", c.T("tourism.category."+cat)), Options: f.listOptions(c, cat)})
}

func (f *tourismFlow) listOptions(c *Conv, cat string) []bot.Option {
	var opts []bot.Option
	for _, a := range f.t.InCategory(cat) {
		opts = append(opts, bot.Option{ID: "tourism:place:" + a.ID, Label: a.Name.In(c.Lang())})
	}
	return append(opts, c.Opt("tourism:browse", "tourism.other_category"), c.Opt("menu", "tourism.menu"))
}

// open makes an attraction the one shown at step, remembering where the person came
// from; an unknown id shows the categories instead and reports false.
func (f *tourismFlow) open(c *Conv, id, from, step string) (Attraction, bool) {
	a, ok := f.t.Attraction(id)
	if !ok {
		f.categories(c, c.T("tourism.choose_category"))
		return a, false
	}
	st := tourismState{Place: a.ID, From: from}
	if from == "nearby" {
		st.Point = f.state(c).Point // kept for "kembali" to the nearest list
	}
	f.keep(c, st)
	c.Session.Step = step
	return a, true
}

// place shows an attraction; from is "nearby" when the person came from the nearest
// list, whose point stays in the session for "kembali".
func (f *tourismFlow) place(c *Conv, id, from string) {
	a, ok := f.open(c, id, from, tourPlace)
	if !ok {
		return
	}
	lang := c.Lang()
	text := a.Name.In(lang) + " (" + c.T("tourism.category."+a.Category) + ")\n" + a.Description.In(lang) + "\n\n" +
		c.T("tourism.hours_label") + " " + a.Hours.In(lang) + "\n" + c.T("tourism.tips_label") + " " + a.Tips.In(lang)
	c.Turn.Say(bot.Reply{Text: text, Options: f.placeOptions(c, a, from)})
}

func (f *tourismFlow) placeOptions(c *Conv, a Attraction, from string) []bot.Option {
	opts := []bot.Option{c.Opt("tourism:how:"+a.ID, "tourism.how")}
	if from == "nearby" {
		opts = append(opts, c.Opt("tourism:results", "tourism.back_results"))
	} else {
		opts = append(opts, c.Opt("tourism:cat:"+a.Category, "tourism.back_category"))
	}
	return append(opts, c.Opt("menu", "tourism.menu"))
}

// how tells how to get to an attraction, with a map link.
func (f *tourismFlow) how(c *Conv, id, from string) {
	a, ok := f.open(c, id, from, tourHow)
	if !ok {
		return
	}
	lang := c.Lang()
	point := strconv.FormatFloat(a.Lat, 'f', -1, 64) + "," + strconv.FormatFloat(a.Lon, 'f', -1, 64)
	text := c.T("tourism.how_title", "Location", a.Name.In(lang)) + "\n" + a.Directions.In(lang) + "\n\n" +
		c.T("tourism.map", "Location", point)
	c.Turn.Say(bot.Reply{Text: text, Options: f.howOptions(c, a, from)})
}

func (f *tourismFlow) howOptions(c *Conv, a Attraction, from string) []bot.Option {
	back := "tourism:place:" + a.ID
	if from == "nearby" {
		back = "tourism:near:" + a.ID
	}
	opts := []bot.Option{{ID: back, Label: c.T("tourism.back_place", "Location", a.Name.In(c.Lang()))}}
	return append(opts, f.placeOptions(c, a, from)[1:]...)
}

// askLocation asks the person to share where they are; matches are attractions the
// person may have meant by a name they typed.
func (f *tourismFlow) askLocation(c *Conv, key string, matches []Attraction) {
	c.Session.Step = tourLocate
	dropState(c, FlowTourism)
	text := c.T(key)
	var opts []bot.Option
	if len(matches) > 0 {
		text += "\n" + c.T("tourism.location_typed_matches")
		for _, a := range matches {
			opts = append(opts, bot.Option{ID: "tourism:place:" + a.ID, Label: a.Name.In(c.Lang())})
		}
	}
	opts = append(opts, c.Opt("tourism:browse", "tourism.browse"), c.Opt("menu", "tourism.menu"))
	c.Turn.Say(bot.Reply{Text: text, Options: opts, AskLocation: true})
}

// typedPlace answers text sent where a location pin was asked for: a place of the
// region's gazetteer gives the attractions nearest it (its point is approximate, and
// the person is told so); any other place name or address, which Layan cannot look
// up, is asked again kindly, with browsing and the attractions the words may name.
func (f *tourismFlow) typedPlace(c *Conv, text string) {
	if text == "" {
		f.askLocation(c, "tourism.ask_location", nil)
		return
	}
	if p, ok := c.Place(text); ok {
		c.Say("places.near", "Place", placeLabel(c, p))
		f.located(c, &p.Point)
		return
	}
	f.askLocation(c, "tourism.location_typed", f.names.find(text))
}

// located answers a shared location with the three nearest attractions.
func (f *tourismFlow) located(c *Conv, l *domain.Location) {
	if l == nil || !validPoint(*l) {
		f.askLocation(c, "tourism.location_invalid", nil)
		return
	}
	f.keep(c, tourismState{Point: keptPoint(*l)})
	f.results(c)
}

// results shows the attractions nearest the point in the session, each with its
// distance in the person's way of writing numbers.
func (f *tourismFlow) results(c *Conv) {
	opts, far, ok := f.nearestOptions(c)
	if !ok {
		f.askLocation(c, "tourism.ask_location", nil)
		return
	}
	c.Session.Step = tourNearest
	text := c.T("tourism.nearest")
	if far {
		text = c.T("tourism.nearest_far") + "\n" + text
	}
	c.Turn.Say(bot.Reply{Text: text, Options: opts})
}

// nearestOptions offers the three attractions nearest the point in the session; far
// reports that even the nearest is more than farKm away, ok that there is a point.
func (f *tourismFlow) nearestOptions(c *Conv) (opts []bot.Option, far, ok bool) {
	p := f.state(c).Point
	if p == nil {
		return nil, false, false
	}
	near := f.t.Nearest(*p, 3)
	for _, n := range near {
		opts = append(opts, bot.Option{ID: "tourism:near:" + n.Attraction.ID,
			Label: n.Attraction.Name.In(c.Lang()) + " · " + f.km(c, n.Km)})
	}
	opts = append(opts, c.Opt("tourism:nearby", "tourism.send_other_location"), c.Opt("tourism:browse", "tourism.browse"), c.Opt("menu", "tourism.menu"))
	return opts, len(near) > 0 && near[0].Km > farKm, true
}

// km writes a distance in kilometres with one decimal, with the decimal and
// thousands marks of the person's language ("1.234,5 km" or "1,234.5 km").
func (f *tourismFlow) km(c *Conv, km float64) string {
	s := strconv.FormatFloat(km, 'f', 1, 64)
	whole, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteString(c.T("tourism.group_mark"))
		}
		b.WriteRune(r)
	}
	return b.String() + c.T("tourism.decimal_mark") + frac + " km"
}

// offer lists attractions the person may have meant.
func (f *tourismFlow) offer(c *Conv, text string, found []Attraction) {
	c.Session.Step = tourCategories
	dropState(c, FlowTourism)
	var opts []bot.Option
	for _, a := range found {
		opts = append(opts, bot.Option{ID: "tourism:place:" + a.ID, Label: a.Name.In(c.Lang())})
	}
	opts = append(opts, c.Opt("tourism:browse", "tourism.browse"), c.Opt("menu", "tourism.menu"))
	c.Turn.Say(bot.Reply{Text: text, Options: opts})
}

// repeat asks kindly for one of the options of the current step again.
func (f *tourismFlow) repeat(c *Conv) {
	var opts []bot.Option
	st := f.state(c)
	switch c.Session.Step {
	case tourList:
		opts = f.listOptions(c, st.Category)
	case tourPlace, tourHow:
		a, ok := f.t.Attraction(st.Place)
		if !ok {
			break
		}
		if c.Session.Step == tourHow {
			opts = f.howOptions(c, a, st.From)
		} else {
			opts = f.placeOptions(c, a, st.From)
		}
	case tourNearest:
		opts, _, _ = f.nearestOptions(c)
	}
	if opts == nil {
		f.categories(c, c.T("tourism.pick_one"))
		return
	}
	c.Turn.Say(bot.Reply{Text: c.T("tourism.pick_one"), Options: opts})
}

// tipNow gives a travel tip at once ("tips dong", "give me a travel tip"), from the
// pool and rotation of the tip of the day: the tips this conversation was given
// here are remembered in the session until the person's flow ends, so asking again
// gives the next one.
func (f *tourismFlow) tipNow(c *Conv) {
	tips := loadState[tipsGiven](c, stateTips)
	i, tip := f.t.NextTip(c.Lang(), tips.Given)
	if i < 0 {
		c.Say("tourism.no_tip")
		return
	}
	tips.Given = append(tips.Given, i)
	saveState(c, stateTips, tips)
	c.Say("tourism.tip_now", "Description", tip)
}
