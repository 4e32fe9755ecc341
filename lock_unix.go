//go:build unix

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockDataDir makes sure only one process uses the embedded store of DATA_DIR: two
// would each keep their own copy and overwrite each other's snapshots. On a real
// Redis any number of processes may run, and nothing is locked.
func lockDataDir(cfg config) (unlock func(), err error) {
	if cfg.RedisURL != "" {
		return func() {}, nil
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create DATA_DIR: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(cfg.DataDir, "layan.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock in DATA_DIR: %w", err)
	}
	if err := f.Chmod(0o600); err != nil { // one left by an earlier version may be wider
		f.Close()
		return nil, fmt.Errorf("make the lock in DATA_DIR private: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("another Layan is using the embedded store in %s: stop it first, or give this one its own DATA_DIR", cfg.DataDir)
	}
	return func() { f.Close() }, nil
}
