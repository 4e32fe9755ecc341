package flows_test

import (
	"context"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/layan-id/layan/store/storetest"
	"github.com/redis/go-redis/v9"
)

// redisServer is a redis-server process owned by one test, on a loopback port and a
// data directory that stay the same across restarts, so that the test can crash it
// (SIGKILL) and start it again on what it left on disk.
type redisServer struct {
	path    string
	port    string
	dir     string // data directory: the AOF lives here
	logFile string
	args    []string // persistence settings

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{} // closed when the running process has exited
}

// newRedisServer finds redis-server and prepares a data directory and a port; persistence
// holds the persistence arguments (e.g. "--appendonly", "yes"). Without redis-server
// the test is skipped on a developer machine and fails in CI, which installs it. The
// process is killed when the test ends.
func newRedisServer(t *testing.T, persistence ...string) *redisServer {
	t.Helper()
	path := storetest.RedisServer(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	r := &redisServer{path: path, port: port, dir: t.TempDir(), logFile: t.TempDir() + "/redis.log", args: persistence}
	t.Cleanup(r.kill)
	return r
}

// URL is the REDIS_URL of the server.
func (r *redisServer) URL() string { return "redis://127.0.0.1:" + r.port + "/0" }

// start starts redis-server on the data directory and waits until it answers PING
// (after loading what is on disk).
func (r *redisServer) start(t *testing.T) {
	t.Helper()
	r.mu.Lock()
	args := append([]string{"--port", r.port, "--bind", "127.0.0.1", "--dir", r.dir, "--logfile", r.logFile}, r.args...)
	cmd := exec.Command(r.path, args...)
	if err := cmd.Start(); err != nil {
		r.mu.Unlock()
		t.Fatalf("start redis-server: %v", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	r.cmd, r.exited = cmd, exited
	r.mu.Unlock()

	probe := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + r.port, MaxRetries: -1, DialTimeout: time.Second})
	defer probe.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		err := probe.Ping(ctx).Err()
		if err == nil {
			return
		}
		select {
		case <-exited:
			t.Fatalf("redis-server exited at start: %v\n%s", err, r.log())
		case <-ctx.Done():
			t.Fatalf("redis-server does not answer PING: %v\n%s", err, r.log())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// kill crashes the server with SIGKILL, as the OOM killer or kill -9 would (no
// shutdown, no final write), and waits until the process is gone. Safe to call when it is not running.
func (r *redisServer) kill() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd == nil {
		return
	}
	r.cmd.Process.Kill()
	<-r.exited
	r.cmd = nil
}

// log returns what redis-server logged so far, for failure messages.
func (r *redisServer) log() string {
	b, _ := os.ReadFile(r.logFile)
	return string(b)
}
