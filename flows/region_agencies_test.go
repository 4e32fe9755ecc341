package flows_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/layan-id/layan/domain"
	"github.com/layan-id/layan/flows"
	"github.com/layan-id/layan/locales"
)

func TestRegionRoutesCategoriesToAgencies(t *testing.T) {
	r, err := flows.LoadRegion(locales.Content(""))
	if err != nil {
		t.Fatal(err)
	}
	a, ok := r.Agency(r.Routing["jalan"])
	if !ok || !strings.Contains(a.Name, "Pekerjaan Umum") {
		t.Fatalf("jalan goes to %q (%v), want Dinas PUPR", r.Routing["jalan"], a)
	}
}

func TestRegionRejectsBadRouting(t *testing.T) {
	base := "bbox: {south: -7.25, west: 109.55, north: -6.80, east: 110.20}\ncomplaint_categories: [jalan, sampah]\ntopics: [wisata]\n"
	for name, extra := range map[string]string{
		"unknown agency":   "agencies: [{code: pupr, name: Dinas PUPR}]\nrouting: {jalan: dlh}\n",
		"unknown category": "agencies: [{code: pupr, name: Dinas PUPR}]\nrouting: {jembatan: pupr}\n",
		"twice":            "agencies: [{code: pupr, name: A}, {code: pupr, name: B}]\n",
		"no name":          "agencies: [{code: pupr}]\n",
	} {
		_, err := flows.LoadRegion(fstest.MapFS{"region.yaml": {Data: []byte(base + extra)}})
		if err == nil {
			t.Errorf("%s: region.yaml accepted", name)
		}
	}
	if _, err := flows.LoadRegion(fstest.MapFS{"region.yaml": {Data: []byte(base)}}); err != nil {
		t.Errorf("no agencies at all should be fine: %v", err)
	}
}

func TestRegionDeliveryGuaranteePerTopic(t *testing.T) {
	r, err := flows.LoadRegion(locales.Content(""))
	if err != nil {
		t.Fatal(err)
	}
	if r.Delivery["darurat"] != domain.AtLeastOnce || r.Delivery["wisata"] != "" {
		t.Errorf("delivery %v: want darurat at least once, tips at most once (unset)", r.Delivery)
	}
	base := "bbox: {south: -7.25, west: 109.55, north: -6.80, east: 110.20}\ncomplaint_categories: [jalan]\ntopics: [wisata, darurat]\n"
	for name, extra := range map[string]string{
		"unknown topic":     "delivery: {banjir: at_least_once}\n",
		"unknown guarantee": "delivery: {darurat: exactly_once}\n",
	} {
		if _, err := flows.LoadRegion(fstest.MapFS{"region.yaml": {Data: []byte(base + extra)}}); err == nil {
			t.Errorf("%s: region.yaml accepted", name)
		}
	}
}
