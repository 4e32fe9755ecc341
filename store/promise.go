package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// PromiseWait bounds how long a write that promises something waits for a replica
// to confirm it (see promise).
const PromiseWait = 2 * time.Second

// promise runs a write that promises something to a person (a ticket number) on one
// connection to the master holding key, and, when that master has replicas, waits
// with WAIT until one of them has it too, at most PromiseWait: Redis replicates
// asynchronously, so a master that dies right after answering may take an
// acknowledged write with it when its replica takes over. A write no replica
// confirmed in time still counts (the master has it, with its AOF); it is counted in
// Unreplicated. The embedded store has no replicas.
func (s *Store) promise(ctx context.Context, key string, write func(redis.Scripter) error) error {
	var node *redis.Client
	switch c := s.rdb.(type) {
	case *redis.ClusterClient:
		n, err := c.MasterForKey(ctx, key)
		if err != nil {
			return fmt.Errorf("find the master of %s: %w", key, err)
		}
		node = n
	case *redis.Client:
		if c.Options().Addr == embeddedAddr {
			return write(s.rdb)
		}
		node = c
	default:
		return write(s.rdb)
	}
	conn := node.Conn() // WAIT counts the writes of its own connection
	defer conn.Close()
	if err := write(conn); err != nil {
		return err
	}
	info, err := conn.Info(ctx, "replication").Result()
	if err != nil {
		return nil // written; a server that does not say (miniredis) has no replicas
	}
	if replicas(info) == 0 {
		return nil
	}
	acked, err := conn.Wait(ctx, 1, PromiseWait).Result()
	if err != nil || acked < 1 {
		s.unreplicated.Add(1)
	}
	return nil
}

// Unreplicated counts the writes that promised something to a person and that no
// replica confirmed within PromiseWait although the master had replicas.
func (s *Store) Unreplicated() int64 { return s.unreplicated.Load() }

// replicas reads connected_slaves from INFO replication.
func replicas(info string) int {
	for line := range strings.SplitSeq(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "connected_slaves:"); ok {
			n, _ := strconv.Atoi(v)
			return n
		}
	}
	return 0
}
