package bot_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/store"
)

// writeSnapshotOfSize writes an embedded-store snapshot in dir holding about keys keys
// of the shapes Layan writes: per conversation a session (90 days), its handled message
// ids (48 hours) and its web token (90 days); every tenth conversation has filed a
// complaint (a hash that never expires) with an index entry.
func writeSnapshotOfSize(b *testing.B, dir string, keys int) {
	f, err := os.Create(filepath.Join(dir, store.SnapshotFile))
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintf(w, `{"layan_backup":1,"created":%q}`+"\n", time.Now().UTC().Format(time.RFC3339Nano))
	n := 0
	for c := 0; n < keys; c++ {
		conv := fmt.Sprintf("webchat:%016x", c)
		sum := sha256.Sum256([]byte(conv))
		fmt.Fprintf(w, `{"key":"layan:{c:%s}:session","type":"string","ttl_ms":7776000000,"value":"{\"lang\":\"id\",\"flow\":\"menu\",\"step\":\"main\",\"vars\":{\"opts\":\"faq,complaint,status,tourism,subscribe,language,help\"}}"}`+"\n", conv)
		fmt.Fprintf(w, `{"key":"layan:{c:%s}:seen","type":"zset","ttl_ms":172800000,"value":[{"member":"m1-%d","score":1764000000},{"member":"m2-%d","score":1764000060}]}`+"\n", conv, c, c)
		fmt.Fprintf(w, `{"key":"layan:web:%s","type":"string","ttl_ms":7776000000,"value":"%s"}`+"\n", hex.EncodeToString(sum[:]), conv)
		n += 3
		if c%10 == 0 {
			fmt.Fprintf(w, `{"key":"layan:{cmp}:c:ADU-261201-%06d","type":"hash","value":{"json":"{\"id\":\"ADU-261201-%06d\",\"status\":\"diterima\",\"category\":\"jalan\",\"description\":\"Jalan desa berlubang besar di depan SD, sudah dua minggu\"}"}}`+"\n", c, c)
			n++
		}
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
}

// BenchmarkEmbeddedAtScale measures the embedded store (journal, fsync per write with
// group commit) holding 1,000 to 1,000,000 keys: start-up (snapshot load), messages per
// second through the engine with the real router at 50 concurrent chats and raw GET+SET
// pairs per second on the same store, p99 per message, journal bytes per message,
// replay of that journal at the next start, a background snapshot rebuild, and heap.
//
//	go test -run X -bench EmbeddedAtScale -benchtime 20000x -timeout 30m ./bot/
func BenchmarkEmbeddedAtScale(b *testing.B) {
	for _, keys := range []int{1_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("keys=%d", keys), func(b *testing.B) {
			ctx := context.Background()
			dir := b.TempDir()
			writeSnapshotOfSize(b, dir, keys)
			log := slog.New(slog.DiscardHandler)

			t0 := time.Now()
			emb, err := store.StartEmbedded(ctx, dir, log)
			if err != nil {
				b.Fatal(err)
			}
			startup := time.Since(t0)
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			heap := ms.HeapAlloc

			st := store.New(emb.Client(), "layan:")
			e := benchEngine(b, st)
			raw := rawRate(b, st.Client(), st.Prefix(), 50, time.Second)
			journalBefore := journalBytes(dir)

			const chats = 50
			run := randomID()
			per := (b.N + chats - 1) / chats
			lat := make([]time.Duration, per*chats)
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			for c := range chats {
				wg.Go(func() {
					for i := range per {
						m := bot.Message{Channel: "bench", ChatID: strconv.Itoa(c), UserID: strconv.Itoa(c),
							ID: run + strconv.Itoa(c*per+i), Kind: bot.KindText, Text: "menu"}
						t := time.Now()
						if _, err := e.Handle(ctx, m); err != nil {
							b.Error(err)
							return
						}
						lat[c*per+i] = time.Since(t)
					}
				})
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			rate := float64(per*chats) / elapsed.Seconds()
			perMsg := float64(journalBytes(dir)-journalBefore) / float64(per*chats)

			// A start after a crash now loads the snapshot and replays the journal.
			crashed := copyDir(b, dir)
			t0 = time.Now()
			emb2, err := store.StartEmbedded(ctx, crashed, log)
			if err != nil {
				b.Fatal(err)
			}
			restart := time.Since(t0)
			t0 = time.Now()
			if err := emb2.Snapshot(ctx); err != nil {
				b.Fatal(err)
			}
			rebuild := time.Since(t0)
			emb2.Close(ctx)
			t0 = time.Now()
			if err := emb.Close(ctx); err != nil { // as at SIGTERM
				b.Fatal(err)
			}
			closing := time.Since(t0)

			slices.Sort(lat)
			b.ReportMetric(rate, "msgs/s")
			b.ReportMetric(raw, "raw_get+set/s")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99_ms")
			b.ReportMetric(perMsg, "journal_B/msg")
			b.ReportMetric(startup.Seconds(), "start_s")
			b.ReportMetric(restart.Seconds(), "restart_s")
			b.ReportMetric(rebuild.Seconds(), "rebuild_s")
			b.ReportMetric(closing.Seconds(), "close_s")
			b.ReportMetric(float64(heap)/(1<<20), "heap_MiB")
		})
	}
}

func journalBytes(dir string) int64 {
	var n int64
	names, _ := filepath.Glob(filepath.Join(dir, "journal-*.log"))
	for _, p := range names {
		if fi, err := os.Stat(p); err == nil {
			n += fi.Size()
		}
	}
	return n
}

// copyDir copies the files of dir as they are now, as a crash would leave them.
func copyDir(b *testing.B, dir string) string {
	to := b.TempDir()
	names, _ := os.ReadDir(dir)
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join(dir, n.Name()))
		if err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, n.Name()), data, 0o600); err != nil {
			b.Fatal(err)
		}
	}
	return to
}
