package flows_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/layan-id/layan/flows"
	"github.com/layan-id/layan/locales"
)

// A made-up region, so the rules are tested apart from the shipped content.
var testBox = flows.BBox{South: -2, West: 100, North: -1, East: 101}

const testPlaces = `
districts:
  - {name: Sukamaju, lat: -1.5, lon: 100.5}
  - {name: Karanganyar, lat: -1.2, lon: 100.2}
villages:
  - {name: Karanganyar, district: Sukamaju, lat: -1.55, lon: 100.55}
  - {name: Tegal Sari, district: Karanganyar, lat: -1.25, lon: 100.25}
landmarks:
  - {name: Alun-alun Sukamaju, aliases: [alun alun, town square], district: Sukamaju, lat: -1.51, lon: 100.51}
`

func loadTestPlaces(t *testing.T, yaml string, attractions ...flows.Attraction) (*flows.Gazetteer, error) {
	t.Helper()
	return flows.LoadGazetteer(fstest.MapFS{"places.yaml": {Data: []byte(yaml)}}, testBox, attractions)
}

func TestTheGazetteerFindsTypedPlaces(t *testing.T) {
	g, err := loadTestPlaces(t, testPlaces, flows.Attraction{ID: "air-terjun", Name: flows.Localized{"id": "Air Terjun Bidadari", "en": "Bidadari Falls"}, Lat: -1.8, Lon: 100.8})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		text, kind, name string // name "" = none found
	}{
		{"jalan rusak di depan ALUN-ALUN Sukamaju!", flows.PlaceLandmark, "Alun-alun Sukamaju"},
		{"dekat alun2 ... eh, alun alun", flows.PlaceLandmark, "Alun-alun Sukamaju"},
		{"rumah saya di Tegal Sari", flows.PlaceVillage, "Tegal Sari"},
		{"kecamatan karanganyar", flows.PlaceDistrict, "Karanganyar"},
		{"desa Karanganyar, sebelah pasar", flows.PlaceVillage, "Karanganyar"},
		{"ds. karanganyar", flows.PlaceVillage, "Karanganyar"},
		{"karanganyar", flows.PlaceDistrict, "Karanganyar"}, // a district before a village of the same name
		{"Bidadari Falls please", flows.PlaceLandmark, "Air Terjun Bidadari"},
		{"saya warga kabupaten Sukamaju", "", ""}, // the regency, not the district
		{"Jl. Melati gang 3", "", ""},
		{"sukamajuan", "", ""}, // whole words only
	} {
		p, ok := g.Find(tc.text)
		if tc.name == "" {
			if ok {
				t.Errorf("%q found %s %q, want nothing", tc.text, p.Kind, p.Name)
			}
			continue
		}
		if !ok || p.Kind != tc.kind || p.Name != tc.name {
			t.Errorf("%q found %s %q (%v), want %s %q", tc.text, p.Kind, p.Name, ok, tc.kind, tc.name)
		}
	}
	p, _ := g.Find("Bidadari Falls")
	if p.NameIn("en") != "Bidadari Falls" || p.NameIn("id") != "Air Terjun Bidadari" || p.Point.Lat != -1.8 {
		t.Errorf("an attraction as a place: %q / %q at %v", p.NameIn("en"), p.NameIn("id"), p.Point)
	}
	if _, ok := (*flows.Gazetteer)(nil).Find("Sukamaju"); ok {
		t.Error("no gazetteer found a place")
	}
}

func TestTheGazetteerHoldsTheRegionsPlacesOnly(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"districts:\n  - {name: Jauh, lat: -6.2, lon: 106.8}\n", `district "Jauh": -6.2000, 106.8000 lies outside the region's bbox`},
		{"villages:\n  - {name: Tegal, district: Entah, lat: -1.5, lon: 100.5}\n", `village "Tegal": district "Entah" is not among the districts`},
		{"landmarks:\n  - {lat: -1.5, lon: 100.5}\n", "a landmark without a name"},
		{"districts: [", "places.yaml"},
	} {
		if _, err := loadTestPlaces(t, tc.yaml); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q loaded with %v, want an error naming %q", tc.yaml, err, tc.want)
		}
	}
	g, err := flows.LoadGazetteer(fstest.MapFS{}, testBox, []flows.Attraction{{ID: "a", Name: flows.Localized{"id": "Pantai Indah"}, Lat: -1.1, Lon: 100.1}})
	if err != nil {
		t.Fatalf("content without places.yaml: %v", err)
	}
	if _, ok := g.Find("ke pantai indah"); !ok {
		t.Error("without places.yaml the attractions are still places")
	}
}

func TestTheShippedPlacesLoad(t *testing.T) {
	content := locales.Content("")
	region, err := flows.LoadRegion(content)
	if err != nil {
		t.Fatal(err)
	}
	tourism, err := flows.LoadTourism(content)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := flows.LoadGazetteer(content, region.BBox, tourism.Attractions); err != nil {
		t.Fatalf("the shipped places.yaml: %v", err)
	}
}
