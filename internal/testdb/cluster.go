package testdb

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Cluster is a PostgreSQL server a test starts for itself (initdb, pg_ctl) on a free port, so
// it may stop and restart it without disturbing other tests. It runs as the postgres user when
// the test runs as root.
type Cluster struct {
	t       testing.TB
	bin     string // directory of initdb and pg_ctl
	dir     string // data directory
	port    int
	asUser  string // "" to run as ourselves
	logPath string
	opts    string // server options (port, socket directory, settings)
}

// StartCluster initialises and starts a private PostgreSQL cluster, stopped when the test ends.
// Without PostgreSQL's server binaries (/usr/lib/postgresql/*/bin) the test skips with a
// message, unless POSBRIDGE_REQUIRE_POSTGRES is set, where it fails.
func StartCluster(t testing.TB) *Cluster {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	if len(bins) == 0 {
		if os.Getenv("POSBRIDGE_REQUIRE_POSTGRES") != "" {
			t.Fatal("PostgreSQL is required here (POSBRIDGE_REQUIRE_POSTGRES) but no /usr/lib/postgresql/*/bin/pg_ctl was found")
		}
		t.Skip("skipping: this test starts its own PostgreSQL and needs its server binaries (/usr/lib/postgresql/*/bin; apt-get install postgresql)")
	}
	sort.Strings(bins)
	c := &Cluster{t: t, bin: filepath.Dir(bins[len(bins)-1])}
	root, err := os.MkdirTemp("", "posbridge-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	if os.Geteuid() == 0 { // PostgreSQL refuses to run as root
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Skipf("skipping: running as root and there is no postgres user to run PostgreSQL as: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(root, uid, gid); err != nil {
			t.Fatal(err)
		}
		c.asUser = "postgres"
	}
	c.dir = filepath.Join(root, "data")
	c.logPath = filepath.Join(root, "postgres.log")
	c.port = freePort(t)
	c.run("initdb", "-D", c.dir, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8")
	c.opts = fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
		c.port, root)
	c.run("pg_ctl", "-D", c.dir, "-l", c.logPath, "-o", c.opts, "-w", "-t", "30", "start")
	t.Cleanup(func() { c.runQuiet("pg_ctl", "-D", c.dir, "-m", "immediate", "-w", "stop") })
	return c
}

// URL is the cluster's postgres database, trust authentication.
func (c *Cluster) URL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.port)
}

// Target is the cluster as a test database.
func (c *Cluster) Target() Target {
	return Target{Name: "postgres", DatabaseURL: c.URL(), DataDir: c.t.TempDir()}
}

// Restart restarts the server (pg_ctl restart -m fast: open connections are cut) and waits
// until it accepts connections again; it returns how long the server was away.
func (c *Cluster) Restart() time.Duration {
	c.t.Helper()
	start := time.Now()
	c.run("pg_ctl", "-D", c.dir, "-l", c.logPath, "-m", "fast", "-w", "-t", "30", "restart")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		conn, err := pgx.Connect(ctx, c.URL())
		if err == nil {
			conn.Close(ctx)
			return time.Since(start)
		}
		if ctx.Err() != nil {
			c.t.Fatalf("PostgreSQL did not come back after the restart: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop stops the server (fast shutdown); Start starts it again.
func (c *Cluster) Stop() { c.run("pg_ctl", "-D", c.dir, "-m", "fast", "-w", "-t", "30", "stop") }

// Start starts a stopped server.
func (c *Cluster) Start() {
	c.run("pg_ctl", "-D", c.dir, "-l", c.logPath, "-o", c.opts, "-w", "-t", "30", "start")
}

func (c *Cluster) command(name string, args ...string) *exec.Cmd {
	path := filepath.Join(c.bin, name)
	if c.asUser != "" {
		return exec.Command("runuser", append([]string{"-u", c.asUser, "--", path}, args...)...)
	}
	return exec.Command(path, args...)
}

func (c *Cluster) run(name string, args ...string) {
	c.t.Helper()
	out, err := c.command(name, args...).CombinedOutput()
	if err != nil {
		log, _ := os.ReadFile(c.logPath)
		c.t.Fatalf("%s %v: %v\n%s\nserver log:\n%s", name, args, err, out, log)
	}
}

func (c *Cluster) runQuiet(name string, args ...string) { _ = c.command(name, args...).Run() }

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
