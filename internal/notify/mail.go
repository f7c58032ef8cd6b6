package notify

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// TLS modes of SMTPConfig.
const (
	TLSNone     = "none"     // plain SMTP (a relay on localhost or a trusted network)
	TLSStartTLS = "starttls" // plain connect, then STARTTLS, required (default, port 587)
	TLSImplicit = "tls"      // TLS from the first byte (port 465)
)

// SMTPConfig is the outgoing mail server.
type SMTPConfig struct {
	Host     string
	Port     int // 0: 587 for starttls, 465 for tls, 25 for none
	Username string
	Password string
	From     string // "posbridge <noreply@example.com>" or a bare address
	TLS      string // "none", "starttls" or "tls"; "" means "starttls"
}

// Configured tells whether mail can be sent at all (a host and a sender are set).
func (c SMTPConfig) Configured() bool {
	return strings.TrimSpace(c.Host) != "" && strings.TrimSpace(c.From) != ""
}

// Validate checks the configuration and names the bad setting.
func (c SMTPConfig) Validate() error {
	if !c.Configured() {
		return ErrNotConfigured
	}
	switch c.tlsMode() {
	case TLSNone, TLSStartTLS, TLSImplicit:
	default:
		return fmt.Errorf("smtp tls %q: want none, starttls or tls", c.TLS)
	}
	if c.Port < 0 || c.Port > 65535 {
		return fmt.Errorf("smtp port %d: out of range", c.Port)
	}
	if _, err := mail.ParseAddress(c.From); err != nil {
		return fmt.Errorf("smtp from %q: %w", c.From, err)
	}
	if c.Username != "" && c.tlsMode() == TLSNone && !isLoopback(c.Host) {
		return fmt.Errorf("smtp: refusing to send the password for %q in clear text to %s: set tls to starttls or tls", c.Username, c.Host)
	}
	return nil
}

func (c SMTPConfig) tlsMode() string {
	m := strings.ToLower(strings.TrimSpace(c.TLS))
	if m == "" {
		return TLSStartTLS
	}
	return m
}

func (c SMTPConfig) port() int {
	if c.Port != 0 {
		return c.Port
	}
	switch c.tlsMode() {
	case TLSImplicit:
		return 465
	case TLSNone:
		return 25
	}
	return 587
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Message is a plain-text email.
type Message struct {
	To      []string // addresses, "Name <a@b>" or "a@b"
	Subject string
	Text    string
}

// ErrNotConfigured is returned by Send when no SMTP host or sender is set. It is permanent.
var ErrNotConfigured = errors.New("smtp is not configured (no host or from address)")

// SendError is a failed Send: the stage that failed, the SMTP reply when there was one, and
// whether retrying can help.
type SendError struct {
	Stage     string // "config", "message", "dial", "hello", "starttls", "auth", "mail from", "rcpt to", "data"
	Code      int    // SMTP reply code, 0 when the failure was not a reply (network, TLS, config)
	Enhanced  string // enhanced status code such as "5.1.1", "" when none
	Message   string // the server's words, or a description
	Permanent bool   // a 5xx refusal or a configuration/message error: retrying the same send will not help
	Err       error
}

func (e *SendError) Error() string {
	var b strings.Builder
	b.WriteString("smtp ")
	b.WriteString(e.Stage)
	b.WriteString(": ")
	if e.Code != 0 {
		b.WriteString(strconv.Itoa(e.Code))
		b.WriteByte(' ')
		if e.Enhanced != "" {
			b.WriteString(e.Enhanced)
			b.WriteByte(' ')
		}
	}
	b.WriteString(e.Message)
	return b.String()
}

func (e *SendError) Unwrap() error { return e.Err }

// IsPermanent tells whether err is a failure that retrying will not fix: the server refused
// with a 5xx reply (bad recipient, authentication failed, message rejected), or the
// configuration or the message is invalid. Network failures, timeouts and 4xx replies are
// temporary.
func IsPermanent(err error) bool {
	var se *SendError
	if errors.As(err, &se) {
		return se.Permanent
	}
	return errors.Is(err, ErrNotConfigured)
}

// SMTPCode returns the SMTP reply code carried by err, 0 when none.
func SMTPCode(err error) int {
	var se *SendError
	if errors.As(err, &se) {
		return se.Code
	}
	return 0
}

// MailerOption configures a Mailer.
type MailerOption func(*Mailer)

// WithTLSConfig sets the TLS client config (e.g. a test CA); ServerName defaults to the host.
func WithTLSConfig(c *tls.Config) MailerOption { return func(m *Mailer) { m.tlsConfig = c } }

// WithTimeout bounds one Send when the context has no earlier deadline (default 30 s).
func WithTimeout(d time.Duration) MailerOption { return func(m *Mailer) { m.timeout = d } }

// WithHelloName sets the name given in EHLO (default: the host name when it is a FQDN, else
// "localhost").
func WithHelloName(name string) MailerOption { return func(m *Mailer) { m.helloName = name } }

// WithClock sets the clock used for the Date header.
func WithClock(now func() time.Time) MailerOption { return func(m *Mailer) { m.now = now } }

// Mailer sends mail through one SMTP server, one connection per Send. It is safe for
// concurrent use.
type Mailer struct {
	cfg       SMTPConfig
	tlsConfig *tls.Config
	timeout   time.Duration
	helloName string
	now       func() time.Time
}

// NewMailer returns a Mailer for cfg. The configuration is checked on Send (see Validate).
func NewMailer(cfg SMTPConfig, opts ...MailerOption) *Mailer {
	m := &Mailer{cfg: cfg, timeout: 30 * time.Second, now: time.Now}
	for _, o := range opts {
		o(m)
	}
	if m.helloName == "" {
		m.helloName = "localhost"
		if h, err := os.Hostname(); err == nil && strings.Contains(h, ".") && !strings.ContainsAny(h, " \r\n") {
			m.helloName = h
		}
	}
	return m
}

// Config returns the configuration the Mailer was made with.
func (m *Mailer) Config() SMTPConfig { return m.cfg }

// Send delivers msg to every recipient, or fails as a whole: when any recipient is refused the
// message is sent to none (send separately to isolate recipients). Errors are *SendError
// (see IsPermanent).
func (m *Mailer) Send(ctx context.Context, msg Message) error {
	if !m.cfg.Configured() {
		return &SendError{Stage: "config", Message: ErrNotConfigured.Error(), Permanent: true, Err: ErrNotConfigured}
	}
	if err := m.cfg.Validate(); err != nil {
		return &SendError{Stage: "config", Message: err.Error(), Permanent: true, Err: err}
	}
	from, _ := mail.ParseAddress(m.cfg.From) // checked by Validate
	rcpts, data, err := m.build(from, msg)
	if err != nil {
		return &SendError{Stage: "message", Message: err.Error(), Permanent: true, Err: err}
	}

	if _, ok := ctx.Deadline(); !ok && m.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, m.timeout)
		defer cancel()
	}
	addr := net.JoinHostPort(m.cfg.Host, strconv.Itoa(m.cfg.port()))
	tlsConf := m.clientTLS()

	var conn net.Conn
	if m.cfg.tlsMode() == TLSImplicit {
		conn, err = (&tls.Dialer{Config: tlsConf}).DialContext(ctx, "tcp", addr)
	} else {
		conn, err = (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return transportError("dial", fmt.Errorf("connect %s: %w", addr, err))
	}
	// The client sets its own deadlines per command; closing the connection is what makes a
	// cancelled context stop a blocked read.
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	defer conn.Close()

	stage, err := m.converse(ctx, conn, tlsConf, from.Address, rcpts, data)
	if err != nil {
		if cerr := contextErr(ctx); cerr != nil {
			return transportError(stage, fmt.Errorf("%w (%v)", cerr, err))
		}
		return classify(stage, err)
	}
	return nil
}

func (m *Mailer) converse(ctx context.Context, conn net.Conn, tlsConf *tls.Config, from string, rcpts []string, data []byte) (string, error) {
	var c *smtp.Client
	if m.cfg.tlsMode() == TLSStartTLS {
		var err error
		// NewClientStartTLS greets and says EHLO before upgrading; it fails when the server
		// does not offer STARTTLS, which we require rather than silently sending in clear.
		c, err = smtp.NewClientStartTLS(conn, tlsConf)
		if err != nil {
			return "starttls", err
		}
	} else {
		c = smtp.NewClient(conn)
	}
	setTimeouts(ctx, c)
	if err := c.Hello(m.helloName); err != nil {
		return "hello", err
	}
	if m.cfg.Username != "" {
		if ok, _ := c.Extension("AUTH"); !ok {
			return "auth", permanentf("the server does not offer AUTH but a username is configured")
		}
		var a sasl.Client
		if !c.SupportsAuth(sasl.Plain) && c.SupportsAuth(sasl.Login) {
			a = sasl.NewLoginClient(m.cfg.Username, m.cfg.Password)
		} else {
			a = sasl.NewPlainClient("", m.cfg.Username, m.cfg.Password)
		}
		if err := c.Auth(a); err != nil {
			return "auth", err
		}
	}
	var mo *smtp.MailOptions
	if !isASCII(from) || !allASCII(rcpts) {
		mo = &smtp.MailOptions{UTF8: true}
	}
	setTimeouts(ctx, c)
	if err := c.Mail(from, mo); err != nil {
		return "mail from", err
	}
	for _, r := range rcpts {
		if err := c.Rcpt(r, nil); err != nil {
			return "rcpt to <" + r + ">", err
		}
	}
	w, err := c.Data()
	if err != nil {
		return "data", err
	}
	if _, err := w.Write(data); err != nil {
		return "data", err
	}
	setTimeouts(ctx, c)
	if err := w.Close(); err != nil {
		return "data", err
	}
	// The message is accepted; a failing QUIT changes nothing for the sender.
	_ = c.Quit()
	return "", nil
}

// contextErr is ctx.Err(), also when the deadline has passed but the context's own timer has
// not fired yet (the client's per-command timeout, set to the same instant, may win the race).
func contextErr(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if dl, ok := ctx.Deadline(); ok && !time.Now().Before(dl) {
		return context.DeadlineExceeded
	}
	return nil
}

// setTimeouts keeps the client's per-command timeouts within the context's deadline.
func setTimeouts(ctx context.Context, c *smtp.Client) {
	if dl, ok := ctx.Deadline(); ok {
		d := time.Until(dl)
		if d <= 0 {
			d = time.Millisecond
		}
		c.CommandTimeout = d
		c.SubmissionTimeout = d
	}
}

func (m *Mailer) clientTLS() *tls.Config {
	var c *tls.Config
	if m.tlsConfig != nil {
		c = m.tlsConfig.Clone()
	} else {
		c = &tls.Config{}
	}
	if c.ServerName == "" {
		c.ServerName = m.cfg.Host
	}
	if c.MinVersion == 0 {
		c.MinVersion = tls.VersionTLS12
	}
	return c
}

// permanentError marks a failure found on our side that retrying will not fix.
type permanentError struct{ msg string }

func (e permanentError) Error() string { return e.msg }

func permanentf(format string, args ...any) error {
	return permanentError{msg: fmt.Sprintf(format, args...)}
}

func transportError(stage string, err error) *SendError {
	return &SendError{Stage: stage, Message: err.Error(), Err: err}
}

// classify turns a go-smtp error into a *SendError.
func classify(stage string, err error) *SendError {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		e := &SendError{Stage: stage, Code: se.Code, Message: se.Message, Permanent: se.Code >= 500 && se.Code < 600, Err: err}
		if ec := se.EnhancedCode; ec != (smtp.EnhancedCode{}) && ec != smtp.NoEnhancedCode {
			e.Enhanced = fmt.Sprintf("%d.%d.%d", ec[0], ec[1], ec[2])
		}
		return e
	}
	var pe permanentError
	if errors.As(err, &pe) {
		return &SendError{Stage: stage, Message: pe.msg, Permanent: true, Err: err}
	}
	if stage == "starttls" && strings.Contains(err.Error(), "doesn't support STARTTLS") {
		return &SendError{Stage: stage, Message: "the server does not offer STARTTLS (set tls to none for a plain relay, or tls for port 465)", Permanent: true, Err: err}
	}
	return transportError(stage, err)
}

// build checks the addresses and renders the message: headers, then the text as
// quoted-printable UTF-8 with CRLF line ends. Dot-stuffing is left to the SMTP client.
func (m *Mailer) build(from *mail.Address, msg Message) (rcpts []string, data []byte, err error) {
	if len(msg.To) == 0 {
		return nil, nil, errors.New("no recipients")
	}
	var toHeader []string
	for _, t := range msg.To {
		a, err := mail.ParseAddress(t)
		if err != nil {
			return nil, nil, fmt.Errorf("recipient %q: %w", t, err)
		}
		rcpts = append(rcpts, a.Address)
		toHeader = append(toHeader, a.String())
	}
	subject := strings.Join(strings.Fields(msg.Subject), " ") // no CR/LF: no header injection

	var b bytes.Buffer
	hdr := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	hdr("From", from.String())
	hdr("To", strings.Join(toHeader, ", "))
	hdr("Subject", mime.QEncoding.Encode("utf-8", subject))
	hdr("Date", m.now().Format(time.RFC1123Z))
	hdr("Message-ID", newMessageID(from.Address))
	hdr("MIME-Version", "1.0")
	hdr("Content-Type", "text/plain; charset=utf-8")
	hdr("Content-Transfer-Encoding", "quoted-printable")
	hdr("Auto-Submitted", "auto-generated") // RFC 3834: no vacation auto-replies, please
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	text := strings.ReplaceAll(msg.Text, "\r\n", "\n")
	if _, err := qp.Write([]byte(text)); err != nil {
		return nil, nil, fmt.Errorf("encode body: %w", err)
	}
	if err := qp.Close(); err != nil {
		return nil, nil, fmt.Errorf("encode body: %w", err)
	}
	if !bytes.HasSuffix(b.Bytes(), []byte("\r\n")) {
		b.WriteString("\r\n")
	}
	return rcpts, b.Bytes(), nil
}

func newMessageID(fromAddr string) string {
	domain := "posbridge.localhost"
	if i := strings.LastIndexByte(fromAddr, '@'); i >= 0 && i+1 < len(fromAddr) {
		domain = fromAddr[i+1:]
	}
	var r [16]byte
	_, _ = rand.Read(r[:])
	return "<" + hex.EncodeToString(r[:]) + "@" + domain + ">"
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func allASCII(ss []string) bool {
	for _, s := range ss {
		if !isASCII(s) {
			return false
		}
	}
	return true
}
