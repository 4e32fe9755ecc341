package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/layan-id/layan/store"
)

// staffEnvs are the stores the staff commands are tried on: the embedded one, and
// the real Redis of LAYAN_TEST_REDIS_URL when it is set.
func staffEnvs(t *testing.T) map[string]map[string]string {
	envs := map[string]map[string]string{"embedded": {"DATA_DIR": t.TempDir()}}
	if url := os.Getenv("LAYAN_TEST_REDIS_URL"); url != "" {
		b := make([]byte, 6)
		rand.Read(b)
		envs["redis"] = map[string]string{"DATA_DIR": t.TempDir(), "REDIS_URL": url, "REDIS_PREFIX": "layantest-" + hex.EncodeToString(b) + ":"}
	}
	return envs
}

func TestStaffCommands(t *testing.T) {
	for name, vars := range staffEnvs(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			staff := func(stdin string, args ...string) (string, error) {
				var out bytes.Buffer
				err := run(ctx, append([]string{"staff"}, args...), env(vars), strings.NewReader(stdin), &out, io.Discard)
				return out.String(), err
			}
			// flags after the name, and before it
			if out, err := staff("kata-sandi-budi\n", "add", "budi", "--role", "officer", "--agency", "pupr"); err != nil || !strings.Contains(out, "budi added (officer of pupr)") {
				t.Fatalf("add budi: %q %v", out, err)
			}
			if _, err := staff("kata-sandi-ani\n", "add", "--role=viewer", "ani"); err != nil {
				t.Fatalf("add ani: %v", err)
			}
			if _, err := staff("kata-sandi-x\n", "add", "x1", "--role", "officer"); err == nil || !strings.Contains(err.Error(), "--agency") {
				t.Errorf("officer without agency: %v", err)
			}
			if _, err := staff("kata-sandi-x\n", "add", "x2", "--role", "officer", "--agency", "nasa"); err == nil || !strings.Contains(err.Error(), `unknown agency "nasa"`) {
				t.Errorf("unknown agency: %v", err)
			}
			if _, err := staff("kata-sandi-x\n", "add", "x3", "--role", "boss"); err == nil {
				t.Errorf("unknown role accepted")
			}
			if _, err := staff("", "add", "x4", "--role", "viewer"); err == nil || !strings.Contains(err.Error(), "no password") {
				t.Errorf("no password: %v", err)
			}
			if _, err := staff("kata-sandi-lain\n", "add", "budi", "--role", "admin"); err == nil {
				t.Errorf("budi added twice")
			}

			out, err := staff("", "token", "budi")
			if err != nil || !regexp.MustCompile(`^lyn_[A-Za-z0-9_-]{43}\n$`).MatchString(out) {
				t.Fatalf("token prints %q (%v), want the token alone", out, err)
			}
			token := strings.TrimSpace(out)
			if _, err := staff("", "link", "budi", "telegram:123"); err != nil {
				t.Fatal(err)
			}
			if _, err := staff("kata-sandi-baru\n", "passwd", "ani"); err != nil {
				t.Fatal(err)
			}
			if _, err := staff("", "disable", "ani"); err != nil {
				t.Fatal(err)
			}
			out, err = staff("", "list")
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if len(lines) != 3 || !strings.Contains(lines[1], "ani") || !strings.Contains(lines[1], "disabled") ||
				!strings.Contains(lines[2], "officer") || !strings.Contains(lines[2], "pupr") || !strings.Contains(lines[2], "telegram:123") {
				t.Fatalf("list:\n%s", out)
			}
			if strings.Contains(out, token) || strings.Contains(out, "kata-sandi") {
				t.Fatal("list shows a secret")
			}

			// The accounts are in the store the service reads.
			cfg, err := loadConfig(env(vars))
			if err != nil {
				t.Fatal(err)
			}
			st, emb, err := openStore(ctx, cfg, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			defer closeStore(st, emb)
			if acc, err := st.Staff().ByToken(ctx, token); err != nil || acc.Name != "budi" {
				t.Fatalf("token in store: %+v %v", acc, err)
			}
			if _, err := st.Staff().Verify(ctx, "ani", "kata-sandi-baru"); err != store.ErrBadCredentials {
				t.Fatalf("disabled ani: %v", err)
			}
		})
	}
}
