package store

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/redis/go-redis/v9"
)

// backupVersion is the format version in the header line (see Export).
const backupVersion = 1

// batchCommands is about how many commands go into one pipeline.
const batchCommands = 500

type backupHeader struct {
	Version int    `json:"layan_backup"`
	Created string `json:"created,omitempty"`
	// Journal is only in the embedded store's snapshot: the first journal segment that
	// follows it (see Embedded).
	Journal uint64 `json:"journal,omitempty"`
}

// backupLine is one key line as it is written and read.
type backupLine struct {
	Key   string          `json:"key"`
	Type  string          `json:"type"`
	TTLms int64           `json:"ttl_ms,omitempty"`
	B64   bool            `json:"b64,omitempty"`
	Value json.RawMessage `json:"value"`
}

// record is one key with its value, as raw bytes in Go strings.
type record struct {
	key    string
	typ    string
	ttlMs  int64             // 0: no expiry
	str    string            // string
	hash   map[string]string // hash
	items  []string          // list (in order) or set
	zset   []redis.Z         // zset; Member is a string
	stream []streamEntry     // stream, ids ascending
}

type streamEntry struct {
	ID     string            `json:"id"`
	Values map[string]string `json:"values"`
}

type zsetMember struct {
	Member string `json:"member"`
	Score  score  `json:"score"`
}

// Export writes every key whose name starts with prefix to w and returns how many keys it
// wrote. On a Redis Cluster it scans every master. Keys that vanish while it runs are
// skipped; a key of a type the format does not know (a module type) is an error. Export is
// not a point-in-time snapshot: a key changed while it runs may be seen before or after
// the change.
//
// The format, read back by Import, is JSON lines: UTF-8, one JSON object per line. The
// first line is a header; layan_backup is the format version, created is when the export
// began (RFC 3339, UTC). Every further line is one key:
//
//	{"layan_backup":1,"created":"2025-01-31T08:00:00Z"}
//	{"key":"layan:k","type":"string","ttl_ms":5000,"value":"text"}
//	{"key":"layan:h","type":"hash","value":{"field":"value"}}
//	{"key":"layan:l","type":"list","value":["first","second"]}
//	{"key":"layan:s","type":"set","value":["a","b"]}
//	{"key":"layan:z","type":"zset","value":[{"member":"a","score":1.5},{"member":"b","score":"inf"}]}
//	{"key":"layan:x","type":"stream","value":[{"id":"1700000000000-0","values":{"f":"v"}}]}
//
// Rules of the key lines:
//
//   - ttl_ms is the time to live left at export, in milliseconds; absent or 0 means no
//     expiry. Import counts it from the moment of the restore.
//   - A zset score is a JSON number, or the string "inf" or "-inf".
//   - Redis values are bytes. When any string of a line (key, hash field or value, list
//     item, set or zset member, stream field or value) is not valid UTF-8, the line has
//     "b64":true and all those strings are standard base64; stream ids stay plain. A round
//     trip is byte-exact either way.
//   - Blank lines are ignored; unknown fields are an error.
//
// Not kept: stream consumer groups and the last generated stream id (a stream without
// entries is not exported at all), the order and duplicates of fields inside one stream
// entry, and per-field hash TTLs.
func Export(ctx context.Context, rdb redis.UniversalClient, prefix string, w io.Writer) (int, error) {
	bw := bufio.NewWriter(w)
	ex := &exporter{enc: json.NewEncoder(bw), prefix: prefix, seen: map[string]struct{}{}}
	ex.enc.SetEscapeHTML(false)
	header := backupHeader{Version: backupVersion, Created: time.Now().UTC().Format(time.RFC3339)}
	if err := ex.enc.Encode(header); err != nil {
		return 0, fmt.Errorf("store: backup: write header: %w", err)
	}
	var err error
	if cc, ok := rdb.(*redis.ClusterClient); ok {
		err = cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
			return ex.scan(ctx, c)
		})
	} else {
		err = ex.scan(ctx, rdb)
	}
	if err != nil {
		return ex.n, err
	}
	if err := bw.Flush(); err != nil {
		return ex.n, fmt.Errorf("store: backup: write: %w", err)
	}
	return ex.n, nil
}

// exporter collects the output of one Export; scan may run once per cluster master,
// concurrently.
type exporter struct {
	prefix string
	mu     sync.Mutex
	enc    *json.Encoder
	seen   map[string]struct{} // SCAN may return a key more than once
	n      int
}

func (ex *exporter) scan(ctx context.Context, c redis.Cmdable) error {
	match := escapeGlob(ex.prefix) + "*"
	var cursor uint64
	for {
		keys, next, err := c.Scan(ctx, cursor, match, 1000).Result()
		if err != nil {
			return fmt.Errorf("store: backup: scan: %w", err)
		}
		recs, err := readKeys(ctx, c, ex.fresh(keys))
		if err != nil {
			return err
		}
		if err := ex.write(recs); err != nil {
			return err
		}
		if next == 0 {
			return nil
		}
		cursor = next
	}
}

// fresh returns the keys not seen before that really start with the prefix.
func (ex *exporter) fresh(keys []string) []string {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	out := keys[:0]
	for _, k := range keys {
		if _, dup := ex.seen[k]; dup || !strings.HasPrefix(k, ex.prefix) {
			continue
		}
		ex.seen[k] = struct{}{}
		out = append(out, k)
	}
	return out
}

func (ex *exporter) write(recs []record) error {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	for _, r := range recs {
		line, err := r.line()
		if err != nil {
			return fmt.Errorf("store: backup key %q: %w", r.key, err)
		}
		if err := ex.enc.Encode(line); err != nil {
			return fmt.Errorf("store: backup: write: %w", err)
		}
		ex.n++
	}
	return nil
}

// readKeys reads type, TTL and value of keys with two pipelines. A key that changes type
// between the two is read again.
func readKeys(ctx context.Context, c redis.Cmdable, keys []string) ([]record, error) {
	var recs []record
	for attempt := 0; len(keys) > 0; attempt++ {
		if attempt == 3 {
			return nil, fmt.Errorf("store: backup: %d keys keep changing type", len(keys))
		}
		types := make([]*redis.StatusCmd, len(keys))
		if _, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, k := range keys {
				types[i] = p.Type(ctx, k)
			}
			return nil
		}); err != nil {
			return nil, fmt.Errorf("store: backup: read types: %w", err)
		}
		type pending struct {
			rec   record
			ttl   *redis.DurationCmd
			value redis.Cmder
		}
		var reads []pending
		_, _ = c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, k := range keys {
				r := pending{rec: record{key: k, typ: types[i].Val()}}
				switch r.rec.typ {
				case "none":
					continue // vanished
				case "string":
					r.value = p.Get(ctx, k)
				case "hash":
					r.value = p.HGetAll(ctx, k)
				case "list":
					r.value = p.LRange(ctx, k, 0, -1)
				case "set":
					r.value = p.SMembers(ctx, k)
				case "zset":
					r.value = p.ZRangeWithScores(ctx, k, 0, -1)
				case "stream":
					r.value = p.XRange(ctx, k, "-", "+")
				} // other types keep a nil value, reported below
				r.ttl = p.PTTL(ctx, k)
				reads = append(reads, r)
			}
			return nil
		}) // errors are checked command by command below
		var changed []string
		for _, r := range reads {
			if r.value == nil {
				return nil, fmt.Errorf("store: backup key %q: unsupported type %q", r.rec.key, r.rec.typ)
			}
			err := r.value.Err()
			if err == nil {
				err = r.ttl.Err()
			}
			switch {
			case errors.Is(err, redis.Nil):
				continue // vanished
			case err != nil && strings.HasPrefix(err.Error(), "WRONGTYPE"):
				changed = append(changed, r.rec.key)
				continue
			case err != nil:
				return nil, fmt.Errorf("store: backup: read: %w", err)
			}
			ttl := r.ttl.Val()
			if ttl == -2 || ttl == 0 { // gone, or expiring this very moment
				continue
			}
			if ttl > 0 {
				r.rec.ttlMs = max(ttl.Milliseconds(), 1)
			}
			if r.rec.setValue(r.value) {
				recs = append(recs, r.rec)
			}
		}
		keys = changed
	}
	return recs, nil
}

// setValue copies the reply of the read command into r; false means the key was empty,
// which only happens when it vanished (or is a stream without entries).
func (r *record) setValue(cmd redis.Cmder) bool {
	switch c := cmd.(type) {
	case *redis.StringCmd:
		r.str = c.Val()
		return true
	case *redis.MapStringStringCmd:
		r.hash = c.Val()
		return len(r.hash) > 0
	case *redis.StringSliceCmd:
		r.items = c.Val()
		if r.typ == "set" {
			slices.Sort(r.items) // stable output for identical content
		}
		return len(r.items) > 0
	case *redis.ZSliceCmd:
		r.zset = c.Val()
		return len(r.zset) > 0
	case *redis.XMessageSliceCmd:
		for _, m := range c.Val() {
			e := streamEntry{ID: m.ID, Values: make(map[string]string, len(m.Values))}
			for f, v := range m.Values {
				e.Values[f] = fmt.Sprint(v)
			}
			r.stream = append(r.stream, e)
		}
		return len(r.stream) > 0
	}
	return false
}

// needsB64 reports whether some byte string of the record is not valid UTF-8, which JSON
// strings cannot carry.
func (r *record) needsB64() bool {
	bad := func(s string) bool { return !utf8.ValidString(s) }
	badMap := func(m map[string]string) bool {
		for k, v := range m {
			if bad(k) || bad(v) {
				return true
			}
		}
		return false
	}
	if bad(r.key) || bad(r.str) || badMap(r.hash) || slices.ContainsFunc(r.items, bad) {
		return true
	}
	for _, z := range r.zset {
		if bad(z.Member.(string)) {
			return true
		}
	}
	for _, e := range r.stream {
		if badMap(e.Values) {
			return true
		}
	}
	return false
}

// line encodes the record as one backup line.
func (r *record) line() (backupLine, error) {
	b64 := r.needsB64()
	t := func(s string) string {
		if b64 {
			return base64.StdEncoding.EncodeToString([]byte(s))
		}
		return s
	}
	tmap := func(m map[string]string) map[string]string {
		out := make(map[string]string, len(m))
		for k, v := range m {
			out[t(k)] = t(v)
		}
		return out
	}
	var v any
	switch r.typ {
	case "string":
		v = t(r.str)
	case "hash":
		v = tmap(r.hash)
	case "list", "set":
		items := make([]string, len(r.items))
		for i, s := range r.items {
			items[i] = t(s)
		}
		v = items
	case "zset":
		zs := make([]zsetMember, len(r.zset))
		for i, z := range r.zset {
			zs[i] = zsetMember{Member: t(z.Member.(string)), Score: score(z.Score)}
		}
		v = zs
	case "stream":
		es := make([]streamEntry, len(r.stream))
		for i, e := range r.stream {
			es[i] = streamEntry{ID: e.ID, Values: tmap(e.Values)}
		}
		v = es
	}
	var raw bytes.Buffer
	enc := json.NewEncoder(&raw)
	enc.SetEscapeHTML(false) // keep "<" and "&" readable
	if err := enc.Encode(v); err != nil {
		return backupLine{}, err
	}
	return backupLine{Key: t(r.key), Type: r.typ, TTLms: r.ttlMs, B64: b64, Value: bytes.TrimSpace(raw.Bytes())}, nil
}

// Import restores a backup written by Export. It first reads and checks the whole input
// (header, JSON of every line, known type, value shaped like its type, non-empty key,
// ttl_ms >= 0, no key twice, stream ids ascending); on any problem it returns an error
// naming the line and writes nothing. Then it replaces every key of the backup (DEL, then
// recreate, then PEXPIRE when ttl_ms > 0), in pipelines of a few hundred commands, and
// returns how many keys it restored. Keys not in the backup are left alone. Import is not
// atomic: if Redis fails midway, the keys before the failure are restored.
func Import(ctx context.Context, rdb redis.UniversalClient, r io.Reader) (int, error) {
	recs, err := readBackup(r)
	if err != nil {
		return 0, err
	}
	pipe := rdb.Pipeline()
	done, queued := 0, 0
	flush := func() error {
		if pipe.Len() == 0 {
			return nil
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return fmt.Errorf("store: restore: write after %d keys: %w", done, err)
		}
		done, queued = done+queued, 0
		return nil
	}
	for i := range recs {
		recs[i].queue(ctx, pipe)
		queued++
		if pipe.Len() >= batchCommands {
			if err := flush(); err != nil {
				return done, err
			}
		}
	}
	if err := flush(); err != nil {
		return done, err
	}
	return done, nil
}

// queue adds the commands that recreate r.
func (r *record) queue(ctx context.Context, p redis.Pipeliner) {
	p.Del(ctx, r.key)
	switch r.typ {
	case "string":
		p.Set(ctx, r.key, r.str, 0)
	case "hash":
		var args []any
		for _, f := range slices.Sorted(maps.Keys(r.hash)) {
			args = append(args, f, r.hash[f])
		}
		for chunk := range slices.Chunk(args, 2*batchCommands) {
			p.HSet(ctx, r.key, chunk...)
		}
	case "list", "set":
		args := make([]any, len(r.items))
		for i, s := range r.items {
			args[i] = s
		}
		for chunk := range slices.Chunk(args, batchCommands) {
			if r.typ == "list" {
				p.RPush(ctx, r.key, chunk...)
			} else {
				p.SAdd(ctx, r.key, chunk...)
			}
		}
	case "zset":
		for chunk := range slices.Chunk(r.zset, batchCommands) {
			p.ZAdd(ctx, r.key, chunk...)
		}
	case "stream":
		for _, e := range r.stream {
			var values []string
			for _, f := range slices.Sorted(maps.Keys(e.Values)) {
				values = append(values, f, e.Values[f])
			}
			p.XAdd(ctx, &redis.XAddArgs{Stream: r.key, ID: e.ID, Values: values})
		}
	}
	if r.ttlMs > 0 {
		p.PExpire(ctx, r.key, time.Duration(r.ttlMs)*time.Millisecond)
	}
}

// readBackup reads and checks a whole backup.
func readBackup(r io.Reader) ([]record, error) {
	_, recs, err := readBackupHeader(r)
	return recs, err
}

// readBackupHeader reads and checks a whole backup and returns its header too.
func readBackupHeader(r io.Reader) (backupHeader, []record, error) {
	var h backupHeader
	br := bufio.NewReader(r)
	var recs []record
	firstLine := map[string]int{} // key → line it appeared on
	header := false
	for n := 1; ; n++ {
		b, err := br.ReadBytes('\n')
		if err != nil && err != io.EOF {
			return h, nil, fmt.Errorf("store: restore: read line %d: %w", n, err)
		}
		if len(bytes.TrimSpace(b)) > 0 {
			if !header {
				if h, err = parseHeader(b); err != nil {
					return h, nil, fmt.Errorf("store: restore line %d: %w", n, err)
				}
				header = true
			} else {
				rec, err := parseLine(b)
				if err != nil {
					return h, nil, fmt.Errorf("store: restore line %d: %w", n, err)
				}
				if first, dup := firstLine[rec.key]; dup {
					return h, nil, fmt.Errorf("store: restore line %d: key already restored by line %d", n, first)
				}
				firstLine[rec.key] = n
				recs = append(recs, rec)
			}
		}
		if err == io.EOF {
			break
		}
	}
	if !header {
		return h, nil, errors.New("store: restore line 1: empty input, not a Layan backup")
	}
	return h, recs, nil
}

func parseHeader(b []byte) (backupHeader, error) {
	var h backupHeader
	if err := json.Unmarshal(b, &h); err != nil || h.Version == 0 {
		return h, fmt.Errorf(`not a Layan backup: the first line must be a header like {"layan_backup":%d}`, backupVersion)
	}
	if h.Version != backupVersion {
		return h, fmt.Errorf("backup format version %d is not supported (want %d)", h.Version, backupVersion)
	}
	return h, nil
}

// parseLine decodes and checks one key line.
func parseLine(b []byte) (record, error) {
	var l backupLine
	if err := decodeStrict(b, &l); err != nil {
		return record{}, err
	}
	rec := record{typ: l.Type, ttlMs: l.TTLms}
	t := func(s string) (string, error) {
		if !l.B64 {
			return s, nil
		}
		d, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return "", errors.New("bad base64 in a line marked b64")
		}
		return string(d), nil
	}
	tmap := func(m map[string]text) (map[string]string, error) {
		out := make(map[string]string, len(m))
		for k, v := range m {
			dk, err := t(k)
			if err != nil {
				return nil, err
			}
			if out[dk], err = t(string(v)); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	var err error
	if rec.key, err = t(l.Key); err != nil {
		return record{}, err
	}
	switch {
	case rec.key == "":
		return record{}, errors.New("missing or empty key")
	case l.TTLms < 0:
		return record{}, fmt.Errorf("negative ttl_ms %d", l.TTLms)
	case len(l.Value) == 0 || string(l.Value) == "null":
		return record{}, errors.New("missing value")
	}
	shape := func(want string, v any) error {
		if err := decodeStrict(l.Value, v); err != nil {
			return fmt.Errorf("a %s value must be %s: %w", l.Type, want, err)
		}
		return nil
	}
	empty := fmt.Errorf("a %s value must not be empty", l.Type)
	switch l.Type {
	case "string":
		var s text
		if err := shape("a JSON string", &s); err != nil {
			return record{}, err
		}
		rec.str, err = t(string(s))
	case "hash":
		var m map[string]text
		if err := shape("an object of strings", &m); err != nil {
			return record{}, err
		}
		if len(m) == 0 {
			return record{}, empty
		}
		rec.hash, err = tmap(m)
	case "list", "set":
		var items []text
		if err := shape("an array of strings", &items); err != nil {
			return record{}, err
		}
		if len(items) == 0 {
			return record{}, empty
		}
		for _, s := range items {
			d, terr := t(string(s))
			if terr != nil {
				return record{}, terr
			}
			rec.items = append(rec.items, d)
		}
	case "zset":
		var zs []struct {
			Member *text  `json:"member"`
			Score  *score `json:"score"`
		}
		if err := shape(`an array of {"member","score"}`, &zs); err != nil {
			return record{}, err
		}
		if len(zs) == 0 {
			return record{}, empty
		}
		for i, z := range zs {
			if z.Member == nil || z.Score == nil {
				return record{}, fmt.Errorf("zset element %d needs both member and score", i+1)
			}
			m, terr := t(string(*z.Member))
			if terr != nil {
				return record{}, terr
			}
			rec.zset = append(rec.zset, redis.Z{Member: m, Score: float64(*z.Score)})
		}
	case "stream":
		var es []struct {
			ID     text            `json:"id"`
			Values map[string]text `json:"values"`
		}
		if err := shape(`an array of {"id","values"}`, &es); err != nil {
			return record{}, err
		}
		if len(es) == 0 {
			return record{}, empty
		}
		var prev [2]uint64
		for i, e := range es {
			id, ok := parseStreamID(string(e.ID))
			if !ok || id == [2]uint64{} {
				return record{}, fmt.Errorf("stream entry %d: bad id %q (want <ms>-<seq>, above 0-0)", i+1, e.ID)
			}
			if i > 0 && (id[0] < prev[0] || id[0] == prev[0] && id[1] <= prev[1]) {
				return record{}, fmt.Errorf("stream entry %d: id %s is not above the previous one", i+1, e.ID)
			}
			prev = id
			if len(e.Values) == 0 {
				return record{}, fmt.Errorf("stream entry %d: values must be a non-empty object of strings", i+1)
			}
			vals, terr := tmap(e.Values)
			if terr != nil {
				return record{}, terr
			}
			rec.stream = append(rec.stream, streamEntry{ID: string(e.ID), Values: vals})
		}
	default:
		return record{}, fmt.Errorf("unknown type %q (want string, hash, list, set, zset or stream)", l.Type)
	}
	if err != nil {
		return record{}, err
	}
	return rec, nil
}

// decodeStrict decodes exactly one JSON value, refusing unknown fields and trailing data.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("bad JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("bad JSON: more than one value on the line")
	}
	return nil
}

func parseStreamID(s string) ([2]uint64, bool) {
	ms, seq, ok := strings.Cut(s, "-")
	if !ok {
		return [2]uint64{}, false
	}
	a, err1 := strconv.ParseUint(ms, 10, 64)
	b, err2 := strconv.ParseUint(seq, 10, 64)
	return [2]uint64{a, b}, err1 == nil && err2 == nil
}

// text is a JSON string that must be present: null is an error, not "".
type text string

func (t *text) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return errors.New("null where a string belongs")
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	*t = text(s)
	return nil
}

// score is a zset score: a JSON number, or "inf" / "-inf", which JSON numbers cannot hold.
type score float64

func (s score) MarshalJSON() ([]byte, error) {
	switch f := float64(s); {
	case math.IsInf(f, 1):
		return []byte(`"inf"`), nil
	case math.IsInf(f, -1):
		return []byte(`"-inf"`), nil
	default:
		return json.Marshal(f)
	}
}

func (s *score) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case `"inf"`, `"+inf"`:
		*s = score(math.Inf(1))
		return nil
	case `"-inf"`:
		*s = score(math.Inf(-1))
		return nil
	}
	var f float64
	if string(b) == "null" || json.Unmarshal(b, &f) != nil {
		return errors.New(`a score must be a number, "inf" or "-inf"`)
	}
	*s = score(f)
	return nil
}

// escapeGlob quotes the characters SCAN MATCH treats as patterns.
func escapeGlob(s string) string {
	var b strings.Builder
	for i := range len(s) {
		if strings.IndexByte(`*?[]\`, s[i]) >= 0 {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
