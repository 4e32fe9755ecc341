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
// group commit) holding 1,000, 100,000 and 1,000,000 keys, side by side in one run so
// that other load on the machine weighs on each alike: the messages go to the three
// stores in turns of 500 (50 concurrent chats, the engine with the real router). It
// reports per store: messages per second and p99 per message, raw GET+SET pairs per
// second, journal bytes per message, start-up (snapshot load), the replay of the
// journal those messages left (a start after kill -9), a background snapshot rebuild,
// Close, and heap after load.
//
//	go test -run X -bench EmbeddedAtScale -benchtime 15000x -timeout 40m ./bot/
func BenchmarkEmbeddedAtScale(b *testing.B) {
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	type subject struct {
		keys    int
		dir     string
		emb     *store.Embedded
		e       *bot.Engine
		startup time.Duration
		heap    uint64
		raw     float64
		busy    time.Duration
		lat     []time.Duration
		journal int64
	}
	var subjects []*subject
	for _, keys := range []int{1_000, 100_000, 1_000_000} {
		sub := &subject{keys: keys, dir: b.TempDir()}
		writeSnapshotOfSize(b, sub.dir, keys)
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		t0 := time.Now()
		emb, err := store.StartEmbedded(ctx, sub.dir, log)
		if err != nil {
			b.Fatal(err)
		}
		sub.startup = time.Since(t0)
		runtime.GC()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		sub.heap = after.HeapAlloc - min(before.HeapAlloc, after.HeapAlloc)
		sub.emb = emb
		st := store.New(emb.Client(), "layan:")
		sub.e = benchEngine(b, st)
		sub.raw = rawRate(b, st.Client(), st.Prefix(), 50, time.Second)
		sub.journal = journalBytes(sub.dir)
		subjects = append(subjects, sub)
	}

	const chats, turn = 50, 500
	run := randomID()
	b.ResetTimer()
	for done := 0; done < b.N; done += turn {
		for _, sub := range subjects {
			lat := make([]time.Duration, turn)
			start := time.Now()
			var wg sync.WaitGroup
			for c := range chats {
				wg.Go(func() {
					for i := c; i < turn; i += chats {
						m := bot.Message{Channel: "bench", ChatID: strconv.Itoa(c), UserID: strconv.Itoa(c),
							ID: run + strconv.Itoa(done+i), Kind: bot.KindText, Text: "menu"}
						t := time.Now()
						if _, err := sub.e.Handle(ctx, m); err != nil {
							b.Error(err)
							return
						}
						lat[i] = time.Since(t)
					}
				})
			}
			wg.Wait()
			sub.busy += time.Since(start)
			sub.lat = append(sub.lat, lat...)
		}
	}
	b.StopTimer()

	for _, sub := range subjects {
		msgs := len(sub.lat)
		perMsg := float64(journalBytes(sub.dir)-sub.journal) / float64(msgs)
		// A start after kill -9: the snapshot and the journal the messages left.
		crashed := copyDir(b, sub.dir)
		t0 := time.Now()
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
		if err := sub.emb.Close(ctx); err != nil { // as at SIGTERM
			b.Fatal(err)
		}
		closing := time.Since(t0)
		slices.Sort(sub.lat)
		name := fmt.Sprintf("%dk", sub.keys/1000)
		b.ReportMetric(float64(msgs)/sub.busy.Seconds(), name+"_msgs/s")
		b.ReportMetric(float64(sub.lat[msgs*99/100].Microseconds())/1000, name+"_p99_ms")
		b.ReportMetric(sub.raw, name+"_raw_get+set/s")
		b.ReportMetric(perMsg, name+"_journal_B/msg")
		b.ReportMetric(sub.startup.Seconds(), name+"_start_s")
		b.ReportMetric(restart.Seconds()-sub.startup.Seconds(), name+"_replay_s")
		b.ReportMetric(rebuild.Seconds(), name+"_rebuild_s")
		b.ReportMetric(closing.Seconds(), name+"_close_s")
		b.ReportMetric(float64(sub.heap)/(1<<20), name+"_heap_MiB")
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
