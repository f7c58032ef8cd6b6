// Package smtptest is a real SMTP sink for tests, built on github.com/emersion/go-smtp's
// server: it listens on 127.0.0.1, keeps every message it accepts, can offer STARTTLS or
// implicit TLS with a throwaway certificate, can require AUTH PLAIN, and can be told to refuse
// a stage (MAIL, RCPT, DATA) with any SMTP reply to test error handling.
package smtptest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Message is one message the server accepted.
type Message struct {
	From    string      // envelope sender (MAIL FROM)
	To      []string    // envelope recipients (RCPT TO)
	Subject string      // decoded Subject header
	Body    string      // decoded body (quoted-printable or base64 undone), line ends as "\n"
	Header  mail.Header // parsed header, raw values
	Raw     []byte      // the message as received, CRLF line ends, dot-stuffing undone
	TLS     bool        // the message came over TLS (STARTTLS or implicit)
	User    string      // the AUTH user, "" without AUTH
}

// Stage is an SMTP command the server can be told to refuse.
type Stage string

// Stages that Fail can refuse.
const (
	StageMail Stage = "MAIL"
	StageRcpt Stage = "RCPT"
	StageData Stage = "DATA"
)

// Option configures a Server.
type Option func(*options)

type options struct {
	startTLS, implicitTLS bool
	user, pass            string
}

// WithStartTLS makes the server offer STARTTLS with a self-signed certificate for 127.0.0.1
// and localhost; ClientTLSConfig trusts it.
func WithStartTLS() Option { return func(o *options) { o.startTLS = true } }

// WithImplicitTLS makes the server speak TLS from the first byte (port 465 style).
func WithImplicitTLS() Option { return func(o *options) { o.implicitTLS = true } }

// WithAuth makes the server offer AUTH PLAIN and refuse MAIL until the client logs in with
// these credentials (a wrong login gets 535).
func WithAuth(username, password string) Option {
	return func(o *options) { o.user, o.pass = username, password }
}

// Server is a running SMTP sink. It is closed by the test's Cleanup.
type Server struct {
	srv       *smtp.Server
	ln        net.Listener
	opts      options
	clientTLS *tls.Config

	mu       sync.Mutex
	messages []Message
	changed  chan struct{} // closed and replaced on every new message
	failures map[Stage]*smtp.SMTPError
}

// NewServer starts a server on 127.0.0.1:0 and closes it when the test ends.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{changed: make(chan struct{}), failures: map[Stage]*smtp.SMTPError{}}
	for _, o := range opts {
		o(&s.opts)
	}
	s.srv = smtp.NewServer(smtp.BackendFunc(s.newSession))
	s.srv.Domain = "smtptest.localhost"
	s.srv.AllowInsecureAuth = true
	s.srv.ReadTimeout = 10 * time.Second
	s.srv.WriteTimeout = 10 * time.Second
	s.srv.MaxMessageBytes = 10 << 20
	s.srv.MaxRecipients = 100
	s.srv.ErrorLog = log.New(io.Discard, "", 0)

	var tlsConf *tls.Config
	if s.opts.startTLS || s.opts.implicitTLS {
		var err error
		tlsConf, s.clientTLS, err = selfSigned()
		if err != nil {
			t.Fatalf("smtptest: certificate: %v", err)
		}
	}
	if s.opts.startTLS {
		s.srv.TLSConfig = tlsConf
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("smtptest: listen: %v", err)
	}
	if s.opts.implicitTLS {
		ln = tls.NewListener(ln, tlsConf)
	}
	s.ln = ln
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.srv.Serve(ln)
	}()
	t.Cleanup(func() {
		_ = s.srv.Close()
		// Close only closes listeners Serve has registered; when the test ends before the
		// Serve goroutine has run, the listener is still ours to close.
		_ = ln.Close()
		<-done
	})
	return s
}

// Addr returns "127.0.0.1:port".
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Host returns the listening host, "127.0.0.1".
func (s *Server) Host() string {
	h, _, _ := net.SplitHostPort(s.Addr())
	return h
}

// Port returns the listening port.
func (s *Server) Port() int {
	_, p, _ := net.SplitHostPort(s.Addr())
	n, _ := strconv.Atoi(p)
	return n
}

// ClientTLSConfig returns a client TLS config that trusts the server's certificate, nil when
// the server has no TLS.
func (s *Server) ClientTLSConfig() *tls.Config {
	if s.clientTLS == nil {
		return nil
	}
	return s.clientTLS.Clone()
}

// Fail makes the server answer every later command of the stage with the reply code and
// message (e.g. Fail(StageRcpt, 550, "no such user") or Fail(StageMail, 451, "try later")).
func (s *Server) Fail(stage Stage, code int, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures[stage] = &smtp.SMTPError{
		Code:         code,
		EnhancedCode: smtp.EnhancedCode{code / 100, 0, 0},
		Message:      message,
	}
}

// ClearFailures undoes every Fail.
func (s *Server) ClearFailures() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.failures)
}

func (s *Server) failure(stage Stage) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.failures[stage]; e != nil {
		return e
	}
	return nil
}

// Messages returns a copy of the messages accepted so far, oldest first.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// WaitFor returns the first accepted message that match accepts, waiting up to timeout for it
// to arrive; it fails the test when none does. A nil match accepts any message.
func (s *Server) WaitFor(t testing.TB, match func(Message) bool, timeout time.Duration) Message {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		for _, m := range s.messages {
			if match == nil || match(m) {
				s.mu.Unlock()
				return m
			}
		}
		changed, n := s.changed, len(s.messages)
		s.mu.Unlock()
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("smtptest: no matching message within %v (%d messages received)", timeout, n)
			return Message{}
		}
	}
}

func (s *Server) add(m Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.messages = append(s.messages, m)
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Server) newSession(c *smtp.Conn) (smtp.Session, error) {
	_, isTLS := c.TLSConnectionState()
	return &session{srv: s, tls: isTLS}, nil
}

type session struct {
	srv  *Server
	tls  bool
	user string
	from string
	to   []string
}

func (ss *session) authRequired() bool { return ss.srv.opts.user != "" && ss.user == "" }

// AuthMechanisms offers PLAIN when the server has credentials.
func (ss *session) AuthMechanisms() []string {
	if ss.srv.opts.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

// Auth checks a PLAIN login.
func (ss *session) Auth(mech string) (sasl.Server, error) {
	if ss.srv.opts.user == "" || mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != ss.srv.opts.user || password != ss.srv.opts.pass {
			return smtp.ErrAuthFailed
		}
		ss.user = username
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.authRequired() {
		return smtp.ErrAuthRequired
	}
	if err := ss.srv.failure(StageMail); err != nil {
		return err
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if ss.authRequired() {
		return smtp.ErrAuthRequired
	}
	if err := ss.srv.failure(StageRcpt); err != nil {
		return err
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if err := ss.srv.failure(StageData); err != nil {
		return err
	}
	m := Message{From: ss.from, To: append([]string(nil), ss.to...), Raw: raw, TLS: ss.tls, User: ss.user}
	if pm, err := mail.ReadMessage(bytes.NewReader(raw)); err == nil {
		m.Header = pm.Header
		subj := pm.Header.Get("Subject")
		if dec, err := new(mime.WordDecoder).DecodeHeader(subj); err == nil {
			subj = dec
		}
		m.Subject = subj
		m.Body = decodeBody(pm.Header.Get("Content-Transfer-Encoding"), pm.Body)
	}
	ss.srv.add(m)
	return nil
}

func (ss *session) Reset() { ss.from, ss.to = "", nil }

func (ss *session) Logout() error { return nil }

func decodeBody(cte string, body io.Reader) string {
	var r io.Reader = body
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "quoted-printable":
		r = quotedprintable.NewReader(body)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, &crlfStripper{r: body})
	}
	b, err := io.ReadAll(r)
	if err != nil {
		b = append(b, fmt.Sprintf("\n[smtptest: decode body: %v]", err)...)
	}
	return strings.ReplaceAll(string(b), "\r\n", "\n")
}

// crlfStripper drops line breaks so base64 bodies with folded lines decode.
type crlfStripper struct{ r io.Reader }

func (c *crlfStripper) Read(p []byte) (int, error) {
	for {
		n, err := c.r.Read(p)
		j := 0
		for _, b := range p[:n] {
			if b != '\r' && b != '\n' {
				p[j] = b
				j++
			}
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}

// selfSigned makes a throwaway certificate for 127.0.0.1 and localhost and a client config
// that trusts it.
func selfSigned() (server, client *tls.Config, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "smtptest"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, err
	}
	if cert == nil {
		return nil, nil, errors.New("no certificate")
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	server = &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}},
		MinVersion:   tls.VersionTLS12,
	}
	client = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return server, client, nil
}
