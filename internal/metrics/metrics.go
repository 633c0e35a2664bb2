package metrics

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"starling/internal/jobs"
)

// Namespace starts every metric name of Starling's own.
const Namespace = "starling"

// Registry is the set of metrics of one process.
type Registry struct {
	reg       *prometheus.Registry
	requests  *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	jobs      *prometheus.CounterVec
	fanoutLag prometheus.Histogram
	redis     *prometheus.HistogramVec
}

// New returns a registry holding the Go runtime's and the process's
// metrics and Starling's request, job and fan-out metrics.
func New() *Registry {
	r := &Registry{reg: prometheus.NewRegistry()}
	r.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Subsystem: "http", Name: "requests_total",
		Help: "HTTP requests answered, by route pattern and status class.",
	}, []string{"route", "code"})
	r.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace, Subsystem: "http", Name: "request_duration_seconds",
		Help:    "Time from a request's arrival to the end of its answer, by route pattern (streams count until they end).",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"route"})
	r.jobs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Subsystem: "jobs", Name: "settled_total",
		Help: "Jobs this process's workers settled, by kind and outcome (completed, retried, buried).",
	}, []string{"kind", "outcome"})
	r.fanoutLag = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: Namespace, Subsystem: "fanout", Name: "lag_seconds",
		Help:    "Time from a status being posted to one chunk of its fan-out reaching its timelines.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
	})
	r.redis = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace, Subsystem: "redis", Name: "command_duration_seconds",
		Help:    "Round trips of the commands this process sent to Redis, by command verb (blocking reads and client-side cache hits left out; a pipeline counts once).",
		Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
	}, []string{"command"})
	r.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		r.requests, r.latency, r.jobs, r.fanoutLag, r.redis,
	)
	return r
}

// Handler serves the registry in the Prometheus text format.
func (r *Registry) Handler() http.Handler {
	return promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{Registry: r.reg})
}

// ObserveRequest records one answered request: its route (a ServeMux
// pattern, or "unmatched"), status and duration.
func (r *Registry) ObserveRequest(route string, status int, d time.Duration) {
	if r == nil {
		return
	}
	r.requests.WithLabelValues(route, statusClass(status)).Inc()
	r.latency.WithLabelValues(route).Observe(d.Seconds())
}

// statusClass turns 404 into "4xx"; anything outside 100–599 is "other".
func statusClass(status int) string {
	if status < 100 || status > 599 {
		return "other"
	}
	return strconv.Itoa(status/100) + "xx"
}

// ObserveJob counts a job settled by a worker; it fits
// jobs.RunnerConfig.Observe.
func (r *Registry) ObserveJob(kind, outcome string) {
	if r == nil {
		return
	}
	r.jobs.WithLabelValues(kind, outcome).Inc()
}

// ObserveFanoutLag records how long after its post a fan-out chunk was
// delivered; it fits social.Config.FanoutLag.
func (r *Registry) ObserveFanoutLag(d time.Duration) {
	if r == nil {
		return
	}
	r.fanoutLag.Observe(d.Seconds())
}

// ObserveRedisCommand records the round trip of one command sent to Redis,
// by its verb; it fits engine.Config.ObserveRedisCommand. The embedded
// engine sends none, and the histogram then stays empty.
func (r *Registry) ObserveRedisCommand(command string, d time.Duration) {
	if r == nil {
		return
	}
	r.redis.WithLabelValues(command).Observe(d.Seconds())
}

// CounterFunc registers a counter whose value f reads at scrape time (f
// must be cheap, safe for concurrent use and never decrease).
func (r *Registry) CounterFunc(name, help string, f func() float64) {
	if r == nil {
		return
	}
	r.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: Namespace, Name: name, Help: help}, f))
}

// GaugeFunc registers a gauge whose value f reads at scrape time.
func (r *Registry) GaugeFunc(name, help string, f func() float64) {
	if r == nil {
		return
	}
	r.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: Namespace, Name: name, Help: help}, f))
}

// WatchQueue reports the counts of the queue's jobs by kind at each
// scrape. The queue is shared by every process on Redis, so any one
// process's figures are the deployment's.
func (r *Registry) WatchQueue(q jobs.KindCounter, timeout time.Duration) {
	if r == nil || q == nil {
		return
	}
	r.reg.MustRegister(&queueCollector{queue: q, timeout: timeout})
}

var (
	queueJobsDesc = prometheus.NewDesc(Namespace+"_jobs_queued",
		"Jobs in the queue by state (ready, delayed, leased, dead) and kind.",
		[]string{"state", "kind"}, nil)
	queueOldestDesc = prometheus.NewDesc(Namespace+"_jobs_oldest_ready_age_seconds",
		"How long the longest-waiting ready job has waited, by kind (0 when none is waiting).",
		[]string{"kind"}, nil)
	queueUpDesc = prometheus.NewDesc(Namespace+"_jobs_stats_up",
		"1 when the queue's counts could be read at this scrape, else 0.", nil, nil)
)

// queueCollector reads the queue's counts by kind at every scrape.
type queueCollector struct {
	queue   jobs.KindCounter
	timeout time.Duration
}

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- queueJobsDesc
	ch <- queueOldestDesc
	ch <- queueUpDesc
}

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	kinds, err := c.queue.StatsByKind(ctx)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(queueUpDesc, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(queueUpDesc, prometheus.GaugeValue, 1)
	now := time.Now()
	for _, k := range kinds {
		for _, s := range []struct {
			state string
			n     int64
		}{{"ready", k.Ready}, {"delayed", k.Delayed}, {"leased", k.Leased}, {"dead", k.Dead}} {
			ch <- prometheus.MustNewConstMetric(queueJobsDesc, prometheus.GaugeValue, float64(s.n), s.state, k.Kind)
		}
		age := 0.0
		if !k.OldestReady.IsZero() {
			age = max(now.Sub(k.OldestReady).Seconds(), 0)
		}
		ch <- prometheus.MustNewConstMetric(queueOldestDesc, prometheus.GaugeValue, age, k.Kind)
	}
}

var (
	pingDesc = prometheus.NewDesc(Namespace+"_store_ping_seconds",
		"Round trip of one ping of the store (a Redis PING, or a query of the embedded engine) taken at this scrape.", nil, nil)
	storeUpDesc = prometheus.NewDesc(Namespace+"_store_up",
		"1 when the store answered the ping of this scrape, else 0.", nil, nil)
)

// WatchPing times one ping of the store at each scrape: on Redis, the
// round trip a command pays at the moment, queueing included.
func (r *Registry) WatchPing(ping func(context.Context) error, timeout time.Duration) {
	if r == nil || ping == nil {
		return
	}
	r.reg.MustRegister(&pingCollector{ping: ping, timeout: timeout})
}

type pingCollector struct {
	ping    func(context.Context) error
	timeout time.Duration
}

func (c *pingCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- pingDesc
	ch <- storeUpDesc
}

func (c *pingCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	start := time.Now()
	err := c.ping(ctx)
	d := time.Since(start)
	up := 1.0
	if err != nil {
		up = 0
	}
	ch <- prometheus.MustNewConstMetric(storeUpDesc, prometheus.GaugeValue, up)
	ch <- prometheus.MustNewConstMetric(pingDesc, prometheus.GaugeValue, d.Seconds())
}

// Family names one metric of a Group.
type Family struct {
	Name, Help string
	Counter    bool // else a gauge
}

// Group registers metrics whose values read returns together, in the order
// of fams, at each scrape: for a source whose snapshot costs a walk (the
// stream hub's connections), taken once a scrape rather than once a metric.
func (r *Registry) Group(fams []Family, read func() []float64) {
	if r == nil {
		return
	}
	g := &groupCollector{read: read}
	for _, f := range fams {
		g.descs = append(g.descs, prometheus.NewDesc(Namespace+"_"+f.Name, f.Help, nil, nil))
		kind := prometheus.GaugeValue
		if f.Counter {
			kind = prometheus.CounterValue
		}
		g.kinds = append(g.kinds, kind)
	}
	r.reg.MustRegister(g)
}

type groupCollector struct {
	descs []*prometheus.Desc
	kinds []prometheus.ValueType
	read  func() []float64
}

func (g *groupCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range g.descs {
		ch <- d
	}
}

func (g *groupCollector) Collect(ch chan<- prometheus.Metric) {
	vs := g.read()
	for i, d := range g.descs {
		if i < len(vs) {
			ch <- prometheus.MustNewConstMetric(d, g.kinds[i], vs[i])
		}
	}
}
