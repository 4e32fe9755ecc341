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
// when started by TestAKilledDeliveryIsNeverRepeated.
func TestCrashChild(t *testing.T) {
	addr := os.Getenv("LAYAN_CRASH_CHILD_REDIS")
	if addr == "" {
		t.Skip("run by TestAKilledDeliveryIsNeverRepeated")
	}
	f, err := os.OpenFile(os.Getenv("LAYAN_CRASH_CHILD_LOG"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	st := store.New(redis.NewClient(&redis.Options{Addr: addr}), "layan:").Broadcasts()
	s := broadcast.New(broadcast.Config{Store: st, Sender: &fileSender{f: f}, Workers: 8})
	s.Deliver(context.Background()) // until killed
	select {}
}

func TestAKilledDeliveryIsNeverRepeated(t *testing.T) {
	m := miniredis.RunT(t) // shared by both processes over TCP
	ctx := context.Background()
	st := store.New(redis.NewClient(&redis.Options{Addr: m.Addr()}), "layan:").Broadcasts()
	const n = 2000
	subscribe(t, st, n, "darurat", "telegram", "id")
	now := time.Now()
	at := now.Add(-time.Minute)
	id := create(t, st, &domain.Broadcast{Topics: []string{"darurat"}, At: &at, CreatedAt: at.Add(-time.Hour)})
	clk := &clock{t: now}
	if err := service(t, st, newCounting(), clk).Schedule(ctx); err != nil {
		t.Fatal(err)
	}

	// The first process delivers until it is killed with SIGKILL mid-run.
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
	byChild := readLines(t, logPath)

	// Another process finishes the run.
	rest := newCounting()
	s := broadcast.New(broadcast.Config{Store: st, Sender: rest, Stale: time.Millisecond})
	time.Sleep(5 * time.Millisecond) // let the child's in-flight marks go stale
	if err := s.Deliver(ctx); err != nil {
		t.Fatal(err)
	}

	seen := map[string]int{}
	for _, chat := range byChild {
		seen[chat]++
	}
	for chat, texts := range rest.got {
		seen[chat] += len(texts)
	}
	fate, _ := st.Fate(ctx, domain.RunID(id, at))
	unknown := 0
	for i := range n {
		chat := fmt.Sprintf("telegram-%d", i)
		inflight := strings.HasPrefix(fate["telegram:"+chat], "inflight:")
		switch {
		case seen[chat] > 1:
			t.Errorf("%s received the broadcast %d times", chat, seen[chat])
		case seen[chat] == 0 && !inflight:
			t.Errorf("%s never received it and is not listed as unknown (fate %q)", chat, fate["telegram:"+chat])
		case inflight:
			unknown++
		}
	}
	runs, _ := st.Runs(ctx, id, 1)
	t.Logf("child delivered %d before the kill, the second process %d; %d unknown; run %+v",
		len(byChild), rest.total(), unknown, runs[0])
	if runs[0].State != domain.RunDone || runs[0].Unknown != int64(unknown) || runs[0].Sent+runs[0].Unknown < n-int64(unknown) {
		t.Errorf("run %+v, want done with %d unknown", runs[0], unknown)
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
