package store

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// ClusterReload is how often a Redis Cluster client reloads the map of which master
// serves which slots when nothing prompts it earlier. go-redis reloads it on a MOVED or
// ASK reply and otherwise every 60 s, but a dead master answers nothing at all: without
// this, requests for its slots kept failing for up to a minute after its replica had
// taken over. Reloading is one CLUSTER SLOTS to one node.
const ClusterReload = 2 * time.Second

// NewClient connects to the Redis that opts describe (see ClientOptions). On Redis
// Cluster it reloads the slot map every ClusterReload and at once when a command fails
// in a way a moved or dead master explains (the connection refused, reset or timed out,
// CLUSTERDOWN, TRYAGAIN, MASTERDOWN, LOADING), so requests succeed again within a few
// seconds of a failover. Other deployments get go-redis's own client unchanged.
func NewClient(opts *redis.UniversalOptions) redis.UniversalClient {
	if !opts.IsClusterMode {
		return redis.NewUniversalClient(opts)
	}
	co := opts.Cluster()
	co.ClusterStateReloadInterval = ClusterReload
	cc := redis.NewClusterClient(co)
	cc.AddHook(reloadHook{cc})
	return cc
}

// reloadHook asks the cluster client for a fresh slot map after a failure that a
// changed topology explains. go-redis runs at most one reload at a time and merges
// requests that arrive meanwhile, so a burst of failures costs one CLUSTER SLOTS.
type reloadHook struct{ cc *redis.ClusterClient }

func (h reloadHook) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := next(ctx, network, addr)
		if err != nil && topologyError(err) {
			h.cc.ReloadState(ctx)
		}
		return c, err
	}
}

func (h reloadHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if err != nil && topologyError(err) {
			h.cc.ReloadState(ctx)
		}
		return err
	}
}

func (h reloadHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		if err != nil && topologyError(err) {
			h.cc.ReloadState(ctx)
		}
		return err
	}
}

// topologyError reports whether err may mean that the node asked no longer serves the
// slot: any failure to talk to it (refused, reset, timed out), or one of the replies a
// cluster gives while it fails over. Replies about the command itself (a missing key, a
// script error, NOSCRIPT) and a caller that gave up (context.Canceled) are not.
func topologyError(err error) bool {
	if errors.Is(err, redis.Nil) || errors.Is(err, context.Canceled) {
		return false
	}
	var reply redis.Error
	if errors.As(err, &reply) {
		msg := reply.Error()
		for _, p := range []string{"CLUSTERDOWN", "TRYAGAIN", "MASTERDOWN", "LOADING"} {
			if strings.HasPrefix(msg, p) {
				return true
			}
		}
		return false
	}
	return true
}

// clusterReady reports whether every master of the cluster answers and sees the cluster
// as able to serve all slots (cluster_state:ok). The slot map is reloaded first, so a
// master that died and was replaced is judged by its replacement.
func clusterReady(ctx context.Context, cc *redis.ClusterClient) error {
	return cc.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
		info, err := node.ClusterInfo(ctx).Result()
		if err != nil {
			return fmt.Errorf("master %s: %w", node.Options().Addr, err)
		}
		if !strings.Contains(info, "cluster_state:ok") {
			return fmt.Errorf("master %s: the cluster cannot serve every slot (cluster_state is not ok)", node.Options().Addr)
		}
		return nil
	})
}
