package flows_test

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/domain"
	"github.com/layan-id/layan/flows"
	"github.com/layan-id/layan/locales"
)

func TestTheTourismContentIsCompleteAndInsideTheRegion(t *testing.T) {
	content := locales.Content("")
	tour, err := flows.LoadTourism(content)
	if err != nil {
		t.Fatal(err)
	}
	region, err := flows.LoadRegion(content)
	if err != nil {
		t.Fatal(err)
	}
	if len(tour.Attractions) < 12 {
		t.Errorf("%d attractions, want at least 12", len(tour.Attractions))
	}
	if len(tour.Tips) < 30 {
		t.Errorf("%d tips, want at least 30", len(tour.Tips))
	}
	for _, cat := range flows.TourismCategories() {
		if len(tour.InCategory(cat)) == 0 {
			t.Errorf("no attraction in category %s", cat)
		}
	}
	for _, a := range tour.Attractions {
		if !region.BBox.Contains(a.Location()) {
			t.Errorf("%s at %v, %v lies outside the region", a.ID, a.Lat, a.Lon)
		}
	}
}

func TestAContentDirectoryReplacesTheTourismFile(t *testing.T) {
	dir := t.TempDir()
	doc := strings.Replace(validTourism, "Pantai Contoh", "Pantai Lain", 1)
	if err := os.WriteFile(filepath.Join(dir, "tourism.yaml"), []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	tour, err := flows.LoadTourism(locales.Content(dir))
	if err != nil {
		t.Fatal(err)
	}
	if len(tour.Attractions) != 2 || tour.Attractions[0].Name.In("id") != "Pantai Lain" {
		t.Errorf("attractions = %+v, want the two of the replacement file", tour.Attractions)
	}
}

// validTourism is a small valid tourism.yaml; the cases below break one thing each.
const validTourism = `attractions:
  - id: pantai-contoh
    category: pantai
    lat: -6.9
    lon: 109.7
    name: {id: Pantai Contoh, en: Example Beach}
    description: {id: Pantai yang tenang., en: A calm beach.}
    hours: {id: Cek di lokasi., en: Check on site.}
    tips: {id: Bawa topi., en: Bring a hat.}
    directions: {id: Ke utara dari alun-alun., en: North of the town square.}
  - id: kebun-contoh
    category: agrowisata
    lat: -7.08
    lon: 109.81
    name: {id: Kebun Contoh, en: Example Estate}
    description: {id: Kebun teh., en: A tea estate.}
    hours: {id: Cek di lokasi., en: Check on site.}
    tips: {id: Bawa jaket., en: Bring a jacket.}
    directions: {id: Ke selatan., en: South of town.}
tips:
  - {id: Bawa air minum., en: Bring water.}
  - {id: Pakai tabir surya., en: Wear sunscreen.}
`

func TestLoadTourismNamesEveryProblemWithItsLine(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(string) string
		want []string
	}{
		{"a valid file loads", func(s string) string { return s }, nil},
		{"a duplicate id is refused", func(s string) string {
			return strings.Replace(s, "id: kebun-contoh", "id: pantai-contoh", 1)
		}, []string{`tourism.yaml:11: attraction "pantai-contoh": the id is already used at line 2`}},
		{"an id with capitals or spaces is refused", func(s string) string {
			return strings.Replace(s, "id: kebun-contoh", "id: Kebun Contoh", 1)
		}, []string{"tourism.yaml:11: attraction without a valid id"}},
		{"an unknown category is refused", func(s string) string {
			return strings.Replace(s, "category: pantai", "category: beach", 1)
		}, []string{`tourism.yaml:3: attraction "pantai-contoh": unknown category "beach" (want one of pantai, alam, budaya, kuliner, agrowisata)`}},
		{"a latitude off the globe is refused", func(s string) string {
			return strings.Replace(s, "lat: -6.9", "lat: -96.9", 1)
		}, []string{`tourism.yaml:4: attraction "pantai-contoh": lat "-96.9" is not a number of degrees between -90 and 90`}},
		{"a longitude that is no number is refused", func(s string) string {
			return strings.Replace(s, "lon: 109.7", "lon: 109,7", 1)
		}, []string{`tourism.yaml:5: attraction "pantai-contoh": lon "109,7" is not a number`}},
		{"missing coordinates are refused", func(s string) string {
			return strings.Replace(s, "    lon: 109.7\n", "", 1)
		}, []string{`tourism.yaml:2: attraction "pantai-contoh": no lon`}},
		{"coordinates 0,0 are refused", func(s string) string {
			return strings.Replace(strings.Replace(s, "lat: -6.9", "lat: 0", 1), "lon: 109.7", "lon: 0", 1)
		}, []string{`tourism.yaml:2: attraction "pantai-contoh": coordinates 0,0`}},
		{"a text missing in English is refused", func(s string) string {
			return strings.Replace(s, "{id: Kebun teh., en: A tea estate.}", "{id: Kebun teh.}", 1)
		}, []string{`tourism.yaml:16: attraction "kebun-contoh" description: no en text`}},
		{"an empty text is refused", func(s string) string {
			return strings.Replace(s, "en: Bring a jacket.", `en: " "`, 1)
		}, []string{`tourism.yaml:18: attraction "kebun-contoh" tips: the en text is empty`}},
		{"an unknown language is refused", func(s string) string {
			return strings.Replace(s, "en: Example Beach", "eng: Example Beach", 1)
		}, []string{`tourism.yaml:6: attraction "pantai-contoh" name: unknown language "eng" (want id, en)`}},
		{"a missing field is refused", func(s string) string {
			return strings.Replace(s, "    directions: {id: Ke selatan., en: South of town.}\n", "", 1)
		}, []string{`tourism.yaml:11: attraction "kebun-contoh": no directions`}},
		{"a misspelt field is refused", func(s string) string {
			return strings.Replace(s, "    description: {id: Pantai", "    desciption: {id: Pantai", 1)
		}, []string{`tourism.yaml:7: unknown field "desciption"`, `attraction "pantai-contoh": no description`}},
		{"a tip in one language only is refused", func(s string) string {
			return strings.Replace(s, "{id: Pakai tabir surya., en: Wear sunscreen.}", "{id: Pakai tabir surya.}", 1)
		}, []string{"tourism.yaml:22: tip 2: no en text"}},
		{"a file without tips is refused", func(s string) string {
			return s[:strings.Index(s, "tips:\n  - {")]
		}, []string{`no tips: want a list under "tips"`}},
		{"a file without attractions is refused", func(s string) string {
			return "attractions: []\n" + s[strings.Index(s, "tips:\n  - {"):]
		}, []string{`tourism.yaml:1: no attractions`}},
		{"every problem is reported at once", func(s string) string {
			return strings.Replace(strings.Replace(s, "category: pantai", "category: beach", 1), "lat: -7.08", "lat: x", 1)
		}, []string{`tourism.yaml:3: attraction "pantai-contoh": unknown category`, `tourism.yaml:13: attraction "kebun-contoh": lat "x"`}},
		{"broken YAML names the file", func(s string) string { return s + "  - [unclosed\n" }, []string{"tourism.yaml: yaml:"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := flows.LoadTourism(fstest.MapFS{"tourism.yaml": {Data: []byte(tc.edit(validTourism))}})
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("LoadTourism = %v, want no error", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("LoadTourism succeeded, want an error with %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("LoadTourism = %v\nwant it to contain %q", err, w)
				}
			}
		})
	}
}

func TestLoadTourismWithoutTheFileSaysWhichFile(t *testing.T) {
	_, err := flows.LoadTourism(fstest.MapFS{})
	if err == nil || !strings.Contains(err.Error(), "read tourism.yaml") {
		t.Fatalf("LoadTourism = %v, want it to name tourism.yaml", err)
	}
}

func TestDistanceKmMatchesKnownDistances(t *testing.T) {
	for _, tc := range []struct {
		name     string
		a, b     domain.Location
		want, by float64 // km, tolerance
	}{
		{"a point is 0 km from itself", domain.Location{Lat: -6.9, Lon: 109.7}, domain.Location{Lat: -6.9, Lon: 109.7}, 0, 1e-9},
		{"one degree of latitude is about 111.2 km", domain.Location{Lat: 0, Lon: 0}, domain.Location{Lat: 1, Lon: 0}, 111.195, 0.01},
		{"one degree of longitude on the equator is the same", domain.Location{Lat: 0, Lon: 109}, domain.Location{Lat: 0, Lon: 110}, 111.195, 0.01},
		{"the equator to a pole is a quarter meridian", domain.Location{Lat: 0, Lon: 0}, domain.Location{Lat: 90, Lon: 0}, 10007.5, 1},
		{"antipodes are half the circumference apart", domain.Location{Lat: 0, Lon: 0}, domain.Location{Lat: 0, Lon: 180}, 20015.1, 1},
		{"across the date line is the short way", domain.Location{Lat: 0, Lon: 179.5}, domain.Location{Lat: 0, Lon: -179.5}, 111.195, 0.01},
		{"London to Paris is about 344 km", domain.Location{Lat: 51.5074, Lon: -0.1278}, domain.Location{Lat: 48.8566, Lon: 2.3522}, 343.6, 1},
		{"Jakarta (Monas) to Surabaya is about 662 km", domain.Location{Lat: -6.1754, Lon: 106.8272}, domain.Location{Lat: -7.2575, Lon: 112.7521}, 662, 5},
		{"Batang's town square to Ujungnegoro is about 12.7 km", domain.Location{Lat: -6.907, Lon: 109.731}, domain.Location{Lat: -6.893, Lon: 109.846}, 12.75, 0.1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := flows.DistanceKm(tc.a, tc.b)
			if math.Abs(got-tc.want) > tc.by {
				t.Errorf("DistanceKm = %.3f km, want %.3f ± %g", got, tc.want, tc.by)
			}
			if back := flows.DistanceKm(tc.b, tc.a); math.Abs(back-got) > 1e-9 {
				t.Errorf("DistanceKm is not symmetric: %.6f and %.6f", got, back)
			}
		})
	}
}

func TestNearestListsTheThreeClosestFirst(t *testing.T) {
	tour, err := flows.LoadTourism(locales.Content(""))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		at   domain.Location
		want []string
	}{
		{"a pin at the town square", domain.Location{Lat: -6.907, Lon: 109.731}, []string{"kuliner-alun-alun", "masjid-agung-batang", "sarapan-nasi-megono"}},
		{"a pin at the tea estate", domain.Location{Lat: -7.0855, Lon: 109.8125}, []string{"kebun-teh-pagilaran", "sikembang-park", "curug-genting"}},
		{"a pin on the beach at Ujungnegoro", domain.Location{Lat: -6.8935, Lon: 109.8465}, []string{"pantai-ujungnegoro", "makam-syekh-maulana-maghribi", "batang-dolphins-center"}},
		{"a pin in Gringsing", domain.Location{Lat: -6.93, Lon: 110.02}, []string{"pantai-jodo", "curug-gombong", "prasasti-sojomerto"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			near := tour.Nearest(tc.at, 3)
			var got []string
			for i, n := range near {
				got = append(got, n.Attraction.ID)
				if i > 0 && n.Km < near[i-1].Km {
					t.Errorf("%s (%.2f km) comes after %s (%.2f km)", n.Attraction.ID, n.Km, near[i-1].Attraction.ID, near[i-1].Km)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("Nearest = %v, want %v", got, tc.want)
			}
		})
	}
	t.Run("asking for more than there are gives them all", func(t *testing.T) {
		if got := tour.Nearest(domain.Location{Lat: -6.9, Lon: 109.7}, 1000); len(got) != len(tour.Attractions) {
			t.Errorf("Nearest gave %d, want all %d", len(got), len(tour.Attractions))
		}
	})
	t.Run("attractions at the same distance keep their content order", func(t *testing.T) {
		same := flows.Tourism{Attractions: []flows.Attraction{
			{ID: "b", Lat: 0, Lon: 1}, {ID: "a", Lat: 1, Lon: 0}, {ID: "c", Lat: 0, Lon: -1},
		}}
		var got []string
		for _, n := range same.Nearest(domain.Location{}, 3) {
			got = append(got, n.Attraction.ID)
		}
		if !slices.Equal(got, []string{"b", "a", "c"}) {
			t.Errorf("Nearest = %v, want content order b, a, c", got)
		}
	})
}

func TestNextTipNeverRepeatsATipBeforeAllWereSent(t *testing.T) {
	tour, err := flows.LoadTourism(locales.Content(""))
	if err != nil {
		t.Fatal(err)
	}
	n := len(tour.Tips)
	t.Run("with the whole history, three rounds each send every tip once", func(t *testing.T) {
		var sent []int
		for round := 0; round < 3; round++ {
			seen := map[int]bool{}
			for range n {
				i, text := tour.NextTip("en", sent)
				if seen[i] {
					t.Fatalf("round %d: tip %d again before all %d were sent", round, i, n)
				}
				if text != tour.Tips[i].In("en") || text == "" {
					t.Fatalf("tip %d text = %q", i, text)
				}
				seen[i] = true
				sent = append(sent, i)
			}
		}
	})
	t.Run("with only the current round, the round starts over when complete", func(t *testing.T) {
		var round []int
		for range n {
			i, _ := tour.NextTip("id", round)
			if slices.Contains(round, i) {
				t.Fatalf("tip %d again before all %d were sent", i, n)
			}
			round = append(round, i)
		}
		if i, _ := tour.NextTip("id", round); i != 0 {
			t.Errorf("after a full round NextTip = %d, want 0", i)
		}
	})
	small := flows.Tourism{Tips: []flows.Localized{
		{"id": "satu", "en": "one"}, {"id": "dua", "en": "two"}, {"id": "tiga", "en": "three"},
	}}
	for _, tc := range []struct {
		name      string
		lang      string
		sent      []int
		wantIndex int
		wantText  string
	}{
		{"the first tip goes first", "en", nil, 0, "one"},
		{"the lowest unsent tip is next, whatever the order sent", "en", []int{2, 0}, 1, "two"},
		{"indexes no longer in the pool are ignored", "id", []int{0, 7, -1, 1}, 2, "tiga"},
		{"a tip added after a round is sent before the next round", "en", []int{0, 1, 0, 1}, 2, "three"},
		{"a language without texts gets Indonesian", "fr", []int{0}, 1, "dua"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			i, text := small.NextTip(tc.lang, tc.sent)
			if i != tc.wantIndex || text != tc.wantText {
				t.Errorf("NextTip = %d %q, want %d %q", i, text, tc.wantIndex, tc.wantText)
			}
		})
	}
	t.Run("an empty pool gives no tip", func(t *testing.T) {
		if i, text := (flows.Tourism{}).NextTip("id", nil); i != -1 || text != "" {
			t.Errorf("NextTip = %d %q, want -1 and no text", i, text)
		}
	})
}

func TestTheNearbySearchAsksTheChannelForALocation(t *testing.T) {
	h := newHarness(t)
	say := func(n int, m bot.Message) []bot.Reply {
		m.Channel, m.ChatID, m.UserID, m.Time = "test", "chat-1", "user-1", time.Now()
		m.ID = string(rune('a' + n))
		if m.Kind == "" {
			m.Kind = bot.KindText
		}
		res, err := h.engine.Handle(context.Background(), m)
		if err != nil {
			t.Fatal(err)
		}
		return res.Replies
	}
	say(0, bot.Message{Text: "halo"})
	for i, tc := range []struct {
		name string
		msg  bot.Message
		ask  bool
	}{
		{"the request for a location", bot.Message{Text: "terdekat"}, true},
		{"the answer to a typed address it cannot find", bot.Message{Text: "Jalan Pemuda nomor 5"}, true},
		{"the answer to a pin that cannot be", bot.Message{Kind: bot.KindLocation, Location: &domain.Location{}}, true},
		{"the nearest attractions, which ask for nothing", bot.Message{Kind: bot.KindLocation, Location: &domain.Location{Lat: -6.9, Lon: 109.73}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			replies := say(i+1, tc.msg)
			if len(replies) == 0 {
				t.Fatal("no reply")
			}
			if got := replies[len(replies)-1].AskLocation; got != tc.ask {
				t.Errorf("AskLocation = %v, want %v", got, tc.ask)
			}
		})
	}
}
