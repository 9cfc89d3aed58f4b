package load

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// userHZ is the unit of utime and stime in /proc/PID/stat. Linux fixes USER_HZ at 100 on
// every architecture it exports to user space.
const userHZ = 100

// serverSample is the server's CPU time, memory and forwarded-packet count at one instant, as
// far as the sources given can tell.
type serverSample struct {
	at        time.Time
	cpu       time.Duration
	haveCPU   bool
	rss       uint64 // bytes
	haveRSS   bool
	forwarded float64 // ringside_packets_forwarded_total, from the metrics endpoint
	haveFwd   bool
}

// serverProbe reads the server's figures from /proc (by pid) and/or its /metrics endpoint.
type serverProbe struct {
	pid        int
	metricsURL string
	token      string
	http       *http.Client
}

func (p *serverProbe) enabled() bool { return p.pid > 0 || p.metricsURL != "" }

func (p *serverProbe) sample(ctx context.Context) (serverSample, error) {
	s := serverSample{at: time.Now()}
	var errs []string
	if p.metricsURL != "" {
		m, err := p.scrape(ctx)
		if err != nil {
			errs = append(errs, err.Error())
		} else {
			if v, ok := m["process_cpu_seconds_total"]; ok {
				s.cpu, s.haveCPU = time.Duration(v*float64(time.Second)), true
			}
			if v, ok := m["process_resident_memory_bytes"]; ok {
				s.rss, s.haveRSS = uint64(v), true
			}
			if v, ok := m["ringside_packets_forwarded_total"]; ok {
				s.forwarded, s.haveFwd = v, true
			}
		}
	}
	if p.pid > 0 { // /proc wins over the metrics for CPU and memory: it is exact
		cpu, err := procCPU(p.pid)
		if err != nil {
			errs = append(errs, err.Error())
		} else {
			s.cpu, s.haveCPU = cpu, true
		}
		rss, err := procRSS(p.pid)
		if err != nil {
			errs = append(errs, err.Error())
		} else {
			s.rss, s.haveRSS = rss, true
		}
	}
	if len(errs) > 0 {
		return s, fmt.Errorf("load: server figures: %s", strings.Join(errs, "; "))
	}
	return s, nil
}

// procCPU is utime+stime of a process, all its threads, from /proc/PID/stat.
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) is in parentheses and may hold spaces: split after it.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no command field", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f)+2)
	}
	utime, err1 := strconv.ParseUint(f[11], 10, 64)
	stime, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: bad utime/stime", pid)
	}
	return time.Duration(utime+stime) * time.Second / userHZ, nil
}

// procRSS is VmRSS of a process, from /proc/PID/status.
func procRSS(pid int) (uint64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:")
		if !ok {
			continue
		}
		fields := strings.Fields(rest) // "12345 kB"
		if len(fields) != 2 || fields[1] != "kB" {
			break
		}
		kb, err := strconv.ParseUint(fields[0], 10, 64)
		if err != nil {
			break
		}
		return kb * 1024, nil
	}
	return 0, fmt.Errorf("/proc/%d/status: no VmRSS", pid)
}

// scrape reads the metrics endpoint and sums each metric's samples over their labels.
func (p *serverProbe) scrape(ctx context.Context) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.metricsURL, nil)
	if err != nil {
		return nil, err
	}
	if p.token != "" {
		req.Header.Set("Authorization", "Bearer "+p.token)
	}
	resp, err := p.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", p.metricsURL, resp.Status)
	}
	return parseMetrics(io.LimitReader(resp.Body, 16<<20))
}

// parseMetrics reads the Prometheus text format, summing the samples of each name.
func parseMetrics(r io.Reader) (map[string]float64, error) {
	out := map[string]float64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		name, rest := line, ""
		if i := strings.IndexAny(line, "{ "); i >= 0 {
			name, rest = line[:i], line[i:]
		}
		if strings.HasPrefix(rest, "{") {
			j := strings.LastIndexByte(rest, '}')
			if j < 0 {
				continue
			}
			rest = rest[j+1:]
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			continue
		}
		out[name] += v
	}
	return out, sc.Err()
}
