package flows_test

import (
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

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

// The office hours and the complaint deadlines read one list of holidays:
// holidays.yaml (CONTENT_DIR's replacing the embedded one), plus an older region.yaml's
// own list.
func TestOfficeHoursAndDeadlinesShareTheHolidays(t *testing.T) {
	jakarta, _ := time.LoadLocation("Asia/Jakarta")
	base := "bbox: {south: -7.25, west: 109.55, north: -6.80, east: 110.20}\ncomplaint_categories: [jalan]\ntopics: [wisata]\n"
	content := fstest.MapFS{
		"region.yaml":   {Data: []byte(base + "holidays: [2026-12-24]\n")},
		"holidays.yaml": {Data: []byte("holidays:\n  - 2026-12-01 # hari jadi kabupaten\n")},
	}
	r, err := flows.LoadRegion(content)
	if err != nil {
		t.Fatal(err)
	}
	hours, err := r.Hours("", jakarta)
	if err != nil {
		t.Fatal(err)
	}
	cal, err := r.Calendar(jakarta)
	if err != nil {
		t.Fatal(err)
	}
	for _, day := range []string{"2026-12-01", "2026-12-24"} {
		at, _ := time.ParseInLocation("2006-01-02 15:04", day+" 10:00", jakarta)
		if hours.Open(at) || cal.WorkingDay(at) {
			t.Errorf("%s: office open %v, working day %v; want a holiday for both", day, hours.Open(at), cal.WorkingDay(at))
		}
	}
	tuesday, _ := time.ParseInLocation("2006-01-02 15:04", "2026-12-02 10:00", jakarta)
	if !hours.Open(tuesday) || !cal.WorkingDay(tuesday) {
		t.Error("the day after the holiday is a working day")
	}
	content["holidays.yaml"] = &fstest.MapFile{Data: []byte("holidays: [1-12-2026]\n")}
	if _, err := flows.LoadRegion(content); err == nil || !strings.Contains(err.Error(), "holiday") {
		t.Errorf("a malformed holiday was accepted: %v", err)
	}
	embedded, _ := flows.LoadRegion(locales.Content(""))
	if !slices.Contains(embedded.Holidays, "2026-12-25") {
		t.Error("the embedded holidays.yaml is not read")
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
