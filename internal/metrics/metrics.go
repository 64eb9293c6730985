// Package metrics is CLM Bridge's Prometheus instrumentation: one registry
// and a handful of small methods the bridge core and the adapters call when
// something countable happens.
//
// Every method is safe on a nil *Metrics (it does nothing), so a package can
// take metrics as an optional dependency and tests can pass nil.
//
// Label values are never taken from member input as-is: each label has an
// allow-list, and anything outside it is recorded as "unknown" or "other".
// So no secret, message text, chat name, member id or token can ever become
// part of a metric, whatever a caller passes in. The package is not an HTTP
// server: [Metrics.Handler] is mounted by internal/httpapi.
package metrics

import (
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/clmbridge/clmbridge/bridge"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/clmbridge/clmbridge/platform"
)

// Namespace prefixes every metric of the bridge ("clm_bridge_…").
const Namespace = "clm_bridge"

// Outcome is how a request ended, in the bridge core's own words (the
// values its debug log uses). Any value not listed here is recorded as
// "other".
type Outcome = string

// The outcomes a request can have.
const (
	OK          Outcome = "ok"           // done as asked
	Usage       Outcome = "usage"        // bad arguments; the member was shown the usage
	NotFound    Outcome = "not-found"    // no such chat or message
	Exists      Outcome = "exists"       // the chat already exists
	TooLong     Outcome = "too-long"     // the message does not fit the platform's limit
	Refused     Outcome = "refused"      // policy said no (a secret or plaintext in public)
	Locked      Outcome = "locked"       // the chat is not unlocked
	Expired     Outcome = "expired"      // the question the member answered timed out
	Limited     Outcome = "limited"      // the member's request budget is used up
	Backoff     Outcome = "backoff"      // too many wrong secrets: the member must wait
	WrongSecret Outcome = "wrong-secret" // a secret did not open the chat or pointer
	Tampered    Outcome = "tampered"     // a pointer's tag did not verify
	NotOpened   Outcome = "not-opened"   // no unlocked chat opened the pointer
	Failed      Outcome = "error"        // something broke on our side
	Unknown     Outcome = "unknown"      // not a command the bridge knows
)

// Unlock failure reasons for [Metrics.UnlockFailed].
const (
	UnlockWrongSecret = "wrong-secret"
	UnlockBackoff     = "backoff"
	UnlockNotFound    = "not-found"
	UnlockError       = "error"
)

// The label values each label may take are fixed by the functions below
// (switches, not package variables, so there is no mutable package state).
// Values outside them are replaced, so the cardinality of every metric is
// bounded and no caller input ever becomes a label as-is.

// knownCommand reports whether c is a command name the core or an adapter
// handles.
func knownCommand(c string) bool {
	return c != "unknown" && slices.Contains(commandNames(), c)
}

// outcomes lists every outcome, so each series exists (at 0) from the
// first scrape: the core's list, bridge.Outcomes.
func outcomes() []Outcome {
	var out []Outcome
	for _, o := range bridge.Outcomes() {
		out = append(out, o.String())
	}
	return out
}

// outcomeLabel is the label value of an outcome: the core's word in
// snake_case (Prometheus convention: "not-found" is recorded as
// "not_found"), or "other".
func outcomeLabel(o Outcome) string {
	if slices.Contains(outcomes(), o) {
		return snake(o)
	}
	return "other"
}

// unlockReasons lists the reasons of unlock_failures_total.
func unlockReasons() []string {
	return []string{UnlockWrongSecret, UnlockBackoff, UnlockNotFound, UnlockError}
}

func unlockReasonLabel(r string) string {
	if slices.Contains(unlockReasons(), r) {
		return snake(r)
	}
	return "other"
}

func snake(s string) string { return strings.ReplaceAll(s, "-", "_") }

// Platform is one platform the bridge can serve, as the metrics label it.
type Platform struct {
	// Name is the platform label's value (telegram).
	Name string
	// Remote is true for a platform reached through an API, with API
	// errors, an outbox and a connection.
	Remote bool
}

// callClasses are the call_class label's values.
func callClasses() []platform.APIClass {
	return []platform.APIClass{platform.ClassSend, platform.ClassEdit, platform.ClassDelete, platform.ClassAnswer,
		platform.ClassPoll, platform.ClassRegister, platform.ClassMeta, platform.ClassOther}
}

// callClassLabel is the label value of an API call's class, or "other".
func callClassLabel(c platform.APIClass) string {
	if slices.Contains(callClasses(), c) {
		return string(c)
	}
	return string(platform.ClassOther)
}

// commandNames are the command label's values, "unknown" included: the
// core's commands (its schema, bridge.Schema), the adapters' entry points,
// and requests that are not typed commands (post: a message that may hold
// pointers; prompt and secret-answer: a private answer to "which
// secret?"; button: a Receive press; inline: a Telegram inline query).
func commandNames() []string {
	var names []string
	for _, c := range bridge.Schema() {
		names = append(names, c.Name)
	}
	return append(names, "status", "start", "confirm", "post", "prompt", "secret-answer",
		"button", "inline", "unknown")
}

// Metrics holds the bridge's collectors and the registry that serves them.
// Create it with [New]; the zero value is not usable, but nil is (no-op).
type Metrics struct {
	reg       *prometheus.Registry
	platforms []Platform // the platform label's values, besides "other"

	commands       *prometheus.CounterVec
	latency        *prometheus.HistogramVec
	pointersSeen   *prometheus.CounterVec
	pointersOpened *prometheus.CounterVec
	wrongSecret    *prometheus.CounterVec
	tampered       *prometheus.CounterVec
	unlockFailures *prometheus.CounterVec
	outboxDepth    *prometheus.GaugeVec
	apiErrors      *prometheus.CounterVec
	apiRateLimited *prometheus.CounterVec
	buildInfo      *prometheus.GaugeVec
	delivery       *prometheus.HistogramVec
	platformUp     *prometheus.GaugeVec
	lastContact    *prometheus.GaugeVec
	forwarded      *prometheus.CounterVec
	forwardTime    prometheus.Histogram
	takenOver      prometheus.Counter
	// sessions is read by the active-sessions gauge at scrape time.
	sessions atomic.Pointer[func() int]
	// kdfWaiting is read by the key-derivation queue gauge at scrape time.
	kdfWaiting atomic.Pointer[func() int]
	// instances is read by the live-instances gauge at scrape time.
	instances atomic.Pointer[func() int]

	mu            sync.Mutex
	outboxFuncs   map[string]func() int           // platform → depth, read at scrape time
	platformFuncs map[string]func() PlatformState // platform → state, read at scrape time
}

// PlatformState is what an adapter reports of its connection, read at
// each scrape for clm_bridge_platform_up and
// clm_bridge_platform_last_contact_timestamp_seconds.
type PlatformState struct {
	// Up is true while the bot is connected (polling works, or the
	// gateway is up).
	Up bool
	// LastContact is when the platform last answered a poll or a
	// heartbeat; zero when it never did.
	LastContact time.Time
}

// New returns metrics for the platforms given (the values of the
// platform label; any other platform is recorded as "other"), registered
// on a fresh registry together with the Go runtime and process
// collectors.
func New(platforms ...Platform) *Metrics {
	m := &Metrics{
		reg:           prometheus.NewRegistry(),
		platforms:     slices.Clone(platforms),
		outboxFuncs:   map[string]func() int{},
		platformFuncs: map[string]func() PlatformState{},
	}
	m.commands = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "commands_total",
		Help: "Requests handled by the core, by command and outcome.",
	}, []string{"command", "outcome"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace, Name: "command_duration_seconds",
		Help:    "Time the core took to handle a request, by command.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"command"})
	m.pointersSeen = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "pointers_seen_total",
		Help: "CLM pointers seen in posts and requests, by platform.",
	}, []string{"platform"})
	m.pointersOpened = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "pointers_opened_total",
		Help: "CLM pointers opened for a member (with an unlocked chat or a given secret), by platform.",
	}, []string{"platform"})
	m.wrongSecret = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "wrong_secret_total",
		Help: "Secrets that did not open a pointer or a chat, by platform; wrong secrets given to unlock are counted in unlock_failures_total{reason=\"wrong_secret\"} instead.",
	}, []string{"platform"})
	m.tampered = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "tampered_pointers_total",
		Help: "Pointers whose authentication tag did not verify, by platform.",
	}, []string{"platform"})
	m.unlockFailures = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "unlock_failures_total",
		Help: "Failed unlocks, by platform and reason (wrong_secret, backoff, not_found, error).",
	}, []string{"platform", "reason"})
	m.outboxDepth = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: Namespace, Name: "outbox_depth",
		Help: "Messages waiting in a platform's outbox.",
	}, []string{"platform"})
	m.apiErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "platform_api_errors_total",
		Help: "Failed platform API calls other than 429s (those are platform_api_rate_limited_total), by platform and call class.",
	}, []string{"platform", "call_class"})
	m.apiRateLimited = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "platform_api_rate_limited_total",
		Help: "Platform API calls answered 429 (rate limited), by platform and call class.",
	}, []string{"platform", "call_class"})
	m.buildInfo = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: Namespace, Name: "build_info",
		Help: "Always 1; its labels say which build runs.",
	}, []string{"version", "revision", "goversion"})
	m.delivery = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace, Name: "delivery_seconds",
		Help:    "Time from a message being queued in a platform's outbox to the platform accepting it (pacing and retries included).",
		Buckets: []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300},
	}, []string{"platform"})
	m.platformUp = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: Namespace, Name: "platform_up",
		Help: "1 while the bot is connected to the platform (polling works, or the gateway is up), else 0.",
	}, []string{"platform"})
	m.lastContact = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: Namespace, Name: "platform_last_contact_timestamp_seconds",
		Help: "Unix time the platform last answered a poll (Telegram) or a heartbeat (Discord); 0 before the first.",
	}, []string{"platform"})
	m.forwarded = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "forwarded_requests_total",
		Help: "Requests this instance sent to the instance that owns their member, by result (ok, timeout, no_owner, too_large, failed).",
	}, []string{"result"})
	m.forwardTime = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: Namespace, Name: "forward_seconds",
		Help:    "Round trip of a request forwarded to its member's owner, retries included.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	})
	m.takenOver = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: Namespace, Name: "members_taken_over_total",
		Help: "Members this instance took over from an instance that died or stopped, and asked to unlock again.",
	})
	instances := readAtScrape("cluster_instances",
		"Live bridge instances in this instance's cluster, as it sees them now (0 when it is in none).", &m.instances)
	sessions := readAtScrape("active_sessions", "Unlocked chat sessions held in memory now.", &m.sessions)
	kdfWaiting := readAtScrape("key_derivations_waiting",
		"Requests waiting now for an Argon2id key-derivation slot (unlock, new, rekey); past the bound members are told to retry.", &m.kdfWaiting)
	m.zero()
	m.reg.MustRegister(m.commands, m.latency, m.pointersSeen, m.pointersOpened,
		m.wrongSecret, m.tampered, m.unlockFailures, &outboxCollector{m},
		m.apiErrors, m.apiRateLimited, sessions, kdfWaiting, m.buildInfo, m.delivery,
		m.forwarded, m.forwardTime, m.takenOver, instances,
		&platformCollector{m},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// zero creates every series of every known label value at 0, so that an
// alert on increase() or rate() sees the first event, and a dashboard shows
// 0 rather than "no data".
func (m *Metrics) zero() {
	for _, pl := range m.platforms {
		p := pl.Name
		m.pointersSeen.WithLabelValues(p)
		m.pointersOpened.WithLabelValues(p)
		m.wrongSecret.WithLabelValues(p)
		m.tampered.WithLabelValues(p)
		for _, r := range unlockReasons() {
			m.unlockFailures.WithLabelValues(p, snake(r))
		}
	}
	for _, pl := range m.platforms {
		if !pl.Remote {
			continue
		}
		p := pl.Name
		m.outboxDepth.WithLabelValues(p)
		m.delivery.WithLabelValues(p)
		m.platformUp.WithLabelValues(p)
		m.lastContact.WithLabelValues(p)
		for _, c := range callClasses() {
			m.apiErrors.WithLabelValues(p, string(c))
			m.apiRateLimited.WithLabelValues(p, string(c))
		}
	}
	for _, r := range forwardResults() {
		m.forwarded.WithLabelValues(r)
	}
	for _, c := range commandNames() {
		c = snake(c)
		m.latency.WithLabelValues(c)
		for _, o := range outcomes() {
			m.commands.WithLabelValues(c, snake(o))
		}
	}
}

// Registry returns the registry the metrics are registered on (for tests
// and for adding collectors of one's own).
func (m *Metrics) Registry() *prometheus.Registry {
	if m == nil {
		return nil
	}
	return m.reg
}

// Handler serves the metrics in the Prometheus text format. On a nil
// *Metrics it answers 404.
func (m *Metrics) Handler() http.Handler {
	if m == nil {
		return http.NotFoundHandler()
	}
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Command records one handled request: its command name (anything not a
// known command counts as "unknown"), how it ended and how long it took.
func (m *Metrics) Command(command string, outcome Outcome, took time.Duration) {
	if m == nil {
		return
	}
	c := CommandLabel(command)
	m.commands.WithLabelValues(c, outcomeLabel(strings.TrimSpace(outcome))).Inc()
	m.latency.WithLabelValues(c).Observe(took.Seconds())
}

// PointersSeen counts n pointers seen on platform.
func (m *Metrics) PointersSeen(platform string, n int) {
	if m == nil || n <= 0 {
		return
	}
	m.pointersSeen.WithLabelValues(m.PlatformLabel(platform)).Add(float64(n))
}

// PointersOpened counts n pointers opened for a member on platform.
func (m *Metrics) PointersOpened(platform string, n int) {
	if m == nil || n <= 0 {
		return
	}
	m.pointersOpened.WithLabelValues(m.PlatformLabel(platform)).Add(float64(n))
}

// WrongSecret counts a secret that did not open a pointer or a chat.
func (m *Metrics) WrongSecret(platform string) {
	if m == nil {
		return
	}
	m.wrongSecret.WithLabelValues(m.PlatformLabel(platform)).Inc()
}

// Tampered counts a pointer whose tag did not verify.
func (m *Metrics) Tampered(platform string) {
	if m == nil {
		return
	}
	m.tampered.WithLabelValues(m.PlatformLabel(platform)).Inc()
}

// UnlockFailed counts a failed unlock; reason is one of the Unlock*
// constants (anything else counts as "other").
func (m *Metrics) UnlockFailed(platform, reason string) {
	if m == nil {
		return
	}
	m.unlockFailures.WithLabelValues(m.PlatformLabel(platform), unlockReasonLabel(reason)).Inc()
}

// SetSessionsFunc sets the function the active-sessions gauge reads at each
// scrape (typically the core's session count). It must be safe to call
// from any goroutine.
func (m *Metrics) SetSessionsFunc(f func() int) {
	if m != nil {
		setReadFunc(&m.sessions, f)
	}
}

// SetKDFWaitingFunc sets the function the key-derivation queue gauge
// reads at each scrape (the core's Stats().KDFWaiting). It must be safe to
// call from any goroutine.
func (m *Metrics) SetKDFWaitingFunc(f func() int) {
	if m != nil {
		setReadFunc(&m.kdfWaiting, f)
	}
}

// readAtScrape is a gauge that reads the function in f at each scrape, 0
// while there is none.
func readAtScrape(name, help string, f *atomic.Pointer[func() int]) prometheus.GaugeFunc {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: Namespace, Name: name, Help: help}, func() float64 {
		if fn := f.Load(); fn != nil {
			return float64((*fn)())
		}
		return 0
	})
}

// setReadFunc sets the function a readAtScrape gauge reads; nil removes it.
func setReadFunc(to *atomic.Pointer[func() int], f func() int) {
	if f == nil {
		to.Store(nil)
		return
	}
	to.Store(&f)
}

// The results of a forwarded request, for [Metrics.Forwarded].
const (
	ForwardOK       = "ok"        // the owner handled it
	ForwardTimeout  = "timeout"   // the owner did not answer in time, even after retries
	ForwardNoOwner  = "no_owner"  // no live instance could take the member
	ForwardTooLarge = "too_large" // a request holding a secret did not fit one notification
	ForwardFailed   = "failed"    // anything else (the owner's handler failed, this instance left)
)

// forwardResults lists the result label's values.
func forwardResults() []string {
	return []string{ForwardOK, ForwardTimeout, ForwardNoOwner, ForwardTooLarge, ForwardFailed}
}

// Forwarded records one request forwarded to its member's owner: how it
// ended (one of the Forward* results; anything else counts as failed) and
// its round trip.
func (m *Metrics) Forwarded(result string, took time.Duration) {
	if m == nil {
		return
	}
	if !slices.Contains(forwardResults(), result) {
		result = ForwardFailed
	}
	m.forwarded.WithLabelValues(result).Inc()
	m.forwardTime.Observe(took.Seconds())
}

// TakenOver counts a member this instance took over from one that died or
// stopped (and asked to unlock again).
func (m *Metrics) TakenOver() {
	if m != nil {
		m.takenOver.Inc()
	}
}

// SetClusterInstancesFunc sets the function the live-instances gauge
// reads at each scrape. It must be safe to call from any goroutine and
// return soon.
func (m *Metrics) SetClusterInstancesFunc(f func() int) {
	if m != nil {
		setReadFunc(&m.instances, f)
	}
}

// SetOutboxDepth sets the number of messages waiting in platform's outbox.
func (m *Metrics) SetOutboxDepth(platform string, n int) {
	if m == nil {
		return
	}
	m.outboxDepth.WithLabelValues(m.PlatformLabel(platform)).Set(float64(n))
}

// SetOutboxDepthFunc makes the outbox-depth gauge of platform read f at
// each scrape instead of the last [Metrics.SetOutboxDepth] value. A nil f
// removes it.
func (m *Metrics) SetOutboxDepthFunc(platform string, f func() int) {
	if m == nil {
		return
	}
	setPlatformFunc(&m.mu, m.outboxFuncs, m.PlatformLabel(platform), f, f == nil)
}

// APIError counts a failed platform API call of the class the adapter
// gave it (an unknown class is recorded as "other"). status is the HTTP
// status, 0 when there was none (network error); a 429 counts as rate
// limited only, so the two counters never count one call twice.
func (m *Metrics) APIError(platform string, class platform.APIClass, status int) {
	if m == nil {
		return
	}
	p, c := m.PlatformLabel(platform), callClassLabel(class)
	if status == http.StatusTooManyRequests {
		m.apiRateLimited.WithLabelValues(p, c).Inc()
		return
	}
	m.apiErrors.WithLabelValues(p, c).Inc()
}

// SetBuildInfo sets clm_bridge_build_info{version,revision,goversion} to 1
// (one series: an earlier call's is removed).
func (m *Metrics) SetBuildInfo(version, revision, goVersion string) {
	if m == nil {
		return
	}
	m.buildInfo.Reset()
	m.buildInfo.WithLabelValues(version, revision, goVersion).Set(1)
}

// Delivered records how long a message took from platform's outbox to
// the platform.
func (m *Metrics) Delivered(platform string, took time.Duration) {
	if m == nil {
		return
	}
	m.delivery.WithLabelValues(m.PlatformLabel(platform)).Observe(took.Seconds())
}

// SetPlatformFunc makes platform_up and the last-contact time of platform
// read f at each scrape. f must be safe to call from any goroutine; nil
// removes it (the series stay, at their last values).
func (m *Metrics) SetPlatformFunc(platform string, f func() PlatformState) {
	if m == nil {
		return
	}
	setPlatformFunc(&m.mu, m.platformFuncs, m.PlatformLabel(platform), f, f == nil)
}

// setPlatformFunc sets (or, with remove, deletes) the scrape-time function
// of platform p in funcs, under mu.
func setPlatformFunc[F any](mu *sync.Mutex, funcs map[string]F, p string, f F, remove bool) {
	mu.Lock()
	defer mu.Unlock()
	if remove {
		delete(funcs, p)
		return
	}
	funcs[p] = f
}

// platformFuncs returns a copy of funcs taken under mu, so a scrape calls
// the adapters' functions without holding the metrics' lock.
func platformFuncs[F any](mu *sync.Mutex, funcs map[string]F) map[string]F {
	mu.Lock()
	defer mu.Unlock()
	return maps.Clone(funcs)
}

// CommandLabel returns the label value recorded for a command name: the
// name in lower case and snake_case ("secret-answer" is "secret_answer")
// if it is a known command, else "unknown".
func CommandLabel(command string) string {
	c := strings.ToLower(strings.TrimSpace(command))
	if knownCommand(c) {
		return snake(c)
	}
	return "unknown"
}

// PlatformLabel returns the label value recorded for a platform: one of
// the platforms New was given, or "other".
func (m *Metrics) PlatformLabel(name string) string {
	p := strings.ToLower(strings.TrimSpace(name))
	for _, pl := range m.platforms {
		if pl.Name == p {
			return p
		}
	}
	return "other"
}

// outboxCollector reports the outbox gauges, reading the depth functions
// at scrape time where one was set.
type outboxCollector struct{ m *Metrics }

func (c *outboxCollector) Describe(ch chan<- *prometheus.Desc) { c.m.outboxDepth.Describe(ch) }

// platformCollector reports platform_up and the last-contact time, read
// from the adapters at scrape time.
type platformCollector struct{ m *Metrics }

func (c *platformCollector) Describe(ch chan<- *prometheus.Desc) {
	c.m.platformUp.Describe(ch)
	c.m.lastContact.Describe(ch)
}

func (c *platformCollector) Collect(ch chan<- prometheus.Metric) {
	for p, f := range platformFuncs(&c.m.mu, c.m.platformFuncs) {
		st := f()
		up, last := 0.0, 0.0
		if st.Up {
			up = 1
		}
		if !st.LastContact.IsZero() {
			last = float64(st.LastContact.UnixNano()) / 1e9
		}
		c.m.platformUp.WithLabelValues(p).Set(up)
		c.m.lastContact.WithLabelValues(p).Set(last)
	}
	c.m.platformUp.Collect(ch)
	c.m.lastContact.Collect(ch)
}

func (c *outboxCollector) Collect(ch chan<- prometheus.Metric) {
	for p, f := range platformFuncs(&c.m.mu, c.m.outboxFuncs) {
		c.m.outboxDepth.WithLabelValues(p).Set(float64(f()))
	}
	c.m.outboxDepth.Collect(ch)
}
