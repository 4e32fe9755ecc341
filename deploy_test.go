package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestHealthcheckAsksTheRunningService(t *testing.T) {
	vars := map[string]string{"DATA_DIR": t.TempDir(), "HTTP_ADDR": freeAddr(t)}
	stop := startServe(t, vars)
	if err := healthcheck(context.Background(), vars["HTTP_ADDR"]); err != nil {
		t.Errorf("healthcheck of a ready service: %v", err)
	}
	stop()
	if err := healthcheck(context.Background(), vars["HTTP_ADDR"]); err == nil {
		t.Error("healthcheck passed with nothing listening")
	}
	notReady := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer notReady.Close()
	if err := healthcheck(context.Background(), strings.TrimPrefix(notReady.URL, "http://")); err == nil || !strings.Contains(err.Error(), "503") {
		t.Errorf("healthcheck of a service answering 503 = %v, want an error naming it", err)
	}
}

func TestTheDockerfileBuildsStaticRunsAsNobodyAndChecksReadiness(t *testing.T) {
	b, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	df := string(b)
	for _, want := range []string{"CGO_ENABLED=0 go build", "USER nonroot", `HEALTHCHECK`, `"healthcheck"`, "COPY third_party",
		"--chown=65532:65532 /out/data /data"} {
		if !strings.Contains(df, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	// .ci/run runs its build command without Docker.
}

func TestComposeRunsRedisAsTheREADMEDemandsAndTwoReplicas(t *testing.T) {
	b, err := os.ReadFile("deploy/compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Services map[string]struct {
			Command     []string          `yaml:"command"`
			Environment map[string]string `yaml:"environment"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	redis := strings.Join(c.Services["redis"].Command, " ")
	for _, want := range []string{"--appendonly yes", "--appendfsync always", "--maxmemory-policy noeviction"} {
		if !strings.Contains(redis, want) {
			t.Errorf("compose's Redis runs %q, lacks %q", redis, want)
		}
	}
	var replicas []string
	for name, s := range c.Services {
		if strings.HasPrefix(s.Environment["REDIS_URL"], "redis://redis:") {
			replicas = append(replicas, name)
		}
	}
	slices.Sort(replicas)
	if len(replicas) != 2 {
		t.Errorf("Layan replicas on the compose Redis: %v, want two", replicas)
	}
}

func TestTheSystemdUnitVerifies(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("systemd-analyze is missing in CI")
		}
		t.Skip("systemd-analyze not installed")
	}
	b, err := os.ReadFile("deploy/layan.service")
	if err != nil {
		t.Fatal(err)
	}
	// verify checks that ExecStart exists: point it at a binary that does.
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	unit := filepath.Join(t.TempDir(), "layan.service")
	os.WriteFile(unit, []byte(strings.Replace(string(b), "ExecStart=/usr/local/bin/layan", "ExecStart="+bin, 1)), 0o644)
	if out, err := exec.Command(analyze, "verify", unit).CombinedOutput(); err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}
