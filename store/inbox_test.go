package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/layan-id/layan/domain"
	"github.com/layan-id/layan/store"
	"github.com/layan-id/layan/store/storetest"
)

// fileMany files n complaints over November 2026 with categories, agencies, words and
// statuses drawn from a fixed seed, and returns them as the store keeps them.
func fileMany(t testing.TB, cs *store.Complaints, n int, seed uint64) []*domain.Complaint {
	t.Helper()
	ctx := context.Background()
	loc := time.FixedZone("WIB", 7*3600)
	rng := rand.New(rand.NewPCG(seed, 1))
	cats := []string{"jalan", "sampah", "air", "lainnya"}
	agencies := map[string]string{"jalan": "pupr", "sampah": "dlh", "air": "pdam"}
	words := []string{"lubang", "banjir", "bau", "macet", "gelap", "bocor", "keruh", "retak"}
	var out []*domain.Complaint
	for i := range n {
		at := time.Date(2026, 11, 1, 8, 0, 0, 0, loc).Add(time.Duration(i) * 29 * time.Hour / time.Duration(max(n/20, 1)))
		cat := cats[rng.IntN(len(cats))]
		c := &domain.Complaint{
			Status: domain.StatusReceived, Category: cat, Agency: agencies[cat],
			Description: fmt.Sprintf("ada %s dan %s di dekat rumah nomor %d", words[rng.IntN(len(words))], words[rng.IntN(len(words))], i),
			Reporter:    domain.Reporter{Channel: "webchat", ChatID: fmt.Sprint(i), Key: fmt.Sprint("webchat:", i)},
			CreatedAt:   at, UpdatedAt: at, History: []domain.Event{{At: at, Status: domain.StatusReceived, By: "citizen"}},
		}
		got, _, err := cs.Create(ctx, c, fmt.Sprint("idem-", seed, "-", i))
		if err != nil {
			t.Fatal(err)
		}
		switch rng.IntN(4) {
		case 1:
			got, err = cs.Update(ctx, got.ID, func(c *domain.Complaint) error { return c.Verify("sari", "", at.Add(time.Hour)) })
		case 2:
			got, err = cs.Update(ctx, got.ID, func(c *domain.Complaint) error {
				c.Verify("sari", "", at.Add(time.Hour))
				return c.Finish("budi", "beres", at.Add(2*time.Hour))
			})
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, got)
	}
	return out
}

// Every filter, alone and combined, gives what filtering the complaints one by one
// gives, in the asked order, page by page; the counts per status are the real counts.
func TestTheInboxFindsWhatFilteringOneByOneFinds(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		cs := b.Store.Complaints("BTG", time.FixedZone("WIB", 7*3600))
		all := fileMany(t, cs, 120, 7)
		now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
		nov10, nov15 := all[0].CreatedAt.AddDate(0, 0, 9), all[0].CreatedAt.AddDate(0, 0, 14)
		queries := []domain.InboxQuery{
			{},
			{Status: domain.StatusReceived},
			{Category: "sampah"},
			{Agency: "pupr"},
			{Agency: "-"},
			{Agency: "pdam", Status: domain.StatusVerified},
			{Overdue: true},
			{Overdue: true, Agency: "dlh"},
			{Sort: domain.SortOverdue},
			{Sort: domain.SortOverdue, Overdue: true, Category: "jalan"},
			{From: nov10, To: nov15},
			{From: nov10, Overdue: true},
			{Text: "Lubang"},
			{Text: "lubang BANJIR"},
			{Text: "lubang", Status: domain.StatusDone},
			{Text: "bau", Agency: "dlh", From: nov10},
		}
		for _, q := range queries {
			want := slices.DeleteFunc(slices.Clone(all), func(c *domain.Complaint) bool { return !matches(c, q, now) })
			if q.Sort == domain.SortOverdue {
				slices.SortStableFunc(want, func(a, b *domain.Complaint) int { return a.Due.Compare(b.Due) })
			} else {
				slices.Reverse(want)
			}
			if len(want) == 0 || len(want) == len(all) && q != (domain.InboxQuery{}) {
				t.Errorf("%+v: the data gives %d of %d, which tests nothing", q, len(want), len(all))
			}
			var got []string
			for page := 1; ; page++ {
				q.Page, q.Size = page, 7
				res, err := cs.Inbox(ctx, q, now)
				if err != nil {
					t.Fatal(err)
				}
				if res.Total != int64(len(want)) {
					t.Errorf("%+v: total %d, want %d", q, res.Total, len(want))
				}
				for _, c := range res.Complaints {
					got = append(got, c.ID)
				}
				if len(res.Complaints) < 7 {
					break
				}
			}
			if q.Sort == domain.SortOverdue {
				// equal deadlines may come in either order: compare the deadlines
				for i := range min(len(got), len(want)) {
					g, _ := cs.Get(ctx, got[i])
					if !g.Due.Equal(want[i].Due) {
						t.Errorf("%+v: #%d due %s, want %s", q, i, g.Due, want[i].Due)
						break
					}
				}
				if len(got) != len(want) {
					t.Errorf("%+v: %d complaints, want %d", q, len(got), len(want))
				}
				continue
			}
			if w := ids(want); !slices.Equal(got, w) {
				t.Errorf("%+v:\n got %v\nwant %v", q, got, w)
			}
		}
		res, _ := cs.Inbox(ctx, domain.InboxQuery{Agency: "pupr"}, now)
		for _, st := range domain.Statuses() {
			n := 0
			for _, c := range all {
				if c.Status == st && c.Agency == "pupr" {
					n++
				}
			}
			if res.Counts[st] != int64(n) {
				t.Errorf("pupr %s: counted %d, want %d", st, res.Counts[st], n)
			}
		}
		overdue := 0
		for _, c := range all {
			if c.Agency == "pupr" && c.Overdue(now) {
				overdue++
			}
		}
		if res.Overdue != int64(overdue) || overdue == 0 {
			t.Errorf("pupr overdue: counted %d, want %d (and some)", res.Overdue, overdue)
		}
	})
}

func matches(c *domain.Complaint, q domain.InboxQuery, now time.Time) bool {
	agency := c.Agency
	if agency == "" {
		agency = "-"
	}
	if q.Status != "" && c.Status != q.Status || q.Category != "" && c.Category != q.Category || q.Agency != "" && agency != q.Agency {
		return false
	}
	if q.Overdue && !c.Overdue(now) || q.Sort == domain.SortOverdue && c.Phase == "" {
		return false
	}
	if !q.From.IsZero() && c.CreatedAt.Before(q.From) || !q.To.IsZero() && !c.CreatedAt.Before(q.To) {
		return false
	}
	for _, w := range strings.Fields(strings.ToLower(q.Text)) {
		if !slices.Contains(strings.Fields(c.Description), w) {
			return false
		}
	}
	return true
}

func ids(cs []*domain.Complaint) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}

func TestTheInboxFindsATicketTypedLoosely(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		cs := b.Store.Complaints("BTG", time.FixedZone("WIB", 7*3600))
		all := fileMany(t, cs, 5, 3)
		id := all[2].ID // BTG-2611xx-0001
		loose := strings.ToLower(strings.ReplaceAll(id, "-", " "))
		for _, text := range []string{id, loose, strings.ReplaceAll(id, "-", "")} {
			res, err := cs.Inbox(ctx, domain.InboxQuery{Text: text}, time.Now())
			if err != nil || res.Total != 1 || len(res.Complaints) != 1 || res.Complaints[0].ID != id {
				t.Errorf("search %q: %d found, want %s (%v)", text, res.Total, id, err)
			}
		}
		other := "pdam"
		if all[2].Agency == "pdam" {
			other = "dlh"
		}
		if res, _ := cs.Inbox(ctx, domain.InboxQuery{Text: id, Agency: other}, time.Now()); res.Total != 0 {
			t.Errorf("a ticket of another agency was found in %s's inbox", other)
		}
	})
}

// A complaint written before agencies, deadlines and the inbox's indexes loads as it
// was, and Migrate puts it in the inbox, marked overdue by the old rule.
func TestOldComplaintsLoadAndAreIndexed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		cs := b.Store.Complaints("BTG", time.UTC)
		rdb, p := b.Store.Client(), b.Store.Prefix()
		old := `{"id":"BTG-261101-0001","status":"diterima","category":"jalan","description":"jalan berlubang besar",` +
			`"confidential":false,"reporter":{"channel":"webchat","chat_id":"a","key":"webchat:a"},` +
			`"created_at":"2026-11-01T01:00:00Z","updated_at":"2026-11-01T01:00:00Z",` +
			`"history":[{"at":"2026-11-01T01:00:00Z","status":"diterima","by":"citizen"}],"sla_alerted":true}`
		rdb.Set(ctx, p+"{cmp}:c:BTG-261101-0001", old, 0)
		rdb.ZAdd(ctx, p+"{cmp}:all", redisZ(1793494800000, "BTG-261101-0001"))
		rdb.ZAdd(ctx, p+"{cmp}:status:diterima", redisZ(1793494800000, "BTG-261101-0001"))
		now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
		if res, _ := cs.Inbox(ctx, domain.InboxQuery{Agency: "-"}, now); res.Total != 0 {
			t.Fatalf("found before Migrate: the test is not testing it")
		}
		if n, err := cs.Migrate(ctx); n != 1 || err != nil {
			t.Fatalf("migrate: %d, %v", n, err)
		}
		c, err := cs.Get(ctx, "BTG-261101-0001")
		if err != nil || c.Agency != "" || c.Phase != domain.PhaseVerify {
			t.Fatalf("old record: %+v, %v", c, err)
		}
		res, _ := cs.Inbox(ctx, domain.InboxQuery{Agency: "-", Overdue: true, Text: "berlubang"}, now)
		if res.Total != 1 || res.Complaints[0].ID != "BTG-261101-0001" || !res.Complaints[0].Overdue(now) {
			t.Errorf("after Migrate: %d found, want the old complaint, overdue", res.Total)
		}
		if claimed, _ := cs.ClaimOverdue(ctx, now); len(claimed) != 0 {
			t.Errorf("an old complaint's long-passed deadline was announced on its own: %d", len(claimed))
		}
		if n, _ := cs.Migrate(ctx); n != 0 {
			t.Errorf("migrated again: %d", n)
		}
	})
}

func TestADuplicateFollowsTheOriginal(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		cs := b.Store.Complaints("BTG", time.UTC)
		at := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
		var all []*domain.Complaint
		for _, who := range []string{"a", "b"} {
			c, _, err := cs.Create(ctx, newComplaint(at, who), who)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, c)
		}
		if _, _, err := cs.MarkDuplicate(ctx, all[1].ID, all[1].ID, "sari", at, nil); err == nil {
			t.Error("a complaint was marked a duplicate of itself")
		}
		dup, orig, err := cs.MarkDuplicate(ctx, all[1].ID, all[0].ID, "sari", at, nil)
		if err != nil {
			t.Fatal(err)
		}
		if dup.DuplicateOf != orig.ID || len(orig.Followers) != 1 || orig.Followers[0].Key != all[1].Reporter.Key {
			t.Errorf("dup of %q, original's followers %+v", dup.DuplicateOf, orig.Followers)
		}
		stored, _ := cs.Get(ctx, orig.ID)
		if len(stored.Followers) != 1 {
			t.Error("the original's follower was not kept")
		}
		if res, _ := cs.Inbox(ctx, domain.InboxQuery{Status: domain.StatusRejected}, at); !slices.Contains(ids(res.Complaints), dup.ID) {
			t.Error("the duplicate is not among the rejected")
		}
	})
}

// Deep pages merge the shards right also when one day (one shard) holds most of the
// complaints, so that its share of a page is far more than a twelfth: every page is
// the next slice of the one order, by filing time or by deadline, ties by ticket.
func TestDeepPagesOfTheInboxMergeTheShardsRight(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		loc := time.FixedZone("WIB", 7*3600)
		cs := b.Store.Complaints("BTG", loc)
		busy := time.Date(2026, 11, 10, 7, 0, 0, 0, loc)
		var all []*domain.Complaint
		for i := range 330 {
			at := busy.Add(time.Duration(i/2) * time.Minute) // two at a time: ties
			if i%3 == 0 {
				at = busy.AddDate(0, 0, -1-i%25) // the rest over 25 other days
			}
			c := newComplaint(at, fmt.Sprint("p", i))
			got, _, err := cs.Create(ctx, c, fmt.Sprint("deep-", i))
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, got)
		}
		byTime := slices.Clone(all)
		slices.SortFunc(byTime, func(a, b *domain.Complaint) int {
			if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
				return c
			}
			return strings.Compare(b.ID, a.ID)
		})
		byDue := slices.Clone(all)
		slices.SortFunc(byDue, func(a, b *domain.Complaint) int {
			if c := a.Due.Compare(b.Due); c != 0 {
				return c
			}
			return strings.Compare(a.ID, b.ID)
		})
		for _, tc := range []struct {
			q    domain.InboxQuery
			want []*domain.Complaint
		}{{domain.InboxQuery{}, byTime}, {domain.InboxQuery{Sort: domain.SortOverdue}, byDue}, {domain.InboxQuery{Text: "berlubang pasar"}, byTime}} {
			for page := 1; page <= 7; page++ {
				q := tc.q
				q.Page, q.Size = page, 50
				res, err := cs.Inbox(ctx, q, busy)
				if err != nil {
					t.Fatal(err)
				}
				want := tc.want[min((page-1)*50, len(tc.want)):min(page*50, len(tc.want))]
				if res.Total != 330 || len(res.Complaints) != len(want) {
					t.Fatalf("%+v: %d of %d, want %d of 330", q, len(res.Complaints), res.Total, len(want))
				}
				for i, c := range res.Complaints {
					if c.ID != want[i].ID {
						t.Fatalf("%+v: #%d is %s, want %s", q, (page-1)*50+i, c.ID, want[i].ID)
					}
				}
			}
		}
	})
}
