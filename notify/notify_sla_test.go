package notify_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/domain"
	"github.com/layan-id/layan/notify"
)

// deadlineStore holds complaints in memory and claims as the store does: each passed
// deadline once, each day's digest once (the store's own claims are tested on Redis
// in package store).
type deadlineStore struct {
	mu      sync.Mutex
	cs      []*domain.Complaint
	claimed map[string]bool
}

func (s *deadlineStore) ClaimOverdue(_ context.Context, now time.Time) ([]*domain.Complaint, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*domain.Complaint
	for _, c := range s.cs {
		if c.Overdue(now) && !s.claimed[c.ID] {
			s.claimed[c.ID] = true
			out = append(out, c)
		}
	}
	return out, nil
}

func (s *deadlineStore) ClaimDigest(_ context.Context, day string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.claimed["digest "+day] {
		return false, nil
	}
	s.claimed["digest "+day] = true
	return true, nil
}

func (s *deadlineStore) Inbox(_ context.Context, q domain.InboxQuery, now time.Time) (domain.InboxPage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var p domain.InboxPage
	for _, c := range s.cs {
		if c.Overdue(now) && (q.Agency == "" || c.Agency == q.Agency) {
			p.Complaints = append(p.Complaints, c)
		}
	}
	p.Total = int64(len(p.Complaints))
	return p, nil
}

// Two replicas watch the deadlines from Monday 06:58 to the next Monday: each passed
// deadline is announced once, the agency's follow-up to the agency's chat and a
// verification to the admins'; the digest goes at 07:00 on working days only (not on
// Saturday, Sunday or the holiday), once a day, to the admins with every overdue
// complaint and to each agency with its own.
func TestOverdueComplaintsAreAnnouncedOnceAndDigestedEachWorkingMorning(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		jakarta, _ := time.LoadLocation("Asia/Jakarta")
		start := time.Date(2026, 11, 30, 6, 58, 0, 0, jakarta) // a Monday
		offset := start.Sub(time.Now())
		catalog := texts(t)
		cal, _ := domain.NewCalendar(jakarta, []string{"2026-12-02"}) // Wednesday is a holiday
		ch := newPhone("test", catalog)
		sender := bot.NewSender(quiet())
		sender.Register(ch, bot.Limits{})
		store := &deadlineStore{claimed: map[string]bool{}, cs: []*domain.Complaint{
			{ID: "ADU-261120-0001", Category: "jalan", Agency: "pupr", Status: domain.StatusInProgress,
				Phase: domain.PhaseFollowUp, Due: time.Date(2026, 11, 28, 0, 0, 0, 0, jakarta)},
			{ID: "ADU-261125-0002", Category: "sampah", Status: domain.StatusReceived,
				Phase: domain.PhaseVerify, Due: time.Date(2026, 11, 30, 7, 30, 0, 0, jakarta)},
			{ID: "ADU-261126-0003", Category: "air", Agency: "pdam", Status: domain.StatusVerified,
				Phase: domain.PhaseFollowUp, Due: time.Date(2026, 12, 10, 0, 0, 0, 0, jakarta)},
		}}
		ctx, cancel := context.WithCancel(context.Background())
		var replicas sync.WaitGroup
		for range 2 {
			n := newNotifier(t, notify.Config{Engine: &engine{}, Sender: sender, Texts: catalog, Location: jakarta,
				Staff: bot.Recipient{Channel: "test", ChatID: "admins"}, Complaints: store, Calendar: cal,
				Agencies:    []domain.Agency{{Code: "pupr", Name: "Dinas PUPR"}},
				AgencyChats: map[string]bot.Recipient{"pupr": {Channel: "test", ChatID: "pupr"}},
				Now:         func() time.Time { return time.Now().Add(offset) }})
			replicas.Go(func() { n.Run(ctx) })
		}
		time.Sleep(7*24*time.Hour + 5*time.Minute)
		cancel()
		replicas.Wait()

		admins, pupr := ch.read("admins"), ch.read("pupr")
		count := func(msgs []string, part string) int {
			n := 0
			for _, m := range msgs {
				if strings.Contains(m, part) {
					n++
				}
			}
			return n
		}
		if n := count(pupr, "Perhatian: pengaduan ADU-261120-0001"); n != 1 {
			t.Errorf("the agency's overdue follow-up announced %d times in its chat, want once: %q", n, pupr)
		}
		if n := count(admins, "Perhatian: pengaduan ADU-261125-0002"); n != 1 {
			t.Errorf("the overdue verification announced %d times to the admins, want once: %q", n, admins)
		}
		if count(admins, "Perhatian: pengaduan ADU-261120-0001") != 0 || count(pupr, "ADU-261125-0002") != 0 {
			t.Error("an announcement went to the wrong chat")
		}
		// Working days in the week: Mon 30, Tue 1, (Wed 2 holiday), Thu 3, Fri 4, and the next Mon 7.
		digests := func(msgs []string) []string {
			var days []string
			for _, m := range msgs {
				if d, ok := strings.CutPrefix(m, "Rekap pengaduan terlambat, "); ok {
					days = append(days, d[:10])
				}
			}
			return days
		}
		want := []string{"30-11-2026", "01-12-2026", "03-12-2026", "04-12-2026", "07-12-2026"}
		if got := digests(admins); !slices.Equal(got, want) {
			t.Errorf("admins' digests on %v, want %v", got, want)
		}
		if got := digests(pupr); !slices.Equal(got, want) {
			t.Errorf("the agency's digests on %v, want %v", got, want)
		}
		for _, m := range admins {
			if strings.HasPrefix(m, "Rekap pengaduan terlambat, 30-11-2026") && (!strings.Contains(m, "ADU-261120-0001") || strings.Contains(m, "ADU-261125-0002")) {
				t.Errorf("Monday 07:00 digest: %q, want the follow-up overdue since Saturday and not the verification due 07:30", m)
			}
			if strings.HasPrefix(m, "Rekap pengaduan terlambat, 01-12-2026") && !strings.Contains(m, "ADU-261125-0002") {
				t.Errorf("Tuesday's digest lacks the verification overdue since Monday: %q", m)
			}
		}
		for _, m := range pupr {
			if strings.Contains(m, "ADU-261125-0002") || strings.Contains(m, "ADU-261126-0003") {
				t.Errorf("the agency's digest names another's complaint: %q", m)
			}
		}
	})
}
