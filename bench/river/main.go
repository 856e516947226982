// Command riverbench measures River (github.com/riverqueue/river) with its
// SQLite driver on a local file, as a candidate durable queue for Hookline.
//
//	riverbench migrate -db F                    fresh file + River migrations
//	riverbench insert  -db F -mode single|many -batch N -dur D
//	riverbench prefill -db F -n 50000           (batches of 500)
//	riverbench drain   -db F -workers W -n 50000 -dur D
//	riverbench steady  -db F -workers W -rate R -dur 20s
//
// Every command prints one line of key=value figures. Every run is bounded
// by -dur (and a hard 60 s watchdog).
package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	_ "modernc.org/sqlite"
)

// payload is the 200-byte JSON body every job POSTs; it is also stored in
// the job's args so that rows carry a realistic payload.
var payload = func() string {
	s := `{"name":"High CPU","triggerType":"Critical","results":"` + strings.Repeat("x", 200) + `"}`
	return s[:199] + "}"
}()

type postArgs struct {
	T int64  `json:"t"` // unix nanos when the insert call started
	P string `json:"p"`
}

func (postArgs) Kind() string { return "post" }

type postWorker struct {
	river.WorkerDefaults[postArgs]
	client *http.Client
	url    string
	worked *latencies
}

func (w *postWorker) Work(ctx context.Context, job *river.Job[postArgs]) error {
	if *noHTTP {
		w.worked.add(time.Duration(time.Now().UnixNano() - job.Args.T))
		return nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, strings.NewReader(job.Args.P))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := w.client.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	w.worked.add(time.Duration(time.Now().UnixNano() - job.Args.T))
	return nil
}

type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d)
	l.mu.Unlock()
}

func (l *latencies) pct() (n int, p50, p99, max time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.d) == 0 {
		return 0, 0, 0, 0
	}
	s := slices.Clone(l.d)
	slices.Sort(s)
	at := func(p float64) time.Duration { return s[min(len(s)-1, int(p*float64(len(s))))] }
	return len(s), at(0.50), at(0.99), s[len(s)-1]
}

// countingHandler counts River's log records at warn and above, and those
// mentioning SQLITE_BUSY / "database is locked", printing the first few.
type countingHandler struct {
	warn, busy atomic.Int64
	printed    atomic.Int64
}

func (h *countingHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (h *countingHandler) Handle(_ context.Context, r slog.Record) error {
	h.warn.Add(1)
	var sb strings.Builder
	sb.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool { sb.WriteString(" " + a.String()); return true })
	s := sb.String()
	if strings.Contains(s, "SQLITE_BUSY") || strings.Contains(s, "database is locked") {
		h.busy.Add(1)
	}
	if h.printed.Add(1) <= 5 {
		fmt.Fprintf(os.Stderr, "river log %s: %s\n", r.Level, s)
	}
	return nil
}
func (h *countingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *countingHandler) WithGroup(string) slog.Handler      { return h }

var (
	dbPath   = flag.String("db", "/tmp/riverbench/bench.db", "SQLite file")
	conns    = flag.Int("conns", 1, "max open connections (River's docs advise 1)")
	mode     = flag.String("mode", "many", "insert: single or many")
	batch    = flag.Int("batch", 100, "InsertMany batch size")
	n        = flag.Int("n", 50000, "jobs (prefill, drain)")
	workers  = flag.Int("workers", 50, "queue MaxWorkers")
	rate     = flag.Int("rate", 2000, "steady: jobs/s to insert")
	dur      = flag.Duration("dur", 20*time.Second, "run length bound")
	cooldown = flag.Duration("cooldown", 0, "FetchCooldown (0 = River default 100ms)")
	poll     = flag.Duration("poll", 0, "FetchPollInterval (0 = River default 1s)")
	noHTTP   = flag.Bool("nohttp", false, "worker returns nil without the POST (isolates River's cost)")
	cpuProf  = flag.String("cpuprofile", "", "write a CPU profile")
	pollOnly = flag.Bool("pollonly", false, "PollOnly: no notification listener")
)

func main() {
	flag.CommandLine.Parse(os.Args[2:])
	time.AfterFunc(60*time.Second, func() { fmt.Fprintln(os.Stderr, "watchdog: 60 s"); os.Exit(3) })
	ctx := context.Background()
	var err error
	if *cpuProf != "" {
		f, _ := os.Create(*cpuProf)
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	switch os.Args[1] {
	case "migrate":
		err = cmdMigrate(ctx)
	case "insert":
		err = cmdInsert(ctx)
	case "prefill":
		err = cmdPrefill(ctx)
	case "drain":
		err = cmdDrain(ctx)
	case "steady":
		err = cmdSteady(ctx)
	case "stats":
		err = cmdStats(ctx)
	default:
		err = errors.New("unknown command")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

// openDB opens the file with the settings Hookline's sqlite package uses for
// its writer: WAL, synchronous=FULL, BEGIN IMMEDIATE, busy_timeout 10 s.
func openDB() (*sql.DB, error) {
	q := url.Values{
		"_journal_mode": {"WAL"},
		"_synchronous":  {"FULL"},
		"_txlock":       {"immediate"},
		"_busy_timeout": {"10000"},
		"_foreign_keys": {"1"},
	}
	db, err := sql.Open("sqlite", "file:"+*dbPath+"?"+q.Encode())
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(*conns)
	db.SetMaxIdleConns(*conns)
	var jm, sync string
	if err := db.QueryRow("PRAGMA journal_mode").Scan(&jm); err != nil {
		return nil, err
	}
	if err := db.QueryRow("PRAGMA synchronous").Scan(&sync); err != nil {
		return nil, err
	}
	if jm != "wal" || sync != "2" {
		return nil, fmt.Errorf("journal_mode=%s synchronous=%s", jm, sync)
	}
	return db, nil
}

func cmdMigrate(ctx context.Context) error {
	for _, suf := range []string{"", "-wal", "-shm"} {
		os.Remove(*dbPath + suf)
	}
	db, err := openDB()
	if err != nil {
		return err
	}
	defer db.Close()
	t0 := time.Now()
	m, err := rivermigrate.New(riversqlite.New(db), nil)
	if err != nil {
		return err
	}
	res, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return err
	}
	fmt.Printf("migrate versions=%d took=%s\n", len(res.Versions), time.Since(t0).Round(time.Millisecond))
	return nil
}

type rusage struct {
	wall      time.Time
	user, sys time.Duration
}

func now() rusage {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return rusage{time.Now(), time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())}
}

// cpu reports CPU seconds used per wall second since r (1.0 = one core).
func (r rusage) cpu() string {
	e := now()
	w := e.wall.Sub(r.wall)
	return fmt.Sprintf("cpu=%.2fcores(user=%.1fs sys=%.1fs)", float64(e.user-r.user+e.sys-r.sys)/float64(w),
		(e.user - r.user).Seconds(), (e.sys - r.sys).Seconds())
}

func params(k int) []river.InsertManyParams {
	t := time.Now().UnixNano()
	ps := make([]river.InsertManyParams, k)
	for i := range ps {
		ps[i] = river.InsertManyParams{Args: postArgs{T: t, P: payload}}
	}
	return ps
}

func insertClient(db *sql.DB) (*river.Client[*sql.Tx], *countingHandler, error) {
	h := &countingHandler{}
	c, err := river.NewClient(riversqlite.New(db), &river.Config{Logger: slog.New(h)})
	return c, h, err
}

func cmdInsert(ctx context.Context) error {
	db, err := openDB()
	if err != nil {
		return err
	}
	defer db.Close()
	c, h, err := insertClient(db)
	if err != nil {
		return err
	}
	r := now()
	deadline := r.wall.Add(*dur)
	done := 0
	for time.Now().Before(deadline) {
		if *mode == "single" {
			if _, err := c.Insert(ctx, postArgs{T: time.Now().UnixNano(), P: payload}, nil); err != nil {
				return err
			}
			done++
		} else {
			if _, err := c.InsertMany(ctx, params(*batch)); err != nil {
				return err
			}
			done += *batch
		}
	}
	el := time.Since(r.wall)
	fmt.Printf("insert mode=%s batch=%d jobs=%d secs=%.1f rate=%.0f/s %s warn=%d busy=%d\n",
		*mode, *batch, done, el.Seconds(), float64(done)/el.Seconds(), r.cpu(), h.warn.Load(), h.busy.Load())
	return nil
}

func cmdPrefill(ctx context.Context) error {
	db, err := openDB()
	if err != nil {
		return err
	}
	defer db.Close()
	c, _, err := insertClient(db)
	if err != nil {
		return err
	}
	r := now()
	for done := 0; done < *n; done += 500 {
		if _, err := c.InsertMany(ctx, params(min(500, *n-done))); err != nil {
			return err
		}
	}
	fmt.Printf("prefill jobs=%d secs=%.1f %s\n", *n, time.Since(r.wall).Seconds(), r.cpu())
	return nil
}

type bench struct {
	db        *sql.DB
	client    *river.Client[*sql.Tx]
	log       *countingHandler
	srv       *httptest.Server
	worked    *latencies
	completed *latencies
	nDone     atomic.Int64
	nFailed   atomic.Int64
	events    <-chan *river.Event
}

func newBench(ctx context.Context) (*bench, error) {
	db, err := openDB()
	if err != nil {
		return nil, err
	}
	b := &bench{db: db, log: &countingHandler{}, worked: &latencies{}, completed: &latencies{}}
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Write([]byte(`{"ok":true}`))
	}))
	hc := &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{
		MaxIdleConns: 512, MaxIdleConnsPerHost: 512, IdleConnTimeout: time.Minute,
	}}
	ws := river.NewWorkers()
	river.AddWorker(ws, &postWorker{client: hc, url: b.srv.URL, worked: b.worked})
	b.client, err = river.NewClient(riversqlite.New(db), &river.Config{
		Logger:            slog.New(b.log),
		Workers:           ws,
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: *workers}},
		FetchCooldown:     *cooldown,
		FetchPollInterval: *poll,
		PollOnly:          *pollOnly,
	})
	if err != nil {
		return nil, err
	}
	var cancel func()
	b.events, cancel = b.client.SubscribeConfig(&river.SubscribeConfig{
		ChanSize: 1 << 20,
		Kinds:    []river.EventKind{river.EventKindJobCompleted, river.EventKindJobFailed},
	})
	_ = cancel
	go func() {
		for ev := range b.events {
			if ev.Kind != river.EventKindJobCompleted {
				b.nFailed.Add(1)
				continue
			}
			var a struct {
				T int64 `json:"t"`
			}
			json.Unmarshal(ev.Job.EncodedArgs, &a)
			b.completed.add(time.Duration(time.Now().UnixNano() - a.T))
			b.nDone.Add(1)
		}
	}()
	return b, nil
}

func (b *bench) close(ctx context.Context) {
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	b.client.Stop(sctx)
	b.srv.Close()
	b.db.Close()
}

func cmdDrain(ctx context.Context) error {
	b, err := newBench(ctx)
	if err != nil {
		return err
	}
	r := now()
	if err := b.client.Start(ctx); err != nil {
		return err
	}
	deadline := r.wall.Add(*dur)
	for b.nDone.Load()+b.nFailed.Load() < int64(*n) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	el := time.Since(r.wall)
	done := b.nDone.Load()
	fmt.Printf("drain nohttp=%v conns=%d workers=%d cooldown=%s poll=%s pollonly=%v completed=%d failed=%d secs=%.1f rate=%.0f/s %s warn=%d busy=%d\n",
		*noHTTP, *conns, *workers, *cooldown, *poll, *pollOnly, done, b.nFailed.Load(), el.Seconds(), float64(done)/el.Seconds(), r.cpu(), b.log.warn.Load(), b.log.busy.Load())
	b.close(ctx)
	return nil
}

func cmdSteady(ctx context.Context) error {
	b, err := newBench(ctx)
	if err != nil {
		return err
	}
	if err := b.client.Start(ctx); err != nil {
		return err
	}
	time.Sleep(300 * time.Millisecond) // let the client elect and start producers
	r := now()
	const bs = 100
	var inserted atomic.Int64
	var insertErr error
	ins := &latencies{}
	var backlog []int64 // sampled each second
	stopSample := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-stopSample:
				return
			case <-t.C:
				backlog = append(backlog, inserted.Load()-b.nDone.Load())
			}
		}
	}()
	// Open loop at -rate: a batch of 100 is due every 100/rate s; when an
	// InsertMany ran late the next ones follow at once (catch-up), so the
	// offered load stays at -rate as long as the inserter can keep up.
	for {
		el := time.Since(r.wall)
		if el >= *dur {
			break
		}
		due := r.wall.Add(time.Duration(float64(inserted.Load()) / float64(*rate) * float64(time.Second)))
		if d := time.Until(due); d > 0 {
			time.Sleep(d)
			continue
		}
		t0 := time.Now()
		if _, err := b.client.InsertMany(ctx, params(bs)); err != nil {
			insertErr = err
			break
		}
		ins.add(time.Since(t0))
		inserted.Add(bs)
	}
	close(stopSample)
	<-sampled
	el := time.Since(r.wall)
	cpu := r.cpu()
	done := b.nDone.Load()
	cn, c50, c99, cmax := b.completed.pct()
	_, w50, w99, _ := b.worked.pct()
	_, i50, i99, imax := ins.pct()
	fmt.Printf("steady workers=%d rate=%d cooldown=%s poll=%s pollonly=%v conns=%d secs=%.1f inserted=%.0f/s completed=%.0f/s backlog_end=%d backlog_per_s=%v lat_complete(n=%d) p50=%s p99=%s max=%s lat_worked p50=%s p99=%s insertmany100 p50=%s p99=%s max=%s %s warn=%d busy=%d failed=%d err=%v\n",
		*workers, *rate, *cooldown, *poll, *pollOnly, *conns, el.Seconds(), float64(inserted.Load())/el.Seconds(), float64(done)/el.Seconds(),
		inserted.Load()-done, backlog, cn, c50.Round(time.Millisecond), c99.Round(time.Millisecond), cmax.Round(time.Millisecond),
		w50.Round(time.Millisecond), w99.Round(time.Millisecond), i50.Round(time.Millisecond), i99.Round(time.Millisecond), imax.Round(time.Millisecond), cpu,
		b.log.warn.Load(), b.log.busy.Load(), b.nFailed.Load(), insertErr)
	b.close(ctx)
	return nil
}

func cmdStats(ctx context.Context) error {
	db, err := openDB()
	if err != nil {
		return err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT state, count(*) FROM river_job GROUP BY state`)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	for rows.Next() {
		var s string
		var k int
		rows.Scan(&s, &k)
		fmt.Fprintf(&buf, " %s=%d", s, k)
	}
	rows.Close()
	var notif, pages, psize int
	db.QueryRow(`SELECT count(*) FROM river_notification`).Scan(&notif)
	db.QueryRow(`PRAGMA page_count`).Scan(&pages)
	db.QueryRow(`PRAGMA page_size`).Scan(&psize)
	fmt.Printf("stats jobs:%s notifications=%d db_bytes=%d\n", buf.String(), notif, pages*psize)
	return nil
}
