package mail

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"io"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/http/httptest"
	netmail "net/mail"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kagi-auth/kagi/internal/store"
)

// smtpServer speaks just enough SMTP on 127.0.0.1 for go-mail to deliver:
// EHLO/HELO, MAIL, RCPT, DATA, NOOP, RSET, QUIT, and optionally STARTTLS,
// implicit TLS and AUTH PLAIN.
type smtpServer struct {
	ln   net.Listener
	opts smtpOptions
	wg   sync.WaitGroup

	mu    sync.Mutex
	msgs  []smtpReceived
	open  int // connections not yet closed
	conns map[net.Conn]bool
}

type smtpOptions struct {
	rejectRcpt bool
	tls        *tls.Config // offers STARTTLS, or speaks TLS at once when implicit
	implicit   bool
	auth       bool // offers AUTH PLAIN (also over plain text, to see the client refuse)
}

type smtpReceived struct {
	from, user, pass string
	to               []string
	tls              bool
	data             []byte
}

func startSMTPServer(t *testing.T, opts smtpOptions) *smtpServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &smtpServer{ln: ln, opts: opts, conns: map[net.Conn]bool{}}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.open++
			s.conns[c] = true
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				s.serve(c)
				c.Close()
				s.mu.Lock()
				s.open--
				delete(s.conns, c)
				s.mu.Unlock()
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		s.mu.Lock()
		for c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
	return s
}

func (s *smtpServer) port() int { return s.ln.Addr().(*net.TCPAddr).Port }

func (s *smtpServer) received() []smtpReceived {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]smtpReceived(nil), s.msgs...)
}

// waitClosed fails unless the client has closed every connection.
func (s *smtpServer) waitClosed(t *testing.T) {
	t.Helper()
	for range 200 {
		s.mu.Lock()
		n := s.open
		s.mu.Unlock()
		if n == 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the client left its SMTP connection open")
}

func (s *smtpServer) serve(c net.Conn) {
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	isTLS := false
	if s.opts.implicit {
		c = tls.Server(c, s.opts.tls)
		isTLS = true
	}
	tp := textproto.NewConn(c)
	reply := func(lines ...string) {
		for _, l := range lines {
			if err := tp.PrintfLine("%s", l); err != nil {
				return
			}
		}
	}
	reply("220 127.0.0.1 test ESMTP")
	var cur smtpReceived
	var user, pass string
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO":
			lines := []string{"250-127.0.0.1 hello", "250-8BITMIME"}
			if s.opts.tls != nil && !isTLS {
				lines = append(lines, "250-STARTTLS")
			}
			if s.opts.auth {
				lines = append(lines, "250-AUTH PLAIN")
			}
			reply(append(lines, "250 SMTPUTF8")...)
		case "STARTTLS":
			if s.opts.tls == nil || isTLS {
				reply("502 not available")
				continue
			}
			reply("220 go ahead")
			tc := tls.Server(c, s.opts.tls)
			if err := tc.Handshake(); err != nil {
				return
			}
			c, isTLS = tc, true
			tp = textproto.NewConn(c)
		case "AUTH":
			mech, ir, _ := strings.Cut(arg, " ")
			if !s.opts.auth || mech != "PLAIN" {
				reply("504 unsupported")
				continue
			}
			if ir == "" {
				reply("334 ")
				if ir, err = tp.ReadLine(); err != nil {
					return
				}
			}
			raw, err := base64.StdEncoding.DecodeString(ir)
			parts := strings.Split(string(raw), "\x00")
			if err != nil || len(parts) != 3 {
				reply("501 bad PLAIN response")
				continue
			}
			user, pass = parts[1], parts[2]
			reply("235 2.7.0 authenticated")
		case "HELO", "NOOP":
			reply("250 OK")
		case "RSET":
			cur = smtpReceived{}
			reply("250 OK")
		case "MAIL":
			cur = smtpReceived{from: angle(arg), user: user, pass: pass, tls: isTLS}
			reply("250 OK")
		case "RCPT":
			if s.opts.rejectRcpt {
				reply("550 5.1.1 no such user")
				continue
			}
			cur.to = append(cur.to, angle(arg))
			reply("250 OK")
		case "DATA":
			reply("354 end with <CRLF>.<CRLF>")
			data, err := tp.ReadDotBytes()
			if err != nil {
				return
			}
			cur.data = data
			s.mu.Lock()
			s.msgs = append(s.msgs, cur)
			s.mu.Unlock()
			reply("250 OK queued")
		case "QUIT":
			reply("221 bye")
			return
		default:
			reply("502 command not implemented")
		}
	}
}

// testTLS returns a server config and a client config that trusts it, for 127.0.0.1.
func testTLS(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	hs := httptest.NewUnstartedServer(nil) // borrows its self-signed 127.0.0.1 certificate
	hs.StartTLS()
	defer hs.Close()
	pool := x509.NewCertPool()
	pool.AddCert(hs.Certificate())
	return &tls.Config{Certificates: hs.TLS.Certificates}, &tls.Config{RootCAs: pool}
}

// angle extracts the address of "FROM:<a@b> SIZE=1".
func angle(arg string) string {
	_, rest, _ := strings.Cut(arg, "<")
	addr, _, _ := strings.Cut(rest, ">")
	return addr
}

// decodeBody undoes the Content-Transfer-Encoding and returns LF line ends.
func decodeBody(t *testing.T, msg *netmail.Message) string {
	t.Helper()
	var r io.Reader = msg.Body
	switch cte := strings.ToLower(msg.Header.Get("Content-Transfer-Encoding")); cte {
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, r) // skips the CRLFs between lines
	case "quoted-printable":
		r = quotedprintable.NewReader(r)
	case "", "7bit", "8bit":
	default:
		t.Fatalf("unexpected Content-Transfer-Encoding %q", cte)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(string(b), "\r\n", "\n")
}

// TestSMTPSenderDeliversJapaneseMail (SPEC P4): a composed Japanese notice
// arrives with a correctly encoded subject, UTF-8 body, Date and Message-ID.
func TestSMTPSenderDeliversJapaneseMail(t *testing.T) {
	srv := startSMTPServer(t, smtpOptions{})
	s, err := NewSMTPSender(SMTPConfig{
		Host: "127.0.0.1", Port: srv.port(), TLS: TLSNone, Timeout: 5 * time.Second,
		From: "ホームトレード証券 <no-reply@hometrade.example>",
	})
	if err != nil {
		t.Fatal(err)
	}
	subject, body, err := Compose(DefaultBrand(), LangJA, KindLoginNotice, fullData(KindLoginNotice))
	if err != nil {
		t.Fatal(err)
	}
	created := time.Date(2026, 11, 25, 0, 5, 0, 0, time.UTC)
	m := &store.Mail{ID: 42, To: "taro@example.jp", Subject: subject, Body: body, CreatedAt: created}
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}

	got := srv.received()
	if len(got) != 1 {
		t.Fatalf("server received %d messages", len(got))
	}
	if got[0].from != "no-reply@hometrade.example" || len(got[0].to) != 1 || got[0].to[0] != "taro@example.jp" {
		t.Fatalf("envelope from %q to %v", got[0].from, got[0].to)
	}
	raw := got[0].data
	for _, line := range bytes.Split(raw, []byte("\n")) {
		for _, c := range line {
			if c >= 0x80 {
				t.Fatalf("raw message is not 7-bit clean: %q", line)
			}
		}
	}
	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, raw)
	}
	dec := new(mime.WordDecoder)
	if gotSubj, err := dec.DecodeHeader(msg.Header.Get("Subject")); err != nil || gotSubj != subject {
		t.Errorf("subject %q (%v), want %q", gotSubj, err, subject)
	}
	from, err := msg.Header.AddressList("From")
	if err != nil || len(from) != 1 || from[0].Name != "ホームトレード証券" || from[0].Address != "no-reply@hometrade.example" {
		t.Errorf("From %v (%v)", from, err)
	}
	if to, err := msg.Header.AddressList("To"); err != nil || len(to) != 1 || to[0].Address != "taro@example.jp" {
		t.Errorf("To %v (%v)", to, err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "text/plain" || !strings.EqualFold(params["charset"], "utf-8") {
		t.Errorf("Content-Type %q", msg.Header.Get("Content-Type"))
	}
	if d, err := msg.Header.Date(); err != nil || !d.Equal(created) {
		t.Errorf("Date %q (%v), want %v", msg.Header.Get("Date"), err, created)
	}
	wantID := "<kagi.42." + strconv.FormatInt(created.UnixNano(), 36) + "@hometrade.example>"
	if id := msg.Header.Get("Message-Id"); id != wantID {
		t.Errorf("Message-ID %q, want %q", id, wantID)
	}
	if v := msg.Header.Get("Auto-Submitted"); v != "auto-generated" {
		t.Errorf("Auto-Submitted %q", v)
	}
	if gotBody := decodeBody(t, msg); gotBody != body {
		t.Errorf("body differs:\n got %q\nwant %q", gotBody, body)
	}
}

func TestSMTPSenderErrors(t *testing.T) {
	mail := &store.Mail{ID: 1, To: "taro@example.jp", Subject: "件名", Body: "本文\n", CreatedAt: time.Now()}

	t.Run("recipient rejected", func(t *testing.T) {
		srv := startSMTPServer(t, smtpOptions{rejectRcpt: true})
		s, err := NewSMTPSender(SMTPConfig{Host: "127.0.0.1", Port: srv.port(), TLS: TLSNone, From: "no-reply@hometrade.example", Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Send(context.Background(), mail); err == nil || !strings.Contains(err.Error(), "550") {
			t.Fatalf("Send = %v, want the 550 rejection", err)
		}
		if n := len(srv.received()); n != 0 {
			t.Fatalf("%d messages accepted", n)
		}
		srv.waitClosed(t)
	})

	t.Run("starttls required but not offered", func(t *testing.T) {
		srv := startSMTPServer(t, smtpOptions{})
		s, err := NewSMTPSender(SMTPConfig{Host: "127.0.0.1", Port: srv.port(), From: "no-reply@hometrade.example", Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Send(context.Background(), mail); err == nil || !strings.Contains(err.Error(), "STARTTLS") {
			t.Fatalf("Send = %v, want a STARTTLS error (never fall back to plain text)", err)
		}
		if n := len(srv.received()); n != 0 {
			t.Fatalf("%d messages sent without TLS", n)
		}
		srv.waitClosed(t) // go-mail alone would leave this connection open
	})

	t.Run("password never sent in plain text", func(t *testing.T) {
		srv := startSMTPServer(t, smtpOptions{auth: true})
		s, err := NewSMTPSender(SMTPConfig{Host: "127.0.0.1", Port: srv.port(), TLS: TLSNone, From: "no-reply@hometrade.example",
			Username: "kagi", Password: "hunter2", Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Send(context.Background(), mail); err == nil {
			t.Fatal("Send authenticated with PLAIN over an unencrypted connection")
		}
		if n := len(srv.received()); n != 0 {
			t.Fatalf("%d messages accepted", n)
		}
		srv.waitClosed(t)
	})

	t.Run("server down", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		s, err := NewSMTPSender(SMTPConfig{Host: "127.0.0.1", Port: port, TLS: TLSNone, From: "no-reply@hometrade.example", Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Send(context.Background(), mail); err == nil {
			t.Fatal("Send to a closed port succeeded")
		}
	})

	t.Run("bad recipient", func(t *testing.T) {
		s, err := NewSMTPSender(SMTPConfig{Host: "127.0.0.1", TLS: TLSNone, From: "no-reply@hometrade.example"})
		if err != nil {
			t.Fatal(err)
		}
		bad := *mail
		bad.To = "not an address"
		if err := s.Send(context.Background(), &bad); err == nil {
			t.Fatal("invalid recipient accepted")
		}
	})
}

// TestSMTPSenderTLSModes: STARTTLS and implicit TLS both encrypt before
// authenticating, and the server certificate is verified.
func TestSMTPSenderTLSModes(t *testing.T) {
	serverTLS, clientTLS := testTLS(t)
	mail := &store.Mail{ID: 3, To: "taro@example.jp", Subject: "【ホームトレード】ログインのお知らせ", Body: "本文です。\n", CreatedAt: time.Now()}
	for _, mode := range []string{TLSStartTLS, TLSImplicit} {
		t.Run(mode, func(t *testing.T) {
			srv := startSMTPServer(t, smtpOptions{tls: serverTLS, implicit: mode == TLSImplicit, auth: true})
			cfg := SMTPConfig{Host: "127.0.0.1", Port: srv.port(), TLS: mode, From: "no-reply@hometrade.example",
				Username: "kagi", Password: "hunter2", TLSConfig: clientTLS, Timeout: 5 * time.Second}
			s, err := NewSMTPSender(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Send(context.Background(), mail); err != nil {
				t.Fatalf("Send: %v", err)
			}
			got := srv.received()
			if len(got) != 1 || !got[0].tls || got[0].user != "kagi" || got[0].pass != "hunter2" {
				t.Fatalf("received %+v", got)
			}
			srv.waitClosed(t)

			cfg.TLSConfig = nil // system roots do not trust the test certificate
			s, err = NewSMTPSender(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Send(context.Background(), mail); err == nil {
				t.Fatal("Send accepted an untrusted certificate")
			}
			srv.waitClosed(t)
		})
	}
}

// TestWorkerWithSMTPSender: the outbox and the SMTP sender together.
func TestWorkerWithSMTPSender(t *testing.T) {
	srv := startSMTPServer(t, smtpOptions{})
	s, err := NewSMTPSender(SMTPConfig{Host: "127.0.0.1", Port: srv.port(), TLS: TLSNone, From: "no-reply@hometrade.example", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	st := &fakeOutbox{}
	subject, body, err := Compose(DefaultBrand(), LangEN, KindLoginCode, fullData(KindLoginCode))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.EnqueueMail(context.Background(), &store.Mail{To: "taro@example.jp", Subject: subject, Body: body, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	w := NewWorker(st, s, nil)
	if n, err := w.runOnce(context.Background()); n != 1 || err != nil {
		t.Fatalf("runOnce = %d, %v", n, err)
	}
	if st.get(1).SentAt.IsZero() || len(srv.received()) != 1 {
		t.Fatal("mail not delivered and marked sent")
	}
}

func TestNewSMTPSenderConfig(t *testing.T) {
	bad := []SMTPConfig{
		{From: "a@b.example"},                                           // no host
		{Host: "smtp.example", From: "not an address"},                  // bad from
		{Host: "smtp.example", From: "a@b.example", TLS: "ssl"},         // unknown mode
		{Host: "smtp.example", From: "a@b.example", Port: 70000},        // port
		{Host: "smtp.example", From: "a@b.example", Password: "secret"}, // password without user
	}
	for _, c := range bad {
		if _, err := NewSMTPSender(c); err == nil {
			t.Errorf("accepted %+v", c)
		}
	}
	for mode, port := range map[string]int{"": 587, "starttls": 587, "TLS": 465, "none": 25} {
		s, err := NewSMTPSender(SMTPConfig{Host: "smtp.example", From: "a@b.example", TLS: mode, Username: "u", Password: "p"})
		if err != nil {
			t.Fatalf("mode %q: %v", mode, err)
		}
		if s.cfg.Port != port {
			t.Errorf("mode %q: port %d, want %d", mode, s.cfg.Port, port)
		}
	}
}

func TestSMTPConfigLogValueRedactsPassword(t *testing.T) {
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("config", "smtp", SMTPConfig{Host: "smtp.example", Username: "kagi", Password: "hunter2"})
	if strings.Contains(buf.String(), "hunter2") || !strings.Contains(buf.String(), "[redacted]") {
		t.Fatalf("log line: %s", buf.String())
	}
}

// Message-IDs stay the same when a row is sent again, and differ between rows.
func TestMessageIDStable(t *testing.T) {
	s, err := NewSMTPSender(SMTPConfig{Host: "smtp.example", From: "a@hometrade.example"})
	if err != nil {
		t.Fatal(err)
	}
	created := time.Now()
	a := s.messageID(&store.Mail{ID: 7, CreatedAt: created})
	if a != s.messageID(&store.Mail{ID: 7, CreatedAt: created}) {
		t.Error("Message-ID changed between sends of one row")
	}
	if a == s.messageID(&store.Mail{ID: 8, CreatedAt: created}) {
		t.Error("two rows share a Message-ID")
	}
	if !strings.HasSuffix(a, "@hometrade.example") {
		t.Errorf("Message-ID %q not in the sender's domain", a)
	}
	if x, y := s.messageID(&store.Mail{}), s.messageID(&store.Mail{}); x == y {
		t.Error("random Message-IDs repeat")
	}
}
