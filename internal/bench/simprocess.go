package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/posbridge/posbridge/internal/connector"
)

// simProcess is `posbridge sim <provider>` in a child process (this executable), so that the
// simulator's memory and CPU are not counted as posbridge's.
type simProcess struct {
	cmd  *exec.Cmd
	info connector.SimInfo
	done chan error
}

// startSimProcess starts a simulator of typ with seed sample products on a free loopback port and
// waits for the JSON line with its URL and credentials.
func startSimProcess(ctx context.Context, typ string, seed int) (*simProcess, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find the posbridge executable: %w", err)
	}
	cmd := exec.Command(exe, "sim", typ, "--addr", "127.0.0.1:0", "--seed-products", strconv.Itoa(seed))
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr := &tailBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start posbridge sim %s: %w", typ, err)
	}
	p := &simProcess{cmd: cmd, done: make(chan error, 1)}
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		if sc.Scan() {
			line <- sc.Text()
		}
		close(line)
		for sc.Scan() {
		}
	}()
	go func() { p.done <- cmd.Wait() }()
	select {
	case l, ok := <-line:
		if ok && json.Unmarshal([]byte(l), &p.info) == nil && p.info.Credentials != nil {
			return p, nil
		}
		err = fmt.Errorf("posbridge sim %s: no simulator info in %q: %s", typ, l, stderr.String())
	case <-time.After(5 * time.Minute):
		err = fmt.Errorf("posbridge sim %s was not ready within 5 minutes: %s", typ, stderr.String())
	case <-ctx.Done():
		err = ctx.Err()
	}
	p.close()
	return nil, err
}

// peakRSS is the simulator process's peak RSS so far (VmHWM); 0 when it cannot be read.
func (p *simProcess) peakRSS() int64 {
	return peakRSSOf("/proc/" + strconv.Itoa(p.cmd.Process.Pid) + "/status")
}

// close kills the simulator and waits for it.
func (p *simProcess) close() {
	p.cmd.Process.Kill() //nolint:errcheck // gone already is fine
	<-p.done
}

// simsInThisProcess reports whether this executable cannot serve `posbridge sim` (a test
// binary): the simulators then run in this process.
func simsInThisProcess() bool {
	exe, err := os.Executable()
	return err != nil || strings.HasSuffix(exe, ".test")
}
