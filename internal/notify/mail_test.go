package notify_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/posbridge/posbridge/internal/notify"
	"github.com/posbridge/posbridge/internal/notify/smtptest"
)

const waitTimeout = 30 * time.Second // an outer limit: waits end when what they wait for happens

func plainConfig(srv *smtptest.Server) notify.SMTPConfig {
	return notify.SMTPConfig{Host: srv.Host(), Port: srv.Port(), From: "posbridge <noreply@posbridge.test>", TLS: notify.TLSNone}
}

func sendErr(t *testing.T, err error) *notify.SendError {
	t.Helper()
	var se *notify.SendError
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T) is not a *notify.SendError", err, err)
	}
	return se
}

func TestSendPlainMessage(t *testing.T) {
	srv := smtptest.NewServer(t)
	fixed := time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)
	m := notify.NewMailer(plainConfig(srv), notify.WithClock(func() time.Time { return fixed }), notify.WithTimeout(waitTimeout))
	text := "Hallo Jan,\n\nThe integration \"Kassa 2\" is called off after 20 failures.\n" +
		".\n" + // a lone dot would end DATA without dot-stuffing
		".hidden line\n" +
		"From here on, a line starting with From.\n" +
		"Prijs: € 12,50 — café\n" +
		strings.Repeat("long line ", 30) + "\n"
	err := m.Send(context.Background(), notify.Message{
		To:      []string{"Jan de Vries <jan@bikes.test>", "ops@bikes.test"},
		Subject: "Integratie gestopt: Kassa 2 — actie nodig",
		Text:    text,
	})
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := srv.WaitFor(t, nil, waitTimeout)
	if got.From != "noreply@posbridge.test" {
		t.Errorf("envelope from %q", got.From)
	}
	if strings.Join(got.To, ",") != "jan@bikes.test,ops@bikes.test" {
		t.Errorf("envelope to %v", got.To)
	}
	if got.Subject != "Integratie gestopt: Kassa 2 — actie nodig" {
		t.Errorf("subject %q", got.Subject)
	}
	if got.Body != text {
		t.Errorf("body:\n%q\nwant\n%q", got.Body, text)
	}
	h := got.Header
	if a, err := mail.ParseAddress(h.Get("From")); err != nil || a.Address != "noreply@posbridge.test" || a.Name != "posbridge" {
		t.Errorf("From header %q: %v", h.Get("From"), err)
	}
	if to, err := h.AddressList("To"); err != nil || len(to) != 2 || to[0].Name != "Jan de Vries" || to[1].Address != "ops@bikes.test" {
		t.Errorf("To header %q: %v", h.Get("To"), err)
	}
	if d, err := h.Date(); err != nil || !d.Equal(fixed) {
		t.Errorf("Date header %q: %v", h.Get("Date"), err)
	}
	if !regexp.MustCompile(`^<[0-9a-f]{32}@posbridge\.test>$`).MatchString(h.Get("Message-ID")) {
		t.Errorf("Message-ID %q", h.Get("Message-ID"))
	}
	for k, v := range map[string]string{
		"MIME-Version":              "1.0",
		"Content-Type":              "text/plain; charset=utf-8",
		"Content-Transfer-Encoding": "quoted-printable",
	} {
		if h.Get(k) != v {
			t.Errorf("%s: %q, want %q", k, h.Get(k), v)
		}
	}
	raw := string(got.Raw)
	if strings.Contains(strings.ReplaceAll(raw, "\r\n", ""), "\n") {
		t.Error("raw message has bare LF line ends")
	}
	for _, line := range strings.Split(raw, "\r\n") {
		if len(line) > 78 {
			t.Errorf("raw line longer than 78: %q", line)
		}
	}
	if got.TLS || got.User != "" {
		t.Errorf("plain send: TLS=%v user=%q", got.TLS, got.User)
	}
}

func TestSendStartTLSWithAuth(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.WithStartTLS(), smtptest.WithAuth("mailer", "s3cret"))
	cfg := plainConfig(srv)
	cfg.TLS = notify.TLSStartTLS
	cfg.Username, cfg.Password = "mailer", "s3cret"
	m := notify.NewMailer(cfg, notify.WithTLSConfig(srv.ClientTLSConfig()), notify.WithTimeout(waitTimeout))
	if err := m.Send(context.Background(), notify.Message{To: []string{"a@b.test"}, Subject: "hi", Text: "over tls"}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := srv.WaitFor(t, func(m smtptest.Message) bool { return m.Subject == "hi" }, waitTimeout)
	if !got.TLS || got.User != "mailer" || got.Body != "over tls\n" {
		t.Fatalf("got TLS=%v user=%q body=%q", got.TLS, got.User, got.Body)
	}
}

func TestSendImplicitTLS(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.WithImplicitTLS(), smtptest.WithAuth("u", "p"))
	cfg := plainConfig(srv)
	cfg.TLS = notify.TLSImplicit
	cfg.Username, cfg.Password = "u", "p"
	m := notify.NewMailer(cfg, notify.WithTLSConfig(srv.ClientTLSConfig()), notify.WithTimeout(waitTimeout))
	if err := m.Send(context.Background(), notify.Message{To: []string{"a@b.test"}, Subject: "implicit", Text: "x"}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if got := srv.WaitFor(t, nil, waitTimeout); !got.TLS || got.User != "u" {
		t.Fatalf("got TLS=%v user=%q", got.TLS, got.User)
	}
}

func TestStartTLSIsRequired(t *testing.T) {
	srv := smtptest.NewServer(t) // offers no STARTTLS
	cfg := plainConfig(srv)
	cfg.TLS = "" // default: starttls
	err := notify.NewMailer(cfg, notify.WithTimeout(waitTimeout)).Send(context.Background(), notify.Message{To: []string{"a@b.test"}, Text: "x"})
	se := sendErr(t, err)
	if se.Stage != "starttls" || !notify.IsPermanent(err) {
		t.Fatalf("err = %v (stage %q, permanent %v), want a permanent starttls error", err, se.Stage, se.Permanent)
	}
	if len(srv.Messages()) != 0 {
		t.Fatal("message sent in clear text")
	}
}

func TestUntrustedCertificateIsTemporary(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.WithStartTLS())
	cfg := plainConfig(srv)
	cfg.TLS = notify.TLSStartTLS
	err := notify.NewMailer(cfg, notify.WithTimeout(waitTimeout)).Send(context.Background(), notify.Message{To: []string{"a@b.test"}, Text: "x"})
	if err == nil || notify.IsPermanent(err) {
		t.Fatalf("err = %v, want a temporary TLS error", err)
	}
	if !strings.Contains(err.Error(), "certificate") {
		t.Errorf("error %q does not mention the certificate", err)
	}
}

func TestAuthFailureIsPermanent(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.WithStartTLS(), smtptest.WithAuth("mailer", "right"))
	cfg := plainConfig(srv)
	cfg.TLS = notify.TLSStartTLS
	cfg.Username, cfg.Password = "mailer", "wrong"
	err := notify.NewMailer(cfg, notify.WithTLSConfig(srv.ClientTLSConfig()), notify.WithTimeout(waitTimeout)).
		Send(context.Background(), notify.Message{To: []string{"a@b.test"}, Text: "x"})
	se := sendErr(t, err)
	if se.Stage != "auth" || se.Code != 535 || !notify.IsPermanent(err) || notify.SMTPCode(err) != 535 {
		t.Fatalf("err = %v (stage %q code %d)", err, se.Stage, se.Code)
	}
	if strings.Contains(err.Error(), "wrong") {
		t.Fatal("error repeats the password")
	}
}

func TestAuthWithoutServerSupport(t *testing.T) {
	srv := smtptest.NewServer(t) // no AUTH offered
	cfg := plainConfig(srv)      // 127.0.0.1: clear-text auth allowed
	cfg.Username, cfg.Password = "u", "p"
	err := notify.NewMailer(cfg, notify.WithTimeout(waitTimeout)).Send(context.Background(), notify.Message{To: []string{"a@b.test"}, Text: "x"})
	if se := sendErr(t, err); se.Stage != "auth" || !se.Permanent {
		t.Fatalf("err = %v", err)
	}
}

func TestSMTPRefusals(t *testing.T) {
	cases := []struct {
		stage     smtptest.Stage
		code      int
		wantStage string
		permanent bool
	}{
		{smtptest.StageMail, 451, "mail from", false},
		{smtptest.StageMail, 550, "mail from", true},
		{smtptest.StageRcpt, 550, "rcpt to <nobody@b.test>", true},
		{smtptest.StageRcpt, 452, "rcpt to <nobody@b.test>", false},
		{smtptest.StageData, 554, "data", true},
		{smtptest.StageData, 421, "data", false},
	}
	srv := smtptest.NewServer(t)
	m := notify.NewMailer(plainConfig(srv), notify.WithTimeout(waitTimeout))
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s_%d", c.stage, c.code), func(t *testing.T) {
			srv.ClearFailures()
			srv.Fail(c.stage, c.code, "refused by test")
			err := m.Send(context.Background(), notify.Message{To: []string{"nobody@b.test"}, Text: "x"})
			se := sendErr(t, err)
			if se.Stage != c.wantStage || se.Code != c.code || se.Permanent != c.permanent || notify.IsPermanent(err) != c.permanent {
				t.Fatalf("err = %v: stage %q code %d permanent %v", err, se.Stage, se.Code, se.Permanent)
			}
			if !strings.Contains(err.Error(), "refused by test") {
				t.Errorf("error %q lacks the server's words", err)
			}
		})
	}
	srv.ClearFailures()
	if err := m.Send(context.Background(), notify.Message{To: []string{"ok@b.test"}, Text: "x"}); err != nil {
		t.Fatalf("after ClearFailures: %v", err)
	}
	if n := len(srv.Messages()); n != 1 {
		t.Fatalf("%d messages accepted, want 1", n)
	}
}

func TestConnectionRefusedIsTemporary(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	m := notify.NewMailer(notify.SMTPConfig{Host: "127.0.0.1", Port: port, From: "a@b.test", TLS: notify.TLSNone}, notify.WithTimeout(waitTimeout))
	err = m.Send(context.Background(), notify.Message{To: []string{"c@d.test"}, Text: "x"})
	if se := sendErr(t, err); se.Stage != "dial" || se.Permanent || notify.IsPermanent(err) {
		t.Fatalf("err = %v", err)
	}
}

// A server that accepts and then never says a word: the context's deadline must end Send.
func TestSendHonoursContextDeadline(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	port := ln.Addr().(*net.TCPAddr).Port
	m := notify.NewMailer(notify.SMTPConfig{Host: "127.0.0.1", Port: port, From: "a@b.test", TLS: notify.TLSNone})
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- m.Send(ctx, notify.Message{To: []string{"c@d.test"}, Text: "x"}) }()
	select {
	case err := <-done:
		if err == nil || notify.IsPermanent(err) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want a temporary deadline error", err)
		}
	case <-time.After(waitTimeout):
		t.Fatal("Send did not return after its context's deadline")
	}
}

func TestConfigAndMessageErrorsArePermanent(t *testing.T) {
	ctx := context.Background()
	msg := notify.Message{To: []string{"a@b.test"}, Text: "x"}
	if err := notify.NewMailer(notify.SMTPConfig{}).Send(ctx, msg); !notify.IsPermanent(err) || !errors.Is(err, notify.ErrNotConfigured) {
		t.Fatalf("unconfigured: %v", err)
	}
	if (notify.SMTPConfig{}).Configured() || !(notify.SMTPConfig{Host: "h", From: "a@b.test"}).Configured() {
		t.Fatal("Configured is wrong")
	}
	bad := []notify.SMTPConfig{
		{Host: "h", From: "not an address"},
		{Host: "h", From: "a@b.test", TLS: "ssl3"},
		{Host: "h", From: "a@b.test", Port: 70000},
		{Host: "mail.example.com", From: "a@b.test", TLS: notify.TLSNone, Username: "u", Password: "p"},
	}
	for _, cfg := range bad {
		err := notify.NewMailer(cfg).Send(ctx, msg)
		if se := sendErr(t, err); se.Stage != "config" || !notify.IsPermanent(err) {
			t.Errorf("%+v: %v", cfg, err)
		}
	}
	srv := smtptest.NewServer(t)
	m := notify.NewMailer(plainConfig(srv), notify.WithTimeout(waitTimeout))
	for _, to := range [][]string{nil, {"not an address"}, {"ok@b.test", "bad@"}} {
		err := m.Send(ctx, notify.Message{To: to, Text: "x"})
		if se := sendErr(t, err); se.Stage != "message" || !notify.IsPermanent(err) {
			t.Errorf("to %v: %v", to, err)
		}
	}
	if len(srv.Messages()) != 0 {
		t.Fatal("an invalid message was sent")
	}
}

func TestSubjectHeaderInjection(t *testing.T) {
	srv := smtptest.NewServer(t)
	m := notify.NewMailer(plainConfig(srv), notify.WithTimeout(waitTimeout))
	err := m.Send(context.Background(), notify.Message{To: []string{"a@b.test"}, Subject: "hi\r\nBcc: victim@evil.test", Text: "x"})
	if err != nil {
		t.Fatal(err)
	}
	got := srv.WaitFor(t, nil, waitTimeout)
	if got.Header.Get("Bcc") != "" || got.Subject != "hi Bcc: victim@evil.test" {
		t.Fatalf("subject %q, Bcc %q", got.Subject, got.Header.Get("Bcc"))
	}
}

func TestConcurrentSends(t *testing.T) {
	srv := smtptest.NewServer(t)
	m := notify.NewMailer(plainConfig(srv), notify.WithTimeout(waitTimeout))
	const n = 12
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			errs <- m.Send(context.Background(), notify.Message{To: []string{"a@b.test"}, Subject: fmt.Sprintf("msg %d", i), Text: "x"})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		srv.WaitFor(t, func(m smtptest.Message) bool { return m.Subject == fmt.Sprintf("msg %d", i) }, waitTimeout)
	}
}

func BenchmarkMailerSend(b *testing.B) {
	srv := smtptest.NewServer(b)
	m := notify.NewMailer(plainConfig(srv), notify.WithTimeout(waitTimeout))
	msg := notify.Message{To: []string{"a@b.test"}, Subject: "Integration failed", Text: strings.Repeat("Some text.\n", 40)}
	for b.Loop() {
		if err := m.Send(context.Background(), msg); err != nil {
			b.Fatal(err)
		}
	}
}
