package salesimport

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"path"
	"strings"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/posbridge/posbridge/internal/auth"
	"github.com/posbridge/posbridge/internal/connector/email"
	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/store"
)

// EmailCallOffAfter is how long an email integration may go without a sales file before it is
// called off; the merchant's email says no sales file has arrived in 30 days.
const EmailCallOffAfter = 30 * 24 * time.Hour

// DefaultMaxMessageBytes is the largest email (attachments included) the SMTP server takes.
const DefaultMaxMessageBytes = 10 << 20

// Inbox is an email integration's address and settings.
type Inbox struct {
	store.EmailInbox
	Address string
	Mapping Mapping
}

// SetEmailDomain sets the domain of email integrations' addresses (--smtp-domain).
func (s *Service) SetEmailDomain(d string) { s.emailDomain = strings.ToLower(strings.TrimSpace(d)) }

func (s *Service) inboxOf(in store.EmailInbox) (Inbox, error) {
	m, err := ParseMapping(in.Mapping)
	if err != nil {
		return Inbox{}, err
	}
	dom := s.emailDomain
	if dom == "" {
		dom = "localhost"
	}
	return Inbox{EmailInbox: in, Address: in.LocalPart + "@" + dom, Mapping: m}, nil
}

// Inbox returns an email integration's address and settings, making them on first use.
func (s *Service) Inbox(ctx context.Context, accountID, id string) (Inbox, error) {
	i, err := s.con.Get(ctx, accountID, id)
	if err != nil {
		return Inbox{}, err
	}
	if i.Type != email.Type {
		return Inbox{}, &domain.Error{Code: domain.CodeUnsupported, Message: "only email integrations have a sales file address"}
	}
	in, err := s.st.GetEmailInbox(ctx, accountID, id)
	if errors.Is(err, store.ErrNotFound) {
		b := make([]byte, 10)
		if _, err := rand.Read(b); err != nil {
			return Inbox{}, err
		}
		local := "sales-" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
		in, err = s.st.CreateEmailInbox(ctx, store.EmailInbox{IntegrationID: id, AccountID: accountID, LocalPart: local,
			Mapping: json.RawMessage(`{"preset":"posbridge"}`), CreatedAt: s.now()})
	}
	if err != nil {
		return Inbox{}, err
	}
	return s.inboxOf(in)
}

// SetInbox changes an email integration's column mapping and sender allow-list.
func (s *Service) SetInbox(ctx context.Context, accountID, actor, id string, m Mapping, senders []string) (Inbox, error) {
	if err := m.Check(); err != nil {
		return Inbox{}, err
	}
	clean, err := CleanSenders(senders)
	if err != nil {
		return Inbox{}, err
	}
	if _, err := s.Inbox(ctx, accountID, id); err != nil {
		return Inbox{}, err
	}
	b, _ := json.Marshal(m)
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.SetEmailInboxSettings(ctx, accountID, id, b, clean); err != nil {
			return err
		}
		who := "anyone who knows the address"
		if len(clean) > 0 {
			who = strings.Join(clean, ", ")
		}
		return tx.AddTimeline(ctx, domain.TimelineEntry{AccountID: accountID, At: s.now(), Kind: domain.KindSettingsChanged, IntegrationID: id,
			Actor: actor, Message: fmt.Sprintf("Settings changed: sales file columns (preset %s), accepted senders: %s", m.Preset, who)})
	})
	if err != nil {
		return Inbox{}, err
	}
	return s.Inbox(ctx, accountID, id)
}

// CleanSenders checks and lower-cases a sender allow-list: addresses (pos@example.com) and
// domains (@example.com), at most 50.
func CleanSenders(senders []string) ([]string, error) {
	if len(senders) > 50 {
		return nil, domain.Invalid("allowed_senders", "Enter at most 50 accepted senders.")
	}
	clean := make([]string, 0, len(senders))
	for n, a := range senders {
		a = strings.ToLower(strings.TrimSpace(a))
		field := fmt.Sprintf("allowed_senders[%d]", n)
		if err := domain.CheckText(field, a, domain.TextNickname); err != nil {
			return nil, err
		}
		if strings.HasPrefix(a, "@") {
			if len(a) < 3 || strings.Contains(a[1:], "@") {
				return nil, domain.Invalid(field, "%q is neither an email address (pos@example.com) nor a domain (@example.com).", a)
			}
		} else if p, err := mail.ParseAddress(a); err != nil || p.Address != a {
			return nil, domain.Invalid(field, "%q is neither an email address (pos@example.com) nor a domain (@example.com).", a)
		}
		clean = append(clean, a)
	}
	return clean, nil
}

// ImportFile imports one sales file received for an email integration: all of it, or, when
// any line is bad, nothing, and the integration is Failed with the reason and line number.
func (s *Service) ImportFile(ctx context.Context, in Inbox, name string, data []byte) (domain.Integration, Result, error) {
	i, err := s.con.Get(ctx, in.AccountID, in.IntegrationID)
	if err != nil {
		return i, Result{}, err
	}
	if err := s.st.MarkEmailFile(ctx, in.AccountID, in.IntegrationID, s.now()); err != nil {
		return i, Result{}, err
	}
	if strings.HasSuffix(strings.ToLower(name), ".zip") {
		var inner string
		if data, inner, err = Unzip(data); err != nil {
			return s.record(ctx, i, domain.ActorSystem, "the file "+name, nil, fmt.Errorf("%s: %w", name, err), false)
		}
		name = name + "/" + inner
	}
	return s.record(ctx, i, domain.ActorSystem, "the file "+name, csvImporter(bytes.NewReader(data), name, in.Mapping), nil, false)
}

// ImportCSV imports a sales file read from r for an integration, streaming: the file is parsed
// and imported a chunk of sales at a time, all in one transaction (a bad line anywhere imports
// nothing). A sale's lines must be consecutive rows.
func (s *Service) ImportCSV(ctx context.Context, accountID, integrationID, name string, r io.Reader, m Mapping) (domain.Integration, Result, error) {
	i, err := s.con.Get(ctx, accountID, integrationID)
	if err != nil {
		return i, Result{}, err
	}
	return s.record(ctx, i, domain.ActorSystem, "the file "+name, csvImporter(r, name, m), nil, false)
}

func csvImporter(r io.Reader, name string, m Mapping) importer {
	return func(ctx context.Context, tx *store.Tx, i domain.Integration, now time.Time) (store.ImportResult, error) {
		im, err := tx.BeginSalesImport(ctx, i.AccountID, i.ID, auth.NewID, now)
		if err != nil {
			return store.ImportResult{}, err
		}
		err = StreamCSVAhead(r, m, 2000, func(chunk []domain.ImportedSale) error { return im.Add(ctx, chunk) })
		var fe *FileError
		if errors.As(err, &fe) {
			return store.ImportResult{}, badInput{fmt.Errorf("%s: %w", name, err)}
		}
		if err != nil {
			return store.ImportResult{}, err
		}
		return im.Finish(ctx)
	}
}

// callOffSilentEmail calls off an email integration that got no file for 30 days.
func (s *Service) callOffSilentEmail(ctx context.Context, tx *store.Tx, i domain.Integration, now time.Time) error {
	since := i.CreatedAt
	if in, err := tx.GetEmailInbox(ctx, i.AccountID, i.ID); err == nil && in.LastFileAt != nil {
		since = *in.LastFileAt
	} else if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if now.Sub(since) < EmailCallOffAfter {
		return nil
	}
	locked, err := tx.LockIntegration(ctx, i.AccountID, i.ID)
	if err != nil || !locked.Status.Scheduled() {
		return err
	}
	from := locked.Status
	locked.Status = domain.StatusCalledOff
	locked.StatusReason = fmt.Sprintf("No sales file received for %d days: check the scheduled daily email of your POS system", int(now.Sub(since).Hours()/24))
	locked.UpdatedAt = now
	if err := tx.UpdateIntegration(ctx, locked); err != nil {
		return err
	}
	return s.status.RecordTransition(ctx, tx, locked, domain.ActorSystem, &domain.Transition{From: from, To: domain.StatusCalledOff, Reason: locked.StatusReason})
}

// SMTPConfig is the SMTP server of email integrations.
type SMTPConfig struct {
	Listen          string // --smtp-listen, e.g. ":2525"
	Domain          string // --smtp-domain: addresses are <local>@Domain
	MaxMessageBytes int64  // the attachment size limit, whole message (default 10 MiB)
}

// SMTPServer receives sales files by email.
type SMTPServer struct {
	srv *smtp.Server
	ln  net.Listener
	s   *Service
}

// StartSMTP listens on cfg.Listen and serves until Close.
func (s *Service) StartSMTP(cfg SMTPConfig) (*SMTPServer, error) {
	if cfg.MaxMessageBytes <= 0 {
		cfg.MaxMessageBytes = DefaultMaxMessageBytes
	}
	s.SetEmailDomain(cfg.Domain)
	ss := &SMTPServer{s: s}
	ss.srv = smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) { return &session{s: s}, nil }))
	ss.srv.Domain = cfg.Domain
	if ss.srv.Domain == "" {
		ss.srv.Domain = "localhost"
	}
	ss.srv.ReadTimeout = time.Minute
	ss.srv.WriteTimeout = time.Minute
	ss.srv.MaxMessageBytes = cfg.MaxMessageBytes
	ss.srv.MaxRecipients = 10
	ss.srv.ErrorLog = log.New(io.Discard, "", 0)
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("--smtp-listen %s: %w", cfg.Listen, err)
	}
	ss.ln = ln
	go ss.srv.Serve(ln) //nolint:errcheck // ends with Close
	return ss, nil
}

// Addr is where the server listens.
func (ss *SMTPServer) Addr() string { return ss.ln.Addr().String() }

// Close stops the server.
func (ss *SMTPServer) Close() error { return ss.srv.Close() }

type session struct {
	s       *Service
	from    string
	inboxes []Inbox
}

func reply(code int, enh smtp.EnhancedCode, msg string) *smtp.SMTPError {
	return &smtp.SMTPError{Code: code, EnhancedCode: enh, Message: msg}
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	ss.from = strings.ToLower(strings.TrimSpace(from))
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	addr := strings.ToLower(strings.TrimSpace(to))
	local, dom, ok := strings.Cut(addr, "@")
	if !ok || (ss.s.emailDomain != "" && dom != ss.s.emailDomain) {
		return reply(550, smtp.EnhancedCode{5, 1, 2}, "this server takes sales files for @"+ss.s.emailDomain+" addresses only")
	}
	in, err := ss.s.st.EmailInboxByLocalPart(ctx, local)
	if errors.Is(err, store.ErrNotFound) {
		return reply(550, smtp.EnhancedCode{5, 1, 1}, "no such sales file address: check the address shown on the integration in posbridge")
	}
	if err != nil {
		return reply(451, smtp.EnhancedCode{4, 3, 0}, "temporary failure looking up the address; try again later")
	}
	i, err := ss.s.con.Get(ctx, in.AccountID, in.IntegrationID)
	if err != nil {
		return reply(451, smtp.EnhancedCode{4, 3, 0}, "temporary failure looking up the address; try again later")
	}
	switch i.Status {
	case domain.StatusInactive:
		return reply(550, smtp.EnhancedCode{5, 2, 1}, "this integration is deactivated in posbridge; restore it to send sales files again")
	case domain.StatusCalledOff:
		return reply(550, smtp.EnhancedCode{5, 2, 1}, "this integration is called off in posbridge; resume it to send sales files again")
	}
	if len(in.AllowedSenders) > 0 && !allowed(in.AllowedSenders, ss.from) {
		return reply(550, smtp.EnhancedCode{5, 7, 1}, "sender "+ss.from+" may not send sales files to this address (see its accepted senders in posbridge)")
	}
	box, err := ss.s.inboxOf(in)
	if err != nil {
		return reply(451, smtp.EnhancedCode{4, 3, 0}, "the address's column mapping cannot be read; fix it in posbridge")
	}
	ss.inboxes = append(ss.inboxes, box)
	return nil
}

func allowed(list []string, from string) bool {
	for _, a := range list {
		if a == from || (strings.HasPrefix(a, "@") && strings.HasSuffix(from, a)) {
			return true
		}
	}
	return false
}

func (ss *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err // go-smtp answers 552 for a message over the size limit
	}
	files, err := attachments(raw)
	if err != nil {
		return reply(554, smtp.EnhancedCode{5, 6, 0}, "the message cannot be read: "+err.Error())
	}
	if len(files) == 0 {
		return reply(554, smtp.EnhancedCode{5, 6, 0}, "no sales file: attach the sales export as a .csv file (or a .zip holding one)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var msgs []string
	failed := false
	for _, in := range ss.inboxes {
		for _, f := range files {
			_, res, err := ss.s.ImportFile(ctx, in, f.name, f.data)
			if err != nil {
				return reply(451, smtp.EnhancedCode{4, 3, 0}, "temporary failure importing the file; try again later")
			}
			if res.Error != "" {
				failed = true
				msgs = append(msgs, res.Error)
				continue
			}
			msgs = append(msgs, fmt.Sprintf("%s: %d new sale(s), %d updated, %d already imported", f.name, res.New, res.Updated, res.Unchanged))
		}
	}
	if failed {
		return reply(554, smtp.EnhancedCode{5, 6, 0}, "nothing imported from the bad file: "+strings.Join(msgs, "; "))
	}
	ss.s.log.Info("sales file imported by email", "from", ss.from, "result", strings.Join(msgs, "; "))
	return nil
}

func (ss *session) Reset()        { ss.from, ss.inboxes = "", nil }
func (ss *session) Logout() error { return nil }

type file struct {
	name string
	data []byte
}

// attachments finds the .csv and .zip files of a message (any depth of multipart).
func attachments(raw []byte) ([]file, error) {
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	var out []file
	err = walkPart(textproto(m.Header), m.Body, &out, 0)
	return out, err
}

type header interface{ Get(string) string }

func textproto(h mail.Header) header { return h }

func walkPart(h header, body io.Reader, out *[]file, depth int) error {
	if depth > 5 {
		return errors.New("the message nests too deep")
	}
	ct, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		ct = "text/plain"
	}
	if strings.HasPrefix(ct, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			if err := walkPart(p.Header, p, out, depth+1); err != nil {
				return err
			}
		}
	}
	name := params["name"]
	if _, dp, err := mime.ParseMediaType(h.Get("Content-Disposition")); err == nil && dp["filename"] != "" {
		name = dp["filename"]
	}
	name = path.Base(strings.ReplaceAll(name, `\`, "/"))
	lower := strings.ToLower(name)
	isCSV := strings.HasSuffix(lower, ".csv") || ct == "text/csv"
	isZip := strings.HasSuffix(lower, ".zip") || ct == "application/zip" || ct == "application/x-zip-compressed"
	if !isCSV && !isZip {
		return nil
	}
	var r io.Reader = body
	switch strings.ToLower(strings.TrimSpace(h.Get("Content-Transfer-Encoding"))) {
	case "base64":
		r = base64Reader(body)
	case "quoted-printable":
		r = qpReader(body)
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("attachment %s: %w", name, err)
	}
	if name == "" || name == "." {
		name = "sales.csv"
		if isZip {
			name = "sales.zip"
		}
	}
	*out = append(*out, file{name: name, data: data})
	return nil
}
