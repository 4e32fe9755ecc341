package intent

import (
	"bufio"
	"io/fs"
	"os"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/layan-id/layan/locales"
)

// The flows package builds the reader's contexts from the options a session was last
// offered (flows/understand.go, Router.offers); its tests cannot be imported here (the
// flows import this package), so the situations of its intent dev set
// (flows/intent_test.go, devContexts) are built again below from the same locale texts,
// with the same roles and words, in both languages, plus the tourism flow's lists of
// attractions. The differential tests and BenchmarkReadOffered read messages in them.

// devMessage is one message of the intent dev set and the situation it is typed in.
type devMessage struct{ where, text string }

// readDevSet reads flows/testdata/intents.tsv.
func readDevSet(t testing.TB) []devMessage {
	f, err := os.Open("../testdata/intents.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []devMessage
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if cols := strings.Split(sc.Text(), "\t"); len(cols) == 3 && !strings.HasPrefix(cols[0], "#") {
			out = append(out, devMessage{cols[1], cols[2]})
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// optionRoles is flows.optionRoles: the roles of the flows' options.
var optionRoles = map[string][]string{
	"confirm":     {"yes"},
	"cancel":      {"cancel"},
	"loc:keep":    {"yes"},
	"loc:retry":   {"no"},
	"loc:skip":    {"no", "done"},
	"photos:done": {"no", "done"},
	"sub:done":    {"done"},
	"erase:no":    {"no", "cancel"},
	"faq:none":    {"no"},
	"desc:keep":   {"yes", "done"},
}

type option struct{ id, label string }

// offers is flows.Router.offers: the options as the reader is given them.
func offers(r *Reader, opts []option) []Offer {
	entries := 0
	for _, o := range opts {
		if strings.HasPrefix(o.id, "faq:entry:") {
			entries++
		}
	}
	out := make([]Offer, 0, len(opts))
	for _, o := range opts {
		of := Offer{ID: o.id, Label: o.label, Roles: optionRoles[o.id], Words: r.OptionWords(o.id)}
		switch {
		case strings.HasSuffix(o.id, ":yes"):
			of.Roles = []string{"yes"}
		case strings.HasSuffix(o.id, ":no"):
			of.Roles = []string{"no"}
		case strings.HasPrefix(o.id, "faq:entry:") && entries == 1:
			of.Roles = []string{"yes"}
		}
		for _, ps := range []struct{ prefix, slot string }{{"cat:", "category"}, {"sub:", "topic"}, {"tourism:cat:", "tourism"}} {
			if v, ok := strings.CutPrefix(o.id, ps.prefix); ok {
				of.Words = append(of.Words, r.SlotWords(ps.slot, v)...)
			}
		}
		out = append(out, of)
	}
	return out
}

// devContexts returns the situations of the dev set, by the name intents.tsv gives
// them, in lang; "tour:<category>" are the tourism flow's lists of attractions.
func devContexts(t testing.TB, r *Reader, lang string) map[string]Context {
	texts, err := locales.Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	label := func(key string) string {
		s, err := texts.Text(lang, key, nil)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	opt := func(id, key string) option { return option{id, label(key)} }
	var menu []option
	for _, id := range []string{"faq", "complaint", "status", "tourism", "subscribe", "language", "help"} {
		menu = append(menu, opt(id, "menu."+id))
	}
	var cats []option
	for _, c := range []string{"jalan", "sampah", "air", "listrik", "kesehatan", "pelayanan", "keamanan", "lainnya"} {
		cats = append(cats, opt("cat:"+c, "complaint.category."+c))
	}
	var subs []option
	for _, tp := range []string{"wisata", "pengumuman", "darurat"} {
		subs = append(subs, option{"sub:" + tp, label("subscribe.join") + " " + label("subscribe.topic."+tp+".name")})
	}
	subs = append(subs, opt("sub:done", "subscribe.done"))
	categories := []string{"pantai", "alam", "budaya", "kuliner", "agrowisata"}
	var tour []option
	for _, c := range categories {
		tour = append(tour, opt("tourism:cat:"+c, "tourism.category."+c))
	}
	tour = append(tour, opt("tourism:nearby", "tourism.nearby_option"), opt("menu", "tourism.menu"))
	var edit []option
	for _, f := range []string{"category", "description", "location", "photos", "confidential"} {
		edit = append(edit, opt("edit:"+f, "complaint.field."+f))
	}
	in := func(flow string, opts ...option) Context {
		return Context{Offers: offers(r, opts), Busy: flow}
	}
	strict := in("", menu...)
	strict.Strict = true
	out := map[string]Context{
		"-":            {},
		"menu":         strict,
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
		"mean1":        in("faq", option{"faq:entry:ktp-hilang", "KTP saya hilang, bagaimana mengurusnya?"}, opt("faq:none", "faq.not_this")),
		"mean3": in("faq", option{"faq:entry:ktp-hilang", "KTP saya hilang, bagaimana mengurusnya?"},
			option{"faq:entry:kk", "Bagaimana cara membuat Kartu Keluarga?"}, option{"faq:entry:akta", "Syarat akta kelahiran"},
			opt("faq:none", "faq.not_this")),
		"tour": in("tourism", tour...),
		// labels with slips of the words of yes, no and cancel: a label is read for
		// whether it says no or cancel.
		"slips": in("complaint", option{"x:yes", "Lanjutkn"}, option{"y", "Nggakk perlu"}, option{"z", "Jangn dikirim"},
			option{"w", "Batalkn saja"}, option{"cancel", "Bataal"}, option{"v:no", "Tidakk"}),
	}
	// The tourism flow's lists: the attractions of a category by name, then the way
	// to another category and to the menu.
	b, err := fs.ReadFile(locales.Content(""), "tourism.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var content struct {
		Attractions []struct {
			ID, Category string
			Name         map[string]string
		}
	}
	if err := yaml.Unmarshal(b, &content); err != nil {
		t.Fatal(err)
	}
	for _, c := range categories {
		var list []option
		for _, a := range content.Attractions {
			if a.Category == c {
				list = append(list, option{"tourism:place:" + a.ID, a.Name[lang]})
			}
		}
		list = append(list, opt("tourism:browse", "tourism.other_category"), opt("menu", "tourism.menu"))
		out["tour:"+c] = in("tourism", list...)
	}
	return out
}
