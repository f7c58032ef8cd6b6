package smtptest_test

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/posbridge/posbridge/internal/notify/smtptest"
)

const base64Message = "From: a@b.test\r\n" +
	"To: c@d.test\r\n" +
	"Subject: =?utf-8?q?caf=C3=A9?=\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\n" +
	"Content-Transfer-Encoding: base64\r\n" +
	"\r\n" +
	"aGFsbG8K\r\n" + // "hallo\n" split over two lines
	"d2VyZWxk\r\n"

func TestServerReceivesAndDecodes(t *testing.T) {
	srv := smtptest.NewServer(t)
	if srv.Host() != "127.0.0.1" || srv.Port() == 0 || srv.Addr() != net.JoinHostPort(srv.Host(), fmt.Sprint(srv.Port())) {
		t.Fatalf("addr %s host %s port %d", srv.Addr(), srv.Host(), srv.Port())
	}
	if srv.ClientTLSConfig() != nil {
		t.Fatal("a plain server has a TLS config")
	}
	if err := smtp.SendMail(srv.Addr(), nil, "a@b.test", []string{"c@d.test", "e@f.test"}, strings.NewReader(base64Message)); err == nil {
		// smtp.SendMail insists on STARTTLS; a plain server must refuse it.
		t.Fatal("SendMail without STARTTLS succeeded")
	}
	c, err := smtp.Dial(srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.SendMail("a@b.test", []string{"c@d.test", "e@f.test"}, strings.NewReader(base64Message)); err != nil {
		t.Fatal(err)
	}
	m := srv.WaitFor(t, func(m smtptest.Message) bool { return m.Subject == "café" }, 5*time.Second)
	if m.From != "a@b.test" || strings.Join(m.To, " ") != "c@d.test e@f.test" {
		t.Fatalf("envelope %q -> %v", m.From, m.To)
	}
	if m.Body != "hallo\nwereld" {
		t.Fatalf("body %q", m.Body)
	}
	if !strings.HasPrefix(string(m.Raw), "From: a@b.test\r\n") || m.Header.Get("To") != "c@d.test" {
		t.Fatalf("raw %q", m.Raw)
	}
	msgs := srv.Messages()
	msgs[0].Subject = "changed"
	if srv.Messages()[0].Subject != "café" {
		t.Fatal("Messages does not return a copy")
	}
}

func TestServerFailAndClear(t *testing.T) {
	srv := smtptest.NewServer(t)
	srv.Fail(smtptest.StageRcpt, 550, "no such user")
	c, err := smtp.Dial(srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	err = c.SendMail("a@b.test", []string{"x@y.test"}, strings.NewReader(base64Message))
	var se *smtp.SMTPError
	if !errors.As(err, &se) || se.Code != 550 || se.Message != "no such user" {
		t.Fatalf("err = %v", err)
	}
	if err := c.Reset(); err != nil {
		t.Fatal(err)
	}
	srv.ClearFailures()
	if err := c.SendMail("a@b.test", []string{"x@y.test"}, strings.NewReader(base64Message)); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.Messages()); n != 1 {
		t.Fatalf("%d messages, want 1", n)
	}
}

func TestServerStartTLSAndAuth(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.WithStartTLS(), smtptest.WithAuth("u", "p"))
	conf := srv.ClientTLSConfig()
	conf.ServerName = "127.0.0.1"
	c, err := smtp.DialStartTLS(srv.Addr(), conf)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.SendMail("a@b.test", []string{"c@d.test"}, strings.NewReader(base64Message)); err == nil {
		t.Fatal("MAIL accepted before AUTH")
	}
	if err := c.Auth(sasl.NewPlainClient("", "u", "wrong")); err == nil {
		t.Fatal("wrong password accepted")
	}
	if err := c.Auth(sasl.NewPlainClient("", "u", "p")); err != nil {
		t.Fatal(err)
	}
	if err := c.SendMail("a@b.test", []string{"c@d.test"}, strings.NewReader(base64Message)); err != nil {
		t.Fatal(err)
	}
	if m := srv.WaitFor(t, nil, 5*time.Second); !m.TLS || m.User != "u" {
		t.Fatalf("TLS %v user %q", m.TLS, m.User)
	}
}

func TestServerImplicitTLS(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.WithImplicitTLS())
	conf := srv.ClientTLSConfig()
	c, err := smtp.DialTLS(srv.Addr(), conf)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.SendMail("a@b.test", []string{"c@d.test"}, strings.NewReader(base64Message)); err != nil {
		t.Fatal(err)
	}
	if m := srv.WaitFor(t, nil, 5*time.Second); !m.TLS {
		t.Fatal("message not marked TLS")
	}
	// A client that does not trust the certificate is refused.
	if _, err := smtp.DialTLS(srv.Addr(), &tls.Config{ServerName: "127.0.0.1"}); err == nil {
		t.Fatal("untrusted client connected")
	}
}

// recorder stands in for the test to observe WaitFor failing.
type recorder struct {
	testing.TB
	failed string
}

func (r *recorder) Helper() {}

func (r *recorder) Fatalf(format string, args ...any) { r.failed = fmt.Sprintf(format, args...) }

func TestWaitForTimesOut(t *testing.T) {
	srv := smtptest.NewServer(t)
	rec := &recorder{TB: t}
	start := time.Now()
	srv.WaitFor(rec, func(smtptest.Message) bool { return false }, 50*time.Millisecond)
	if !strings.Contains(rec.failed, "no matching message") {
		t.Fatalf("WaitFor did not fail the test: %q", rec.failed)
	}
	if time.Since(start) > 3*time.Second {
		t.Fatal("WaitFor overshot its timeout by far")
	}
}

// WaitFor wakes up on a message that arrives while it waits.
func TestWaitForWakesOnArrival(t *testing.T) {
	srv := smtptest.NewServer(t)
	go func() {
		c, err := smtp.Dial(srv.Addr())
		if err != nil {
			return
		}
		defer c.Close()
		_ = c.SendMail("late@b.test", []string{"c@d.test"}, strings.NewReader(base64Message))
	}()
	m := srv.WaitFor(t, func(m smtptest.Message) bool { return m.From == "late@b.test" }, 5*time.Second)
	if m.From != "late@b.test" {
		t.Fatal("wrong message")
	}
}
