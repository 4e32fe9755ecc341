package store_test

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/layan-id/layan/store"
	"github.com/layan-id/layan/store/storetest"
)

// TestTopologyErrorsReloadTheSlotMap checks which failures make a cluster client reload
// its slot map at once: those a dead or moved master explains (a refused connection, a
// cut one, the replies of a cluster failing over), not those about the command itself.
func TestTopologyErrorsReloadTheSlotMap(t *testing.T) {
	ctx := context.Background()
	rdb := storetest.Mini(t).Store.Client()
	reply := func(msg string) error { // an error reply from a real server
		err := rdb.Eval(ctx, "return redis.error_reply(ARGV[1])", nil, msg).Err()
		if err == nil {
			t.Fatalf("no error reply for %q", msg)
		}
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	gone := redis.NewClient(&redis.Options{Addr: dead, MaxRetries: -1})
	defer gone.Close()
	refused := gone.Ping(ctx).Err()
	if refused == nil {
		t.Fatal("a closed port answered")
	}
	_, missing := rdb.Get(ctx, "no-such-key").Result()
	for _, c := range []struct {
		name string
		err  error
		want bool
	}{
		{"connection refused", refused, true},
		{"connection cut", io.EOF, true},
		{"timeout", context.DeadlineExceeded, true},
		{"CLUSTERDOWN", reply("CLUSTERDOWN The cluster is down"), true},
		{"TRYAGAIN", reply("TRYAGAIN Multiple keys request during rehashing of slot"), true},
		{"MASTERDOWN", reply("MASTERDOWN Link with MASTER is down"), true},
		{"LOADING", reply("LOADING Redis is loading the dataset in memory"), true},
		{"missing key", missing, false},
		{"script error", reply("ERR something in the script"), false},
		{"NOSCRIPT", reply("NOSCRIPT No matching script"), false},
		{"caller gave up", context.Canceled, false},
	} {
		if got := store.TopologyError(c.err); got != c.want {
			t.Errorf("%s (%v): reload %v, want %v", c.name, c.err, got, c.want)
		}
	}
	if !errors.Is(missing, redis.Nil) {
		t.Fatalf("a missing key gave %v", missing)
	}
}
