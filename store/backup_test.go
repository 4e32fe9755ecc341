package store_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/layan-id/layan/store"
	"github.com/layan-id/layan/store/storetest"
)

// backupBinary is not valid UTF-8 and holds a NUL: JSON strings cannot carry it as is.
const backupBinary = "\x00\xff\xfe\x80 mentah \xc3\x28"

// backupSeed writes one key of every type under p, with TTLs and binary values, and
// returns their names.
func backupSeed(t *testing.T, ctx context.Context, rdb redis.UniversalClient, p string) []string {
	t.Helper()
	hour := time.Hour
	cmds := []struct {
		key string
		do  func(key string) error
		ttl time.Duration
	}{
		{p + "str", func(k string) error { return rdb.Set(ctx, k, "Selamat pagi ☀ <b>&</b>", 0).Err() }, 0},
		{p + "str:bin", func(k string) error { return rdb.Set(ctx, k, backupBinary, 0).Err() }, hour},
		{p + "str:empty", func(k string) error { return rdb.Set(ctx, k, "", 0).Err() }, 0},
		{p + "key\xff\x00bin", func(k string) error { return rdb.Set(ctx, k, "v", 0).Err() }, 0},
		{p + "hash", func(k string) error {
			return rdb.HSet(ctx, k, "nama", "Siti", backupBinary, backupBinary, "kosong", "").Err()
		}, 10 * time.Minute},
		{p + "list", func(k string) error { return rdb.RPush(ctx, k, "b", "a", "b", backupBinary, "").Err() }, 0},
		{p + "set", func(k string) error { return rdb.SAdd(ctx, k, "x", "y", backupBinary).Err() }, hour},
		{p + "zset", func(k string) error {
			return rdb.ZAdd(ctx, k,
				redis.Z{Member: "neg", Score: -2.5}, redis.Z{Member: "tenth", Score: 0.1},
				redis.Z{Member: "huge", Score: 1e300}, redis.Z{Member: "top", Score: math.Inf(1)},
				redis.Z{Member: "bottom", Score: math.Inf(-1)}, redis.Z{Member: backupBinary, Score: 3},
			).Err()
		}, 0},
		{p + "stream", func(k string) error {
			if err := rdb.XAdd(ctx, &redis.XAddArgs{Stream: k, ID: "1-1", Values: []string{"f", "v"}}).Err(); err != nil {
				return err
			}
			return rdb.XAdd(ctx, &redis.XAddArgs{Stream: k, ID: "1700000000000-5",
				Values: []string{"a", "1", backupBinary, backupBinary}}).Err()
		}, hour},
	}
	var keys []string
	for _, c := range cmds {
		if err := c.do(c.key); err != nil {
			t.Fatalf("seed %q: %v", c.key, err)
		}
		if c.ttl > 0 {
			if err := rdb.Expire(ctx, c.key, c.ttl).Err(); err != nil {
				t.Fatalf("seed %q: %v", c.key, err)
			}
		}
		keys = append(keys, c.key)
	}
	return keys
}

// backupKey is what a test knows of one key, read with plain commands.
type backupKey struct {
	Type  string
	Value any
	TTL   time.Duration // negative: no expiry
}

func backupRead(t *testing.T, ctx context.Context, rdb redis.UniversalClient, key string) backupKey {
	t.Helper()
	typ, err := rdb.Type(ctx, key).Result()
	if err != nil {
		t.Fatalf("TYPE %q: %v", key, err)
	}
	k := backupKey{Type: typ}
	switch typ {
	case "string":
		k.Value, err = rdb.Get(ctx, key).Result()
	case "hash":
		k.Value, err = rdb.HGetAll(ctx, key).Result()
	case "list":
		k.Value, err = rdb.LRange(ctx, key, 0, -1).Result()
	case "set":
		var m []string
		m, err = rdb.SMembers(ctx, key).Result()
		slices.Sort(m)
		k.Value = m
	case "zset":
		k.Value, err = rdb.ZRangeWithScores(ctx, key, 0, -1).Result()
	case "stream":
		k.Value, err = rdb.XRange(ctx, key, "-", "+").Result()
	}
	if err != nil {
		t.Fatalf("read %q: %v", key, err)
	}
	if k.TTL, err = rdb.PTTL(ctx, key).Result(); err != nil {
		t.Fatalf("PTTL %q: %v", key, err)
	}
	return k
}

func backupDelete(t *testing.T, ctx context.Context, rdb redis.UniversalClient, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if err := rdb.Del(ctx, k).Err(); err != nil {
			t.Fatalf("DEL %q: %v", k, err)
		}
	}
}

// backupKeys lists the keys under prefix p.
func backupKeys(t *testing.T, ctx context.Context, rdb redis.UniversalClient, p string) []string {
	t.Helper()
	var keys []string
	iter := rdb.Scan(ctx, 0, p+"*", 1000).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Fatalf("SCAN: %v", err)
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

func TestExportAndImport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := t.Context()
		rdb, p := b.Store.Client(), b.Store.Prefix()

		t.Run("a round trip restores every type byte for byte, with its TTL", func(t *testing.T) {
			keys := backupSeed(t, ctx, rdb, p)
			before := map[string]backupKey{}
			for _, k := range keys {
				before[k] = backupRead(t, ctx, rdb, k)
			}
			var buf bytes.Buffer
			n, err := store.Export(ctx, rdb, p, &buf)
			if err != nil || n != len(keys) {
				t.Fatalf("Export = %d, %v; want %d keys", n, err, len(keys))
			}
			backupDelete(t, ctx, rdb, keys...)
			n, err = store.Import(ctx, rdb, &buf)
			if err != nil || n != len(keys) {
				t.Fatalf("Import = %d, %v; want %d keys", n, err, len(keys))
			}
			if got := backupKeys(t, ctx, rdb, p); len(got) != len(keys) {
				t.Errorf("after the restore there are %d keys, want %d", len(got), len(keys))
			}
			for _, k := range keys {
				want, got := before[k], backupRead(t, ctx, rdb, k)
				if got.Type != want.Type || !reflect.DeepEqual(got.Value, want.Value) {
					t.Errorf("key %q restored as %s %#v, want %s %#v", k, got.Type, got.Value, want.Type, want.Value)
				}
				switch {
				case want.TTL < 0 && got.TTL != want.TTL:
					t.Errorf("key %q has TTL %v after the restore, want none", k, got.TTL)
				case want.TTL > 0 && (got.TTL > want.TTL || got.TTL < want.TTL-5*time.Second):
					t.Errorf("key %q has TTL %v after the restore, want about %v", k, got.TTL, want.TTL)
				}
			}
			backupDelete(t, ctx, rdb, keys...)
		})

		t.Run("the export is a header and one JSON line per key, base64 only where needed", func(t *testing.T) {
			keys := backupSeed(t, ctx, rdb, p)
			defer backupDelete(t, ctx, rdb, keys...)
			var buf bytes.Buffer
			if _, err := store.Export(ctx, rdb, p, &buf); err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
			var header struct {
				Version int    `json:"layan_backup"`
				Created string `json:"created"`
			}
			if err := json.Unmarshal([]byte(lines[0]), &header); err != nil || header.Version != 1 {
				t.Fatalf("header %s: %v", lines[0], err)
			}
			if _, err := time.Parse(time.RFC3339, header.Created); err != nil {
				t.Errorf("header created: %v", err)
			}
			if len(lines)-1 != len(keys) {
				t.Fatalf("%d key lines, want %d", len(lines)-1, len(keys))
			}
			type line struct {
				Key   string          `json:"key"`
				Type  string          `json:"type"`
				TTL   int64           `json:"ttl_ms"`
				B64   bool            `json:"b64"`
				Value json.RawMessage `json:"value"`
			}
			byKey := map[string]line{}
			for _, l := range lines[1:] {
				var ln line
				if err := json.Unmarshal([]byte(l), &ln); err != nil {
					t.Fatalf("line %s: %v", l, err)
				}
				if ln.B64 {
					k, _ := base64.StdEncoding.DecodeString(ln.Key)
					ln.Key = string(k)
				}
				byKey[ln.Key] = ln
			}
			if got := byKey[p+"str"]; got.B64 || got.TTL != 0 || string(got.Value) != `"Selamat pagi ☀ <b>&</b>"` {
				t.Errorf("a UTF-8 string without TTL is written as %+v (value %s)", got, got.Value)
			}
			if got := byKey[p+"str:bin"]; !got.B64 || got.TTL <= 0 || got.TTL > 3600_000 {
				t.Errorf("a binary string with TTL is written as %+v", got)
			}
			if got := byKey[p+"list"]; !got.B64 {
				t.Errorf("a list holding a binary item is not marked b64")
			}
			if got := byKey[p+"zset"]; !bytes.Contains(got.Value, []byte(`"score":"inf"`)) {
				t.Errorf("zset value %s lacks the infinite score", got.Value)
			}
		})

		t.Run("export takes only the keys under the given prefix", func(t *testing.T) {
			mine := []string{p + "mine", p + "g*[x]:1"}
			near := []string{p + "gabcx:2", p + "g*[x]"}                       // under p, not under p+"g*[x]:"
			others := []string{"other-" + p + "x", strings.TrimSuffix(p, ":")} // not under p at all
			for _, k := range slices.Concat(mine, near, others) {
				if err := rdb.Set(ctx, k, "v", 0).Err(); err != nil {
					t.Fatal(err)
				}
			}
			defer backupDelete(t, ctx, rdb, slices.Concat(mine, near, others)...)

			for _, c := range []struct {
				prefix string
				want   []string
			}{
				{p, slices.Concat(mine, near)},
				{p + "g*[x]:", []string{p + "g*[x]:1"}},
			} {
				var buf bytes.Buffer
				n, err := store.Export(ctx, rdb, c.prefix, &buf)
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				sc := bufio.NewScanner(&buf)
				for sc.Scan() {
					var l struct{ Key string }
					json.Unmarshal(sc.Bytes(), &l)
					if l.Key != "" {
						got = append(got, l.Key)
					}
				}
				slices.Sort(got)
				slices.Sort(c.want)
				if n != len(c.want) || !slices.Equal(got, c.want) {
					t.Errorf("Export(%q) = %d keys %q, want %q", c.prefix, n, got, c.want)
				}
			}
		})

		t.Run("a backup larger than one pipeline restores every key and item", func(t *testing.T) {
			var keys []string
			pipe := rdb.Pipeline()
			for i := range 1200 {
				keys = append(keys, fmt.Sprintf("%smany:%d", p, i))
				pipe.Set(ctx, keys[i], i, 0)
			}
			var items, fields []any
			for i := range 1234 {
				items = append(items, fmt.Sprint(i))
				fields = append(fields, fmt.Sprint("f", i), i)
			}
			keys = append(keys, p+"biglist", p+"bighash")
			pipe.RPush(ctx, p+"biglist", items...)
			pipe.HSet(ctx, p+"bighash", fields...)
			if _, err := pipe.Exec(ctx); err != nil {
				t.Fatal(err)
			}
			defer backupDelete(t, ctx, rdb, keys...)
			var buf bytes.Buffer
			if n, err := store.Export(ctx, rdb, p, &buf); err != nil || n != len(keys) {
				t.Fatalf("Export = %d, %v; want %d keys", n, err, len(keys))
			}
			backupDelete(t, ctx, rdb, keys...)
			if n, err := store.Import(ctx, rdb, &buf); err != nil || n != len(keys) {
				t.Fatalf("Import = %d, %v; want %d keys", n, err, len(keys))
			}
			if got := len(backupKeys(t, ctx, rdb, p)); got != len(keys) {
				t.Errorf("%d keys after the restore, want %d", got, len(keys))
			}
			if got := rdb.LRange(ctx, p+"biglist", 0, -1).Val(); len(got) != 1234 || got[0] != "0" || got[1233] != "1233" {
				t.Errorf("big list restored with %d items", len(got))
			}
			if got := rdb.HLen(ctx, p+"bighash").Val(); got != 1234 {
				t.Errorf("big hash restored with %d fields, want 1234", got)
			}
			if got := rdb.Get(ctx, p+"many:1199").Val(); got != "1199" {
				t.Errorf("many:1199 = %q", got)
			}
		})

		t.Run("restore replaces a key instead of merging into it", func(t *testing.T) {
			key := p + "replaced"
			if err := rdb.RPush(ctx, key, "1", "2", "3").Err(); err != nil {
				t.Fatal(err)
			}
			defer backupDelete(t, ctx, rdb, key)
			in := fmt.Sprintf("{\"layan_backup\":1}\n{\"key\":%s,\"type\":\"list\",\"value\":[\"new\"]}\n", backupJSON(key))
			if _, err := store.Import(ctx, rdb, strings.NewReader(in)); err != nil {
				t.Fatal(err)
			}
			if got := rdb.LRange(ctx, key, 0, -1).Val(); !slices.Equal(got, []string{"new"}) {
				t.Errorf("list after restore = %q, want [new]", got)
			}
		})
	})
}

func backupJSON(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestImportRefusesBadInput(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := t.Context()
		rdb, p := b.Store.Client(), b.Store.Prefix()
		header := `{"layan_backup":1,"created":"2025-01-31T08:00:00Z"}`
		k := func(name string) string { return backupJSON(p + name) }
		good1 := `{"key":` + k("new1") + `,"type":"string","ttl_ms":60000,"value":"satu"}`
		good2 := `{"key":` + k("old") + `,"type":"string","value":"new value"}`
		lines := func(ls ...string) string { return strings.Join(ls, "\n") + "\n" }

		cases := []struct {
			name   string
			input  string
			line   int
			reason string
		}{
			{"bad JSON on line 3", lines(header, good1, `{"key":`+k("new2"), good2), 3, "bad JSON"},
			{"an unknown type", lines(header, `{"key":`+k("new2")+`,"type":"bitmap","value":"x"}`), 2, "unknown type"},
			{"a missing header", lines(good1, good2), 1, "not a Layan backup"},
			{"an empty input", "", 1, "empty input"},
			{"a newer format version", lines(`{"layan_backup":2}`, good1), 1, "version 2"},
			{"a hash given as an array", lines(header, good1, `{"key":`+k("h")+`,"type":"hash","value":["a"]}`), 3, "hash value must be"},
			{"a string given as a number", lines(header, `{"key":`+k("s")+`,"type":"string","value":5}`), 2, "string value must be"},
			{"a null inside a list", lines(header, `{"key":`+k("l")+`,"type":"list","value":["a",null]}`), 2, "list value must be"},
			{"an empty set", lines(header, `{"key":`+k("s")+`,"type":"set","value":[]}`), 2, "must not be empty"},
			{"a zset element without a score", lines(header, `{"key":`+k("z")+`,"type":"zset","value":[{"member":"a"}]}`), 2, "needs both"},
			{"stream ids out of order", lines(header, `{"key":`+k("x")+`,"type":"stream","value":[{"id":"5-0","values":{"a":"b"}},{"id":"4-0","values":{"a":"b"}}]}`), 2, "not above"},
			{"a missing value", lines(header, `{"key":`+k("v")+`,"type":"string"}`), 2, "missing value"},
			{"a negative TTL", lines(header, `{"key":`+k("t")+`,"type":"string","ttl_ms":-5,"value":"x"}`), 2, "negative ttl_ms"},
			{"an empty key", lines(header, `{"key":"","type":"string","value":"x"}`), 2, "empty key"},
			{"a misspelt field", lines(header, `{"key":`+k("t")+`,"type":"string","ttl":5,"value":"x"}`), 2, "unknown field"},
			{"bad base64 in a b64 line", lines(header, `{"key":"!!","type":"string","b64":true,"value":"x"}`), 2, "base64"},
			{"the same key twice", lines(header, good1, good2, good1), 4, "line 2"},
		}
		for _, c := range cases {
			t.Run("restore refuses "+c.name+" and writes nothing", func(t *testing.T) {
				if err := rdb.Set(ctx, p+"old", "old value", 0).Err(); err != nil {
					t.Fatal(err)
				}
				defer backupDelete(t, ctx, rdb, p+"old")

				n, err := store.Import(ctx, rdb, strings.NewReader(c.input))
				if err == nil {
					t.Fatalf("Import = %d, nil; want an error", n)
				}
				if want := fmt.Sprintf("line %d:", c.line); !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), c.reason) {
					t.Errorf("error %q, want it to name %q and %q", err, want, c.reason)
				}
				if n != 0 {
					t.Errorf("Import reported %d keys restored, want 0", n)
				}
				if got := rdb.Get(ctx, p+"old").Val(); got != "old value" {
					t.Errorf("existing key now holds %q, want its old value", got)
				}
				if got := backupKeys(t, ctx, rdb, p); !slices.Equal(got, []string{p + "old"}) {
					t.Errorf("keys after the refused restore: %q, want only %q", got, p+"old")
				}
			})
		}
	})
}
