// Package metrics exposes what Layan does in the Prometheus format, with names prefixed
// layan_: messages by channel, kind and outcome, the time to handle one, and figures
// that other parts report through gauges (the embedded store's journal, for one). It is
// the only package that knows Prometheus.
package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/layan-id/layan/bot"
)

// Metrics is one process's registry. Its methods are safe for concurrent use.
type Metrics struct {
	reg      *prometheus.Registry
	messages *prometheus.CounterVec
	seconds  *prometheus.HistogramVec
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
	}
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "layan_build_info", Help: "Always 1; the version label names the build.",
		ConstLabels: prometheus.Labels{"version": version},
	})
	build.Set(1)
	m.reg.MustRegister(m.messages, m.seconds, build,
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
