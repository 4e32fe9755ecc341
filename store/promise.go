package store

import (
	"context"

	"github.com/redis/go-redis/v9"
)

// promise runs a write that promises something to a person (a ticket number), whose
// keys live on the master that holds key.
func (s *Store) promise(ctx context.Context, key string, write func(redis.Scripter) error) error {
	return write(s.rdb)
}
