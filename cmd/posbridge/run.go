package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/posbridge/posbridge/internal/accounts"
	"github.com/posbridge/posbridge/internal/app"
	"github.com/posbridge/posbridge/internal/connector/registry"
	"github.com/posbridge/posbridge/internal/console"
	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/jobs"
	"github.com/posbridge/posbridge/internal/retention"
	"github.com/posbridge/posbridge/internal/salesimport"
	"github.com/posbridge/posbridge/internal/store"
)

const usage = `posbridge: a self-hosted POS integration hub

Usage:
  posbridge serve [flags]            API, console and background workers (--no-workers: API and console only)
  posbridge worker [flags]           background workers only
  posbridge migrate [flags]          apply database migrations and exit
  posbridge account create --name N --admin-email E [--json]
  posbridge account reset-password --email E [--json]
  posbridge apikey create|list|revoke (--account ID | --email E) [--name N] [--role R] [--id KEY_ID] [--json]
  posbridge sim <provider> --addr HOST:PORT [--seed-products N]
  posbridge bench sync [--database-url URL] [--docs N] [--data-dir DIR] [--json]
  posbridge bench neighbour [--database-url URL] [--docs N] [--noisy-docs N] [--json]
  posbridge bench hooks [--database-url URL] [--clients N] [--duration D] [--json]
  posbridge bench sales [--database-url URL] [--lines N] [--integrations N] [--cpuprofile FILE] [--json]
  posbridge bench terminals [--database-url URL] [--terminals N] [--publishes N] [--json]
  posbridge version

Run "posbridge <command> -h" for a command's flags. Every flag has an environment twin:
--data-dir is POSBRIDGE_DATA_DIR, and so on.
`

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], getenv, stdout, stderr, false)
	case "worker":
		return serve(ctx, args[1:], getenv, stdout, stderr, true)
	case "migrate":
		return migrate(ctx, args[1:], getenv, stdout, stderr)
	case "account":
		if len(args) > 1 && args[1] == "reset-password" {
			return resetPassword(ctx, args[2:], getenv, stdout, stderr)
		}
		return account(ctx, args[1:], getenv, stdout, stderr)
	case "apikey":
		return apikey(ctx, args[1:], getenv, stdout, stderr)
	case "sim":
		return sim(ctx, args[1:], stdout, stderr)
	case "bench":
		return bench(ctx, args[1:], getenv, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "posbridge", app.Version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

// settings binds flags to their POSBRIDGE_* environment twins.
type settings struct {
	fs     *flag.FlagSet
	getenv func(string) string
}

func envName(flagName string) string {
	return "POSBRIDGE_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

func (s settings) str(p *string, name, def, help string) {
	if v := s.getenv(envName(name)); v != "" {
		def = v
	}
	s.fs.StringVar(p, name, def, help+" ("+envName(name)+")")
}

func (s settings) boolean(p *bool, name string, help string) {
	def := false
	if v := s.getenv(envName(name)); v != "" {
		def, _ = strconv.ParseBool(v)
	}
	s.fs.BoolVar(p, name, def, help+" ("+envName(name)+")")
}

func (s settings) integer(p *int, name string, def int, help string) {
	if v := s.getenv(envName(name)); v != "" {
		if n, err := strconv.Atoi(v); err == nil {
			def = n
		}
	}
	s.fs.IntVar(p, name, def, help+" ("+envName(name)+")")
}

func (s settings) duration(p *time.Duration, name string, def time.Duration, help string) {
	if v := s.getenv(envName(name)); v != "" {
		if d, err := time.ParseDuration(v); err == nil {
			def = d
		}
	}
	s.fs.DurationVar(p, name, def, help+" ("+envName(name)+")")
}

// windowFlag is a retention window: a Go duration or days ("30d", "1d12h").
type windowFlag struct{ d *time.Duration }

func (w windowFlag) String() string {
	if w.d == nil {
		return ""
	}
	if day := 24 * time.Hour; *w.d > 0 && *w.d%day == 0 {
		return strconv.FormatInt(int64(*w.d/day), 10) + "d"
	}
	return w.d.String()
}

func (w windowFlag) Set(v string) error {
	d, err := retention.ParseWindow(v)
	if err != nil {
		return err
	}
	*w.d = d
	return nil
}

// window binds a retention window flag; a bad value in its environment twin is an error.
func (s settings) window(p *time.Duration, name string, def time.Duration, help string) error {
	*p = def
	f := windowFlag{p}
	var err error
	if v := s.getenv(envName(name)); v != "" {
		if err = f.Set(v); err != nil {
			err = fmt.Errorf("%s: %w", envName(name), err)
		}
	}
	s.fs.Var(f, name, help+": a `duration` such as 30d, 36h or 1d12h ("+envName(name)+")")
	return err
}

func storageFlags(s settings, cfg *app.Config) {
	s.str(&cfg.DataDir, "data-dir", "./data", "directory of the SQLite database and the generated secret key")
	s.str(&cfg.DatabaseURL, "database-url", "", "a postgres:// URL switches storage to PostgreSQL")
	s.str(&cfg.SecretKey, "secret-key", "", "32-byte key (hex or base64) encrypting stored credentials; generated into the data dir when empty")
}

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, workerOnly bool) error {
	name := "serve"
	if workerOnly {
		name = "worker"
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	s := settings{fs, getenv}
	var cfg app.Config
	var smtpPort int
	var logLevel string
	storageFlags(s, &cfg)
	s.str(&cfg.Addr, "addr", ":8080", "address of the API and console")
	s.str(&cfg.PublicURL, "public-url", "", "URL people and providers use to reach this server (default http://127.0.0.1:<port>)")
	s.str(&cfg.AdminEmail, "admin-email", "admin@example.com", "email of the first admin, created on an empty database")
	s.str(&cfg.SMTP.Host, "smtp-host", "", "SMTP server for notifications (empty: email off, said in the timeline and console)")
	s.integer(&smtpPort, "smtp-port", 587, "SMTP port")
	s.str(&cfg.SMTP.Username, "smtp-username", "", "SMTP user")
	s.str(&cfg.SMTP.Password, "smtp-password", "", "SMTP password")
	s.str(&cfg.SMTP.From, "smtp-from", "posbridge@localhost", "sender address of notifications")
	s.str(&cfg.SMTP.TLS, "smtp-tls", "starttls", "none, starttls or tls")
	s.str(&cfg.SalesSMTP.Listen, "smtp-listen", "", "address of the SMTP server that receives email integrations' sales files, e.g. :2525 (empty: off)")
	s.str(&cfg.SalesSMTP.Domain, "smtp-domain", "", "mail domain of email integrations' addresses (sales-...@<domain>); point its MX at --smtp-listen")
	var smtpMax int
	s.integer(&smtpMax, "smtp-max-message-bytes", salesimport.DefaultMaxMessageBytes, "largest sales file email (attachments included) the SMTP server takes")
	s.boolean(&cfg.Demo, "demo", "on first start, connect a Sandbox POS with sample data")
	s.boolean(&cfg.NoSandbox, "no-sandbox", "turn the sandbox POS and its admin routes off (production)")
	s.boolean(&cfg.AllowPrivate, "allow-private-provider-hosts", "let merchants point integrations and outbound webhook endpoints at loopback, private and other non-public addresses")
	var trustedProxies string
	s.str(&trustedProxies, "trusted-proxies", "", "reverse proxies (IPs or CIDR prefixes, comma-separated) whose X-Forwarded-For names the client, for the per-address login throttle")
	s.boolean(&cfg.SecureCookies, "secure-cookies", "mark console cookies Secure (behind HTTPS)")
	s.integer(&cfg.CallOffAfter, "call-off-after", domain.DefaultCallOffAfter, "consecutive failures that call an integration off")
	s.duration(&cfg.CheckInterval, "check-interval", 15*time.Minute, "how often each active integration is checked")
	s.integer(&cfg.MaxWorkers, "max-workers", 50, "background jobs run at once by this process")
	s.integer(&cfg.CatalogWorkers, "catalog-workers", 4, "catalog imports and pushes to web shops run at once by this process (a queue of their own)")
	s.duration(&cfg.CatalogPollInterval, "catalog-poll-interval", 5*time.Minute, "how often each catalog source is read for changes no webhook brought")
	s.integer(&cfg.MaxConns, "database-max-conns", 40, "PostgreSQL connections this process may open (all processes together must stay under the server's max_connections)")
	s.duration(&cfg.RescueAfter, "job-rescue-after", 5*time.Minute, "when a job left running by a crashed process runs again")
	s.duration(&cfg.DocumentLease, "document-lease", time.Minute, "how long a crashed worker keeps a document from other workers")
	s.duration(&cfg.PublishDelay, "publish-delay", 30*time.Second, "how long after Save and Publish the POS terminals get a back-office version by themselves, for accounts that have not set their own publish delay")
	s.str(&logLevel, "log-level", "info", "debug, info, warn or error")
	envErr := errors.Join(
		s.window(&cfg.Retention.WebhookEvents, "retention-webhook-events", retention.DefaultWebhookEvents, "how long inbound POS webhook events are kept"),
		s.window(&cfg.Retention.Deliveries, "retention-deliveries", retention.DefaultDeliveries, "how long outbound webhook deliveries are kept"),
		s.window(&cfg.Retention.Timeline, "retention-timeline", retention.DefaultTimeline, "how long timeline entries are kept"),
		s.window(&cfg.Retention.SyncHistory, "retention-sync-history", retention.DefaultSyncHistory, "how long documents' sync history is kept"),
		s.window(&cfg.Retention.CatalogChanges, "retention-catalog-changes", retention.DefaultCatalogChanges, "how long the catalog's change feed (GET /api/v1/changes) is kept"),
		s.window(&cfg.Retention.CatalogHistory, "retention-catalog-history", retention.DefaultCatalogHistory, "how long products' and customers' field history is kept"))
	if !workerOnly {
		s.boolean(&cfg.NoWorkers, "no-workers", "serve the API and console only; run `posbridge worker` elsewhere")
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if envErr != nil {
		return envErr
	}
	var err error
	if cfg.TrustedProxies, err = console.ParseTrustedProxies(trustedProxies); err != nil {
		return err
	}
	cfg.SMTP.Port = smtpPort
	cfg.SalesSMTP.MaxMessageBytes = int64(smtpMax)
	cfg.NoHTTP = workerOnly
	if workerOnly {
		// The worker calls the serving process's sandboxes: at --addr when given, else at --public-url.
		addrSet := getenv(envName("addr")) != ""
		fs.Visit(func(f *flag.Flag) { addrSet = addrSet || f.Name == "addr" })
		if !addrSet && cfg.PublicURL != "" {
			cfg.ServerURL = cfg.PublicURL
		}
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lvl}))
	cfg.Stdout = stdout
	a, err := app.New(ctx, cfg)
	if err != nil {
		return err
	}
	if err := a.Start(ctx); err != nil {
		a.Close(context.Background())
		return err
	}
	if workerOnly {
		cfg.Logger.Info("posbridge worker running", "database", a.Store.Dialect(), "server", a.ServerURL())
		if !cfg.NoSandbox {
			if err := a.CheckServer(ctx); err != nil {
				cfg.Logger.Warn("this worker cannot reach the serving process, so sandbox checks and pushes will fail: "+
					"give the worker the server's --public-url (or --addr)", "server", a.ServerURL(), "err", err)
			} else {
				cfg.Logger.Info("this worker reaches the serving process", "server", a.ServerURL())
			}
		}
	} else {
		cfg.Logger.Info("posbridge serving", "url", a.URL(), "database", a.Store.Dialect(), "workers", !cfg.NoWorkers)
	}
	<-ctx.Done()
	cfg.Logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return a.Close(sctx)
}

func migrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg app.Config
	storageFlags(settings{fs, getenv}, &cfg)
	if err := fs.Parse(args); err != nil {
		return err
	}
	st, err := jobs.OpenStore(ctx, store.Config{DataDir: cfg.DataDir, DatabaseURL: cfg.DatabaseURL})
	if err != nil {
		return err
	}
	defer st.Close()
	fmt.Fprintf(stdout, "migrations applied (%s)\n", st.Dialect())
	return nil
}

func account(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return errors.New("usage: posbridge account create --name N --admin-email E [--json]\n" + resetUsage)
	}
	fs := flag.NewFlagSet("account create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg app.Config
	var name, email string
	var asJSON bool
	storageFlags(settings{fs, getenv}, &cfg)
	fs.StringVar(&name, "name", "", "the business's name")
	fs.StringVar(&email, "admin-email", "", "email of the account's admin")
	fs.BoolVar(&asJSON, "json", false, "print one JSON object")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if name == "" || email == "" {
		return errors.New("--name and --admin-email are required")
	}
	st, err := jobs.OpenStore(ctx, store.Config{DataDir: cfg.DataDir, DatabaseURL: cfg.DatabaseURL})
	if err != nil {
		return err
	}
	defer st.Close()
	c, err := accounts.Create(ctx, st, name, email)
	if err != nil {
		return err
	}
	if asJSON {
		return json.NewEncoder(stdout).Encode(c)
	}
	fmt.Fprintf(stdout, "account created (shown once)\n  account id:  %s\n  admin email: %s\n  password:    %s\n  API key:     %s\n",
		c.AccountID, c.AdminEmail, c.AdminPassword, c.APIKey)
	return nil
}

func sim(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return errors.New("usage: posbridge sim <provider> --addr HOST:PORT [--seed-products N]")
	}
	typ := args[0]
	fs := flag.NewFlagSet("sim "+typ, flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	seed := fs.Int("seed-products", 50, "sample products to load")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	var known []string
	for _, p := range registry.All() {
		known = append(known, p.Type)
		if p.Type != typ || p.NewSimulator == nil {
			continue
		}
		ln, err := net.Listen("tcp", *addr)
		if err != nil {
			return fmt.Errorf("listen on %s: %w", *addr, err)
		}
		sim := p.NewSimulator(*seed)
		info := sim.Info("http://" + ln.Addr().String())
		if err := json.NewEncoder(stdout).Encode(info); err != nil {
			return err
		}
		srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
		go func() {
			<-ctx.Done()
			srv.Close()
		}()
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}
	return fmt.Errorf("no simulator for provider %q; known: %s", typ, strings.Join(known, ", "))
}
