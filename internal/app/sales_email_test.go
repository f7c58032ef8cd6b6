package app_test

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"net/smtp"
	"net/textproto"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/posbridge/posbridge/internal/app"
	"github.com/posbridge/posbridge/internal/notify"
	"github.com/posbridge/posbridge/internal/notify/smtptest"
	"github.com/posbridge/posbridge/internal/salesimport"
	"github.com/posbridge/posbridge/internal/testdb"
)

// sendMail sends a message with one attachment (none when name is "") over real SMTP and
// returns the server's refusal, if any.
func sendMail(t *testing.T, addr, from, to, name string, data []byte) error {
	t.Helper()
	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer c.Close()
	if err := c.Mail(from); err != nil {
		return err
	}
	if err := c.Rcpt(to); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: Daily sales\r\nMIME-Version: 1.0\r\n", from, to)
	fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=XYZ\r\n\r\n--XYZ\r\nContent-Type: text/plain\r\n\r\nToday's sales.\r\n")
	if name != "" {
		enc := base64.StdEncoding.EncodeToString(data)
		fmt.Fprintf(&b, "--XYZ\r\nContent-Type: application/octet-stream; name=%q\r\nContent-Disposition: attachment; filename=%q\r\nContent-Transfer-Encoding: base64\r\n\r\n", name, name)
		for len(enc) > 76 {
			b.WriteString(enc[:76] + "\r\n")
			enc = enc[76:]
		}
		b.WriteString(enc + "\r\n")
	}
	b.WriteString("--XYZ--\r\n")
	if _, err := w.Write(b.Bytes()); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

func smtpCode(err error) int {
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code
	}
	return 0
}

func zipped(t *testing.T, name string, data []byte) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	w, err := zw.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data) //nolint:errcheck // in memory
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestEmailSalesFiles: an email integration gets its own address; a CSV (and the same zipped)
// sent over real SMTP is imported once; a malformed file imports nothing and the timeline names
// its line; unknown addresses, other senders, mail without a file and mail over the size limit
// get clear SMTP refusals; 30 days without a file call the integration off with an email.
func TestEmailSalesFiles(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.Target) {
		sink := smtptest.NewServer(t)
		var offset atomic.Int64
		e := start(t, db, func(c *app.Config) {
			c.SMTP = notify.SMTPConfig{Host: sink.Host(), Port: sink.Port(), From: "posbridge@test.local", TLS: "none"}
			c.SalesSMTP = salesimport.SMTPConfig{Listen: "127.0.0.1:0", Domain: "sales.test", MaxMessageBytes: 64 << 10}
			c.SweepInterval = 200 * time.Millisecond
			c.Clock = func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
		})
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("server log:\n%s", e.logs.String())
			}
		})
		owner := e.account("Bistro", "owner@bistro.test")
		key := owner.APIKey
		smtpAddr := e.app.SalesSMTPAddr()
		id := e.must(201, e.call(key, "POST", "/api/v1/integrations", map[string]any{"type": "email"})).json(t)["id"].(string)
		e.waitStatus(key, id, "healthy")
		box := e.must(200, e.call(key, "GET", "/api/v1/integrations/"+id+"/email", nil)).json(t)
		to := box["address"].(string)
		if !strings.HasSuffix(to, "@sales.test") || !strings.HasPrefix(to, "sales-") {
			t.Fatalf("address %q", to)
		}
		count := func() int {
			return len(e.must(200, e.call(key, "GET", "/api/v1/sales?integration_id="+id, nil)).json(t)["data"].([]any))
		}
		csv := []byte("sale_id,sold_at,item,sku,quantity,unit_price,total,payment_method\n" +
			"R-1,2026-11-30 12:01,Flat white,FW,2,4.50,9.00,card\n" +
			"R-1,2026-11-30 12:01,Croissant,CR,1,3.20,3.20,card\n" +
			"R-2,2026-11-30 13:15,Flat white,FW,1,4.50,4.50,cash\n")
		if err := sendMail(t, smtpAddr, "pos@bistro.test", to, "sales-2026-11-30.csv", csv); err != nil {
			t.Fatalf("send the CSV: %v", err)
		}
		if n := count(); n != 2 {
			t.Fatalf("%d sales after the CSV, want 2", n)
		}
		s := e.must(200, e.call(key, "GET", "/api/v1/sales?integration_id="+id, nil)).json(t)["data"].([]any)[0].(map[string]any)
		if s["external_id"] != "R-1" || s["total"] != float64(1220) || len(s["lines"].([]any)) != 2 || s["currency"] != "EUR" {
			t.Fatalf("first sale %v", s)
		}
		if i := e.must(200, e.call(key, "GET", "/api/v1/integrations/"+id, nil)).json(t); i["last_sale_imported_at"] == nil {
			t.Fatalf("last_sale_imported_at not set: %v", i)
		}
		// The same file, zipped: nothing new.
		if err := sendMail(t, smtpAddr, "pos@bistro.test", to, "sales.zip", zipped(t, "sales.csv", csv)); err != nil {
			t.Fatalf("send the zip: %v", err)
		}
		if n := count(); n != 2 {
			t.Fatalf("%d sales after the same file zipped, want 2", n)
		}
		// A malformed file: its good first line is not imported either; Failed names line 3.
		bad := []byte("sale_id,sold_at,item,quantity,total\nR-3,2026-12-01 09:00,Tea,1,2.50\nR-4,2026-12-01 09:05,Tea,abc,2.50\n")
		err := sendMail(t, smtpAddr, "pos@bistro.test", to, "bad.csv", bad)
		if smtpCode(err) != 554 || !strings.Contains(err.Error(), "line 3") {
			t.Fatalf("bad file: %v", err)
		}
		i := e.must(200, e.call(key, "GET", "/api/v1/integrations/"+id, nil)).json(t)
		if i["status"] != "failed" || !strings.Contains(i["status_reason"].(string), "line 3") {
			t.Fatalf("after the bad file: %v", i)
		}
		if n := count(); n != 2 {
			t.Fatalf("%d sales after the bad file, want 2", n)
		}
		tl := string(e.must(200, e.call(key, "GET", "/api/v1/timeline?integration_id="+id, nil)).Body)
		if !strings.Contains(tl, "line 3: quantity") {
			t.Fatalf("the timeline does not name the line: %s", tl)
		}
		// Unknown columns.
		err = sendMail(t, smtpAddr, "pos@bistro.test", to, "other.csv", []byte("Receipt,When,What\n1,2,3\n"))
		if smtpCode(err) != 554 || !strings.Contains(err.Error(), "unknown columns") {
			t.Fatalf("unknown columns: %v", err)
		}
		// Refusals.
		if err := sendMail(t, smtpAddr, "pos@bistro.test", "sales-nobody@sales.test", "s.csv", csv); smtpCode(err) != 550 {
			t.Fatalf("unknown address: %v", err)
		}
		if err := sendMail(t, smtpAddr, "pos@bistro.test", "x@elsewhere.test", "s.csv", csv); smtpCode(err) != 550 {
			t.Fatalf("other domain: %v", err)
		}
		if err := sendMail(t, smtpAddr, "pos@bistro.test", to, "", nil); smtpCode(err) != 554 || !strings.Contains(err.Error(), "no sales file") {
			t.Fatalf("no attachment: %v", err)
		}
		if err := sendMail(t, smtpAddr, "pos@bistro.test", to, "big.csv", bytes.Repeat([]byte("x"), 80<<10)); smtpCode(err) != 552 {
			t.Fatalf("over the size limit: %v", err)
		}
		// The sender allow-list and a preset.
		r := e.call(key, "PUT", "/api/v1/integrations/"+id+"/email", map[string]any{"mapping": map[string]any{"preset": "nope"}})
		if r.Status != 422 || r.errField(t) != "mapping.preset" {
			t.Fatalf("bad preset: %d %s", r.Status, r.Body)
		}
		e.must(200, e.call(key, "PUT", "/api/v1/integrations/"+id+"/email", map[string]any{
			"mapping": map[string]any{"preset": "square", "currency": "USD"}, "allowed_senders": []string{"pos@bistro.test"}}))
		if err := sendMail(t, smtpAddr, "spam@else.test", to, "s.csv", csv); smtpCode(err) != 550 || !strings.Contains(err.Error(), "may not send") {
			t.Fatalf("sender not allowed: %v", err)
		}
		square := []byte("Date,Time,Time Zone,Category,Item,Qty,SKU,Gross Sales,Net Sales,Transaction ID,Event Type,Location\n" +
			"2026-12-01,10:30:00,UTC,Coffee,Latte,1,LT,$5.00,$5.00,sq-9,Payment,Main St\n")
		if err := sendMail(t, smtpAddr, "pos@bistro.test", to, "items.csv", square); err != nil {
			t.Fatalf("square export: %v", err)
		}
		if n := count(); n != 3 {
			t.Fatalf("%d sales after the Square export, want 3", n)
		}
		e.waitStatus(key, id, "healthy")
		// 31 days without a file: CalledOff, and the admins get an email.
		offset.Store(int64(31 * 24 * time.Hour))
		e.waitStatus(key, id, "called_off")
		sink.WaitFor(t, func(m smtptest.Message) bool {
			return slices.Contains(m.To, "owner@bistro.test") && strings.Contains(m.Subject, "called off") && strings.Contains(m.Body, "No sales file")
		}, scenarioWait)
		if err := sendMail(t, smtpAddr, "pos@bistro.test", to, "s.csv", csv); smtpCode(err) != 550 || !strings.Contains(err.Error(), "called off") {
			t.Fatalf("file to a called-off integration: %v", err)
		}
	})
}
