package flows

import (
	"bufio"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/locales"
)

// BenchmarkRouterRead reads every message of the intent dev set in its situation as
// the router does for every message (Router.read: the offers made of the session's
// options, then the intent reader), once per op:
//
//	go test -run X -bench RouterRead -cpu 1 ./flows/
func BenchmarkRouterRead(b *testing.B) {
	texts, err := locales.Load("", nil)
	if err != nil {
		b.Fatal(err)
	}
	r := NewRouter(texts, slog.New(slog.DiscardHandler))
	contexts := devContextsIn(b, r, "id")
	f, err := os.Open("testdata/intents.tsv")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	type msg struct {
		s    bot.Session
		text string
	}
	var msgs []msg
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if cols := strings.Split(sc.Text(), "\t"); len(cols) == 3 && !strings.HasPrefix(cols[0], "#") {
			msgs = append(msgs, msg{contexts[cols[1]], cols[2]})
		}
	}
	b.ResetTimer()
	for b.Loop() {
		for i := range msgs {
			r.read(&msgs[i].s, msgs[i].text)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*len(msgs)), "µs/msg")
}
