package intent

import (
	"bufio"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// The flows package builds the reader's contexts from the options a session was last
// offered (flows/understand.go, Router.readerContext). The flows import this package,
// so a flows test writes the contexts of its intent dev set's situations, in both
// languages, with the tourism flow's lists of attractions, to
// flows/testdata/intent_situations.json (TestIntentSituationsAreCurrent, which fails
// when the file is stale); the differential tests and BenchmarkReadOffered read
// messages in them.

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

// devContexts returns the situations of the dev set, by the name intents.tsv gives
// them, in lang, as the flows give them to the reader; "tour:<category>" are the
// tourism flow's lists of attractions, and "slips" offers labels with slips of the
// words of yes, no and cancel (a label is read for whether it says no or cancel).
func devContexts(t testing.TB, r *Reader, lang string) map[string]Context {
	b, err := os.ReadFile("../testdata/intent_situations.json")
	if err != nil {
		t.Fatal(err)
	}
	var all map[string]map[string]Context
	if err := json.Unmarshal(b, &all); err != nil {
		t.Fatal(err)
	}
	out := all[lang]
	if len(out) == 0 {
		t.Fatalf("intent_situations.json has no situations in %q", lang)
	}
	slip := func(id, label string, roles ...string) Offer {
		return Offer{ID: id, Label: label, Roles: roles, Words: r.OptionWords(id)}
	}
	out["slips"] = Context{Busy: "complaint", Offers: []Offer{slip("x:yes", "Lanjutkn", "yes"), slip("y", "Nggakk perlu"),
		slip("z", "Jangn dikirim"), slip("w", "Batalkn saja"), slip("cancel", "Bataal", "cancel"), slip("v:no", "Tidakk", "no")}}
	return out
}
