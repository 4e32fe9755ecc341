package store

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// SnapshotFile is the name of the embedded store's snapshot inside its directory.
const SnapshotFile = "redis-snapshot.jsonl"

// EmbeddedOptions tune the embedded store; the zero value gives the defaults.
type EmbeddedOptions struct {
	// Tick is how often the store's clock advances (and keys whose TTL ran out are
	// removed). Default 1 s.
	Tick time.Duration
	// CompactBytes is the journal size after which the snapshot is rebuilt in the
	// background (at most once a minute) and the journal starts afresh. It bounds the
	// replay at the next start. Default 8 MiB (about 7,000 messages).
	CompactBytes int64
}

func (o EmbeddedOptions) withDefaults() EmbeddedOptions {
	if o.Tick <= 0 {
		o.Tick = time.Second
	}
	if o.CompactBytes <= 0 {
		o.CompactBytes = 8 << 20
	}
	return o
}

// Embedded is the embedded default: an in-process Redis (miniredis) with no listener at
// all (the client reaches it through an in-memory pipe), made durable by a journal.
//
// Every command that changes data is appended to the journal and fsynced before its
// reply is returned (group commit: writers that arrive during an fsync share the next
// one), so an acknowledged write survives kill -9 and power loss. A read waits until
// every write it could have seen is on disk. At start the store loads the snapshot
// (redis-snapshot.jsonl, the backup format) and replays the journal segments after it;
// a torn last record is dropped with a log line, damage elsewhere stops the start. When
// the journal grows past EmbeddedOptions.CompactBytes, a new segment begins and the
// snapshot is rebuilt in the background by replaying the old segments over the old
// snapshot in a second, private instance: the live store never pauses for it.
//
// Replay gives the same state because writes are applied one at a time in journal
// order, the clock only moves on ticks that are journalled before the next write, and
// the random source (SPOP) is seeded per segment from the segment's header.
//
// Its methods are safe for concurrent use.
type Embedded struct {
	m    *miniredis.Miniredis
	raw  *redis.Client // no journal: replay and dumps
	rdb  *redis.Client // through the journal: what Client returns
	dir  string
	log  *slog.Logger
	opts EmbeddedOptions

	mu          sync.RWMutex // writes, ticks and rotation hold it; reads share it
	j           *journal
	seg         uint64            // number of the live segment
	base        uint64            // first segment not in the snapshot
	now         time.Time         // the store's clock
	pendingTick bool              // the clock moved since the last record
	scripts     map[string]string // sha1 → source of every script seen
	segScripts  map[string]bool   // scripts already recorded in the live segment

	compactMu   sync.Mutex   // one snapshot at a time
	snapshotErr atomic.Value // string: why the latest rebuild failed, "" when it did not
	syncs       atomic.Uint64
	rebuilds    atomic.Uint64
	rebuildErrs atomic.Uint64
	stop        chan struct{}
	wg          sync.WaitGroup
	closeOnce   sync.Once
	closeErr    error
}

// StartEmbedded starts the embedded store with its data in dir (created 0o700 if
// missing) and the default options. Call Close when done.
func StartEmbedded(ctx context.Context, dir string, log *slog.Logger) (*Embedded, error) {
	return StartEmbeddedWith(ctx, dir, log, EmbeddedOptions{})
}

// StartEmbeddedWith is StartEmbedded with options. It loads the snapshot and replays the
// journal; a snapshot or journal that cannot be read is an error naming the file (and
// for the journal the byte offset): the service must not start without data it
// acknowledged.
func StartEmbeddedWith(ctx context.Context, dir string, log *slog.Logger, opts EmbeddedOptions) (*Embedded, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("store: embedded: create data dir: %w", err)
	}
	removeStaleTemps(dir)
	e := &Embedded{
		dir: dir, log: log, opts: opts.withDefaults(),
		scripts: map[string]string{}, segScripts: map[string]bool{},
		stop: make(chan struct{}),
	}
	e.m, e.raw = newMini()
	start := time.Now()
	keys, replayed, err := e.recover(ctx)
	if err != nil {
		e.raw.Close()
		e.m.Close()
		return nil, err
	}
	// The first live segment begins at the current time.
	e.advanceLocked(time.Now())
	if err := e.openSegmentLocked(e.seg); err != nil {
		e.raw.Close()
		e.m.Close()
		return nil, err
	}
	e.rdb = redis.NewClient(pipeOptions(e.m))
	e.rdb.AddHook(journalHook{e})
	log.Info("store: embedded redis ready", "dir", dir, "keys", e.m.KeyCount(), "snapshot_keys", keys, "journal_records", replayed, "took", time.Since(start).Round(time.Millisecond))
	e.wg.Add(1)
	go e.loop()
	return e, nil
}

// newMini returns a miniredis without a listener and a client for it without a journal.
func newMini() (*miniredis.Miniredis, *redis.Client) {
	m := miniredis.NewMiniRedis()
	if c, err := m.Dial(); err == nil { // starts the server without a listener
		c.Close()
	}
	return m, redis.NewClient(pipeOptions(m))
}

// embeddedAddr is the address the embedded store's client names (it has none).
const embeddedAddr = "embedded"

// pipeOptions connects a client to m through in-memory connections: no port another
// local user could reach. Reads have no time limit of their own (memory does not
// stall); a caller's context deadline still applies.
func pipeOptions(m *miniredis.Miniredis) *redis.Options {
	return &redis.Options{
		Addr: embeddedAddr,
		Dialer: func(context.Context, string, string) (net.Conn, error) {
			c, s := memConnPair()
			m.Server().ServeConn(s)
			return c, nil
		},
		ContextTimeoutEnabled: true,
		ReadTimeout:           -1,
		WriteTimeout:          -1,
		PoolSize:              32,
		DisableIdentity:       true,
		// Maintenance notifications are a Redis server's upgrade protocol; left on,
		// go-redis would look "embedded" up in DNS at every start.
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
	}
}

// recover loads the snapshot and replays the journal after it. It sets e.base, e.seg
// (the number the live segment gets), e.now and the known scripts.
func (e *Embedded) recover(ctx context.Context) (keys, records int, err error) {
	snap, err := loadSnapshot(ctx, e.m, filepath.Join(e.dir, SnapshotFile))
	if err != nil {
		return 0, 0, err
	}
	if snap.found {
		e.log.Info("store: embedded snapshot loaded", "file", filepath.Join(e.dir, SnapshotFile), "keys", snap.keys)
	}
	e.base = snap.journal
	r := newReplayer(e.m, e.raw, snap.clock)
	segs, err := segments(e.dir)
	if err != nil {
		return 0, 0, fmt.Errorf("store: embedded: list journal: %w", err)
	}
	e.seg = e.base
	for i, n := range segs {
		path := filepath.Join(e.dir, segmentName(n))
		if n < e.base { // already in the snapshot: left by a crash during a rebuild
			os.Remove(path)
			continue
		}
		last := i == len(segs)-1
		torn, err := r.segment(ctx, path)
		if err != nil {
			return 0, 0, err
		}
		if torn >= 0 {
			if !last {
				return 0, 0, &CorruptJournalError{File: path, Offset: torn, Reason: "a record is cut short, and newer segments follow"}
			}
			e.log.Warn("store: journal ends in a torn record, written when the process stopped mid-write; dropping it", "file", path, "offset", torn)
			drop := func() error { return os.Truncate(path, torn) }
			if torn < int64(journalHeader) { // not even its header: the segment was being created
				drop = func() error { return os.Remove(path) }
			}
			if err := drop(); err != nil {
				return 0, 0, fmt.Errorf("store: journal: drop torn record of %s: %w", path, err)
			}
			if torn < int64(journalHeader) {
				continue // nothing of it was replayed: its number may be used again
			}
		}
		e.seg = n + 1
	}
	e.now = r.now
	e.scripts = r.scripts
	return snap.keys, r.records, nil
}

// Client returns a go-redis client of the embedded store. Every write through it is
// durable when it returns. Close closes it.
func (e *Embedded) Client() redis.UniversalClient { return e.rdb }

// openSegmentLocked starts journal segment n: a fresh random seed, then a tick at the
// current clock, so that replay starts from the same clock and random source.
func (e *Embedded) openSegmentLocked(n uint64) error {
	seed := rand.Int64()
	j, err := createSegment(filepath.Join(e.dir, segmentName(n)), seed, &e.syncs)
	if err != nil {
		return err
	}
	e.m.Seed(int(seed))
	e.j, e.seg = j, n
	clear(e.segScripts)
	e.pendingTick = false
	if _, err := j.append(tickRecord(e.now)); err != nil {
		return err
	}
	return nil
}

// advanceLocked moves the store's clock forward to t, expiring keys on the way; a
// clock that went back is ignored.
func (e *Embedded) advanceLocked(t time.Time) {
	if advance(e.m, &e.now, t) {
		e.pendingTick = true
	}
}

// advance moves m's clock from *now to t (when later), expiring keys whose TTL ran out.
func advance(m *miniredis.Miniredis, now *time.Time, t time.Time) bool {
	t = t.UTC()
	if !t.After(*now) {
		return false
	}
	if !now.IsZero() {
		m.FastForward(t.Sub(*now))
	}
	m.SetTime(t)
	*now = t
	return true
}

// loop advances the clock and starts a snapshot rebuild when the journal is large.
func (e *Embedded) loop() {
	defer e.wg.Done()
	tick := time.NewTicker(e.opts.Tick)
	defer tick.Stop()
	// A rebuild in progress is abandoned when the store closes: stopping must stay quick,
	// and the journal still holds everything.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { <-e.stop; cancel() }()
	var lastRebuild time.Time
	for {
		select {
		case <-e.stop:
			return
		case now := <-tick.C:
			e.mu.Lock()
			e.advanceLocked(now)
			big := e.j.bytes() >= e.opts.CompactBytes
			e.mu.Unlock()
			if big && now.Sub(lastRebuild) >= time.Minute {
				lastRebuild = now
				if err := e.Snapshot(ctx); err != nil && ctx.Err() == nil {
					e.log.Error("store: embedded snapshot rebuild failed; the journal keeps every write meanwhile", "err", err)
				}
			}
		}
	}
}

// Snapshot rebuilds the snapshot now: the live journal segment is closed and a new one
// begun, and the snapshot plus the closed segments are replayed in a private instance
// and written as the new snapshot (to a temporary file, fsynced, renamed). Then the
// segments it holds are deleted. Writes go on meanwhile.
func (e *Embedded) Snapshot(ctx context.Context) error {
	e.compactMu.Lock()
	defer e.compactMu.Unlock()
	err := e.rebuild(ctx)
	e.rebuilds.Add(1)
	if err != nil {
		e.rebuildErrs.Add(1)
		e.snapshotErr.Store(err.Error())
	} else {
		e.snapshotErr.Store("")
	}
	return err
}

// EmbeddedStats are figures of the embedded store, for metrics.
type EmbeddedStats struct {
	Keys            int    // keys held now
	JournalBytes    int64  // size of the live journal segment
	Syncs           uint64 // fsyncs of the journal since start
	Rebuilds        uint64 // snapshot rebuilds since start
	RebuildFailures uint64 // of which failed
}

// Stats returns the store's figures now.
func (e *Embedded) Stats() EmbeddedStats {
	e.mu.RLock()
	j := e.j
	e.mu.RUnlock()
	return EmbeddedStats{
		Keys: e.m.KeyCount(), JournalBytes: j.bytes(), Syncs: e.syncs.Load(),
		Rebuilds: e.rebuilds.Load(), RebuildFailures: e.rebuildErrs.Load(),
	}
}

// Health reports problems of the store: journal is set when writes fail (the store
// cannot keep its promises and must not be called ready), snapshot when the latest
// snapshot rebuild failed (nothing is lost, but the next start replays more).
func (e *Embedded) Health() (journal, snapshot error) {
	e.mu.RLock()
	j := e.j
	e.mu.RUnlock()
	j.mu.Lock()
	journal = j.err
	j.mu.Unlock()
	if msg, _ := e.snapshotErr.Load().(string); msg != "" {
		snapshot = errors.New(msg)
	}
	return journal, snapshot
}

func (e *Embedded) rebuild(ctx context.Context) error {
	e.mu.Lock()
	upTo := e.seg
	err := e.j.close()
	if err == nil {
		err = e.openSegmentLocked(upTo + 1)
	}
	e.mu.Unlock()
	if err != nil {
		return err
	}
	m, raw := newMini()
	defer m.Close()
	defer raw.Close()
	snap, err := loadSnapshot(ctx, m, filepath.Join(e.dir, SnapshotFile))
	if err != nil {
		return err
	}
	r := newReplayer(m, raw, snap.clock)
	for n := snap.journal; n <= upTo; n++ {
		path := filepath.Join(e.dir, segmentName(n))
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			continue
		}
		if _, err := r.segment(ctx, path); err != nil {
			return err
		}
	}
	return e.writeSnapshot(ctx, m, r.now, upTo+1)
}

// writeSnapshot dumps m as the snapshot whose journal starts at segment next, then
// deletes the segments before next.
func (e *Embedded) writeSnapshot(ctx context.Context, m *miniredis.Miniredis, clock time.Time, next uint64) error {
	start := time.Now()
	path := filepath.Join(e.dir, SnapshotFile)
	tmp, err := os.CreateTemp(e.dir, SnapshotFile+".*.tmp") // mode 0o600
	if err != nil {
		return fmt.Errorf("store: snapshot: %w", err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly after the rename
	bw := bufio.NewWriterSize(tmp, 1<<20)
	n, err := dump(ctx, m, bw, backupHeader{Version: backupVersion, Created: clock.Format(time.RFC3339Nano), Journal: next}, "")
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err == nil {
		err = syncDir(e.dir)
	}
	if err != nil {
		return fmt.Errorf("store: snapshot %s: %w", path, err)
	}
	e.mu.Lock()
	e.base = next
	e.mu.Unlock()
	segs, _ := segments(e.dir)
	for _, s := range segs {
		if s < next {
			os.Remove(filepath.Join(e.dir, segmentName(s)))
		}
	}
	e.log.Info("store: embedded snapshot written", "keys", n, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// Export writes every key whose name starts with prefix in the backup format (see the
// package function Export), reading the store in-process.
func (e *Embedded) Export(ctx context.Context, prefix string, w io.Writer) (int, error) {
	return dump(ctx, e.m, w, backupHeader{Version: backupVersion, Created: time.Now().UTC().Format(time.RFC3339)}, prefix)
}

// dump writes m's keys that start with prefix ("" for all) in the backup format,
// reading them in-process through miniredis's direct API: no commands, no timeouts.
func dump(ctx context.Context, m *miniredis.Miniredis, w io.Writer, h backupHeader, prefix string) (int, error) {
	ex := &exporter{enc: json.NewEncoder(w)}
	ex.enc.SetEscapeHTML(false)
	if err := ex.enc.Encode(h); err != nil {
		return 0, fmt.Errorf("store: backup: write header: %w", err)
	}
	batch := make([]record, 0, 1000)
	for i, k := range m.Keys() { // sorted
		if i%1000 == 0 && ctx.Err() != nil {
			return ex.n, fmt.Errorf("store: backup: %w", ctx.Err())
		}
		if !strings.HasPrefix(k, prefix) {
			continue
		}
		r, ok, err := readDirect(m, k)
		if err != nil {
			return ex.n, err
		}
		if !ok {
			continue // expired or deleted meanwhile
		}
		if batch = append(batch, r); len(batch) == cap(batch) {
			if err := ex.write(batch); err != nil {
				return ex.n, err
			}
			batch = batch[:0]
		}
	}
	return ex.n, ex.write(batch)
}

// readDirect reads key k of m as a record; false when it is gone.
func readDirect(m *miniredis.Miniredis, k string) (record, bool, error) {
	r := record{key: k, typ: m.Type(k)}
	var err error
	switch r.typ {
	case "":
		return r, false, nil
	case "string":
		r.str, err = m.Get(k)
	case "hash":
		var fields []string
		if fields, err = m.HKeys(k); err == nil {
			r.hash = make(map[string]string, len(fields))
			for _, f := range fields {
				r.hash[f] = m.HGet(k, f)
			}
		}
	case "list":
		r.items, err = m.List(k)
	case "set":
		r.items, err = m.Members(k) // sorted
	case "zset":
		var zs map[string]float64
		if zs, err = m.SortedSet(k); err == nil {
			for _, member := range slices.Sorted(maps.Keys(zs)) {
				r.zset = append(r.zset, redis.Z{Member: member, Score: zs[member]})
			}
			slices.SortStableFunc(r.zset, func(a, b redis.Z) int { return cmp.Compare(a.Score, b.Score) })
		}
	case "stream":
		var es []miniredis.StreamEntry
		if es, err = m.Stream(k); err == nil {
			for _, e := range es {
				v := make(map[string]string, len(e.Values)/2)
				for i := 0; i+1 < len(e.Values); i += 2 {
					v[e.Values[i]] = e.Values[i+1]
				}
				r.stream = append(r.stream, streamEntry{ID: e.ID, Values: v})
			}
		}
	default:
		return r, false, fmt.Errorf("store: backup key %q: unsupported type %q", k, r.typ)
	}
	if errors.Is(err, miniredis.ErrKeyNotFound) {
		return r, false, nil
	}
	if err != nil {
		return r, false, fmt.Errorf("store: backup key %q: %w", k, err)
	}
	if ttl := m.TTL(k); ttl > 0 {
		r.ttlMs = max(ttl.Milliseconds(), 1)
	}
	empty := r.typ != "string" && len(r.hash) == 0 && len(r.items) == 0 && len(r.zset) == 0 && len(r.stream) == 0
	return r, !empty, nil
}

// Close stops the ticker, waits for a snapshot rebuild in progress, makes every
// journalled write durable and closes the store. It writes no snapshot: the journal
// holds every write, and the next start replays it (at most EmbeddedOptions.CompactBytes
// of it), so stopping takes well under a second whatever the store's size. It returns
// the journal's failure, if any.
func (e *Embedded) Close(ctx context.Context) error {
	e.closeOnce.Do(func() {
		close(e.stop)
		e.wg.Wait()
		e.compactMu.Lock()
		defer e.compactMu.Unlock()
		e.mu.Lock()
		err := e.j.close()
		e.mu.Unlock()
		e.rdb.Close()
		e.raw.Close()
		e.m.Close()
		e.closeErr = err
	})
	return e.closeErr
}

// removeStaleTemps deletes temporary snapshot files left by a crash.
func removeStaleTemps(dir string) {
	old, _ := filepath.Glob(filepath.Join(dir, SnapshotFile+".*.tmp"))
	for _, p := range old {
		os.Remove(p)
	}
}

// snapshotInfo describes a loaded snapshot.
type snapshotInfo struct {
	found   bool
	keys    int
	clock   time.Time // the store's clock when it was taken
	journal uint64    // first journal segment after it
}

// loadSnapshot loads the snapshot file at path (if any) into m directly, and sets m's
// clock to the snapshot's. A snapshot written before the journal existed has no
// journal field: segment 0 follows it. Lines are parsed on every core and applied in
// order; a damaged line stops the load with its number (the caller discards m).
func loadSnapshot(ctx context.Context, m *miniredis.Miniredis, path string) (snapshotInfo, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return snapshotInfo{}, nil
	}
	if err != nil {
		return snapshotInfo{}, fmt.Errorf("store: embedded: open snapshot %s: %w", path, err)
	}
	defer f.Close()
	// The load allocates a record per key that lives only until it is applied: collect
	// less often meanwhile.
	defer debug.SetGCPercent(debug.SetGCPercent(400))

	br := bufio.NewReaderSize(f, 1<<20)
	first, err := br.ReadBytes('\n')
	if err != nil && err != io.EOF {
		return snapshotInfo{}, fmt.Errorf("store: embedded: read snapshot %s: %w", path, err)
	}
	h, err := parseHeader(first)
	if err != nil {
		return snapshotInfo{}, fmt.Errorf("store: embedded: snapshot %s line 1: %w", path, err)
	}
	info := snapshotInfo{found: true, journal: h.Journal}
	if st, err := f.Stat(); err == nil {
		m.Reserve(int(st.Size() / 150)) // a line of a small key is 100 to 200 bytes
	}
	if t, err := time.Parse(time.RFC3339Nano, h.Created); err == nil {
		info.clock = t.UTC()
		m.SetTime(info.clock)
	}

	type chunk struct {
		first int // line number of lines[0]
		lines [][]byte
		recs  []record
		err   error
		done  chan struct{}
	}
	chunks := make(chan *chunk, 8) // in file order, to the loader
	work := make(chan *chunk, 8)   // to the parsers
	quit := make(chan struct{})    // the loader gave up: read no further
	var quitOnce sync.Once
	var readErr error
	go func() {
		defer close(chunks)
		defer close(work)
		n := 2
		for {
			c := &chunk{first: n, done: make(chan struct{})}
			for len(c.lines) < 1000 {
				b, err := br.ReadBytes('\n')
				if len(bytes.TrimSpace(b)) > 0 {
					c.lines = append(c.lines, b)
				}
				n++
				if err != nil {
					if err != io.EOF {
						readErr = err
					}
					break
				}
			}
			full := len(c.lines) == 1000
			if len(c.lines) > 0 {
				select {
				case work <- c:
				case <-quit:
					return
				}
				chunks <- c // the loader reads every chunk the parsers were given
			}
			if !full {
				return
			}
		}
	}()
	for range max(1, runtime.GOMAXPROCS(0)) {
		go func() {
			for c := range work {
				for i, l := range c.lines {
					r, err := parseLine(l)
					if err != nil {
						c.err = fmt.Errorf("line %d: %w", c.first+i, err)
						break
					}
					c.recs = append(c.recs, r)
				}
				c.lines = nil
				close(c.done)
			}
		}()
	}
	var loadErr error
	for c := range chunks {
		<-c.done
		if loadErr == nil && ctx.Err() != nil {
			loadErr = fmt.Errorf("store: embedded: load snapshot %s: %w", path, ctx.Err())
		}
		if loadErr != nil {
			quitOnce.Do(func() { close(quit) })
			continue // drain what is already parsed
		}
		if c.err != nil {
			loadErr = fmt.Errorf("store: embedded: snapshot %s %w", path, c.err)
			continue
		}
		for i := range c.recs {
			if err := c.recs[i].load(m); err != nil {
				loadErr = fmt.Errorf("store: embedded: snapshot %s key %q: %w", path, c.recs[i].key, err)
				break
			}
			info.keys++
		}
	}
	quitOnce.Do(func() { close(quit) })
	if loadErr == nil && readErr != nil {
		loadErr = fmt.Errorf("store: embedded: read snapshot %s: %w", path, readErr)
	}
	if loadErr != nil {
		return snapshotInfo{}, loadErr
	}
	return info, nil
}

// load writes r into m directly, without commands.
func (r *record) load(m *miniredis.Miniredis) error {
	var err error
	switch r.typ {
	case "string":
		err = m.Set(r.key, r.str)
	case "hash":
		fv := make([]string, 0, 2*len(r.hash))
		for f, v := range r.hash {
			fv = append(fv, f, v)
		}
		m.HSet(r.key, fv...)
	case "list":
		_, err = m.Push(r.key, r.items...)
	case "set":
		_, err = m.SetAdd(r.key, r.items...)
	case "zset":
		for _, z := range r.zset {
			if _, err = m.ZAdd(r.key, z.Score, z.Member.(string)); err != nil {
				break
			}
		}
	case "stream":
		for _, s := range r.stream {
			values := make([]string, 0, 2*len(s.Values))
			for f, v := range s.Values {
				values = append(values, f, v)
			}
			if _, err = m.XAdd(r.key, s.ID, values); err != nil {
				break
			}
		}
	}
	if err == nil && r.ttlMs > 0 {
		m.SetTTL(r.key, time.Duration(r.ttlMs)*time.Millisecond)
	}
	return err
}

// replayer applies journal segments to a miniredis, pipelining commands between the
// records that touch the clock or the random source directly.
type replayer struct {
	m       *miniredis.Miniredis
	c       *redis.Client
	pipe    redis.Pipeliner
	now     time.Time
	scripts map[string]string
	records int
}

func newReplayer(m *miniredis.Miniredis, c *redis.Client, clock time.Time) *replayer {
	return &replayer{m: m, c: c, pipe: c.Pipeline(), now: clock, scripts: map[string]string{}}
}

// segment replays one segment file and returns the offset of a torn last record, or -1.
func (r *replayer) segment(ctx context.Context, path string) (int64, error) {
	torn, err := readSegment(path,
		func(seed int64) error {
			if err := r.flush(ctx); err != nil {
				return err
			}
			r.m.Seed(int(seed))
			return nil
		},
		func(rec journalRecord) error {
			r.records++
			switch rec.kind {
			case recTick:
				if err := r.flush(ctx); err != nil {
					return err
				}
				advance(r.m, &r.now, rec.tick)
			case recScript:
				r.scripts[scriptSHA(rec.script)] = rec.script
				r.pipe.ScriptLoad(ctx, rec.script)
			case recCommands:
				for _, args := range rec.cmds {
					a := make([]any, len(args))
					for i, s := range args {
						a[i] = s
					}
					r.pipe.Do(ctx, a...)
				}
				if r.pipe.Len() >= batchCommands {
					return r.flush(ctx)
				}
			}
			return nil
		})
	if err != nil {
		return -1, err
	}
	return torn, r.flush(ctx)
}

// flush runs the queued commands. Errors Redis itself answered are expected (the same
// command failed the same way when it first ran); any other error stops the replay.
func (r *replayer) flush(ctx context.Context) error {
	if r.pipe.Len() == 0 {
		return nil
	}
	cmds, _ := r.pipe.Exec(ctx)
	for _, c := range cmds {
		if err := c.Err(); err != nil && !isRedisError(err) {
			return fmt.Errorf("store: journal replay: %w", err)
		}
	}
	return nil
}

func isRedisError(err error) bool {
	var re redis.Error
	return errors.As(err, &re)
}

func scriptSHA(body string) string {
	sum := sha1.Sum([]byte(body))
	return hex.EncodeToString(sum[:])
}
