//go:build unix

package store_test

import (
	"context"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/layan-id/layan/store"
	"github.com/layan-id/layan/store/storetest"
)

// startRedis starts a redis-server on a free loopback port with args and returns its
// address and process; it is killed when the test ends. Without redis-server the
// test is skipped on a developer machine and fails in CI, which installs it.
func startRedis(t *testing.T, args ...string) (string, *os.Process) {
	t.Helper()
	path := storetest.RedisServer(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	cmd := exec.Command(path, append([]string{"--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", t.TempDir()}, args...)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return "127.0.0.1:" + port, cmd.Process
}

// waitFor polls cond every 20 ms for up to 10 s (a process starting, a replica
// connecting).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for range 500 {
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("gave up waiting for %s", what)
}

// When Redis has a replica, a ticket is shown only once the replica has the
// complaint (WAIT), so a failover right after cannot lose it; a replica that does
// not confirm in time is counted, and the ticket still goes out.
func TestATicketIsOnAReplicaBeforeItIsShown(t *testing.T) {
	masterAddr, _ := startRedis(t)
	master := redis.NewClient(&redis.Options{Addr: masterAddr})
	defer master.Close()
	ctx := context.Background()
	waitFor(t, "the master", func() bool { return master.Ping(ctx).Err() == nil })
	st := store.New(master, "layan:")
	cs := st.Complaints("BTG", jakarta(t))
	at := time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)

	// No replica: nothing to wait for.
	if _, _, err := cs.Create(ctx, newComplaint(at, "a"), "a:1"); err != nil || st.Unreplicated() != 0 {
		t.Fatalf("without replicas: %v, unreplicated %d", err, st.Unreplicated())
	}

	replicaAddr, replicaProc := startRedis(t, "--replicaof", strings.Replace(masterAddr, ":", " ", 1))
	replica := redis.NewClient(&redis.Options{Addr: replicaAddr})
	defer replica.Close()
	waitFor(t, "the replica to connect", func() bool {
		info, _ := master.Info(ctx, "replication").Result()
		return strings.Contains(info, "connected_slaves:1") && strings.Contains(info, "state=online")
	})
	for i := range 5 {
		cp, _, err := cs.Create(ctx, newComplaint(at, "b"), "b:"+strconv.Itoa(i))
		if err != nil {
			t.Fatal(err)
		}
		// Read from the replica the moment the ticket would be shown.
		if n, err := replica.Keys(ctx, "layan:{cmp:*}:c:"+cp.ID).Result(); err != nil || len(n) != 1 {
			t.Fatalf("%s is not on the replica when it is shown: %v %v", cp.ID, n, err)
		}
	}
	if st.Unreplicated() != 0 {
		t.Errorf("%d tickets unconfirmed with a live replica", st.Unreplicated())
	}

	// A replica that cannot answer (stopped): the ticket goes out after PromiseWait,
	// counted.
	if err := replicaProc.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer replicaProc.Signal(syscall.SIGCONT)
	if cp, _, err := cs.Create(ctx, newComplaint(at, "c"), "c:1"); err != nil || cp.ID == "" {
		t.Fatalf("with the replica stopped: %v", err)
	}
	if st.Unreplicated() != 1 {
		t.Errorf("unreplicated = %d with the replica stopped, want 1", st.Unreplicated())
	}
}
