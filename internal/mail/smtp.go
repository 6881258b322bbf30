package mail

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	netmail "net/mail"
	"slices"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/kagi-auth/kagi/internal/store"
)

// TLS modes of an SMTP connection.
const (
	TLSStartTLS = "starttls" // plain connection upgraded with STARTTLS; refused if the server cannot
	TLSImplicit = "tls"      // TLS from the first byte (SMTPS, usually port 465)
	TLSNone     = "none"     // no encryption: a relay on localhost or a test server only
)

// SMTPConfig is how kagi reaches its mail server.
type SMTPConfig struct {
	Host     string
	Port     int    // 0: 587 for starttls, 465 for tls, 25 for none
	Username string // empty: no SMTP AUTH
	Password string
	From     string        // "ホームトレード証券 <no-reply@example.jp>" or a bare address
	TLS      string        // TLSStartTLS (default when empty), TLSImplicit or TLSNone
	HELO     string        // name sent in EHLO; empty: the host name
	Timeout  time.Duration // per connection; 0: 15s
	// TLSConfig overrides the TLS settings (e.g. a private CA). Its ServerName
	// defaults to Host.
	TLSConfig *tls.Config
}

// LogValue keeps the password out of logs.
func (c SMTPConfig) LogValue() slog.Value {
	pw := ""
	if c.Password != "" {
		pw = "[redacted]"
	}
	return slog.GroupValue(
		slog.String("host", c.Host), slog.Int("port", c.Port),
		slog.String("username", c.Username), slog.String("password", pw),
		slog.String("from", c.From), slog.String("tls", c.TLS),
	)
}

// SMTPSender delivers outbox mail to an SMTP server as UTF-8 plain text.
type SMTPSender struct {
	cfg    SMTPConfig
	tls    *tls.Config
	from   *netmail.Address
	domain string // of From, for Message-IDs
	opts   []gomail.Option
}

var _ Sender = (*SMTPSender)(nil)

// NewSMTPSender checks cfg and returns a sender. It does not connect: the mail
// server may be down at start-up, and the outbox waits for it.
func NewSMTPSender(cfg SMTPConfig) (*SMTPSender, error) {
	var errs []error
	if cfg.Host == "" {
		errs = append(errs, errors.New("mail: SMTP host is empty"))
	}
	from, err := netmail.ParseAddress(cfg.From)
	if err != nil {
		errs = append(errs, fmt.Errorf("mail: SMTP from address %q: %w", cfg.From, err))
	}
	if cfg.Port < 0 || cfg.Port > 65535 {
		errs = append(errs, fmt.Errorf("mail: SMTP port %d out of range", cfg.Port))
	}
	if cfg.Password != "" && cfg.Username == "" {
		errs = append(errs, errors.New("mail: SMTP password given without a username"))
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = gomail.DefaultTimeout
	}

	tlsConfig := &tls.Config{ServerName: cfg.Host, MinVersion: tls.VersionTLS12}
	if cfg.TLSConfig != nil {
		tlsConfig = cfg.TLSConfig.Clone()
		if tlsConfig.ServerName == "" {
			tlsConfig.ServerName = cfg.Host
		}
	}
	opts := []gomail.Option{gomail.WithTimeout(cfg.Timeout), gomail.WithTLSConfig(tlsConfig)}
	port := cfg.Port
	switch strings.ToLower(cfg.TLS) {
	case "", TLSStartTLS:
		cfg.TLS = TLSStartTLS
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
		port = orPort(port, gomail.DefaultPortTLS)
	case TLSImplicit:
		cfg.TLS = TLSImplicit
		// Our dialer (see Send) does the TLS handshake. Opportunistic makes
		// go-mail see the connection as encrypted, so authentication may use
		// PLAIN or LOGIN, as it would with go-mail's own SSL dialer.
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
		port = orPort(port, gomail.DefaultPortSSL)
	case TLSNone:
		cfg.TLS = TLSNone
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
		port = orPort(port, gomail.DefaultPort)
	default:
		errs = append(errs, fmt.Errorf("mail: SMTP TLS mode %q: want starttls, tls or none", cfg.TLS))
	}
	cfg.Port = port
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	opts = append(opts, gomail.WithPort(port))
	if cfg.HELO != "" {
		opts = append(opts, gomail.WithHELO(cfg.HELO))
	}
	if cfg.Username != "" {
		// Auto-discovery picks the strongest mechanism the server offers and
		// never sends PLAIN or LOGIN over an unencrypted connection.
		opts = append(opts,
			gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(cfg.Username),
			gomail.WithPassword(cfg.Password))
	}

	domain := "localhost"
	if at := strings.LastIndexByte(from.Address, '@'); at >= 0 {
		domain = from.Address[at+1:]
	}
	return &SMTPSender{cfg: cfg, tls: tlsConfig, from: from, domain: domain, opts: opts}, nil
}

func orPort(port, def int) int {
	if port == 0 {
		return def
	}
	return port
}

// Send delivers m in one SMTP session.
func (s *SMTPSender) Send(ctx context.Context, m *store.Mail) error {
	msg, err := s.message(m)
	if err != nil {
		return err
	}
	// A client and a connection per mail: the worker sends rarely enough that
	// reuse is not worth shared state. kagi dials itself so that it can always
	// close the connection: go-mail leaves it open when the greeting, STARTTLS
	// or AUTH fails, and retries would pile up sockets on the mail server.
	var conn net.Conn
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		d := &net.Dialer{}
		var c net.Conn
		var err error
		if s.cfg.TLS == TLSImplicit {
			c, err = (&tls.Dialer{NetDialer: d, Config: s.tls}).DialContext(ctx, network, addr)
		} else {
			c, err = d.DialContext(ctx, network, addr)
		}
		if err == nil {
			conn = c
		}
		return c, err
	}
	defer func() {
		if conn != nil {
			_ = conn.Close() // after QUIT this is a no-op error; before, it frees the socket
		}
	}()
	c, err := gomail.NewClient(s.cfg.Host, append(slices.Clip(s.opts), gomail.WithDialContextFunc(dial))...)
	if err != nil {
		return fmt.Errorf("mail: SMTP client: %w", err)
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("mail: SMTP %s:%d: %w", s.cfg.Host, s.cfg.Port, err)
	}
	return nil
}

// message builds the MIME message. go-mail does the encoding: UTF-8, base64
// body (compact for Japanese, safe for any line length) and RFC 2047 subject.
func (s *SMTPSender) message(m *store.Mail) (*gomail.Msg, error) {
	msg := gomail.NewMsg(
		gomail.WithCharset(gomail.CharsetUTF8),
		gomail.WithEncoding(gomail.EncodingB64),
		gomail.WithNoDefaultUserAgent(),
	)
	msg.FromMailAddress(s.from)
	if err := msg.To(m.To); err != nil {
		return nil, fmt.Errorf("mail: recipient of mail %d: %w", m.ID, err)
	}
	msg.Subject(m.Subject)
	date := m.CreatedAt
	if date.IsZero() {
		date = time.Now()
	}
	msg.SetDateWithValue(date.In(tokyo))
	msg.SetMessageIDWithValue(s.messageID(m))
	// RFC 3834: tells vacation responders not to answer a send-only address.
	msg.SetGenHeader(gomail.Header("Auto-Submitted"), "auto-generated")
	msg.SetBodyString(gomail.TypeTextPlain, m.Body)
	return msg, nil
}

// messageID is stable for an outbox row, so a mail sent again after a crash
// (at-least-once delivery) carries the same ID and mail clients can drop the copy.
func (s *SMTPSender) messageID(m *store.Mail) string {
	if m.ID == 0 {
		return "kagi." + rand.Text() + "@" + s.domain
	}
	return "kagi." + strconv.FormatInt(m.ID, 10) + "." +
		strconv.FormatInt(m.CreatedAt.UnixNano(), 36) + "@" + s.domain
}
