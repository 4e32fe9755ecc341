package flows

import (
	"bufio"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/flows/intent"
	"github.com/layan-id/layan/locales"
)

var intentMisses = flag.Bool("intent.misses", false, "list every message of the intent dev set read wrongly")

// devContexts are the situations of testdata/intents.tsv: the flow a person is in and
// the options the bot offered last, with their real ids and labels.
func devContexts(t testing.TB, r *Router) map[string]bot.Session {
	t.Helper()
	return devContextsIn(t, r, "id")
}

// devContextsIn are the situations of the dev set in a conversation in lang: the
// options are labelled in it.
func devContextsIn(t testing.TB, r *Router, lang string) map[string]bot.Session {
	t.Helper()
	opt := func(id, key string) bot.Option { return bot.Option{ID: id, Label: r.label(lang, key)} }
	menu := make([]bot.Option, len(r.menu))
	for i, m := range r.menu {
		menu[i] = opt(m.ID, m.LabelKey)
	}
	var cats []bot.Option
	for _, c := range []string{"jalan", "sampah", "air", "listrik", "kesehatan", "pelayanan", "keamanan", "lainnya"} {
		cats = append(cats, opt("cat:"+c, "complaint.category."+c))
	}
	var subs []bot.Option
	for _, tp := range []string{"wisata", "pengumuman", "darurat"} {
		subs = append(subs, bot.Option{ID: "sub:" + tp, Label: r.label(lang, "subscribe.join") + " " + r.label(lang, "subscribe.topic."+tp+".name")})
	}
	subs = append(subs, opt("sub:done", "subscribe.done"))
	var tour []bot.Option
	for _, c := range TourismCategories() {
		tour = append(tour, opt("tourism:cat:"+c, "tourism.category."+c))
	}
	tour = append(tour, opt("tourism:nearby", "tourism.nearby_option"), opt("menu", "tourism.menu"))
	var edit []bot.Option
	for _, f := range []string{stepCategory, stepDescription, stepLocation, stepPhotos, stepConfidential} {
		edit = append(edit, opt("edit:"+f, "complaint.field."+f))
	}
	chosen := lang
	if lang == "id" {
		chosen = "" // the default, as in a conversation that never chose one
	}
	in := func(flow string, opts ...bot.Option) bot.Session {
		return bot.Session{Lang: chosen, Flow: flow, Options: opts}
	}
	return map[string]bot.Session{
		"-":            {Lang: chosen},
		"menu":         in("", menu...),
		"category":     in("complaint", cats...),
		"description":  in("complaint"),
		"location":     in("complaint", opt("loc:skip", "complaint.skip")),
		"far":          in("complaint", opt("loc:keep", "complaint.keep_location"), opt("loc:retry", "complaint.retry_location")),
		"photos":       in("complaint", opt("photos:done", "complaint.continue")),
		"confidential": in("complaint", opt("conf:yes", "complaint.confidential_yes"), opt("conf:no", "complaint.confidential_no")),
		"summary":      in("complaint", opt("confirm", "complaint.confirm"), opt("edit", "complaint.edit"), opt("cancel", "complaint.cancel")),
		"edit":         in("complaint", edit...),
		"erase":        in("erase", opt("erase:yes", "erase.yes"), opt("erase:no", "erase.no")),
		"subscribe":    in("subscribe", subs...),
		"feedback":     in("faq", opt("faq:yes", "faq.yes"), opt("faq:no", "faq.no")),
		"mean1":        in("faq", bot.Option{ID: "faq:entry:ktp-hilang", Label: "KTP saya hilang, bagaimana mengurusnya?"}, opt("faq:none", "faq.not_this")),
		"tour":         in("tourism", tour...),
	}
}

// TestIntentDevSet reads every message of testdata/intents.tsv, written the way people
// type, in its situation, and holds the share read right to a floor.
//
//	go test -run IntentDevSet -v ./flows/ -args -intent.misses
func TestIntentDevSet(t *testing.T) {
	texts, err := locales.Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	r := NewRouter(texts, slog.New(slog.DiscardHandler))
	contexts := devContexts(t, r)
	f, err := os.Open("testdata/intents.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	type tally struct{ n, ok int }
	byGroup := map[string]*tally{}
	var total tally
	var misses []string
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		cols := strings.Split(text, "\t")
		if len(cols) != 3 {
			t.Fatalf("intents.tsv:%d: want 3 tab-separated columns, got %d", line, len(cols))
		}
		want, where, msg := cols[0], cols[1], cols[2]
		s, ok := contexts[where]
		if !ok {
			t.Fatalf("intents.tsv:%d: unknown context %q", line, where)
		}
		got := label(r.read(&s, msg))
		group := strings.SplitN(want, ":", 2)[0]
		if where != "-" && where != "menu" {
			group = "step " + where
		}
		g := byGroup[group]
		if g == nil {
			g = &tally{}
			byGroup[group] = g
		}
		g.n++
		total.n++
		if got == want {
			g.ok++
			total.ok++
		} else {
			misses = append(misses, fmt.Sprintf("intents.tsv:%d [%s] %q: want %s, got %s", line, where, msg, want, got))
		}
	}
	groups := make([]string, 0, len(byGroup))
	for g := range byGroup {
		groups = append(groups, g)
	}
	sort.Strings(groups)
	for _, g := range groups {
		t.Logf("%-20s %3d/%3d", g, byGroup[g].ok, byGroup[g].n)
	}
	acc := float64(total.ok) / float64(total.n)
	t.Logf("read right: %d/%d = %.1f %%", total.ok, total.n, 100*acc)
	if *intentMisses {
		for _, m := range misses {
			t.Log(m)
		}
	}
	if total.n < 400 {
		t.Errorf("the dev set has %d messages, want at least 400", total.n)
	}
	const floor = 0.95
	if acc < floor {
		t.Errorf("read right %.1f %%, below the floor of %.0f %% (-args -intent.misses lists them)", 100*acc, 100*floor)
	}
}

// label is how the dev set writes a reading.
func label(rd intent.Reading) string {
	switch {
	case rd.Option != "":
		return rd.Option
	case rd.Intent == "":
		return "-"
	case rd.Slot != "":
		return rd.Intent + ":" + rd.Slot
	}
	return rd.Intent
}
