package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

// procStats is what /proc says about one process.
type procStats struct {
	// PeakRSS is VmHWM, the resident set's high-water mark, in bytes.
	PeakRSS int64
	// RSS is VmRSS now, in bytes.
	RSS int64
	// CPU is user plus system time.
	CPU time.Duration
}

// clockTicks is USER_HZ; 100 on every Linux this runs on.
const clockTicks = 100

func readProcStats(pid int) (procStats, error) {
	var s procStats
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmHWM:":
			s.PeakRSS = kb << 10
		case "VmRSS:":
			s.RSS = kb << 10
		}
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s, err
	}
	// Fields after the command name, which may hold spaces: field 14 is
	// utime, 15 stime (1-based), i.e. indexes 11 and 12 after ')'.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return s, fmt.Errorf("unexpected /proc/%d/stat", pid)
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 13 {
		return s, fmt.Errorf("unexpected /proc/%d/stat", pid)
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	s.CPU = time.Duration(ut+st) * time.Second / clockTicks
	return s, nil
}

// loadAvg returns the 1-minute load average.
func loadAvg() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return math.NaN()
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return math.NaN()
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}

// machineCPU returns the busy and total jiffies of the whole machine, to
// say how loaded it was during a measurement.
func machineCPU() (busy, total int64) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return 0, 0
	}
	for i, v := range f[1:] {
		n, _ := strconv.ParseInt(v, 10, 64)
		total += n
		if i != 3 && i != 4 { // idle, iowait
			busy += n
		}
	}
	return busy, total
}

// metrics is one scrape of a Prometheus text endpoint: series (name and
// labels as written) to value.
type metrics map[string]float64

func scrape(ctx context.Context, url string) (metrics, error) {
	return scrapeWith(ctx, http.DefaultClient, url, nil)
}

// scrapeWith scrapes url with hc, keeping only the series whose line keep
// accepts (nil: all): kube-apiserver's /metrics is large.
func scrapeWith(ctx context.Context, hc *http.Client, url string, keep func(line string) bool) (metrics, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return nil, fmt.Errorf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	out := metrics{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' || (keep != nil && !keep(line)) {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			continue
		}
		out[line[:i]] = v
	}
	return out, sc.Err()
}

// sum adds the series of a metric whose labels contain every one of
// labels (written as `key="value"`).
func (m metrics) sum(name string, labels ...string) float64 {
	total := 0.0
	for series, v := range m {
		n, rest, _ := strings.Cut(series, "{")
		if n != name {
			continue
		}
		ok := true
		for _, l := range labels {
			if !strings.Contains(rest, l) {
				ok = false
				break
			}
		}
		if ok {
			total += v
		}
	}
	return total
}

// byLabel sums a metric by the value of one label.
func (m metrics) byLabel(name, label string) map[string]float64 {
	out := map[string]float64{}
	for series, v := range m {
		n, rest, _ := strings.Cut(series, "{")
		if n != name {
			continue
		}
		key := ""
		if i := strings.Index(rest, label+`="`); i >= 0 {
			key = rest[i+len(label)+2:]
			key = key[:strings.IndexByte(key, '"')]
		}
		out[key] += v
	}
	return out
}

// delta returns after minus before for every series of after.
func delta(before, after metrics) metrics {
	out := metrics{}
	for k, v := range after {
		out[k] = v - before[k]
	}
	return out
}

// percentile returns the p-th percentile (0..100) of ds by the nearest
// rank method; 0 for an empty list.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	rank = min(max(rank, 1), len(s))
	return s[rank-1]
}

// maxInWindow is the most timestamps in any window of length w.
func maxInWindow(ts []time.Time, w time.Duration) int {
	s := append([]time.Time(nil), ts...)
	sort.Slice(s, func(i, j int) bool { return s[i].Before(s[j]) })
	best, lo := 0, 0
	for hi := range s {
		for s[hi].Sub(s[lo]) >= w {
			lo++
		}
		best = max(best, hi-lo+1)
	}
	return best
}

// bucketExcess is the largest n - (burst + rate*(t_j - t_i + slack)) over
// all pairs of calls i <= j, where n is the number of calls from i to j:
// above 0 a token bucket of that rate and burst was exceeded. slack absorbs
// the jitter between the manager's limiter, where a token is taken, and the
// emulator's clock, where the call is logged. It is O(n^2); callers pass
// thousands of calls, not millions.
func bucketExcess(ts []time.Time, rate float64, burst int, slack time.Duration) float64 {
	s := append([]time.Time(nil), ts...)
	sort.Slice(s, func(i, j int) bool { return s[i].Before(s[j]) })
	worst := -float64(burst)
	for i := range s {
		for j := i; j < len(s); j++ {
			ex := float64(j-i+1) - (float64(burst) + rate*(s[j].Sub(s[i])+slack).Seconds())
			if ex > worst {
				worst = ex
			}
		}
	}
	return worst
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// findPids returns the PIDs of this process's children whose command line
// contains every one of substrs.
func findPids(substrs ...string) []int {
	me := os.Getpid()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmd, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil {
			continue
		}
		line := string(bytes.ReplaceAll(cmd, []byte{0}, []byte{' '}))
		if parent(pid) != me {
			continue
		}
		ok := true
		for _, s := range substrs {
			if !strings.Contains(line, s) {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, pid)
		}
	}
	return out
}

// cpuOf sums the CPU time of pids (0 for those gone; for this process,
// the sum over its threads, which /proc/PID/stat reports too).
func cpuOf(pids []int) time.Duration {
	var total time.Duration
	for _, pid := range pids {
		if st, err := readProcStats(pid); err == nil {
			total += st.CPU
		}
	}
	return total
}

// parent returns a process's parent PID (0 when it is gone).
func parent(pid int) int {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 2 {
		return 0
	}
	p, _ := strconv.Atoi(f[1])
	return p
}

// socketsTo counts the TCP sockets (IPv4 and IPv6) whose remote port is
// port, by state: "01" established, "06" TIME_WAIT. Client sockets to a
// local server in TIME_WAIT are connections closed in the last minute.
func socketsTo(port int) map[string]int {
	out := map[string]int{}
	want := fmt.Sprintf(":%04X", port)
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			fs := strings.Fields(line)
			if len(fs) < 4 {
				continue
			}
			if strings.HasSuffix(fs[2], want) {
				out[fs[3]]++
			}
		}
	}
	return out
}
