// Package bench measures Hookline end to end: it posts alerts to the API of
// a running server, or of several replicas on one database, at a set rate, receives the signed deliveries on a target
// of its own on 127.0.0.1, and reports alerts accepted and delivered per
// second, the time from posting an alert to its arrival at the target, and
// whether any alert was lost or delivered twice. `hookline bench` and the
// go test benchmarks use it.
package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hookline/hookline/devlambda"
)

// Config says what to measure.
type Config struct {
	// Servers are the base URLs of one Hookline, or of replicas sharing
	// one database. Batches of alerts go to them in turn (round robin);
	// the run's connection is created on the first.
	Servers []string
	Token   string // their admin token

	Alerts      int     // how many alerts to send
	Batch       int     // alerts per POST (1 to 1000)
	Concurrency int     // POSTs in flight at once
	Rate        float64 // alerts per second to offer; 0 means as fast as accepted

	// Verify makes the target check every request's SigV4 signature, as AWS
	// would; it costs the target CPU on the same machine.
	Verify  bool
	Timeout time.Duration // for the whole run; 0 means 5 minutes

	Progress io.Writer // a line a second while running; nil for none
}

// Result is what a run measured.
type Result struct {
	Alerts     int
	Accepted   int   // alerts the API answered 202 for
	Delivered  int   // distinct alerts that reached the target
	Duplicates int   // arrivals beyond the first of an alert
	Lost       int   // accepted alerts that never arrived
	Refused    int   // requests the target refused (bad signature)
	AcceptedBy []int // Accepted by server, in the order of Config.Servers

	Elapsed       time.Duration // first POST to last arrival
	AcceptElapsed time.Duration // first POST to the last POST answered
	AcceptPerSec  float64       // accepted over AcceptElapsed
	DeliverPerSec float64       // delivered over Elapsed
	// From the time an alert was due to be posted (with a rate, the
	// schedule's time, so a slow server cannot hide its queueing) to its
	// arrival at the target.
	P50, P90, P99 time.Duration
	Max           time.Duration
}

func (r *Result) String() string {
	var by string
	if len(r.AcceptedBy) > 1 {
		by = fmt.Sprintf(" (by server: %s)", strings.Trim(fmt.Sprint(r.AcceptedBy), "[]"))
	}
	return fmt.Sprintf("alerts %d, accepted %d%s, delivered %d, lost %d, duplicates %d, refused %d\n"+
		"accepted in %s (%.0f/s), delivered in %s (%.0f/s)\n"+
		"post→target latency: p50 %s, p90 %s, p99 %s, max %s",
		r.Alerts, r.Accepted, by, r.Delivered, r.Lost, r.Duplicates, r.Refused,
		r.AcceptElapsed.Round(time.Millisecond), r.AcceptPerSec, r.Elapsed.Round(time.Millisecond), r.DeliverPerSec,
		r.P50.Round(10*time.Microsecond), r.P90.Round(10*time.Microsecond), r.P99.Round(10*time.Microsecond), r.Max.Round(10*time.Microsecond))
}

const (
	benchKeyID  = "AKIDBENCH00000001"
	benchSecret = "benchSecretAccessKey/0000000000000000000"
)

// Run measures once. It creates a connection named for the run on the
// first server and leaves it there.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.Alerts <= 0 || cfg.Batch <= 0 || cfg.Batch > 1000 || cfg.Concurrency <= 0 {
		return nil, errors.New("bench: alerts and concurrency must be positive, batch from 1 to 1000")
	}
	if len(cfg.Servers) == 0 || slices.Contains(cfg.Servers, "") {
		return nil, errors.New("bench: servers must name at least one URL, none empty")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()

	tg, err := startTarget(cfg.Alerts, cfg.Verify)
	if err != nil {
		return nil, err
	}
	defer tg.close()

	client := &http.Client{
		Timeout:   time.Minute,
		Transport: &http.Transport{MaxIdleConnsPerHost: cfg.Concurrency + 4, DisableCompression: true},
	}
	defer client.CloseIdleConnections()
	apis := make([]*apiClient, len(cfg.Servers))
	for i, base := range cfg.Servers {
		apis[i] = &apiClient{base: strings.TrimSuffix(base, "/"), token: cfg.Token, http: client}
	}
	connID, err := apis[0].createConnection(ctx, tg.url)
	if err != nil {
		return nil, err
	}

	sent := make([]atomic.Int64, cfg.Alerts) // unix nanos each alert was due to be posted
	acceptedBy := make([]atomic.Int64, len(apis))
	var accepted, lastAnswer atomic.Int64
	start := time.Now()
	tg.start = start
	type batch struct {
		first int
		due   time.Time // zero: as soon as a sender is free
	}
	batches := make(chan batch)
	errc := make(chan error, cfg.Concurrency)
	var wg sync.WaitGroup
	for range cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for bt := range batches {
				first := bt.first
				n := min(cfg.Batch, cfg.Alerts-first)
				due := bt.due
				if due.IsZero() {
					due = time.Now()
				}
				for i := first; i < first+n; i++ {
					sent[i].Store(due.UnixNano())
				}
				// Batch k goes to server k mod len(apis).
				to := first / cfg.Batch % len(apis)
				if err := apis[to].postAlerts(ctx, connID, first, n); err != nil {
					select {
					case errc <- err:
					default:
					}
					cancel()
					return
				}
				accepted.Add(int64(n))
				acceptedBy[to].Add(int64(n))
				lastAnswer.Store(time.Now().UnixNano())
			}
		}()
	}
	go func() {
		defer close(batches)
		var interval time.Duration
		if cfg.Rate > 0 {
			interval = time.Duration(float64(time.Second) * float64(cfg.Batch) / cfg.Rate)
		}
		next := time.Now()
		for first := 0; first < cfg.Alerts; first += cfg.Batch {
			var due time.Time
			if interval > 0 {
				if wait := time.Until(next); wait > 0 {
					time.Sleep(wait)
				}
				due, next = next, next.Add(interval)
			}
			select {
			case batches <- batch{first, due}:
			case <-ctx.Done():
				return
			}
		}
	}()

	// Wait for the senders, then for the arrivals.
	ticker := time.NewTicker(time.Second)
	defer ticker.Stop()
	sendersDone := make(chan struct{})
	go func() { wg.Wait(); close(sendersDone) }()
	for done := false; !done; {
		select {
		case <-ticker.C:
			if cfg.Progress != nil {
				fmt.Fprintf(cfg.Progress, "%6.1fs  accepted %d  delivered %d\n", time.Since(start).Seconds(), accepted.Load(), tg.delivered.Load())
			}
		case <-sendersDone:
			sendersDone = nil
		case <-tg.allIn:
			tg.allIn = nil
		case <-ctx.Done():
			done = true
		}
		// Deliveries can arrive before their POST is answered: the run is
		// over once every POST is answered and every accepted alert arrived.
		if sendersDone == nil && tg.delivered.Load() >= accepted.Load() {
			done = true
		}
	}
	select {
	case err := <-errc:
		return nil, err
	default:
	}
	r := tg.result(cfg.Alerts, int(accepted.Load()), sent)
	for i := range acceptedBy {
		r.AcceptedBy = append(r.AcceptedBy, int(acceptedBy[i].Load()))
	}
	if last := lastAnswer.Load(); last != 0 {
		r.AcceptElapsed = time.Duration(last - start.UnixNano())
		r.AcceptPerSec = float64(r.Accepted) / r.AcceptElapsed.Seconds()
	}
	return r, nil
}

// target receives the deliveries and notes when each alert first arrived.
type target struct {
	url       string
	srv       *http.Server
	start     time.Time
	arrived   []atomic.Int64 // unix nanos of first arrival, by alert number
	times     []atomic.Int32 // arrivals, by alert number
	delivered atomic.Int64
	refused   atomic.Int64
	last      atomic.Int64
	allIn     chan struct{}
	once      sync.Once
}

func startTarget(n int, verify bool) (*target, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("bench target: %w", err)
	}
	tg := &target{url: "http://" + ln.Addr().String() + "/", arrived: make([]atomic.Int64, n), times: make([]atomic.Int32, n), allIn: make(chan struct{})}
	record := func(body []byte) {
		seq, ok := sequence(body)
		if !ok || seq < 0 || seq >= n {
			return
		}
		if tg.times[seq].Add(1) == 1 {
			now := time.Now().UnixNano()
			tg.arrived[seq].Store(now)
			tg.last.Store(now)
			if tg.delivered.Add(1) == int64(n) {
				tg.once.Do(func() { close(tg.allIn) })
			}
		}
	}
	var h http.Handler
	if verify {
		h = devlambda.New(devlambda.Config{
			Region: "us-east-1", Service: "lambda", Keys: map[string]string{benchKeyID: benchSecret}, MaxRecorded: -1,
			Respond: func(r devlambda.Request) (int, []byte) { record(r.Body); return http.StatusOK, []byte(`{"ok":true}`) },
		})
		h = refusalCounter{h, &tg.refused}
	} else {
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			record(body)
		})
	}
	tg.srv = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go tg.srv.Serve(ln)
	return tg, nil
}

// refusalCounter counts the requests the SigV4 check refused.
type refusalCounter struct {
	h http.Handler
	n *atomic.Int64
}

func (c refusalCounter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	sw := &statusWriter{ResponseWriter: w}
	c.h.ServeHTTP(sw, r)
	if sw.status == http.StatusForbidden {
		c.n.Add(1)
	}
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// close stops the target at once: the run is measured, and a graceful
// Shutdown would wait up to 5 s for each connection a server dialled but
// has not sent a request on yet.
func (t *target) close() { t.srv.Close() }

// sequence reads the alert number from a body rendered from
// {"seq": "{{Name}}"}, without a full JSON parse.
func sequence(body []byte) (int, bool) {
	const key = `"seq":"`
	i := bytes.Index(body, []byte(key))
	if i < 0 {
		return 0, false
	}
	rest := body[i+len(key):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return 0, false
	}
	n, err := strconv.Atoi(string(rest[:j]))
	return n, err == nil
}

func (t *target) result(n, accepted int, sent []atomic.Int64) *Result {
	r := &Result{Alerts: n, Accepted: accepted, Delivered: int(t.delivered.Load()), Refused: int(t.refused.Load())}
	var lat []time.Duration
	for i := range n {
		times := int(t.times[i].Load())
		if times > 1 {
			r.Duplicates += times - 1
		}
		if at := t.arrived[i].Load(); at != 0 && sent[i].Load() != 0 {
			lat = append(lat, time.Duration(at-sent[i].Load()))
		}
	}
	r.Lost = accepted - r.Delivered
	if last := t.last.Load(); last != 0 {
		r.Elapsed = time.Duration(last - t.start.UnixNano())
	}
	if r.Elapsed > 0 {
		r.DeliverPerSec = float64(r.Delivered) / r.Elapsed.Seconds()
	}
	if len(lat) > 0 {
		slices.Sort(lat)
		q := func(p float64) time.Duration { return lat[min(int(p*float64(len(lat))), len(lat)-1)] }
		r.P50, r.P90, r.P99, r.Max = q(0.50), q(0.90), q(0.99), lat[len(lat)-1]
	}
	return r
}

// apiClient is the little of Hookline's API a run needs, with request
// bodies built by hand so that the load generator costs little CPU.
type apiClient struct {
	base, token string
	http        *http.Client
}

func (c *apiClient) do(ctx context.Context, method, path string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(b))
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

func (c *apiClient) createConnection(ctx context.Context, url string) (string, error) {
	def, _ := json.Marshal(map[string]any{
		"type": "WebhookDefinition", "webhookType": "AWSLambda",
		"name": fmt.Sprintf("bench-%d", time.Now().UnixNano()), "url": url,
		"region": "us-east-1", "serviceName": "lambda",
		"accessKeyId": benchKeyID, "secretAccessKey": benchSecret,
		"defaultPayload": `{"seq":"{{Name}}","type":"{{TriggerType}}","ip":"{{ResultsJson.client_ip}}"}`,
	})
	var out struct {
		ID string `json:"id"`
	}
	if err := c.do(ctx, "POST", "/api/v1/connections", def, &out); err != nil {
		return "", fmt.Errorf("create the bench connection: %w", err)
	}
	return out.ID, nil
}

func (c *apiClient) postAlerts(ctx context.Context, connID string, first, n int) error {
	var b bytes.Buffer
	b.WriteString(`{"alerts":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"name":"%d","triggerType":"Critical","results":[{"client_ip":"203.0.113.7"}],"notifications":[{"connectionId":%q}]}`, first+i, connID)
	}
	b.WriteString(`]}`)
	return c.do(ctx, "POST", "/api/v1/alerts", b.Bytes(), nil)
}
