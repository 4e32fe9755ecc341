package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/redis/go-redis/v9"
)

// embeddedLog is a concurrency-safe buffer for a test's log.
type embeddedLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *embeddedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *embeddedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// embeddedStart starts an embedded store in dir that the test closes at its end.
func embeddedStart(t *testing.T, dir string, opts EmbeddedOptions, log *slog.Logger) *Embedded {
	t.Helper()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	e, err := StartEmbeddedWith(t.Context(), dir, log, opts)
	if err != nil {
		t.Fatalf("StartEmbedded: %v", err)
	}
	t.Cleanup(func() { e.Close(context.Background()) })
	return e
}

// crashCopy copies the store's files as they are on disk now into a new directory, as
// if the process had been killed at this moment: what a restart would find.
func crashCopy(t *testing.T, dir string) string {
	t.Helper()
	to := filepath.Join(t.TempDir(), "crashed")
	if err := os.MkdirAll(to, 0o700); err != nil {
		t.Fatal(err)
	}
	names, _ := os.ReadDir(dir)
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(dir, n.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, n.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return to
}

// contents is every key of the store in the backup format, without the header line and
// with each TTL shown only as there or not (two stores compared start at other times).
func contents(t *testing.T, e *Embedded) string {
	t.Helper()
	var b bytes.Buffer
	if _, err := e.Export(context.Background(), "", &b); err != nil {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(b.String(), "\n")
	return ttlShown.ReplaceAllString(rest, `"ttl_ms":1`)
}

var ttlShown = regexp.MustCompile(`"ttl_ms":\d+`)

func TestEmbeddedKeepsKeysAcrossRestarts(t *testing.T) {
	ctx := t.Context()
	dir := filepath.Join(t.TempDir(), "data") // does not exist yet
	e := embeddedStart(t, dir, EmbeddedOptions{}, nil)
	rdb := e.Client()
	if err := rdb.Set(ctx, "layan:a", "satu", time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.HSet(ctx, "layan:h", "nik", "3325010101010001").Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.Set(ctx, "layan:bin", "\x00\xff", 0).Err(); err != nil {
		t.Fatal(err)
	}

	t.Run("close leaves only private files and can be called twice", func(t *testing.T) {
		if err := e.Close(ctx); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if err := e.Close(ctx); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		files, _ := os.ReadDir(dir)
		for _, f := range files {
			fi, _ := f.Info()
			if got := fi.Mode().Perm(); got != 0o600 {
				t.Errorf("%s has mode %v, want 0600", f.Name(), got)
			}
		}
		if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("data dir: %v %v, want mode 0700", fi.Mode(), err)
		}
		if len(files) == 0 {
			t.Error("nothing on disk after Close")
		}
		if tmp, _ := filepath.Glob(filepath.Join(dir, "*.tmp")); len(tmp) > 0 {
			t.Errorf("temporary files left behind: %q", tmp)
		}
	})

	t.Run("a new start restores the keys with their TTLs and logs only the count", func(t *testing.T) {
		var log embeddedLog
		e2 := embeddedStart(t, dir, EmbeddedOptions{}, slog.New(slog.NewTextHandler(&log, nil)))
		rdb := e2.Client()
		if got := rdb.Get(ctx, "layan:a").Val(); got != "satu" {
			t.Errorf("layan:a = %q, want satu", got)
		}
		if got := rdb.HGet(ctx, "layan:h", "nik").Val(); got != "3325010101010001" {
			t.Errorf("layan:h nik = %q", got)
		}
		if got := rdb.Get(ctx, "layan:bin").Val(); got != "\x00\xff" {
			t.Errorf("layan:bin = %q, want the same bytes", got)
		}
		if ttl := rdb.PTTL(ctx, "layan:a").Val(); ttl <= 0 || ttl > time.Hour {
			t.Errorf("layan:a TTL = %v, want up to an hour", ttl)
		}
		if ttl := rdb.PTTL(ctx, "layan:h").Val(); ttl != -1 {
			t.Errorf("layan:h TTL = %v, want none", ttl)
		}
		logged := log.String()
		if !strings.Contains(logged, " keys=3 ") {
			t.Errorf("log %q does not tell how many keys were restored", logged)
		}
		if strings.Contains(logged, "satu") || strings.Contains(logged, "3325010101010001") {
			t.Errorf("log %q shows values", logged)
		}
	})
}

// counterScript is shaped like Layan's own scripts: it reads and writes several keys,
// pops a random member and sets TTLs.
var counterScript = redis.NewScript(`
local n = redis.call('INCR', KEYS[1])
local m = redis.call('SPOP', KEYS[2])
if m then redis.call('RPUSH', KEYS[3], m) end
redis.call('SET', KEYS[4] .. n, ARGV[1], 'PX', ARGV[2])
return n
`)

func TestEmbeddedAcknowledgedWritesSurviveACrash(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	e := embeddedStart(t, dir, EmbeddedOptions{Tick: 5 * time.Millisecond}, nil)
	rdb := e.Client()
	members := make([]any, 300)
	for i := range members {
		members[i] = fmt.Sprintf("warga-%03d", i)
	}
	if err := rdb.SAdd(ctx, "layan:recipients", members...).Err(); err != nil {
		t.Fatal(err)
	}
	// Writers in parallel: scripts with SPOP, transactions, pipelines, plain commands,
	// keys expiring while the clock ticks.
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 40 {
				keys := []string{"layan:n", "layan:recipients", "layan:sent", "layan:ticket:"}
				if err := counterScript.Run(ctx, rdb, keys, fmt.Sprintf("w%d", w), 60000+rand.IntN(40)).Err(); err != nil {
					t.Error(err)
					return
				}
				if _, err := rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
					p.HIncrBy(ctx, "layan:h", fmt.Sprint(w), 1)
					p.ZAdd(ctx, "layan:z", redis.Z{Score: float64(i), Member: fmt.Sprint(w, "-", i)})
					return nil
				}); err != nil {
					t.Error(err)
					return
				}
				if err := rdb.XAdd(ctx, &redis.XAddArgs{Stream: "layan:x", Values: []any{"w", w}}).Err(); err != nil {
					t.Error(err)
					return
				}
				rdb.Set(ctx, fmt.Sprintf("layan:tmp:%d:%d", w, i), "x", 3*time.Millisecond)
			}
		})
	}
	wg.Wait()
	// The clock's ticks expire the short keys; on a loaded machine (the race detector,
	// other packages' tests) a few ticks can take longer than a fixed pause, and a key
	// still listed here would be gone after the restart.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		left, err := rdb.Keys(ctx, "layan:tmp:*").Result()
		if err != nil {
			t.Fatal(err)
		}
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d keys of 3 ms still there after 10 s of the clock's ticks", len(left))
		}
	}

	want := contents(t, e)
	crashed := crashCopy(t, dir)
	e2 := embeddedStart(t, crashed, EmbeddedOptions{Tick: time.Hour}, nil)
	got := contents(t, e2)
	if got != want {
		t.Errorf("after the crash the store differs from what was acknowledged:\n%s", firstDiff(want, got))
	}
	if n := e2.Client().Get(ctx, "layan:n").Val(); n != "320" {
		t.Errorf("counter after the crash = %s, want 320", n)
	}
	if n := e2.Client().LLen(ctx, "layan:sent").Val(); n != 300 {
		t.Errorf("%d recipients recorded as sent, want each of the 300 once", n)
	}

	t.Run("a snapshot rebuilt while writes go on gives the same store", func(t *testing.T) {
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				rdb.Set(ctx, fmt.Sprintf("layan:during:%d", i), i, time.Hour)
			}
		})
		if err := e.Snapshot(ctx); err != nil {
			t.Fatal(err)
		}
		close(stop)
		wg.Wait()
		segs, _ := segments(dir)
		if len(segs) != 1 {
			t.Errorf("journal segments after the rebuild: %v, want only the live one", segs)
		}
		want := contents(t, e)
		e3 := embeddedStart(t, crashCopy(t, dir), EmbeddedOptions{Tick: time.Hour}, nil)
		if got := contents(t, e3); got != want {
			t.Errorf("snapshot + journal differ from the live store:\n%s", firstDiff(want, got))
		}
	})
}

func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := range max(len(w), len(g)) {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return fmt.Sprintf("line %d:\nwant %.300s\ngot  %.300s\n(%d vs %d lines)", i+1, a, b, len(w), len(g))
		}
	}
	return "same lines"
}

func TestEmbeddedJournalDamage(t *testing.T) {
	ctx := t.Context()
	setup := func(t *testing.T) (dir, seg string) {
		dir = t.TempDir()
		e := embeddedStart(t, dir, EmbeddedOptions{}, nil)
		for i := range 20 {
			if err := e.Client().Set(ctx, fmt.Sprintf("layan:k%02d", i), strings.Repeat("v", 50), 0).Err(); err != nil {
				t.Fatal(err)
			}
		}
		dir = crashCopy(t, dir)
		segs, _ := segments(dir)
		return dir, filepath.Join(dir, segmentName(segs[len(segs)-1]))
	}

	t.Run("a torn last record is dropped with a log line", func(t *testing.T) {
		dir, seg := setup(t)
		b, _ := os.ReadFile(seg)
		torn := append(b, 40, 0, 0, 0, 1, 2, 3, 4, 'c', 1) // a record cut after 2 of 40 bytes
		os.WriteFile(seg, torn, 0o600)
		var log embeddedLog
		e := embeddedStart(t, dir, EmbeddedOptions{}, slog.New(slog.NewTextHandler(&log, nil)))
		if n := e.Client().DBSize(ctx).Val(); n != 20 {
			t.Errorf("%d keys after dropping the torn record, want all 20", n)
		}
		if !strings.Contains(log.String(), "torn record") || !strings.Contains(log.String(), fmt.Sprint("offset=", len(b))) {
			t.Errorf("log does not tell of the dropped record and its offset: %s", log.String())
		}
		e.Close(ctx)
		// The next start does not see it again, and the segment is no longer the last.
		e2 := embeddedStart(t, dir, EmbeddedOptions{}, nil)
		if n := e2.Client().DBSize(ctx).Val(); n != 20 {
			t.Errorf("second start: %d keys", n)
		}
	})

	t.Run("a segment cut while it was being created is dropped, also on the next start", func(t *testing.T) {
		dir, _ := setup(t)
		n, _ := segments(dir)
		next := filepath.Join(dir, segmentName(n[len(n)-1]+1))
		os.WriteFile(next, []byte(journalMagic[:5]), 0o600) // part of a header
		for i := range 2 {
			e := embeddedStart(t, dir, EmbeddedOptions{}, nil)
			if n := e.Client().DBSize(ctx).Val(); n != 20 {
				t.Errorf("start %d: %d keys, want 20", i+1, n)
			}
			e.Close(ctx)
		}
	})

	t.Run("a damaged record in the middle stops the start, naming file and offset", func(t *testing.T) {
		dir, seg := setup(t)
		b, _ := os.ReadFile(seg)
		off := journalHeader + 8 + len(tickRecord(time.Now())) // the record after the opening tick
		b[off+8+3] ^= 0xff
		os.WriteFile(seg, b, 0o600)
		_, err := StartEmbedded(ctx, dir, slog.New(slog.DiscardHandler))
		var ce *CorruptJournalError
		if !errors.As(err, &ce) {
			t.Fatalf("start over a damaged journal: %v, want a CorruptJournalError", err)
		}
		if !strings.Contains(err.Error(), seg) || !strings.Contains(err.Error(), fmt.Sprint("offset ", off)) {
			t.Errorf("error %q does not name %s and offset %d", err, seg, off)
		}
	})
}

func TestEmbeddedRefusesACorruptSnapshot(t *testing.T) {
	for _, c := range []struct{ name, content string }{
		{"garbage", "this is not json\n"},
		{"a snapshot without its header", `{"key":"layan:a","type":"string","value":"x"}` + "\n"},
		{"a snapshot cut in the middle of a line", "{\"layan_backup\":1}\n{\"key\":\"layan:a\",\"ty"},
	} {
		t.Run("start fails on "+c.name+" and names the file", func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, SnapshotFile)
			if err := os.WriteFile(path, []byte(c.content), 0o600); err != nil {
				t.Fatal(err)
			}
			e, err := StartEmbedded(t.Context(), dir, slog.New(slog.DiscardHandler))
			if err == nil {
				e.Close(context.Background())
				t.Fatal("StartEmbedded succeeded over a corrupt snapshot")
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name %s", err, path)
			}
			if got, _ := os.ReadFile(path); string(got) != c.content {
				t.Errorf("the corrupt snapshot was changed to %q", got)
			}
		})
	}
}

func TestEmbeddedReadsASnapshotOfTheFormerFormat(t *testing.T) {
	// Written by the store before the journal: no "journal" field, TTLs from "created".
	dir := t.TempDir()
	old := `{"layan_backup":1,"created":"2026-11-27T08:00:00Z"}
{"key":"layan:{c:webchat:x}:session","type":"string","ttl_ms":7775990000,"value":"{\"lang\":\"en\"}"}
{"key":"layan:cmp:ADU-261127-0001","type":"hash","value":{"status":"baru"}}
`
	os.WriteFile(filepath.Join(dir, SnapshotFile), []byte(old), 0o600)
	e := embeddedStart(t, dir, EmbeddedOptions{}, nil)
	if got := e.Client().HGet(t.Context(), "layan:cmp:ADU-261127-0001", "status").Val(); got != "baru" {
		t.Errorf("complaint status = %q after reading the old snapshot", got)
	}
	if got := e.Client().Get(t.Context(), "layan:{c:webchat:x}:session").Val(); got == "" {
		t.Error("the session of the old snapshot is gone")
	}
}

func TestEmbeddedExpiresKeysAsTheClockTicks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		dir := t.TempDir()
		e, err := StartEmbedded(ctx, dir, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close(ctx)
		rdb := e.Client()
		rdb.Set(ctx, "layan:short", "x", 1500*time.Millisecond)
		rdb.Set(ctx, "layan:long", "x", 0)
		time.Sleep(time.Second)
		if n := rdb.Exists(ctx, "layan:short").Val(); n != 1 {
			t.Error("a key set with PX 1500 is gone after 1 s")
		}
		time.Sleep(1500 * time.Millisecond)
		if n := rdb.Exists(ctx, "layan:short").Val(); n != 0 {
			t.Error("a key set with PX 1500 still exists after 2.5 s")
		}
		if n := rdb.Exists(ctx, "layan:long").Val(); n != 1 {
			t.Error("a key without TTL is gone")
		}
	})
}

func TestEmbeddedRestoreIsJournalled(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	e := embeddedStart(t, dir, EmbeddedOptions{}, nil)
	var b bytes.Buffer
	b.WriteString(`{"layan_backup":1}` + "\n")
	for i := range 2000 {
		fmt.Fprintf(&b, `{"key":"layan:r%04d","type":"hash","ttl_ms":3600000,"value":{"f":"%d"}}`+"\n", i, i)
	}
	if n, err := Import(ctx, e.Client(), &b); err != nil || n != 2000 {
		t.Fatalf("Import: %d %v", n, err)
	}
	e2 := embeddedStart(t, crashCopy(t, dir), EmbeddedOptions{}, nil)
	if n := e2.Client().DBSize(ctx).Val(); n != 2000 {
		t.Errorf("%d keys after a crash right after the restore, want 2000", n)
	}
}

var _ io.Writer = (*embeddedLog)(nil)
