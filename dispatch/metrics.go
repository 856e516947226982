package dispatch

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/notify"
)

// Metrics are the dispatcher's Prometheus metrics. A nil *Metrics records
// nothing.
type Metrics struct {
	acceptedTotal *prometheus.CounterVec
	attemptsTotal *prometheus.CounterVec
	outcomesTotal *prometheus.CounterVec
	latency       *prometheus.HistogramVec
	commitSeconds prometheus.Histogram
	heldGauge     prometheus.Gauge
	inflightGauge prometheus.Gauge
	breakerGauge  *prometheus.GaugeVec
	leaseLapses   prometheus.Counter
}

// NewMetrics registers the metrics with reg. stats reads the queue's depth
// and age when Prometheus scrapes.
func NewMetrics(reg prometheus.Registerer, stats func(context.Context) (hookline.QueueStats, error)) *Metrics {
	m := &Metrics{
		acceptedTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookline_alerts_accepted_total", Help: "Alerts accepted and stored, by source (api, alertmanager, monitor, search or other).",
		}, []string{"source"}),
		attemptsTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookline_delivery_attempts_total", Help: "Delivery attempts, by connection and verdict (delivered, retry, refused).",
		}, []string{"connection", "verdict"}),
		outcomesTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookline_deliveries_total", Help: "Deliveries by connection and the state an attempt left them in (delivered, pending = retry scheduled, failed, dead).",
		}, []string{"connection", "outcome"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "hookline_delivery_attempt_duration_seconds", Help: "Time from sending an attempt to its answer, by connection.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 15},
		}, []string{"connection"}),
		commitSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "hookline_accept_commit_duration_seconds", Help: "Time to store one group commit of accepted alerts.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
		heldGauge: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "hookline_deliveries_held", Help: "Pending deliveries this process holds in memory.",
		}),
		inflightGauge: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "hookline_delivery_attempts_in_flight", Help: "Attempts waiting for their target's answer.",
		}),
		breakerGauge: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "hookline_connection_paused", Help: "1 while a connection's circuit breaker pauses it after repeated failures.",
		}, []string{"connection"}),
		leaseLapses: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hookline_delivery_lease_lapses_total", Help: "Renewals that found this process's lease on its held deliveries lapsed (other replicas may have taken some over).",
		}),
	}
	reg.MustRegister(m.acceptedTotal, m.attemptsTotal, m.outcomesTotal, m.latency, m.commitSeconds,
		m.heldGauge, m.inflightGauge, m.breakerGauge, m.leaseLapses, &queueCollector{stats: stats})
	return m
}

// sourceLabel keeps the source label to a fixed set: a source is free
// text from API clients, and each value would be a new series.
func sourceLabel(source string) string {
	switch source {
	case "api", "alertmanager", "monitor", "search":
		return source
	}
	return "other"
}

func (m *Metrics) leaseLapsed() {
	if m != nil {
		m.leaseLapses.Inc()
	}
}

func (m *Metrics) accepted(source string) {
	if m != nil {
		m.acceptedTotal.WithLabelValues(sourceLabel(source)).Inc()
	}
}

func (m *Metrics) attempt(conn string, a *notify.Attempt) {
	if m != nil {
		m.attemptsTotal.WithLabelValues(conn, notify.Judge(a).String()).Inc()
		m.latency.WithLabelValues(conn).Observe(a.Latency.Seconds())
	}
}

func (m *Metrics) outcome(conn string, s hookline.DeliveryState) {
	if m != nil {
		m.outcomesTotal.WithLabelValues(conn, string(s)).Inc()
	}
}

func (m *Metrics) commit(d time.Duration, alerts int) {
	if m != nil {
		m.commitSeconds.Observe(d.Seconds())
	}
}

func (m *Metrics) held(n int) {
	if m != nil {
		m.heldGauge.Set(float64(n))
	}
}

func (m *Metrics) inflight(n int) {
	if m != nil {
		m.inflightGauge.Set(float64(n))
	}
}

func (m *Metrics) breakerOpen(conn string, open bool) {
	if m != nil {
		v := 0.0
		if open {
			v = 1
		}
		m.breakerGauge.WithLabelValues(conn).Set(v)
	}
}

// queueCollector reads the queue's depth from the store at scrape time, so
// it counts every replica's pending work, not only this process's.
type queueCollector struct {
	stats func(context.Context) (hookline.QueueStats, error)
}

var (
	depthDesc    = prometheus.NewDesc("hookline_queue_pending_deliveries", "Deliveries waiting for an attempt, in the store.", nil, nil)
	ageDesc      = prometheus.NewDesc("hookline_queue_oldest_pending_age_seconds", "Age of the oldest pending delivery; 0 when none is pending.", nil, nil)
	replicasDesc = prometheus.NewDesc("hookline_delivery_replicas", "Processes holding a live delivery lease on the store: the replicas delivering from it.", nil, nil)
)

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- depthDesc
	ch <- ageDesc
	ch <- replicasDesc
}

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := c.stats(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(depthDesc, err)
		return
	}
	age := 0.0
	if !s.OldestPending.IsZero() {
		age = max(time.Since(s.OldestPending).Seconds(), 0)
	}
	ch <- prometheus.MustNewConstMetric(depthDesc, prometheus.GaugeValue, float64(s.Pending))
	ch <- prometheus.MustNewConstMetric(ageDesc, prometheus.GaugeValue, age)
	ch <- prometheus.MustNewConstMetric(replicasDesc, prometheus.GaugeValue, float64(s.Replicas))
}
