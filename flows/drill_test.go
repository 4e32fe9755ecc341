package flows_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/domain"
	"github.com/layan-id/layan/flows"
	"github.com/layan-id/layan/locales"
	"github.com/layan-id/layan/store/storetest"
)

// countingAlerts counts the staff alerts of new complaints, per ticket.
type countingAlerts struct {
	mu  sync.Mutex
	new map[string]int
}

func (a *countingAlerts) NewComplaint(_ context.Context, c *domain.Complaint) {
	a.mu.Lock()
	a.new[c.ID]++
	a.mu.Unlock()
}
func (a *countingAlerts) Reopened(context.Context, *domain.Complaint)      {}
func (a *countingAlerts) StatusChanged(context.Context, *domain.Complaint) {}

// TestRedeliveryFloodDrill delivers the same 1,000 platform messages three times at
// once (100 people, each filing a complaint in 10 messages), each delivery to one of
// two engines sharing the store, as two replicas behind a platform that redelivers:
// every message is answered once, the two redeliveries are dropped (carrying the first
// answer for the web chat's retries, nothing for WhatsApp's, which must not be
// answered again), every person files exactly one complaint, staff are alerted once per
// complaint, and no ticket number is given twice. Bounded to 2 minutes.
func TestRedeliveryFloodDrill(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		texts, err := locales.Load("", map[string]any{"Region": "Kabupaten Contoh"})
		if err != nil {
			t.Fatal(err)
		}
		region, err := flows.LoadRegion(locales.Content(""))
		if err != nil {
			t.Fatal(err)
		}
		log := slog.New(slog.DiscardHandler)
		complaints := b.Store.Complaints("DRL", time.UTC)
		alerts := &countingAlerts{new: map[string]int{}}
		router := flows.NewRouter(texts, log)
		router.RegisterComplaints(flows.ComplaintConfig{Store: complaints, Region: region, Alerts: alerts})
		router.RegisterSubscriptions(b.Store.Broadcasts(), region.Topics)
		engines := make([]*bot.Engine, 2)
		for i := range engines {
			engines[i] = bot.NewEngine(bot.EngineConfig{
				Store:   b.Store.Conversations(30*time.Second, time.Hour),
				Handler: router, Apology: router.Apology, Logger: log, Timeout: 20 * time.Second,
			})
		}

		const people, deliveries = 100, 3
		script := []struct{ text, option string }{
			{"halo", ""}, {"lapor", ""}, {"", "cat:jalan"},
			{"Lampu jalan di depan balai desa mati sejak seminggu", ""},
			{"", "loc:skip"}, {"", "photos:done"}, {"", "conf:no"}, {"", "confirm"},
			{"status", ""}, {"menu", ""},
		}
		var handled, dropped, failed atomic.Int64
		var wg sync.WaitGroup
		for p := range people {
			wg.Go(func() {
				user := fmt.Sprintf("62812%07d", p)
				for i, s := range script {
					// Half the people write on WhatsApp, whose redelivery must not be answered
					// again, half on the web chat, whose retry gets the first answer again.
					m := bot.Message{Channel: "whatsapp", ChatID: user, UserID: user, ID: fmt.Sprintf("3EB0%06d%02d", p, i),
						Kind: bot.KindText, Text: s.text, Time: time.Now()}
					if p%2 == 0 {
						m.Channel, m.Retryable = "webchat", true
					}
					if s.option != "" {
						m.Kind, m.Option = bot.KindOption, s.option
					}
					outs := make([]bot.Outcome, deliveries)
					var each sync.WaitGroup
					for d := range deliveries {
						each.Go(func() {
							out, err := engines[(p+d)%2].Handle(ctx, m)
							if err != nil {
								t.Errorf("%s message %d delivery %d: %v", user, i, d, err)
							}
							outs[d] = out
						})
					}
					each.Wait()
					first := -1
					for d, out := range outs {
						switch {
						case out.Failed:
							failed.Add(1)
						case out.Duplicate:
							dropped.Add(1)
						default:
							handled.Add(1)
							if first >= 0 {
								t.Errorf("%s message %d was handled twice", user, i)
							}
							first = d
						}
					}
					if first < 0 {
						t.Errorf("%s message %d was never handled", user, i)
						return
					}
					for _, out := range outs {
						switch {
						case !out.Duplicate:
						case m.Retryable && !slices.EqualFunc(out.Replies, outs[first].Replies, func(a, b bot.Reply) bool { return a.Text == b.Text }):
							t.Errorf("%s message %d: a retry carried %v, not the first answer", user, i, out.Replies)
						case !m.Retryable && len(out.Replies) > 0:
							t.Errorf("%s message %d: a WhatsApp redelivery carried %v, to be sent again", user, i, out.Replies)
						}
					}
					if ctx.Err() != nil {
						return
					}
				}
			})
		}
		wg.Wait()
		if ctx.Err() != nil {
			t.Fatalf("the drill did not finish within its bound: %v", ctx.Err())
		}
		total := int64(people * len(script))
		if handled.Load() != total || dropped.Load() != total*(deliveries-1) || failed.Load() != 0 {
			t.Errorf("handled %d, dropped %d, failed %d; want %d, %d, 0", handled.Load(), dropped.Load(), failed.Load(), total, total*(deliveries-1))
		}

		all, n, err := complaints.List(ctx, "", 1, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if n != people || len(all) != people {
			t.Errorf("%d complaints filed (%d listed), want %d", n, len(all), people)
		}
		reporters := map[string]int{}
		for _, c := range all {
			reporters[c.Reporter.Key]++
		}
		for key, k := range reporters {
			if k != 1 {
				t.Errorf("%s filed %d complaints, want 1", key, k)
			}
		}
		if len(alerts.new) != people {
			t.Errorf("staff were alerted of %d complaints, want %d", len(alerts.new), people)
		}
		for id, k := range alerts.new {
			if k != 1 {
				t.Errorf("staff were alerted %d times of %s", k, id)
			}
		}
	})
}
