package loadtest

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"
)

// Latency is a distribution's summary, in milliseconds in JSON.
type Latency struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50_ms"`
	P95 float64 `json:"p95_ms"`
	P99 float64 `json:"p99_ms"`
	Max float64 `json:"max_ms"`
}

func summarize(ds []time.Duration) Latency {
	if len(ds) == 0 {
		return Latency{}
	}
	slices.Sort(ds)
	q := func(p float64) float64 {
		i := int(p*float64(len(ds))+0.999999) - 1 // nearest rank
		i = max(0, min(i, len(ds)-1))
		return ms(ds[i])
	}
	return Latency{N: len(ds), P50: q(0.50), P95: q(0.95), P99: q(0.99), Max: ms(ds[len(ds)-1])}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// Report is the outcome of a run.
type Report struct {
	URL         string             `json:"url"`
	Mode        string             `json:"mode"`
	Concurrency int                `json:"concurrency"`
	Customers   int                `json:"customers"`
	Seconds     float64            `json:"seconds"` // measured, warm-up excluded
	Logins      int64              `json:"logins"`  // succeeded
	Failed      int64              `json:"failed"`
	PerSecond   float64            `json:"logins_per_second"`
	Login       Latency            `json:"login"` // a whole login, all three requests
	Steps       map[string]Latency `json:"steps"` // each request of a successful login
	Errors      map[string]int     `json:"errors"`
	DriverCPU   float64            `json:"driver_cpu_seconds"`
	MachineCPU  float64            `json:"machine_cpu_seconds"` // every process's, the server's and driver's included
	Server      *ServerUsage       `json:"server,omitempty"`
}

func (r *runner) report(ws []*worker, measured time.Duration) *Report {
	rep := &Report{
		URL: r.origin, Mode: r.o.Mode, Concurrency: r.o.Concurrency, Customers: len(r.o.Keys.Keys),
		Seconds: measured.Seconds(), Logins: r.ok.Load(), Failed: r.failed.Load(),
		Steps: map[string]Latency{}, Errors: map[string]int{},
	}
	if rep.Seconds > 0 {
		rep.PerSecond = float64(rep.Logins) / rep.Seconds
	}
	var login []time.Duration
	var steps [3][]time.Duration
	for _, w := range ws {
		login = append(login, w.login...)
		for i := range steps {
			steps[i] = append(steps[i], w.step[i]...)
		}
		for k, n := range w.errors {
			rep.Errors[k] += n
		}
	}
	rep.Login = summarize(login)
	for i, name := range r.steps {
		rep.Steps[name] = summarize(steps[i])
	}
	return rep
}

// Print writes the report for people.
func (rep *Report) Print(w io.Writer) {
	fmt.Fprintf(w, "%s logins against %s: %d workers, %d customers, %.1f s measured\n",
		rep.Mode, rep.URL, rep.Concurrency, rep.Customers, rep.Seconds)
	fmt.Fprintf(w, "logins: %d ok, %d failed, %.1f/s\n", rep.Logins, rep.Failed, rep.PerSecond)
	fmt.Fprintf(w, "latency (ms)        p50      p95      p99      max\n")
	row := func(name string, l Latency) {
		fmt.Fprintf(w, "  %-14s %8.2f %8.2f %8.2f %8.2f\n", name, l.P50, l.P95, l.P99, l.Max)
	}
	row("login", rep.Login)
	names := make([]string, 0, len(rep.Steps))
	for n := range rep.Steps {
		names = append(names, n)
	}
	order := map[string]int{"options": 0, "password": 0, "finish": 1, "second_factor": 1, "session": 2}
	sort.Slice(names, func(i, j int) bool { return order[names[i]] < order[names[j]] })
	for _, n := range names {
		row(n, rep.Steps[n])
	}
	if len(rep.Errors) == 0 {
		fmt.Fprintln(w, "errors: none")
	} else {
		fmt.Fprintln(w, "errors by step and status:")
		keys := make([]string, 0, len(rep.Errors))
		for k := range rep.Errors {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(w, "  %-50s %d\n", k, rep.Errors[k])
		}
	}
	if s := rep.Server; s != nil {
		perLogin := ""
		if rep.Logins > 0 {
			perLogin = fmt.Sprintf(", %.3f ms per login", 1000*s.CPUSeconds/float64(rep.Logins))
		}
		fmt.Fprintf(w, "server pid %d: CPU %.2f s (%.2f cores%s); RSS peak %s during the run (VmHWM %s)\n",
			s.PID, s.CPUSeconds, s.CPUSeconds/rep.Seconds, perLogin, mib(s.PeakRSS), mib(s.HWM))
	}
	fmt.Fprintf(w, "driver: CPU %.2f s (%.2f cores)\n", rep.DriverCPU, rep.DriverCPU/max(rep.Seconds, 1e-9))
	if rep.MachineCPU > 0 {
		other := rep.MachineCPU - rep.DriverCPU
		if rep.Server != nil {
			other -= rep.Server.CPUSeconds
		}
		fmt.Fprintf(w, "machine: CPU %.2f s (%.2f cores), of which %.2f cores neither the server's nor the driver's\n",
			rep.MachineCPU, rep.MachineCPU/max(rep.Seconds, 1e-9), max(other, 0)/max(rep.Seconds, 1e-9))
	}
}

func mib(b int64) string {
	return strings.TrimSuffix(fmt.Sprintf("%.1f", float64(b)/(1<<20)), ".0") + " MiB"
}
