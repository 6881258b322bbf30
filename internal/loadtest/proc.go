package loadtest

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// ServerUsage is what /proc tells of the server process during the measured time.
type ServerUsage struct {
	PID        int     `json:"pid"`
	CPUSeconds float64 `json:"cpu_seconds"` // user + system
	PeakRSS    int64   `json:"peak_rss_bytes"`
	HWM        int64   `json:"vm_hwm_bytes"` // peak RSS since the process started
}

// userHZ is the unit of /proc/PID/stat's times: 100 on every Linux
// architecture Go runs on (USER_HZ, not the kernel's HZ).
const userHZ = 100

type procWatch struct {
	pid  int
	cpu0 float64
	stop chan struct{}
	done chan struct{}
	mu   sync.Mutex
	peak int64
}

// watchProc samples the server's RSS every 100 ms until finish.
func watchProc(pid int) (*procWatch, error) {
	cpu, err := procCPU(pid)
	if err != nil {
		return nil, fmt.Errorf("server process %d: %w", pid, err)
	}
	p := &procWatch{pid: pid, cpu0: cpu, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			p.sample()
			select {
			case <-p.stop:
				return
			case <-t.C:
			}
		}
	}()
	return p, nil
}

func (p *procWatch) sample() {
	rss, _, err := procMem(p.pid)
	if err == nil {
		p.mu.Lock()
		p.peak = max(p.peak, rss)
		p.mu.Unlock()
	}
}

func (p *procWatch) finish() *ServerUsage {
	close(p.stop)
	<-p.done
	p.sample()
	u := &ServerUsage{PID: p.pid, PeakRSS: p.peak}
	if cpu, err := procCPU(p.pid); err == nil {
		u.CPUSeconds = cpu - p.cpu0
	}
	if _, hwm, err := procMem(p.pid); err == nil {
		u.HWM = hwm
	}
	return u
}

// procCPU is the process's user + system time in seconds (/proc/PID/stat fields 14 and 15).
func procCPU(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces: fields count from its closing parenthesis.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("unreadable /proc/%d/stat", pid)
	}
	f := bytes.Fields(b[i+1:]) // f[0] is field 3 (state)
	if len(f) < 13 {
		return 0, fmt.Errorf("unreadable /proc/%d/stat", pid)
	}
	ut, err1 := strconv.ParseInt(string(f[11]), 10, 64)
	st, err2 := strconv.ParseInt(string(f[12]), 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("unreadable /proc/%d/stat", pid)
	}
	return float64(ut+st) / userHZ, nil
}

// procMem returns VmRSS and VmHWM of /proc/PID/status in bytes.
func procMem(pid int) (rss, hwm int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for line := range bytes.SplitSeq(b, []byte("\n")) {
		var dst *int64
		switch {
		case bytes.HasPrefix(line, []byte("VmRSS:")):
			dst = &rss
		case bytes.HasPrefix(line, []byte("VmHWM:")):
			dst = &hwm
		default:
			continue
		}
		f := bytes.Fields(line)
		if len(f) >= 2 {
			kb, _ := strconv.ParseInt(string(f[1]), 10, 64)
			*dst = kb << 10
		}
	}
	return rss, hwm, nil
}

// machineCPU is the busy time of every CPU of the machine in seconds (/proc/stat).
func machineCPU() (float64, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := bytes.Fields(line)
	if len(f) < 5 || string(f[0]) != "cpu" {
		return 0, fmt.Errorf("unreadable /proc/stat")
	}
	var busy int64
	for i, v := range f[1:] {
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		n, _ := strconv.ParseInt(string(v), 10, 64)
		busy += n
	}
	return float64(busy) / userHZ, nil
}

// selfCPU is the driver's own user + system time in seconds.
func selfCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}
