package flows

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"unicode"

	"go.yaml.in/yaml/v3"

	"github.com/layan-id/layan/domain"
)

// The kinds of place the gazetteer knows.
const (
	PlaceDistrict = "district" // kecamatan
	PlaceVillage  = "village"  // desa or kelurahan
	PlaceLandmark = "landmark" // a building, square, station, attraction ...
)

// Place is a named place of the region with an approximate point.
type Place struct {
	Kind     string
	Name     string
	District string // the district a village or landmark lies in, when known
	Point    domain.Location
	names    [][]string        // the name and its aliases, as normalised words
	local    map[string]string // the name in a language, where it has its own (attractions)
}

// NameIn is the place's name as people of language lang read it.
func (p Place) NameIn(lang string) string {
	if n := p.local[lang]; n != "" {
		return n
	}
	return p.Name
}

// Gazetteer finds the region's places in what people type ("jalan rusak di desa
// Klidang Lor", "dekat alun-alun"), so that a typed place works without GPS. It is
// content: the districts, villages and landmarks of places.yaml, and the attractions
// of the tourism content as landmarks.
type Gazetteer struct{ places []Place }

// placesFile is the gazetteer's content file.
const placesFile = "places.yaml"

// LoadGazetteer reads places.yaml from content and adds the attractions as landmarks.
// Every point must lie inside the region's extent (box, without the margin a shared
// location gets): the file holds the configured region's places only. A content
// without places.yaml gives a gazetteer of the attractions alone.
func LoadGazetteer(content fs.FS, box BBox, attractions []Attraction) (*Gazetteer, error) {
	var file struct {
		Districts []placeEntry `yaml:"districts"`
		Villages  []placeEntry `yaml:"villages"`
		Landmarks []placeEntry `yaml:"landmarks"`
	}
	b, err := fs.ReadFile(content, placesFile)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("flows: read %s: %w", placesFile, err)
	}
	if err == nil {
		if err := yaml.Unmarshal(b, &file); err != nil {
			return nil, fmt.Errorf("flows: %s: %w", placesFile, err)
		}
	}
	g := &Gazetteer{}
	var errs []error
	districts := map[string]bool{}
	add := func(kind string, e placeEntry, local map[string]string) {
		p := Place{Kind: kind, Name: strings.TrimSpace(e.Name), District: strings.TrimSpace(e.District),
			Point: domain.Location{Lat: e.Lat, Lon: e.Lon}, local: local}
		switch {
		case p.Name == "":
			errs = append(errs, fmt.Errorf("a %s without a name", kind))
			return
		case !inside(box, p.Point):
			errs = append(errs, fmt.Errorf("%s %q: %.4f, %.4f lies outside the region's bbox", kind, p.Name, e.Lat, e.Lon))
			return
		case p.District != "" && !districts[strings.ToLower(p.District)]:
			errs = append(errs, fmt.Errorf("%s %q: district %q is not among the districts", kind, p.Name, p.District))
			return
		}
		for _, n := range append([]string{p.Name}, e.Aliases...) {
			if w := placeWords(n); len(w) > 0 {
				p.names = append(p.names, w)
			}
		}
		if kind == PlaceDistrict {
			districts[strings.ToLower(p.Name)] = true
		}
		g.places = append(g.places, p)
	}
	for _, e := range file.Districts {
		add(PlaceDistrict, e, nil)
	}
	for _, e := range file.Villages {
		add(PlaceVillage, e, nil)
	}
	for _, e := range file.Landmarks {
		add(PlaceLandmark, e, nil)
	}
	for _, a := range attractions {
		add(PlaceLandmark, placeEntry{Name: a.Name.In("id"), Aliases: []string{a.Name.In("en")}, Lat: a.Lat, Lon: a.Lon},
			map[string]string{"id": a.Name.In("id"), "en": a.Name.In("en")})
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("flows: %s is not valid:\n%w", placesFile, errors.Join(errs...))
	}
	return g, nil
}

type placeEntry struct {
	Name     string   `yaml:"name"`
	Aliases  []string `yaml:"aliases"`
	District string   `yaml:"district"`
	Lat      float64  `yaml:"lat"`
	Lon      float64  `yaml:"lon"`
}

// inside reports whether l lies in the box itself.
func inside(b BBox, l domain.Location) bool {
	return l.Lat >= b.South && l.Lat <= b.North && l.Lon >= b.West && l.Lon <= b.East
}

// Words that say what kind of place the next words name.
var (
	villageWords  = map[string]bool{"desa": true, "ds": true, "kelurahan": true, "kel": true, "village": true}
	districtWords = map[string]bool{"kecamatan": true, "kec": true, "district": true}
	regencyWords  = map[string]bool{"kabupaten": true, "kab": true, "kota": true, "regency": true}
)

// Find returns the place the text names, if it names one: the one named with the
// most words ("alun alun batang" before "batang"); of names as long, the one of the
// kind the word before it says ("desa", "kecamatan"), else a landmark, then a
// district, then a village. A name right after "kabupaten" is the regency, no place.
func (g *Gazetteer) Find(text string) (Place, bool) {
	if g == nil {
		return Place{}, false
	}
	words := placeWords(text)
	best, bestScore := -1, 0
	for i, p := range g.places {
		for _, name := range p.names {
			for at := 0; at+len(name) <= len(words); at++ {
				if !slices.Equal(words[at:at+len(name)], name) {
					continue
				}
				before := ""
				if at > 0 {
					before = words[at-1]
				}
				if regencyWords[before] {
					continue
				}
				score := len(name)*10 + kindRank(p.Kind, before)
				if score > bestScore {
					best, bestScore = i, score
				}
			}
		}
	}
	if best < 0 {
		return Place{}, false
	}
	return g.places[best], true
}

// kindRank orders places named with as many words: the kind the word before says,
// then landmark, district, village.
func kindRank(kind, before string) int {
	switch {
	case villageWords[before] && kind == PlaceVillage, districtWords[before] && kind == PlaceDistrict:
		return 5
	case kind == PlaceLandmark:
		return 3
	case kind == PlaceDistrict:
		return 2
	}
	return 1
}

// placeWords lowers s and splits it into words of letters and digits ("Alun-alun
// Batang" is "alun alun batang").
func placeWords(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// RegisterPlaces makes the flows understand typed places with g: a complaint's
// place, "nearby" in tourism, and a place named to staff in a talk.
func (r *Router) RegisterPlaces(g *Gazetteer) { r.places = g }

// Place returns the place of the region the text names, if any (RegisterPlaces).
func (c *Conv) Place(text string) (Place, bool) { return c.r.places.Find(text) }

// placeLabel names p as people read it, in the conversation's language
// ("Desa/Kelurahan Klidang Lor, Kecamatan Batang").
func placeLabel(c *Conv, p Place) string { return labelPlace(c.T, p.NameIn(c.Lang()), p) }

// labelPlace names p, called name, with the texts of t (Conv.T, or Router.staffText
// for staff).
func labelPlace(t func(key string, kv ...any) string, name string, p Place) string {
	if p.District == "" || p.Kind == PlaceDistrict {
		return t("places."+p.Kind, "Name", name)
	}
	return t("places."+p.Kind+"_in", "Name", name, "District", p.District)
}

// mapsLink is a link that shows l on a map.
func mapsLink(l domain.Location) string {
	return fmt.Sprintf("https://maps.google.com/?q=%.6f,%.6f", l.Lat, l.Lon)
}
