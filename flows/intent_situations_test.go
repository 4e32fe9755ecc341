package flows

import (
	"bytes"
	"encoding/json"
	"flag"
	"log/slog"
	"os"
	"testing"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/flows/intent"
	"github.com/layan-id/layan/locales"
)

// situationsFile holds the reader's context in each situation of the intent dev set,
// as the router builds it, by language and situation. The intent package's
// differential tests and benchmarks read messages in these situations: the flows
// import that package, so it cannot build them itself.
const situationsFile = "testdata/intent_situations.json"

// TestIntentSituationsAreCurrent checks that situationsFile is what the router gives
// the reader now in intentSituations (with -update, it writes it).
func TestIntentSituationsAreCurrent(t *testing.T) {
	texts, err := locales.Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	r := NewRouter(texts, slog.New(slog.DiscardHandler))
	all := map[string]map[string]intent.Context{}
	for lang, sessions := range intentSituations(t, r) {
		all[lang] = map[string]intent.Context{}
		for name, s := range sessions {
			all[lang][name] = r.readerContext(&s)
		}
	}
	got, err := json.MarshalIndent(all, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	// -update, the flag of the transcripts' golden files (transcript_test.go, in the
	// package's external tests, linked into the same test binary).
	if f := flag.Lookup("update"); f != nil && f.Value.String() == "true" {
		if err := os.WriteFile(situationsFile, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(situationsFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is not what the router gives the reader now: run go test ./flows -run IntentSituations -update, and read the diff", situationsFile)
	}
}

// intentSituations are the situations the intent dev set's messages are read in, by
// language and name: devContextsIn's, a "Maksud Anda" with three entries, and the
// tourism flow's list of attractions of each category ("tour:<category>").
func intentSituations(t testing.TB, r *Router) map[string]map[string]bot.Session {
	t.Helper()
	tour, err := LoadTourism(locales.Content(""))
	if err != nil {
		t.Fatal(err)
	}
	all := map[string]map[string]bot.Session{}
	for _, lang := range locales.Languages() {
		sessions := devContextsIn(t, r, lang)
		opt := func(id, key string) bot.Option { return bot.Option{ID: id, Label: r.label(lang, key)} }
		sessions["mean3"] = bot.Session{Flow: "faq", Options: []bot.Option{
			{ID: "faq:entry:ktp-hilang", Label: "KTP saya hilang, bagaimana mengurusnya?"},
			{ID: "faq:entry:kk", Label: "Bagaimana cara membuat Kartu Keluarga?"},
			{ID: "faq:entry:akta", Label: "Syarat akta kelahiran"}, opt("faq:none", "faq.not_this")}}
		for _, c := range TourismCategories() { // as tourismFlow.listOptions offers them
			var list []bot.Option
			for _, a := range tour.InCategory(c) {
				list = append(list, bot.Option{ID: "tourism:place:" + a.ID, Label: a.Name.In(lang)})
			}
			list = append(list, opt("tourism:browse", "tourism.other_category"), opt("menu", "tourism.menu"))
			sessions["tour:"+c] = bot.Session{Flow: "tourism", Options: list}
		}
		all[lang] = sessions
	}
	return all
}
