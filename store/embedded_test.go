package store

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
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
func embeddedStart(t *testing.T, dir string, interval time.Duration, log *slog.Logger) *Embedded {
	t.Helper()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	e, err := startEmbedded(t.Context(), dir, log, interval)
	if err != nil {
		t.Fatalf("startEmbedded: %v", err)
	}
	t.Cleanup(func() { e.Close(context.Background()) })
	return e
}

func TestEmbeddedKeepsKeysAcrossRestarts(t *testing.T) {
	ctx := t.Context()
	dir := filepath.Join(t.TempDir(), "data") // does not exist yet
	e := embeddedStart(t, dir, time.Hour, nil)
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

	t.Run("close writes a private snapshot and can be called twice", func(t *testing.T) {
		if err := e.Close(ctx); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if err := e.Close(ctx); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		for path, want := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, SnapshotFile): 0o600} {
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if got := fi.Mode().Perm(); got != want {
				t.Errorf("%s has mode %v, want %v", path, got, want)
			}
		}
		if tmp, _ := filepath.Glob(filepath.Join(dir, "*.tmp")); len(tmp) > 0 {
			t.Errorf("temporary files left behind: %q", tmp)
		}
	})

	t.Run("a new start restores the keys with their TTLs and logs only the count", func(t *testing.T) {
		var log embeddedLog
		e2 := embeddedStart(t, dir, time.Hour, slog.New(slog.NewTextHandler(&log, nil)))
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
		if !strings.Contains(logged, "keys=3") {
			t.Errorf("log %q does not tell how many keys were restored", logged)
		}
		if strings.Contains(logged, "satu") || strings.Contains(logged, "3325010101010001") {
			t.Errorf("log %q shows values", logged)
		}
	})
}

func TestEmbeddedExpiresKeysInRealTime(t *testing.T) {
	ctx := t.Context()
	rdb := embeddedStart(t, t.TempDir(), time.Hour, nil).Client()
	if err := rdb.Set(ctx, "layan:short", "x", 1500*time.Millisecond).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.Set(ctx, "layan:long", "x", 0).Err(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2500 * time.Millisecond)
	if n := rdb.Exists(ctx, "layan:short").Val(); n != 0 {
		t.Errorf("a key set with PX 1500 still exists after 2.5 s")
	}
	if n := rdb.Exists(ctx, "layan:long").Val(); n != 1 {
		t.Errorf("a key without TTL is gone")
	}
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

func TestEmbeddedSnapshotsPeriodically(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	path := filepath.Join(dir, SnapshotFile)
	e := embeddedStart(t, dir, 20*time.Millisecond, nil)
	rdb := e.Client()

	t.Run("a write reaches the file without Close", func(t *testing.T) {
		if err := rdb.Set(ctx, "layan:periodic", "x", 0).Err(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			b, _ := os.ReadFile(path)
			if bytes.Contains(b, []byte(`"key":"layan:periodic"`)) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no snapshot holding the key after 5 s; file: %q", b)
			}
			time.Sleep(10 * time.Millisecond)
		}
	})

	t.Run("an idle store, even while read, is not rewritten", func(t *testing.T) {
		time.Sleep(200 * time.Millisecond) // let the snapshots after the write settle
		before, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		for range 10 {
			rdb.Get(ctx, "layan:periodic")
			time.Sleep(20 * time.Millisecond)
		}
		after, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if !os.SameFile(before, after) {
			t.Error("the snapshot was rewritten although nothing changed")
		}
	})
}
