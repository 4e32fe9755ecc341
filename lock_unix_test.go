//go:build unix

package main

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestTheDataDirLockIsReadableByItsOwnerOnly(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	lock := filepath.Join(dir, "layan.lock")
	if err := os.WriteFile(lock, nil, 0o666); err != nil { // as an earlier version may have left it
		t.Fatal(err)
	}
	os.Chmod(lock, 0o666)
	unlock, err := lockDataDir(config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	info, err := os.Stat(lock)
	if err != nil {
		t.Fatal(err)
	}
	if mode := info.Mode().Perm(); mode != 0o600 {
		t.Errorf("layan.lock has mode %o, want 600", mode)
	}
}
