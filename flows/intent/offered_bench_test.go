package intent

import (
	"testing"

	"github.com/layan-id/layan/locales"
)

// BenchmarkReadOffered reads every message of the intent dev set once per op in the
// situation the dev set types it in (the main menu, a step's options, yes and no; see
// devContexts), in Indonesian: the path of a message that answers what the bot
// offered, where the options are read first.
//
//	go test -run X -bench ReadOffered -cpu 1 ./flows/intent/
func BenchmarkReadOffered(b *testing.B) {
	r, err := Load(locales.Content(""))
	if err != nil {
		b.Fatal(err)
	}
	contexts := devContexts(b, r, "id")
	msgs := readDevSet(b)
	for _, m := range msgs {
		if _, ok := contexts[m.where]; !ok {
			b.Fatalf("no context %q", m.where)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		for _, m := range msgs {
			r.Read(m.text, contexts[m.where])
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*len(msgs)), "µs/msg")
}
