package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestMetricsCountMessagesAndTheEmbeddedStoreForStaffOnly(t *testing.T) {
	admin, reader := randomHex(t), randomHex(t)
	vars := map[string]string{"DATA_DIR": t.TempDir(), "HTTP_ADDR": freeAddr(t), "ADMIN_TOKEN": admin, "METRICS_TOKEN": reader, "METRICS_ADDR": freeAddr(t)}
	stop := startServe(t, vars)
	defer stop()
	token, _ := post(t, vars["HTTP_ADDR"], "", `{"text":"halo","id":"m1"}`)
	post(t, vars["HTTP_ADDR"], token, `{"text":"halo","id":"m1"}`) // a retry: a duplicate
	post(t, vars["HTTP_ADDR"], token, `{"text":"syarat bikin ktp gmn","id":"m2"}`)
	post(t, vars["HTTP_ADDR"], token, `{"text":"berapa harga tiket pesawat luar angkasa ke mars","id":"m3"}`)

	scrape := func(tok string) (int, string) {
		req, _ := http.NewRequest("GET", "http://"+vars["HTTP_ADDR"]+"/metrics", nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	for _, tok := range []string{"", "wrong-" + reader} {
		if code, _ := scrape(tok); code != http.StatusUnauthorized {
			t.Errorf("/metrics with token %q: %d, want 401", tok, code)
		}
	}
	for _, tok := range []string{admin, reader} {
		code, body := scrape(tok)
		if code != 200 {
			t.Fatalf("/metrics with a staff token: %d", code)
		}
		for _, want := range []string{
			`layan_messages_total{channel="webchat",kind="text",outcome="answered"} 3`,
			`layan_messages_total{channel="webchat",kind="text",outcome="duplicate"} 1`,
			`layan_message_seconds_count{channel="webchat"} 4`,
			`layan_faq_questions_total{outcome="answered"} 1`, `layan_faq_questions_total{outcome="none"} 1`,
			`layan_complaints{status="diterima"} 0`, "layan_complaints_overdue 0",
			`layan_sender_waiting{channel="webchat"} 0`, "layan_redis_seconds_count", "layan_redis_errors_total 0",
			"layan_store_journal_syncs_total", "layan_store_keys", `layan_build_info{version=`,
			`layan_faq_questions_total{outcome="suggested"} 0`, `layan_broadcast_deliveries_total{outcome="sent"} 0`,
			`layan_sender_retries_total{channel="webchat"} 0`, `layan_sender_throttled_total{channel="webchat"} 0`,
			`layan_message_seconds_bucket{channel="webchat",le="0.1"}`, `layan_redis_seconds_bucket{le="0.001"}`,
			"layan_redis_unreplicated_total 0", "layan_store_snapshot_failures_total 0", "layan_store_snapshot_rebuilds_total",
			"layan_store_journal_failed 0", "layan_store_journal_bytes",
		} {
			if !strings.Contains(body, want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
		if strings.Contains(body, "ktp") || strings.Contains(body, token) {
			t.Error("/metrics shows message text or a token")
		}
	}
	// Guessing is throttled per address, as for the staff API.
	throttled := false
	for i := range 10 {
		if code, _ := scrape("guess-" + strings.Repeat("x", i)); code == http.StatusTooManyRequests {
			throttled = true
			break
		}
	}
	if !throttled {
		t.Error("ten wrong tokens in a row were never throttled")
	}
	// METRICS_ADDR serves the same without a token, and nothing else.
	res, err := http.Get("http://" + vars["METRICS_ADDR"] + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(b), `layan_messages_total{channel="webchat",kind="text",outcome="duplicate"} 1`) {
		t.Errorf("METRICS_ADDR /metrics without a token: %d, %d bytes", res.StatusCode, len(b))
	}
	if res, err := http.Get("http://" + vars["METRICS_ADDR"] + "/api/chat/history"); err != nil || res.StatusCode != http.StatusNotFound {
		t.Errorf("METRICS_ADDR serves more than /metrics: %v %v", res.StatusCode, err)
	}
}

// scrapeNames returns each sample name on a /metrics page with the label names its
// samples carry.
func scrapeNames(page string) map[string]map[string]bool {
	names := map[string]map[string]bool{}
	for line := range strings.SplitSeq(page, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, labels := line, ""
		if n, l, ok := strings.Cut(line, "{"); ok {
			name, labels = n, l // label values hold no '{' before the name ends
		} else {
			name, _, _ = strings.Cut(line, " ")
		}
		if names[name] == nil {
			names[name] = map[string]bool{}
		}
		for _, m := range labelName.FindAllStringSubmatch(labels, -1) {
			names[name][m[1]] = true
		}
	}
	return names
}

var (
	metricRef = regexp.MustCompile(`\b(layan_[a-z0-9_]+)(\{[^}]*\})?`)
	labelName = regexp.MustCompile(`([a-z_]+)\s*(?:=~|!~|!=|=)`)
)

// The Grafana dashboard and the Prometheus alert rules in deploy/ name only metrics
// (and labels) that a running service exports, so they cannot drift from the code; the
// alerts cover what an operator must hear of.
func TestTheDashboardAndAlertsUseOnlyMetricsTheServiceExports(t *testing.T) {
	graph := newFakeGraph(t)
	vars := graph.env(t, map[string]string{"METRICS_ADDR": freeAddr(t)})
	stop := startServe(t, vars)
	defer stop()
	post(t, vars["HTTP_ADDR"], "", `{"text":"syarat bikin ktp gmn","id":"m1"}`)
	res, err := http.Get("http://" + vars["METRICS_ADDR"] + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	exported := scrapeNames(string(page))

	var exprs []string
	dash, err := os.ReadFile("deploy/grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(dash, &d); err != nil {
		t.Fatalf("the dashboard is not JSON: %v", err)
	}
	for _, p := range d.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q shows nothing", p.Title)
		}
		for _, tg := range p.Targets {
			exprs = append(exprs, tg.Expr)
		}
	}
	rules, err := os.ReadFile("deploy/prometheus-alerts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Groups []struct {
			Rules []struct {
				Alert string `yaml:"alert"`
				Expr  string `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(rules, &r); err != nil || len(r.Groups) == 0 {
		t.Fatalf("the alert rules are not Prometheus rule YAML: %v", err)
	}
	alerted := map[string]bool{}
	for _, g := range r.Groups {
		for _, rule := range g.Rules {
			if rule.Alert == "" || rule.Expr == "" {
				t.Errorf("a rule without alert name or expression: %+v", rule)
			}
			exprs = append(exprs, rule.Expr)
			for _, m := range metricRef.FindAllStringSubmatch(rule.Expr, -1) {
				alerted[m[1]] = true
			}
		}
	}
	used := 0
	for _, e := range exprs {
		for _, m := range metricRef.FindAllStringSubmatch(e, -1) {
			used++
			labels, ok := exported[m[1]]
			if !ok {
				t.Errorf("%q uses %s, which the service does not export", e, m[1])
				continue
			}
			for _, l := range labelName.FindAllStringSubmatch(m[2], -1) {
				if !labels[l[1]] {
					t.Errorf("%q selects label %s, which %s does not carry", e, l[1], m[1])
				}
			}
		}
	}
	if used < 30 {
		t.Errorf("only %d metric references in the dashboard and alerts", used)
	}
	for _, must := range []string{"layan_store_snapshot_failures_total", "layan_store_journal_failed", "layan_sender_waiting",
		"layan_complaints_overdue", "layan_whatsapp_state", "layan_redis_errors_total"} {
		if !alerted[must] {
			t.Errorf("no alert on %s", must)
		}
	}
}
