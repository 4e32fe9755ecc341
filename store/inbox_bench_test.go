package store

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/layan-id/layan/domain"
)

// benchComplaints is how many complaints the inbox benchmark files.
const benchComplaints = 100_000

// fill writes n complaints over two years, as the store keeps them (record and every
// index), in pipelines of a thousand: the shapes of a regency's desk, with categories,
// agencies, statuses and words drawn from a fixed seed.
func fill(b *testing.B, c *Complaints, n int) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	cats := []string{"jalan", "sampah", "air", "listrik", "kesehatan", "pelayanan", "keamanan", "lainnya"}
	agencies := map[string]string{"jalan": "pupr", "sampah": "dlh", "air": "pdam", "kesehatan": "dinkes", "pelayanan": "dpmptsp", "keamanan": "satpolpp"}
	words := []string{"lubang", "banjir", "bau", "macet", "gelap", "bocor", "keruh", "retak", "antre", "pungli", "parkir", "liar",
		"tumpukan", "saluran", "mampet", "padam", "pohon", "tumbang", "longsor", "pasar", "sekolah", "puskesmas", "balai", "desa"}
	start := time.Date(2024, 12, 1, 0, 0, 0, 0, c.loc)
	statuses := []domain.Status{domain.StatusReceived, domain.StatusVerified, domain.StatusInProgress, domain.StatusDone, domain.StatusDone, domain.StatusDone, domain.StatusRejected}
	for i := 0; i < n; i += 1000 {
		p := c.s.rdb.Pipeline()
		for j := i; j < min(i+1000, n); j++ {
			at := start.Add(time.Duration(j) * (2 * 365 * 24 * time.Hour / time.Duration(n)))
			cat := cats[rng.IntN(len(cats))]
			cp := &domain.Complaint{
				ID: fmt.Sprintf("%s-%s-%04d", c.prefix, at.Format("060102"), j%10000), Schema: domain.ComplaintSchema,
				Status: domain.StatusReceived, Category: cat, Agency: agencies[cat], CreatedAt: at, UpdatedAt: at,
				Description: fmt.Sprintf("%s %s di dekat %s %s, sudah %d hari", words[rng.IntN(len(words))], words[rng.IntN(len(words))],
					words[rng.IntN(len(words))], words[rng.IntN(len(words))], rng.IntN(30)+1),
				Reporter: domain.Reporter{Channel: "whatsapp", ChatID: fmt.Sprint(j), Key: fmt.Sprint("whatsapp:", j)},
				History:  []domain.Event{{At: at, Status: domain.StatusReceived, By: "citizen"}},
			}
			if st := statuses[rng.IntN(len(statuses))]; st != domain.StatusReceived {
				cp.Verify("sari", "", at.Add(time.Hour))
				switch st {
				case domain.StatusInProgress:
					cp.Transition(st, "budi", "", at.Add(2*time.Hour))
				case domain.StatusDone:
					cp.Finish("budi", "beres", at.Add(48*time.Hour))
				case domain.StatusRejected:
					cp.Reject("sari", "bukan kewenangan", at.Add(2*time.Hour))
				}
			}
			c.keepDeadline(cp)
			raw, _ := json.Marshal(cp)
			c.write(ctx, p, nil, cp, raw)
			p.ZAdd(ctx, c.shardKeys(cp.ID)("by", cp.Reporter.Key), redis.Z{Score: float64(at.UnixMilli()), Member: cp.ID})
		}
		if _, err := p.Exec(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkInbox answers the inbox's queries over 100,000 complaints, on the
// embedded store and (with LAYAN_TEST_REDIS_URL) on a real Redis:
//
//	go test -run X -bench Inbox -benchtime 50x -timeout 30m ./store/
func BenchmarkInbox(b *testing.B) {
	backends := map[string]func(b *testing.B) *Store{
		"embedded": func(b *testing.B) *Store {
			// No snapshot rebuild in the background while measuring (filling writes a
			// journal far past the 8 MiB that starts one).
			emb, err := StartEmbeddedWith(context.Background(), b.TempDir(), slog.New(slog.NewTextHandler(io.Discard, nil)),
				EmbeddedOptions{CompactBytes: 1 << 40})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { emb.Close(context.Background()) })
			return New(emb.Client(), "layan:")
		},
	}
	if url := os.Getenv("LAYAN_TEST_REDIS_URL"); url != "" {
		backends["redis"] = func(b *testing.B) *Store {
			opts, err := ClientOptions(url)
			if err != nil {
				b.Fatal(err)
			}
			rdb := redis.NewUniversalClient(opts)
			prefix := fmt.Sprintf("layanbench-%d:", time.Now().UnixNano())
			b.Cleanup(func() {
				ctx := context.Background()
				iter := rdb.Scan(ctx, 0, prefix+"*", 5000).Iterator()
				for iter.Next(ctx) {
					rdb.Unlink(ctx, iter.Val())
				}
				rdb.Close()
			})
			return New(rdb, prefix)
		}
	}
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	queries := []struct {
		name string
		q    domain.InboxQuery
	}{
		{"newest", domain.InboxQuery{}},
		{"status", domain.InboxQuery{Status: domain.StatusReceived}},
		{"agency+status", domain.InboxQuery{Agency: "pupr", Status: domain.StatusInProgress}},
		{"category+agency", domain.InboxQuery{Category: "jalan", Agency: "pupr"}},
		{"month", domain.InboxQuery{From: now.AddDate(0, -1, 0), To: now}},
		{"overdue-first", domain.InboxQuery{Sort: domain.SortOverdue}},
		{"overdue+agency", domain.InboxQuery{Overdue: true, Agency: "dlh"}},
		{"words", domain.InboxQuery{Text: "banjir saluran"}},
		{"words+status", domain.InboxQuery{Text: "pungli", Status: domain.StatusDone}},
		{"ticket", domain.InboxQuery{Text: "btg 260101 0042"}},
		{"page-100", domain.InboxQuery{Page: 100}},
	}
	for name, open := range backends {
		b.Run(name, func(b *testing.B) {
			st := open(b)
			cal, _ := domain.NewCalendar(time.UTC, nil)
			c := st.Complaints("BTG", time.UTC).WithSLA(domain.SLA{VerifyDays: 3, FollowUpDays: 5, Calendar: cal})
			fill(b, c, benchComplaints)
			for _, q := range queries {
				b.Run(q.name, func(b *testing.B) {
					ctx := context.Background()
					q.q.Size = 50
					var total int64
					for b.Loop() {
						res, err := c.Inbox(ctx, q.q, now)
						if err != nil {
							b.Fatal(err)
						}
						total = res.Total
					}
					b.ReportMetric(float64(total), "matches")
				})
			}
		})
	}
}
