package intent_test

import (
	"bufio"
	"os"
	"strings"
	"testing"

	"github.com/layan-id/layan/flows/intent"
	"github.com/layan-id/layan/locales"
)

// BenchmarkRead reads every message of the intent dev set once per op, with no
// options offered (the reader's longest path: every intent is tried).
//
//	go test -run X -bench Read -cpu 1 ./flows/intent/
func BenchmarkRead(b *testing.B) {
	r, err := intent.Load(locales.Content(""))
	if err != nil {
		b.Fatal(err)
	}
	f, err := os.Open("../testdata/intents.tsv")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	var msgs []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if cols := strings.Split(sc.Text(), "\t"); len(cols) == 3 && !strings.HasPrefix(cols[0], "#") {
			msgs = append(msgs, cols[2])
		}
	}
	b.ResetTimer()
	for b.Loop() {
		for _, m := range msgs {
			r.Read(m, intent.Context{})
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*len(msgs)), "µs/msg")
}

// TestTicketForms recognises a ticket number in the loose forms people type and
// leaves other numbers alone.
func TestTicketForms(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"BTG-261202-0001", "BTG-261202-0001"},
		{"btg 261202 0001", "BTG-261202-0001"},
		{"BTG2612020001", "BTG-261202-0001"},
		{"cek status btg.261202.0001 ya", "BTG-261202-0001"},
		{"nik saya 3325010101900001", ""},
		{"wa 081234567890", ""},
	} {
		got, _ := intent.Ticket(tc.text)
		if got != tc.want {
			t.Errorf("Ticket(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}
