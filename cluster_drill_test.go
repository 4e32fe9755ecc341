package main

import (
	"context"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/broadcast"
	"github.com/layan-id/layan/domain"
	"github.com/layan-id/layan/store"
	"github.com/layan-id/layan/store/storetest"
)

// redisNode is one redis-server of a test cluster, run as a child process.
type redisNode struct {
	port int
	cmd  *exec.Cmd
	rdb  *redis.Client
	id   string
}

func (n *redisNode) addr() string { return "127.0.0.1:" + strconv.Itoa(n.port) }

// clusterPorts returns n loopback ports that are free together with their cluster bus
// ports (port+10000), outside the range .ci/run takes its Redis from.
func clusterPorts(t *testing.T, n int) []int {
	t.Helper()
	free := func(p int) bool {
		ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			return false
		}
		ln.Close()
		return true
	}
	var ports []int
	for tries := 0; len(ports) < n; tries++ {
		if tries > 1000 {
			t.Fatal("no free ports for a test cluster")
		}
		p := 20000 + mrand.IntN(20000)
		if !slices.Contains(ports, p) && free(p) && free(p+10000) {
			ports = append(ports, p)
		}
	}
	return ports
}

// startCluster starts 3 masters and 3 replicas of redis-server on loopback, joins them
// into a cluster (masters 0–2, node 3+i replicating node i) and waits until every node
// sees the cluster ok and every replica is in sync. nodeTimeout is the cluster's
// cluster-node-timeout: how long a silent master has before its replica takes over.
func startCluster(t *testing.T, nodeTimeout time.Duration) []*redisNode {
	t.Helper()
	bin := storetest.RedisServer(t)
	dir := t.TempDir()
	ctx := context.Background()
	var nodes []*redisNode
	for _, port := range clusterPorts(t, 6) {
		p := strconv.Itoa(port)
		cmd := exec.Command(bin, "--port", p, "--bind", "127.0.0.1", "--dir", dir,
			"--cluster-enabled", "yes", "--cluster-config-file", "nodes-"+p+".conf",
			"--cluster-node-timeout", strconv.FormatInt(nodeTimeout.Milliseconds(), 10),
			"--save", "", "--appendonly", "no", "--logfile", filepath.Join(dir, p+".log"))
		if err := cmd.Start(); err != nil {
			t.Fatalf("start redis-server: %v", err)
		}
		n := &redisNode{port: port, cmd: cmd}
		n.rdb = redis.NewClient(&redis.Options{Addr: n.addr(), MaxRetries: -1})
		nodes = append(nodes, n)
		t.Cleanup(func() {
			n.rdb.Close()
			if n.cmd.ProcessState == nil {
				n.cmd.Process.Kill()
				n.cmd.Wait()
			}
		})
	}
	waitFor(t, 10*time.Second, "redis-server nodes answering", func() bool {
		for _, n := range nodes {
			if n.rdb.Ping(ctx).Err() != nil {
				return false
			}
		}
		return true
	})
	for i, n := range nodes {
		id, err := n.rdb.ClusterMyID(ctx).Result()
		if err != nil {
			t.Fatal(err)
		}
		n.id = id
		if i < 3 { // masters 0, 1, 2 take a third of the slots each
			var slots []int
			for s := i * 16384 / 3; s < (i+1)*16384/3; s++ {
				slots = append(slots, s)
			}
			if err := n.rdb.ClusterAddSlots(ctx, slots...).Err(); err != nil {
				t.Fatalf("CLUSTER ADDSLOTS: %v", err)
			}
		}
		if i > 0 {
			if err := n.rdb.ClusterMeet(ctx, "127.0.0.1", strconv.Itoa(nodes[0].port)).Err(); err != nil {
				t.Fatalf("CLUSTER MEET: %v", err)
			}
		}
	}
	waitFor(t, 20*time.Second, "every node knowing the others", func() bool {
		for _, n := range nodes {
			out, err := n.rdb.ClusterNodes(ctx).Result()
			if err != nil || strings.Count(out, "connected") < 6 {
				return false
			}
		}
		return true
	})
	for i := 3; i < 6; i++ {
		if err := nodes[i].rdb.ClusterReplicate(ctx, nodes[i-3].id).Err(); err != nil {
			t.Fatalf("CLUSTER REPLICATE: %v", err)
		}
	}
	waitFor(t, 20*time.Second, "the cluster ok with its replicas in sync", func() bool {
		for i, n := range nodes {
			info, err := n.rdb.ClusterInfo(ctx).Result()
			if err != nil || !strings.Contains(info, "cluster_state:ok") {
				return false
			}
			if i >= 3 {
				repl, err := n.rdb.Info(ctx, "replication").Result()
				if err != nil || !strings.Contains(repl, "master_link_status:up") {
					return false
				}
			}
		}
		return true
	})
	return nodes
}

// waitFor polls cond every 50 ms until it holds, failing the test after limit.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", limit, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// attempt is one chat request of the drill's load.
type attempt struct {
	layan      int // which process
	start, end time.Time
	err        error
}

// TestClusterDrillMasterKilled runs three Layan processes on a 6-node Redis Cluster
// (3 masters, 3 replicas) of real redis-servers. Citizens file complaints whose
// messages hop between the processes, while other people chat, each message to the
// next process in turn. Then the master holding the most keys is killed with SIGKILL.
// Its replica takes over after cluster-node-timeout (2 s here); Layan must notice by
// itself: /readyz answers 503 on every process while the cluster cannot serve, and
// requests succeed again soon after the failover. The drill prints the seconds from the
// kill to the failover and to the last failed request, and fails beyond 30 s. Every
// ticket a citizen was shown is still there afterwards, and complaints filed after
// the failover get new, distinct tickets.
func TestClusterDrillMasterKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs a Redis Cluster")
	}
	nodes := startCluster(t, 2*time.Second)
	bin := buildLayan(t)
	var addrs []string
	for _, n := range nodes {
		addrs = append(addrs, n.addr())
	}
	adminToken := randomHex(t)
	var layans []*child
	for range 3 {
		c := startChild(t, bin, []string{
			"REDIS_URL=redis+cluster://" + strings.Join(addrs, ","), "DATA_DIR=" + t.TempDir(),
			"ADMIN_TOKEN=" + adminToken, "TICKET_PREFIX=DRL", "REGION_NAME=Kabupaten Uji",
			"LOG_LEVEL=error", "WEBCHAT_LIMITS=off",
		})
		t.Cleanup(c.kill)
		layans = append(layans, c)
	}
	for _, c := range layans {
		waitFor(t, 10*time.Second, "/readyz 200 on the cluster", func() bool { return readyz(c) == 200 })
	}

	// fileComplaint walks the complaint form, each message to the next process in turn,
	// and returns the ticket shown and the conversation's token.
	// The confirmation goes to two processes at once with the same message id (a
	// platform's redelivery, a retry through another replica): one complaint, and
	// both answers show its ticket.
	fileComplaint := func(who int) (string, string, error) {
		token := ""
		steps := []string{"halo", "lapor", "1", "Jalan desa berlubang besar di depan balai desa sejak dua minggu", "lewati", "lanjut", "2"}
		for i, text := range steps {
			tok, _, err := layans[(who+i)%3].chat(token, fmt.Sprintf("cmp%d-%d", who, i), text)
			if err != nil {
				return "", "", fmt.Errorf("citizen %d, %q: %w", who, text, err)
			}
			token = tok
		}
		var shown [2]string
		var errs [2]error
		var both sync.WaitGroup
		for k := range 2 {
			both.Go(func() {
				var replies []string
				_, replies, errs[k] = layans[(who+len(steps)+k)%3].chat(token, fmt.Sprintf("cmp%d-confirm", who), "1")
				shown[k] = ticketRE.FindString(strings.Join(replies, "\n"))
			})
		}
		both.Wait()
		if errs[0] != nil || errs[1] != nil {
			return "", "", fmt.Errorf("citizen %d, the confirmation: %v, %v", who, errs[0], errs[1])
		}
		if shown[0] == "" || shown[0] != shown[1] {
			return "", "", fmt.Errorf("citizen %d: the confirmation sent to two processes at once showed tickets %q", who, shown)
		}
		return shown[0], token, nil
	}
	type filed struct{ ticket, token string }
	var tickets []filed
	var mu sync.Mutex
	var wg sync.WaitGroup
	for who := range 6 {
		wg.Go(func() {
			ticket, token, err := fileComplaint(who)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			tickets = append(tickets, filed{ticket, token})
			mu.Unlock()
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}

	// The load: 12 people chatting, each message to the next process.
	var attempts []attempt
	stop := make(chan struct{})
	var load sync.WaitGroup
	client := &http.Client{Timeout: 15 * time.Second}
	for w := range 12 {
		load.Go(func() {
			token := ""
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				a := attempt{layan: (w + i) % 3, start: time.Now()}
				tok, _, err := layans[a.layan].chatWith(client, token, fmt.Sprintf("w%d-%d", w, i), []string{"halo", "menu", "wisata", "ktp hilang gmn"}[i%4])
				a.end, a.err = time.Now(), err
				if err == nil {
					token = tok
				}
				// A person's pace: four messages a second at most, within the web
				// chat's limit per conversation.
				time.Sleep(time.Until(a.start.Add(250 * time.Millisecond)))
				mu.Lock()
				attempts = append(attempts, a)
				mu.Unlock()
			}
		})
	}
	time.Sleep(2 * time.Second)
	mu.Lock()
	for _, a := range attempts {
		if a.err != nil {
			t.Errorf("before any failure, a request failed: %v", a.err)
		}
	}
	before := len(attempts)
	mu.Unlock()
	if before == 0 {
		t.Fatal("no request answered in 2 s of load")
	}

	// Kill the master holding the most keys.
	ctx := context.Background()
	victim := 0
	var most int64 = -1
	for i := range 3 {
		if n, err := nodes[i].rdb.DBSize(ctx).Result(); err == nil && n > most {
			victim, most = i, n
		}
	}
	replica := nodes[victim+3]
	killed := time.Now()
	nodes[victim].cmd.Process.Signal(syscall.SIGKILL)
	nodes[victim].cmd.Wait()

	// Watch the failover, and the first process's /readyz meanwhile (only its: a
	// /readyz reloads the slot map, and the other two must recover without that help).
	var failover time.Time
	unready := false
	deadline := killed.Add(40 * time.Second)
	for time.Now().Before(deadline) {
		if failover.IsZero() {
			if role, err := replica.rdb.Do(ctx, "ROLE").Slice(); err == nil && len(role) > 0 && role[0] == "master" {
				failover = time.Now()
			}
		}
		if readyz(layans[0]) == http.StatusServiceUnavailable {
			unready = true
		}
		mu.Lock()
		var lastFail time.Time
		for _, a := range attempts[before:] {
			if a.err != nil && a.end.After(lastFail) {
				lastFail = a.end
			}
		}
		mu.Unlock()
		// Done once the cluster failed over and 3 s of requests have all succeeded.
		if !failover.IsZero() && time.Since(lastFail) > 3*time.Second && time.Since(failover) > 3*time.Second {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	close(stop)
	load.Wait()

	var failed, after int
	var lastFail time.Time
	lastFailOf := make([]time.Time, 3)
	kinds := map[string]int{}
	for _, a := range attempts[before:] {
		after++
		if a.err != nil {
			failed++
			kinds[a.err.Error()]++
			lastFail = later(lastFail, a.end)
			lastFailOf[a.layan] = later(lastFailOf[a.layan], a.end)
		}
	}
	if failover.IsZero() {
		t.Fatalf("the replica never took over within 40 s of the master's death")
	}
	recovered := 0.0
	if !lastFail.IsZero() {
		recovered = lastFail.Sub(killed).Seconds()
	}
	var per []string
	for i, at := range lastFailOf {
		if at.IsZero() {
			per = append(per, fmt.Sprintf("Layan %d none failed", i))
		} else {
			per = append(per, fmt.Sprintf("Layan %d %.1f s", i, at.Sub(killed).Seconds()))
		}
	}
	t.Logf("master %s killed holding %d keys; its replica took over after %.1f s; the last failed request ended %.1f s after the kill (%.1f s after the failover; %s); %d of %d requests after the kill failed; %d answered before it",
		nodes[victim].addr(), most, failover.Sub(killed).Seconds(), recovered, lastFail.Sub(failover).Seconds(), strings.Join(per, ", "), failed, after, before)
	if recovered > 10 {
		t.Logf("failures after the kill: %v", kinds)
	}
	if recovered > 30 {
		t.Errorf("requests kept failing for %.1f s after the master died, want recovery within 30 s", recovered)
	}
	if !lastFail.IsZero() && time.Since(lastFail) < 3*time.Second {
		t.Errorf("requests were still failing 40 s after the master died")
	}
	if !unready {
		t.Errorf("/readyz answered 200 throughout, while the cluster had a dead master")
	}
	for i, c := range layans {
		if code := readyz(c); code != 200 {
			t.Errorf("Layan %d: /readyz %d after the failover, want 200", i, code)
		}
	}

	// Every ticket shown before is still there, and the citizen can ask for it.
	for i, f := range tickets {
		c := layans[i%3]
		var got struct {
			ID string `json:"id"`
		}
		if code, err := c.staff(adminToken, "GET", "/api/admin/complaints/"+f.ticket, nil, &got); err != nil || code != 200 || got.ID != f.ticket {
			t.Errorf("ticket %s shown before the kill: staff API %d %v %q", f.ticket, code, err, got.ID)
		}
		if _, replies, err := c.chat(f.token, "status-"+f.ticket, "status"); err != nil || !strings.Contains(strings.Join(replies, "\n"), f.ticket) {
			t.Errorf("the citizen of %s asked for status after the failover and got %q (%v)", f.ticket, replies, err)
		}
	}
	// Complaints filed after the failover get new, distinct tickets, and there are as
	// many complaints as tickets shown: no confirmation had two effects.
	seen := map[string]bool{}
	for _, f := range tickets {
		seen[f.ticket] = true
	}
	for who := 10; who < 13; who++ {
		ticket, _, err := fileComplaint(who)
		if err != nil {
			t.Errorf("after the failover: %v", err)
			continue
		}
		if seen[ticket] {
			t.Errorf("ticket %s given out twice", ticket)
		}
		seen[ticket] = true
	}
	var list struct {
		Total int `json:"total"`
	}
	if code, err := layans[0].staff(adminToken, "GET", "/api/admin/complaints", nil, &list); err != nil || code != 200 || list.Total != len(seen) {
		t.Errorf("the staff API lists %d complaints (%d %v), want the %d tickets shown", list.Total, code, err, len(seen))
	}
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// readyz returns the status code of GET /readyz, or 0 when the process does not answer.
func readyz(c *child) int {
	client := &http.Client{Timeout: 3 * time.Second}
	res, err := client.Get("http://" + c.addr + "/readyz")
	if err != nil {
		return 0
	}
	res.Body.Close()
	return res.StatusCode
}

// clusterSender records every delivery of the cluster broadcast test.
type clusterSender struct {
	mu  sync.Mutex
	got map[string]int
}

func (s *clusterSender) SendBulk(ctx context.Context, to bot.Recipient, replies ...bot.Reply) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got[to.ChatID]++
	return nil
}

func (s *clusterSender) CanSend(string) bool { return true }

// TestClusterBroadcastReachesEachSubscriberOnce runs three broadcast services (three
// replicas) on a 6-node Redis Cluster and sends a warning to 2,000 subscribers: each
// gets it once, the run closes done with 2,000 sent, and nothing fails for crossing
// slots (the run's keys live under their own hash tag, the topic sets under {bc}).
func TestClusterBroadcastReachesEachSubscriberOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a Redis Cluster")
	}
	nodes := startCluster(t, 2*time.Second)
	var addrs []string
	for _, n := range nodes {
		addrs = append(addrs, n.addr())
	}
	opts, err := store.ClientOptions("redis+cluster://" + strings.Join(addrs, ","))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var replicas []*store.Broadcasts
	for range 3 {
		rdb := store.NewClient(opts)
		t.Cleanup(func() { rdb.Close() })
		replicas = append(replicas, store.New(rdb, "layan:").Broadcasts())
	}
	var rs []domain.Recipient
	for i := range 2000 {
		chat := strconv.Itoa(100000 + i)
		rs = append(rs, domain.Recipient{Key: "telegram:" + chat, Channel: "telegram", ChatID: chat, Lang: "id"})
	}
	if err := replicas[0].SubscribeMany(ctx, rs, "darurat"); err != nil {
		t.Fatal(err)
	}
	at := time.Now().Add(-time.Minute)
	bc := &domain.Broadcast{Topics: []string{"darurat"}, At: &at, CreatedAt: at.Add(-time.Hour), State: domain.BroadcastActive,
		Text: map[string]string{"id": "Peringatan banjir"}}
	id, err := replicas[0].Create(ctx, bc)
	if err != nil {
		t.Fatal(err)
	}
	sender := &clusterSender{got: map[string]int{}}
	guarantees := map[string]domain.Guarantee{"darurat": domain.AtLeastOnce}
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for _, st := range replicas {
		s := broadcast.New(broadcast.Config{Store: st, Sender: sender, Guarantees: guarantees, Logger: slog.New(slog.DiscardHandler)})
		wg.Go(func() {
			if err := s.Schedule(ctx); err != nil {
				errs <- err
			}
			if err := s.Deliver(ctx); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("a replica failed: %v", err)
	}
	// Whichever replica looks last closes the run.
	s := broadcast.New(broadcast.Config{Store: replicas[1], Sender: sender, Guarantees: guarantees, Logger: slog.New(slog.DiscardHandler)})
	if err := s.Deliver(ctx); err != nil {
		t.Fatal(err)
	}
	var twice, never int
	for _, r := range rs {
		switch sender.got[r.ChatID] {
		case 0:
			never++
		case 1:
		default:
			twice++
		}
	}
	runs, err := replicas[2].Runs(ctx, id, 1)
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs: %v %v", runs, err)
	}
	t.Logf("2,000 subscribers over three replicas on the cluster: %d never, %d more than once; run %+v", never, twice, runs[0])
	if never != 0 || twice != 0 {
		t.Errorf("%d subscribers never got the warning and %d got it more than once", never, twice)
	}
	if r := runs[0]; r.State != domain.RunDone || r.Sent != 2000 || r.Recipients != 2000 || r.Guarantee != domain.AtLeastOnce {
		t.Errorf("run %+v, want done, 2,000 recipients and sent, at least once", r)
	}
}
