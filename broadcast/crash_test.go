package broadcast_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/broadcast"
	"github.com/layan-id/layan/domain"
	"github.com/layan-id/layan/store"
)

// fileSender is the "fake channel" of the delivering child process: each delivery is
// written to a file (and synced) before SendBulk returns, so the parent can count what
// reached the channel even after the child is killed.
type fileSender struct {
	mu sync.Mutex
	f  *os.File
}

func (s *fileSender) SendBulk(ctx context.Context, to bot.Recipient, replies ...bot.Reply) error {
	time.Sleep(2 * time.Millisecond) // a real channel takes a while
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintln(s.f, to.ChatID)
	return s.f.Sync()
}

func (s *fileSender) CanSend(string) bool { return true }

// TestCrashChild is the delivering process that the crash test kills; it runs only
// when started by TestAKilledDelivery.
func TestCrashChild(t *testing.T) {
	addr := os.Getenv("LAYAN_CRASH_CHILD_REDIS")
	if addr == "" {
		t.Skip("run by TestAKilledDelivery")
	}
	f, err := os.OpenFile(os.Getenv("LAYAN_CRASH_CHILD_LOG"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	st := store.New(redis.NewClient(&redis.Options{Addr: addr}), "layan:").Broadcasts()
	s := broadcast.New(broadcast.Config{Store: st, Sender: &fileSender{f: f}, Workers: 8})
	// The run's guarantee was recorded when it started: the child needs none here.
	s.Deliver(context.Background()) // until killed
	select {}
}

// TestAKilledDelivery kills a real delivering process with SIGKILL in the middle of a
// run of 2,000 and lets another process carry on, for each guarantee. At most once
// (pengumuman): nobody gets it twice, and the deliveries cut off count unknown. At
// least once (darurat): everybody gets it, a repeat only for those cut off mid-send,
// and nobody is unknown. Either way the run stays open while the dead process's leases
// could still be live, and closes as soon as they lapse (Lease, 15 s), not minutes on.
func TestAKilledDelivery(t *testing.T) {
	for _, c := range []struct {
		topic string
		g     domain.Guarantee
	}{{"pengumuman", domain.AtMostOnce}, {"darurat", domain.AtLeastOnce}} {
		t.Run(string(c.g), func(t *testing.T) { killedDelivery(t, c.topic, c.g) })
	}
}

func killedDelivery(t *testing.T, topic string, g domain.Guarantee) {
	m := miniredis.RunT(t) // shared by both processes over TCP
	ctx := context.Background()
	st := store.New(redis.NewClient(&redis.Options{Addr: m.Addr()}), "layan:").Broadcasts()
	const n = 2000
	subscribe(t, st, n, topic, "telegram", "id")
	now := time.Now()
	at := now.Add(-time.Minute)
	id := create(t, st, &domain.Broadcast{Topics: []string{topic}, At: &at, CreatedAt: at.Add(-time.Hour)})
	guarantees := map[string]domain.Guarantee{"darurat": domain.AtLeastOnce}
	if err := broadcast.New(broadcast.Config{Store: st, Sender: newCounting(), Guarantees: guarantees}).Schedule(ctx); err != nil {
		t.Fatal(err)
	}
	run := domain.RunID(id, at)

	// The first process delivers until it is killed with SIGKILL mid-run.
	conns := m.CurrentConnectionCount() // this process's own
	logPath := t.TempDir() + "/child.log"
	child := exec.Command(os.Args[0], "-test.run=^TestCrashChild$")
	child.Env = append(os.Environ(), "LAYAN_CRASH_CHILD_REDIS="+m.Addr(), "LAYAN_CRASH_CHILD_LOG="+logPath)
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for len(readLines(t, logPath)) < n/4 {
		if time.Now().After(deadline) {
			child.Process.Kill()
			t.Fatal("the child delivered too little in 30 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	child.Process.Kill() // kill -9: no cleanup, deliveries in flight are cut off
	child.Wait()
	// Commands the child wrote just before it died are still carried out: wait until
	// the store has read its connections to the end, so "in flight" below is final.
	for m.CurrentConnectionCount() > conns {
		if time.Now().After(deadline) {
			t.Fatal("the killed child's connections stayed open")
		}
		time.Sleep(time.Millisecond)
	}
	killed := time.Now()
	byChild := readLines(t, logPath)
	cut := map[string]bool{} // in flight at the kill
	fate, _ := st.Fate(ctx, run)
	for key, f := range fate {
		if strings.HasPrefix(f, "inflight:") {
			cut[strings.TrimPrefix(key, "telegram:")] = true
		}
	}
	if len(cut) == 0 {
		t.Fatal("nothing was in flight at the kill: the drill proves nothing")
	}

	// Another process carries on at once: it delivers the rest, but the run stays
	// open, since the dead process's leases have not lapsed yet.
	rest := newCounting()
	clk := &clock{t: killed}
	second := broadcast.New(broadcast.Config{Store: st, Sender: rest, Now: clk.now, Guarantees: guarantees})
	if err := second.Deliver(ctx); err != nil {
		t.Fatal(err)
	}
	if r, _ := st.Run(ctx, run); r.State != domain.RunDelivering {
		t.Errorf("the run closed while the killed process's leases could still be live: %+v", r)
	}
	// One lease later they have lapsed: the next look closes the run.
	clk.set(killed.Add(broadcast.DefaultLease))
	if err := second.Deliver(ctx); err != nil {
		t.Fatal(err)
	}

	got := map[string]int{}
	for _, chat := range byChild {
		got[chat]++
	}
	for chat, texts := range rest.got {
		got[chat] += len(texts)
	}
	var twice, never int
	for i := range n {
		chat := fmt.Sprintf("telegram-%d", i)
		switch {
		case got[chat] > 2 || got[chat] == 2 && (g == domain.AtMostOnce || !cut[chat]):
			t.Errorf("%s received the broadcast %d times (in flight at the kill: %v)", chat, got[chat], cut[chat])
		case got[chat] == 2:
			twice++
		case got[chat] == 0 && (g == domain.AtLeastOnce || !cut[chat]):
			t.Errorf("%s never received it (in flight at the kill: %v)", chat, cut[chat])
		case got[chat] == 0:
			never++
		}
	}
	r, _ := st.Run(ctx, run)
	t.Logf("%s: the child delivered %d before the kill with %d in flight, the second process %d; %d got it twice, %d never; run %+v",
		g, len(byChild), len(cut), rest.total(), twice, never, r)
	if r.State != domain.RunDone || r.Guarantee != g || r.Sent+r.Unknown != n {
		t.Errorf("run %+v, want done, %s, every recipient sent or unknown", r, g)
	}
	switch g {
	case domain.AtMostOnce:
		if r.Unknown != int64(len(cut)) || r.Resent != 0 {
			t.Errorf("at most once: %d unknown and %d resent, want the %d cut off unknown and none resent", r.Unknown, r.Resent, len(cut))
		}
	case domain.AtLeastOnce:
		if r.Unknown != 0 || r.Resent != int64(len(cut)) {
			t.Errorf("at least once: %d unknown and %d resent, want none unknown and the %d cut off resent", r.Unknown, r.Resent, len(cut))
		}
	}
}

func readLines(t *testing.T, path string) []string {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}
