package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/layan-id/layan/domain"
	"github.com/layan-id/layan/store"
	"github.com/layan-id/layan/store/storetest"
)

// oldReplica files and changes complaints exactly as the version before the shards
// does (main at e665046: its create script and its update transaction, copied
// below), so that the migration is tested on keys that code writes.
type oldReplica struct {
	rdb    redis.UniversalClient
	prefix string // REDIS_PREFIX
	ticket string
	loc    *time.Location
	sla    domain.SLA
}

func (o oldReplica) key(parts ...string) string {
	return o.prefix + "{cmp}:" + strings.Join(parts, ":")
}

// oldCreateScript is main's createScript.
var oldCreateScript = redis.NewScript(`
local existing = redis.call('GET', KEYS[1])
if existing then return {existing, 0} end
local n = redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], 172800000)
local id = ARGV[2] .. string.format('%04d', n)
local record = string.gsub(ARGV[1], '"id":""', '"id":"' .. id .. '"', 1)
redis.call('SET', ARGV[4] .. id, record)
redis.call('ZADD', KEYS[4], ARGV[6], id)
local nz = tonumber(ARGV[5])
for i = 1, nz do redis.call('ZADD', KEYS[4 + i], ARGV[6 + i], id) end
for i = 5 + nz, #KEYS do redis.call('SADD', KEYS[i], id) end
redis.call('SET', KEYS[1], id, 'PX', ARGV[3])
for i = 7 + nz, #ARGV do redis.call('SADD', KEYS[3], ARGV[i]) end
return {id, 1}
`)

type oldScored struct {
	key   string
	score float64
}

// indexes is main's Complaints.indexes.
func (o oldReplica) indexes(cp *domain.Complaint) ([]oldScored, []string) {
	created := float64(cp.CreatedAt.UnixMilli())
	a := cp.Agency
	if a == "" {
		a = domain.NoAgency
	}
	st := string(cp.Status)
	z := []oldScored{
		{o.key("all"), created}, {o.key("status", st), created}, {o.key("agency", a), created},
		{o.key("as", a, st), created}, {o.key("cat", cp.Category), created},
	}
	if cp.Phase != "" {
		due := float64(cp.Due.UnixMilli())
		z = append(z, oldScored{o.key("due"), due}, oldScored{o.key("due", a), due})
	}
	var words []string
	for _, w := range store.SearchWords(cp.Description + " " + cp.Address) {
		words = append(words, o.key("w", w))
	}
	return z, words
}

// create is main's Complaints.Create.
func (o oldReplica) create(ctx context.Context, cp *domain.Complaint, idem string) (string, error) {
	cp.ID = ""
	cp.Schema = domain.ComplaintSchema
	cp.Phase, cp.Due = o.sla.Deadline(cp)
	raw, _ := json.Marshal(cp)
	z, words := o.indexes(cp)
	if cp.Phase != "" {
		z = append(z, oldScored{o.key("alert"), float64(cp.Due.UnixMilli())})
	}
	day := cp.CreatedAt.In(o.loc).Format("060102")
	keys := []string{o.key("idem", idem), o.key("seq", day), o.key("photos"), o.key("by", cp.Reporter.Key)}
	args := []any{raw, fmt.Sprintf("%s-%s-", o.ticket, day), (48 * time.Hour).Milliseconds(), o.key("c", ""), len(z), cp.CreatedAt.UnixMilli()}
	for _, s := range z {
		keys = append(keys, s.key)
		args = append(args, s.score)
	}
	keys = append(keys, words...)
	for _, p := range cp.Photos {
		args = append(args, p)
	}
	res, err := oldCreateScript.Run(ctx, o.rdb, keys, args...).Slice()
	if err != nil {
		return "", err
	}
	return res[0].(string), nil
}

// update is main's Complaints.update for one record (its write included).
func (o oldReplica) update(ctx context.Context, id string, f func(*domain.Complaint) error) error {
	key := o.key("c", id)
	return o.rdb.Watch(ctx, func(tx *redis.Tx) error {
		raw, err := tx.Get(ctx, key).Bytes()
		if errors.Is(err, redis.Nil) {
			return domain.ErrNotFound
		}
		if err != nil {
			return err
		}
		var before, after domain.Complaint
		json.Unmarshal(raw, &before)
		json.Unmarshal(raw, &after)
		if err := f(&after); err != nil {
			return err
		}
		after.Phase, after.Due = o.sla.Deadline(&after)
		record, _ := json.Marshal(&after)
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, key, record, 0)
			z, words := o.indexes(&after)
			oldZ, oldWords := o.indexes(&before)
			for _, old := range oldZ {
				if !slices.ContainsFunc(z, func(n oldScored) bool { return n.key == old.key }) {
					p.ZRem(ctx, old.key, id)
				}
			}
			for _, old := range oldWords {
				if !slices.Contains(words, old) {
					p.SRem(ctx, old, id)
				}
			}
			for _, n := range z {
				p.ZAdd(ctx, n.key, redis.Z{Score: n.score, Member: id})
			}
			for _, w := range words {
				p.SAdd(ctx, w, id)
			}
			switch {
			case after.Phase == "":
				p.ZRem(ctx, o.key("alert"), id)
			case before.Phase != after.Phase || !before.Due.Equal(after.Due):
				p.ZAdd(ctx, o.key("alert"), redis.Z{Score: float64(after.Due.UnixMilli()), Member: id})
			}
			p.ZRem(ctx, o.key("sla"), id)
			return nil
		})
		return err
	}, key)
}

// The complaints an earlier version filed and changed are found, listed, counted and
// changed the same after the migration, which moves them once; the numbers go on.
func TestComplaintsWrittenByTheVersionBeforeTheShardsMoveOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		loc := jakarta(t)
		cal, _ := domain.NewCalendar(loc, nil)
		sla := domain.SLA{VerifyDays: 3, FollowUpDays: 5, Calendar: cal}
		cs := b.Store.Complaints("BTG", loc).WithSLA(sla)
		old := oldReplica{rdb: b.Store.Client(), prefix: b.Store.Prefix(), ticket: "BTG", loc: loc, sla: sla}

		// 30 complaints over three days by the old version, some changed by it.
		day := time.Date(2026, 11, 24, 2, 0, 0, 0, time.UTC)
		var ids []string
		for i := range 30 {
			cp := newComplaint(day.Add(time.Duration(i)*2*time.Hour+time.Duration(i/10)*24*time.Hour), fmt.Sprint("p", i%7))
			cp.Agency = []string{"pupr", "dlh", ""}[i%3]
			cp.Description = []string{"jalan berlubang di depan pasar", "sampah menumpuk di saluran", "lampu jalan padam"}[i%3]
			if i%4 == 0 {
				cp.Photos = []string{fmt.Sprintf("photo-%d.jpg", i)}
			}
			id, err := old.create(ctx, cp, fmt.Sprintf("webchat:p%d:draft-%d", i%7, i))
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
			switch i % 5 {
			case 1:
				err = old.update(ctx, id, func(c *domain.Complaint) error { return c.Verify("sari", "", cp.CreatedAt.Add(time.Hour)) })
			case 2:
				err = old.update(ctx, id, func(c *domain.Complaint) error {
					c.Verify("sari", "", cp.CreatedAt.Add(time.Hour))
					return c.Finish("budi", "sudah diperbaiki", cp.CreatedAt.Add(5*time.Hour))
				})
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		before := map[string]string{}
		for _, id := range ids {
			raw, err := b.Store.Client().Get(ctx, old.key("c", id)).Result()
			if err != nil {
				t.Fatal(err)
			}
			before[id] = raw
		}

		for run, want := range []int{30, 0} {
			if n, err := cs.Migrate(ctx); n != want || err != nil {
				t.Fatalf("migration %d moved %d (%v), want %d", run+1, n, err, want)
			}
		}

		// Each record as the old version wrote it.
		for _, id := range ids {
			got, err := cs.Get(ctx, id)
			if err != nil {
				t.Fatalf("%s after the migration: %v", id, err)
			}
			var was domain.Complaint
			json.Unmarshal([]byte(before[id]), &was)
			if a, b := mustJSON(t, got), mustJSON(t, &was); a != b {
				t.Errorf("%s changed in the move:\n%s\nwas\n%s", id, a, b)
			}
		}
		// Listed and counted as the records say.
		now := day.Add(30 * 24 * time.Hour)
		res, err := cs.Inbox(ctx, domain.InboxQuery{Size: 100}, now)
		if err != nil || res.Total != 30 || len(res.Complaints) != 30 {
			t.Fatalf("inbox after the migration: %d of %d (%v), want 30", len(res.Complaints), res.Total, err)
		}
		for i, cp := range res.Complaints {
			if cp.ID != ids[29-i] {
				t.Fatalf("inbox order: %d is %s, want %s (newest first)", i, cp.ID, ids[29-i])
			}
		}
		if res.Counts[domain.StatusDone] != 6 || res.Counts[domain.StatusVerified] != 6 || res.Counts[domain.StatusReceived] != 18 {
			t.Errorf("counts after the migration: %v, want 18 received, 6 verified, 6 done", res.Counts)
		}
		words, _ := cs.Inbox(ctx, domain.InboxQuery{Text: "sampah saluran", Agency: "dlh", Size: 100}, now)
		if words.Total != 10 {
			t.Errorf("a search by words and agency found %d, want 10", words.Total)
		}
		mine, _ := cs.ByReporter(ctx, "webchat:p3", 10)
		if len(mine) != 4 || mine[0].ID != ids[24] {
			t.Errorf("p3's complaints after the migration: %d, want 4 (the newest %s)", len(mine), ids[24])
		}
		if kept, _ := cs.PhotoKept(ctx, "photo-8.jpg"); !kept {
			t.Error("a filed complaint's photo is not kept after the migration")
		}
		// Every deadline not yet announced is announced once, as it would have been.
		if claimed, _ := cs.ClaimOverdue(ctx, now); len(claimed) != 24 {
			t.Errorf("%d overdue complaints announced after the migration, want 24 (the open ones)", len(claimed))
		}
		// Nothing of a complaint is left under {cmp} but what every version shares.
		iter := b.Store.Client().Scan(ctx, 0, b.Store.Prefix()+"{cmp}:*", 1000).Iterator()
		for iter.Next(ctx) {
			k := strings.TrimPrefix(iter.Val(), b.Store.Prefix()+"{cmp}:")
			if !strings.HasPrefix(k, "seq:") && !strings.HasPrefix(k, "idem:") && k != "photos" {
				t.Errorf("left under {cmp} after the migration: %s", k)
			}
		}
		// A confirmation the old version filed files nothing again; the day's numbers go on.
		again, created, err := cs.Create(ctx, newComplaint(day, "p0"), "webchat:p0:draft-0")
		if err != nil || created || again.ID != ids[0] {
			t.Errorf("the old confirmation again: %v %v %v, want %s", again, created, err, ids[0])
		}
		next, _, err := cs.Create(ctx, newComplaint(day.Add(20*24*time.Hour+time.Hour), "q"), "webchat:q:1")
		if err != nil || next.ID == "" {
			t.Fatal(err)
		}
		lastDay, _ := cs.Get(ctx, ids[29])
		sameDay := 0
		for _, id := range ids {
			if id[:10] == ids[29][:10] {
				sameDay++
			}
		}
		last, _, _ := cs.Create(ctx, newComplaint(lastDay.CreatedAt.Add(time.Minute), "q"), "webchat:q:2")
		if want := fmt.Sprintf("%s%04d", ids[29][:11], sameDay+1); last.ID != want {
			t.Errorf("the next ticket of a day the old version numbered is %s, want %s", last.ID, want)
		}
		// Changed and found after the move like any other.
		if _, err := cs.Update(ctx, ids[0], func(c *domain.Complaint) error { return c.Verify("sari", "", now) }); err != nil {
			t.Errorf("changing a moved complaint: %v", err)
		}
	})
}

// An old replica still running beside new ones during the roll: what it files is
// found by ticket at once and listed after the next migration pass, numbers never
// repeat, and it cannot change a complaint already moved (it is told "not found").
func TestAnOldReplicaFilingDuringTheRollLosesNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		loc := jakarta(t)
		cs := b.Store.Complaints("BTG", loc)
		old := oldReplica{rdb: b.Store.Client(), prefix: b.Store.Prefix(), ticket: "BTG", loc: loc, sla: cs.SLA()}
		at := time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)
		first, err := old.create(ctx, newComplaint(at, "a"), "a:1")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cs.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		if err := old.update(ctx, first, func(c *domain.Complaint) error { return c.Verify("sari", "", at) }); !errors.Is(err, domain.ErrNotFound) {
			t.Errorf("the old replica changing a moved complaint: %v, want not found", err)
		}

		// Both versions file at once while migration passes run.
		var (
			mu      sync.Mutex
			tickets = []string{first}
			wg      sync.WaitGroup
			stop    = make(chan struct{})
		)
		for w := range 4 {
			wg.Go(func() {
				for i := range 15 {
					who, idem := fmt.Sprint("w", w), fmt.Sprint("w", w, ":", i)
					var id string
					var err error
					if w%2 == 0 {
						id, err = old.create(ctx, newComplaint(at, who), idem)
					} else {
						var cp *domain.Complaint
						cp, _, err = cs.Create(ctx, newComplaint(at, who), idem)
						if cp != nil {
							id = cp.ID
						}
					}
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					tickets = append(tickets, id)
					mu.Unlock()
				}
			})
		}
		migrated := make(chan error, 1)
		go func() {
			for {
				select {
				case <-stop:
					migrated <- nil
					return
				default:
				}
				if _, err := cs.Migrate(ctx); err != nil {
					migrated <- err
					return
				}
			}
		}()
		wg.Wait()
		close(stop)
		if err := <-migrated; err != nil {
			t.Fatal(err)
		}
		if got := slices.Compact(slices.Sorted(slices.Values(tickets))); len(got) != 61 {
			t.Fatalf("%d distinct tickets of 61 filed", len(got))
		}
		// Found by ticket at once, whoever filed it; listed after the next pass.
		for _, id := range tickets {
			if _, err := cs.Get(ctx, id); err != nil {
				t.Errorf("%s: %v", id, err)
			}
		}
		if _, err := cs.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		if res, _ := cs.Inbox(ctx, domain.InboxQuery{}, at); res.Total != 61 {
			t.Errorf("the inbox lists %d, want 61", res.Total)
		}
	})
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
