// Package metrics exposes what Layan does in the Prometheus format, with names prefixed
// layan_: messages by channel, kind and outcome, the time to handle one, FAQ outcomes,
// broadcast deliveries, the sender's queues, Redis's errors and latency, and figures
// that other parts report through gauges (the embedded store's journal, complaints by
// status). It is the only package that knows Prometheus.
package metrics

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/layan-id/layan/bot"
)

// Metrics is one process's registry. Its methods are safe for concurrent use.
type Metrics struct {
	reg        *prometheus.Registry
	messages   *prometheus.CounterVec
	seconds    *prometheus.HistogramVec
	faq        *prometheus.CounterVec
	deliveries *prometheus.CounterVec
	redisErrs  prometheus.Counter
	redisTime  prometheus.Histogram
}

// New returns the registry with Go's and the process's own figures and build info.
func New(version string) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "layan_messages_total",
			Help: "Messages handled, by channel, kind (text, option, photo, …) and outcome (answered, silent, duplicate, failed, error).",
		}, []string{"channel", "kind", "outcome"}),
		seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "layan_message_seconds",
			Help:    "Time from a message's arrival at the engine to its replies, by channel.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"channel"}),
		faq: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "layan_faq_questions_total",
			Help: "Questions put to the FAQ, by outcome: answered, suggested (did you mean…), none.",
		}, []string{"outcome"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "layan_broadcast_deliveries_total",
			Help: "Broadcast deliveries this process recorded, by outcome: sent, failed, skipped.",
		}, []string{"outcome"}),
		redisErrs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "layan_redis_errors_total",
			Help: "Redis commands and pipelines that failed (a missing key is no failure).",
		}),
		redisTime: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "layan_redis_seconds",
			Help:    "Time of one Redis command or pipeline, as this process saw it.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1},
		}),
	}
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "layan_build_info", Help: "Always 1; the version label names the build.",
		ConstLabels: prometheus.Labels{"version": version},
	})
	build.Set(1)
	// Known outcomes start at 0, so that dashboards and alerts see them from the start.
	for _, o := range []string{"answered", "suggested", "none"} {
		m.faq.WithLabelValues(o)
	}
	for _, o := range []string{"sent", "failed", "skipped"} {
		m.deliveries.WithLabelValues(o)
	}
	m.reg.MustRegister(m.messages, m.seconds, m.faq, m.deliveries, m.redisErrs, m.redisTime, build,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Observe counts one handled message; it fits bot.EngineConfig.Observe.
func (m *Metrics) Observe(msg bot.Message, o bot.Outcome, err error, took time.Duration) {
	outcome := "answered"
	switch {
	case err != nil:
		outcome = "error"
	case o.Duplicate:
		outcome = "duplicate"
	case o.Failed:
		outcome = "failed"
	case len(o.Replies) == 0:
		outcome = "silent"
	}
	m.messages.WithLabelValues(msg.Channel, string(msg.Kind), outcome).Inc()
	m.seconds.WithLabelValues(msg.Channel).Observe(took.Seconds())
}

// FAQ counts one question put to the FAQ by its outcome.
func (m *Metrics) FAQ(outcome string) { m.faq.WithLabelValues(outcome).Inc() }

// Delivery counts one broadcast delivery by its outcome.
func (m *Metrics) Delivery(outcome string) { m.deliveries.WithLabelValues(outcome).Inc() }

// Senders registers the sender's figures per channel, read when metrics are scraped:
// messages waiting for their turn, retries after temporary errors, and the platform's
// "retry after" answers.
func (m *Metrics) Senders(read func() []bot.SenderStats) {
	m.reg.MustRegister(senders{read: read,
		waiting:   prometheus.NewDesc("layan_sender_waiting", "Messages waiting for their turn to be sent (rates, a platform's pause), by channel.", []string{"channel"}, nil),
		retries:   prometheus.NewDesc("layan_sender_retries_total", "Sends tried again after a temporary error, by channel.", []string{"channel"}, nil),
		throttled: prometheus.NewDesc("layan_sender_throttled_total", "The platform's \"retry after\" answers (too fast), by channel.", []string{"channel"}, nil),
	})
}

type senders struct {
	read                        func() []bot.SenderStats
	waiting, retries, throttled *prometheus.Desc
}

func (s senders) Describe(ch chan<- *prometheus.Desc) {
	ch <- s.waiting
	ch <- s.retries
	ch <- s.throttled
}

func (s senders) Collect(ch chan<- prometheus.Metric) {
	for _, st := range s.read() {
		ch <- prometheus.MustNewConstMetric(s.waiting, prometheus.GaugeValue, float64(st.Waiting), st.Channel)
		ch <- prometheus.MustNewConstMetric(s.retries, prometheus.CounterValue, float64(st.Retries), st.Channel)
		ch <- prometheus.MustNewConstMetric(s.throttled, prometheus.CounterValue, float64(st.Throttled), st.Channel)
	}
}

// GaugeVec registers figures with one label, read when metrics are scraped: read
// returns the value of each label value (complaints by status, say).
func (m *Metrics) GaugeVec(name, help, label string, read func() map[string]float64) {
	m.reg.MustRegister(gaugeVec{desc: prometheus.NewDesc(name, help, []string{label}, nil), read: read})
}

type gaugeVec struct {
	desc *prometheus.Desc
	read func() map[string]float64
}

func (g gaugeVec) Describe(ch chan<- *prometheus.Desc) { ch <- g.desc }

func (g gaugeVec) Collect(ch chan<- prometheus.Metric) {
	for v, n := range g.read() {
		ch <- prometheus.MustNewConstMetric(g.desc, prometheus.GaugeValue, n, v)
	}
}

// RedisHook times every Redis command and pipeline of the client it is added to and
// counts those that failed.
func (m *Metrics) RedisHook() redis.Hook { return redisHook{m} }

type redisHook struct{ m *Metrics }

func (h redisHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h redisHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		start := time.Now()
		err := next(ctx, cmd)
		counted := err
		switch cmd.Name() {
		case "client", "hello": // the client's own handshake, which it handles (an older server refuses a subcommand)
			counted = nil
		}
		h.observe(start, counted)
		return err
	}
}

func (h redisHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		start := time.Now()
		err := next(ctx, cmds)
		h.observe(start, err)
		return err
	}
}

func (h redisHook) observe(start time.Time, err error) {
	h.m.redisTime.Observe(time.Since(start).Seconds())
	// A missing key is an answer, NOSCRIPT is how a script is loaded the first time
	// on a server (go-redis then sends its source), and NOGROUP and BUSYGROUP are how
	// a queue's consumer group is made the first time (store.Queue then creates it,
	// and another replica may have just done so).
	if err != nil && !errors.Is(err, redis.Nil) && !redis.HasErrorPrefix(err, "NOSCRIPT") &&
		!redis.HasErrorPrefix(err, "NOGROUP") && !redis.HasErrorPrefix(err, "BUSYGROUP") {
		h.m.redisErrs.Inc()
	}
}

// Gauge registers a figure read when metrics are scraped.
func (m *Metrics) Gauge(name, help string, read func() float64) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, read))
}

// Counter registers a count that only grows, read when metrics are scraped.
func (m *Metrics) Counter(name, help string, read func() float64) {
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, read))
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}
