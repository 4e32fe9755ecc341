//go:build unix

package whatsapp

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// withUmask runs the test under umask u (process-wide: the package's tests are not
// parallel).
func withUmask(t *testing.T, u int) {
	old := syscall.Umask(u)
	t.Cleanup(func() { syscall.Umask(old) })
}

func TestTheDeviceStoreIsReadableByItsOwnerOnly(t *testing.T) {
	ctx := context.Background()
	withUmask(t, 0)
	check := func(t *testing.T, dir string) {
		t.Helper()
		d, err := OpenDevices(ctx, dir, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		linkDevice(t, d, "6281234567890") // writes: the WAL and its index exist now
		for _, name := range []string{"whatsapp.db", "whatsapp.db-wal", "whatsapp.db-shm"} {
			info, err := os.Stat(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			if mode := info.Mode().Perm(); mode != 0o600 {
				t.Errorf("%s has mode %o, want 600", name, mode)
			}
		}
	}
	t.Run("a new store in a world-writable directory under umask 0", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.Chmod(dir, 0o777); err != nil {
			t.Fatal(err)
		}
		check(t, dir)
	})
	t.Run("a store left world-readable by an earlier version", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.Chmod(dir, 0o777); err != nil {
			t.Fatal(err)
		}
		d, err := OpenDevices(ctx, dir, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		d.Close()
		if err := os.Chmod(filepath.Join(dir, "whatsapp.db"), 0o666); err != nil {
			t.Fatal(err)
		}
		check(t, dir)
	})
	t.Run("a file: DSN names its own database", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.Chmod(dir, 0o777); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "wa.db")
		d, err := OpenDevices(ctx, "", "file:"+path+"?_pragma=journal_mode(WAL)", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		linkDevice(t, d, "6281234567890")
		for _, name := range []string{path, path + "-wal", path + "-shm"} {
			if info, err := os.Stat(name); err != nil || info.Mode().Perm() != 0o600 {
				t.Errorf("%s: %v, %v; want mode 600", filepath.Base(name), info.Mode().Perm(), err)
			}
		}
	})
}
