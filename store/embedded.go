package store

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/alicebob/miniredis/v2/server"
	"github.com/redis/go-redis/v9"
)

// SnapshotFile is the name of the embedded Redis's snapshot inside its directory.
const SnapshotFile = "redis-snapshot.jsonl"

const (
	snapshotEvery   = 10 * time.Second // how often the embedded store may write a snapshot
	snapshotMaxAge  = time.Minute      // an unchanged store is still rewritten this often, so TTLs in the file stay close to the truth
	snapshotTimeout = time.Minute      // longest one periodic snapshot may take
)

// Embedded is the embedded default: an in-process Redis (miniredis) on 127.0.0.1 whose
// keys are snapshotted to a file in the backup format (see Export) and restored at start.
// TTLs run in real time. Its methods are safe for concurrent use.
//
// What can be lost: writes of the last snapshot interval (10 s) when the process dies
// without Close. A snapshot is replaced atomically, so the file is always a whole one.
type Embedded struct {
	m        *miniredis.Miniredis
	rdb      *redis.Client
	path     string
	log      *slog.Logger
	interval time.Duration

	lastWrite atomic.Int64 // unix nanos of the latest write command seen

	mu          sync.Mutex // serialises snapshots; guards the two fields below
	exportStart int64      // unix nanos when the latest snapshot began reading
	savedAt     time.Time  // when the latest snapshot was written

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
	closeErr  error
}

// StartEmbedded starts the embedded Redis with its data in dir (created 0o700 if
// missing): it restores dir/redis-snapshot.jsonl when the file exists, and from then on
// rewrites it at most every 10 seconds when something changed, and at Close. A snapshot
// that cannot be restored is an error naming the file: the service must not start empty
// over it. Call Close when done.
func StartEmbedded(ctx context.Context, dir string, log *slog.Logger) (*Embedded, error) {
	return startEmbedded(ctx, dir, log, snapshotEvery)
}

func startEmbedded(ctx context.Context, dir string, log *slog.Logger, interval time.Duration) (*Embedded, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("store: embedded: create data dir: %w", err)
	}
	m := miniredis.NewMiniRedis()
	m.ClockTTL(true) // TTLs follow the clock, not only FastForward
	if err := m.StartAddr("127.0.0.1:0"); err != nil {
		return nil, fmt.Errorf("store: embedded: start: %w", err)
	}
	e := &Embedded{
		m:        m,
		rdb:      redis.NewClient(&redis.Options{Addr: m.Addr(), ContextTimeoutEnabled: true}),
		path:     filepath.Join(dir, SnapshotFile),
		log:      log,
		interval: interval,
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	removeStaleTemps(dir)
	if err := e.restore(ctx); err != nil {
		e.rdb.Close()
		m.Close()
		return nil, err
	}
	// What was just restored equals the file: nothing to write until a command changes data.
	e.exportStart, e.savedAt = time.Now().UnixNano(), time.Now()
	m.Server().SetPreHook(func(_ *server.Peer, cmd string, _ ...string) bool {
		if !readOnly(m, cmd) {
			e.lastWrite.Store(time.Now().UnixNano())
		}
		return false
	})
	go e.loop()
	return e, nil
}

// readOnly reports whether cmd cannot change data.
func readOnly(m *miniredis.Miniredis, cmd string) bool {
	switch cmd {
	case "PING", "ECHO", "HELLO", "AUTH", "CLIENT", "SELECT", "INFO", "TIME", "COMMAND",
		"MULTI", "EXEC", "DISCARD", "WATCH", "UNWATCH", "QUIT":
		return true
	}
	return m.IsReadOnlyCommand(cmd)
}

func (e *Embedded) restore(ctx context.Context) error {
	f, err := os.Open(e.path)
	if errors.Is(err, os.ErrNotExist) {
		e.log.Info("store: embedded redis starts empty (no snapshot yet)", "file", e.path)
		return nil
	}
	if err != nil {
		return fmt.Errorf("store: embedded: open snapshot %s: %w", e.path, err)
	}
	defer f.Close()
	n, err := Import(ctx, e.rdb, bufio.NewReader(f))
	if err != nil {
		return fmt.Errorf("store: embedded: snapshot %s: %w", e.path, err)
	}
	e.log.Info("store: embedded redis snapshot restored", "file", e.path, "keys", n)
	return nil
}

// removeStaleTemps deletes temporary snapshot files left by a crash.
func removeStaleTemps(dir string) {
	old, _ := filepath.Glob(filepath.Join(dir, SnapshotFile+".*.tmp"))
	for _, p := range old {
		os.Remove(p)
	}
}

// Client returns a go-redis client connected to the embedded Redis (context deadlines
// honoured). Close closes it.
func (e *Embedded) Client() redis.UniversalClient { return e.rdb }

// Snapshot writes the snapshot file now: to a temporary file in the same directory
// (mode 0o600, it holds personal data), fsynced, then renamed over the old one.
func (e *Embedded) Snapshot(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	start := time.Now()
	tmp, err := os.CreateTemp(filepath.Dir(e.path), SnapshotFile+".*.tmp")
	if err != nil {
		return fmt.Errorf("store: snapshot: %w", err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly after the rename
	n, err := e.writeSnapshot(ctx, tmp)
	if err != nil {
		return fmt.Errorf("store: snapshot %s: %w", e.path, err)
	}
	if err := os.Rename(tmp.Name(), e.path); err != nil {
		return fmt.Errorf("store: snapshot: %w", err)
	}
	if d, err := os.Open(filepath.Dir(e.path)); err == nil { // make the rename durable
		d.Sync()
		d.Close()
	}
	e.exportStart, e.savedAt = start.UnixNano(), time.Now()
	e.log.Debug("store: embedded redis snapshot written", "keys", n, "took", time.Since(start))
	return nil
}

func (e *Embedded) writeSnapshot(ctx context.Context, f *os.File) (int, error) {
	n, err := Export(ctx, e.rdb, "", f) // f is 0o600, as os.CreateTemp makes it
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return n, err
}

// due reports whether the periodic snapshot should run: a write came after (or just
// before) the latest snapshot began, or that snapshot is getting old.
func (e *Embedded) due() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	// A write command is counted just before it runs; the grace covers one counted
	// before the latest snapshot began but applied after it read the key.
	grace := min(time.Second, e.interval).Nanoseconds()
	return e.lastWrite.Load() >= e.exportStart-grace || time.Since(e.savedAt) >= snapshotMaxAge
}

func (e *Embedded) loop() {
	defer close(e.done)
	tick := time.NewTicker(e.interval)
	defer tick.Stop()
	for {
		select {
		case <-e.stop:
			return
		case <-tick.C:
			if !e.due() {
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), snapshotTimeout)
			if err := e.Snapshot(ctx); err != nil {
				e.log.Error("store: embedded redis snapshot failed", "err", err)
			}
			cancel()
		}
	}
}

// Close stops the periodic snapshots, writes a final snapshot, and closes the client and
// the server. It reports the final snapshot's failure; calling it again returns the
// first result.
func (e *Embedded) Close(ctx context.Context) error {
	e.closeOnce.Do(func() {
		close(e.stop)
		<-e.done
		e.closeErr = e.Snapshot(ctx)
		e.rdb.Close()
		e.m.Close()
	})
	return e.closeErr
}
