package web_test

import (
	"testing"
	"time"

	"github.com/kagi-auth/kagi/internal/config"
	"github.com/kagi-auth/kagi/internal/testenv"
)

// Every login leaves a sent notice in the outbox (P4); the periodic sweep
// deletes those older than --sent-mail-retention (a year by default).
func TestSweepSentMailRetention_P4(t *testing.T) {
	e := testenv.New(t)
	if e.Config.SentMailRetention != 365*24*time.Hour {
		t.Fatalf("default retention %s, want a year", e.Config.SentMailRetention)
	}
	const code = "62000001"
	loggedInTOTP(t, e, code)
	addr := code + "@example.jp"
	waitMailSubject(t, e, addr, "ログインのお知らせ")
	n := len(e.Mails(addr))

	e.Clock.Advance(364 * 24 * time.Hour)
	if err := e.Auth.Sweep(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := len(e.Mails(addr)); got != n {
		t.Fatalf("after 364 days %d mails, want the %d sent", got, n)
	}
	e.Clock.Advance(2 * 24 * time.Hour)
	if err := e.Auth.Sweep(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := len(e.Mails(addr)); got != 0 {
		t.Fatalf("after 366 days %d mails are kept, want none", got)
	}
}

// With a retention of 0 the sweep keeps every sent mail.
func TestSweepKeepsSentMailWithoutRetention(t *testing.T) {
	e := testenv.New(t, func(c *config.Config) { c.SentMailRetention = 0 })
	const code = "62000002"
	loggedInTOTP(t, e, code)
	addr := code + "@example.jp"
	waitMailSubject(t, e, addr, "ログインのお知らせ")
	n := len(e.Mails(addr))
	e.Clock.Advance(5 * 365 * 24 * time.Hour)
	if err := e.Auth.Sweep(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := len(e.Mails(addr)); got != n {
		t.Fatalf("after five years %d mails, want the %d sent", got, n)
	}
}
